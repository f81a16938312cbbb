import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerClean(program: Command): void {
  program.command('clean').description('(not built yet)').action(() => {
    throw new Error('rkvs clean is not built yet');
  });
}
