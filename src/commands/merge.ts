import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerMerge(program: Command): void {
  program.command('merge').description('(not built yet)').action(() => {
    throw new Error('rkvs merge is not built yet');
  });
}
