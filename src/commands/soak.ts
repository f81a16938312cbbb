import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerSoak(program: Command): void {
  program.command('soak').description('(not built yet)').action(() => {
    throw new Error('rkvs soak is not built yet');
  });
}
