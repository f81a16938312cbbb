import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerSimulate(program: Command): void {
  program.command('simulate').description('(not built yet)').action(() => {
    throw new Error('rkvs simulate is not built yet');
  });
}
