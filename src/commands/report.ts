import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerReport(program: Command): void {
  program.command('report').description('(not built yet)').action(() => {
    throw new Error('rkvs report is not built yet');
  });
}
