/**
 * The `rkvs` command line: thin. Parses arguments and calls the modules that do the work;
 * each subcommand lives in src/commands/<name>.ts and registers itself on the program.
 *
 * Exit codes: 0 success, 1 failure (or a regression found by `compare`), 2 usage or configuration error.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, describeCause } from './errors.js';
import { registerBench } from './commands/bench.js';
import { registerCheck } from './commands/check.js';
import { registerClean } from './commands/clean.js';
import { registerCompare } from './commands/compare.js';
import { registerCost } from './commands/cost.js';
import { registerEmulators } from './commands/emulators.js';
import { registerMerge } from './commands/merge.js';
import { registerProbe } from './commands/probe.js';
import { registerReport } from './commands/report.js';
import { registerSimulate } from './commands/simulate.js';
import { registerSoak } from './commands/soak.js';

/** Thrown by a command to end with a given exit code after its output is written. */
export class ExitCode extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
    this.name = 'ExitCode';
  }
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rkvs')
    .description('robust-kvs: a fault-tolerant register over several cloud key-value stores, and its benchmark harness')
    .exitOverride()
    .showHelpAfterError('(run rkvs --help for usage)');
  registerBench(program);
  registerEmulators(program);
  registerCheck(program);
  registerSoak(program);
  registerProbe(program);
  registerClean(program);
  registerCompare(program);
  registerCost(program);
  registerReport(program);
  registerSimulate(program);
  registerMerge(program);
  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2; // commander already printed the usage error
    }
    if (e instanceof ExitCode) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`rkvs: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`rkvs: ${describeCause(e)}\n`);
    if (process.env.RKVS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return 1;
  }
}
