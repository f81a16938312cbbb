import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerEmulators(program: Command): void {
  program.command('emulators').description('(not built yet)').action(() => {
    throw new Error('rkvs emulators is not built yet');
  });
}
