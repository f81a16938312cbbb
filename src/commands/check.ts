import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerCheck(program: Command): void {
  program.command('check').description('(not built yet)').action(() => {
    throw new Error('rkvs check is not built yet');
  });
}
