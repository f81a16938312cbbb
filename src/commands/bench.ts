import type { Command } from 'commander';

// PLACEHOLDER: replaced by the real command.
export function registerBench(program: Command): void {
  program.command('bench').description('(not built yet)').action(() => {
    throw new Error('rkvs bench is not built yet');
  });
}
