import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerCompare(program: Command): void {
  program.command('compare').description('(not built yet)').action(() => {
    throw new Error('rkvs compare is not built yet');
  });
}
