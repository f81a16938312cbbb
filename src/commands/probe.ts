import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerProbe(program: Command): void {
  program.command('probe').description('(not built yet)').action(() => {
    throw new Error('rkvs probe is not built yet');
  });
}
