/**
 * The `rkvs` command line: thin. Parses arguments and calls the modules that do the work;
 * each subcommand lives in src/commands/<name>.ts and registers itself on the program.
 *
 * Exit codes: src/exit-codes.ts (0 success, 1 failure or a regression found by `compare`, 2 usage or
 * configuration error, 3 undecided check, 130 interrupted).
 *
 * Start-up cost: this module and the command modules load only what declaring the options needs;
 * each command imports its heavy modules (provider SDKs, emulators, charts, the harness) inside its
 * action, so `rkvs --help`, `--version` and usage errors start in about the time of a bare `node`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Help, type Option } from 'commander';
import { ConfigError, describeCause } from './errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, ExitCode } from './exit-codes.js';
import { PACKAGE_ROOT } from './util/package-root.js';
import { registerAb } from './commands/ab.js';
import { registerBench } from './commands/bench.js';
import { registerCheck } from './commands/check.js';
import { registerClean } from './commands/clean.js';
import { registerCompare } from './commands/compare.js';
import { registerCost } from './commands/cost.js';
import { registerEmulators } from './commands/emulators.js';
import { registerFaultProxy } from './commands/fault-proxy.js';
import { registerMerge } from './commands/merge.js';
import { registerProbe } from './commands/probe.js';
import { registerReport } from './commands/report.js';
import { registerSimulate } from './commands/simulate.js';
import { registerSoak } from './commands/soak.js';


/** `rkvs --version`: the package's version and the Node.js running it. */
export function versionText(): string {
  const { version } = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return `robust-kvs ${version} (Node.js ${process.version}, ${process.platform}-${process.arch})`;
}

/**
 * Every option's help line states its default: commander prints the defaults given to `.option()`;
 * a flag is off unless given, a `--no-x` flag's feature is on unless given; an option whose default
 * depends on something else says so in its description, as "(default: ...)".
 */
export function optionDescription(this: Help, option: Option): string {
  const text = Help.prototype.optionDescription.call(this, option);
  if (/\(default[:\s]|\(required|\bdefault: /.test(text) || option.long === '--help' || option.long === '--version') return text;
  if (option.negate) return `${text} (default: with ${option.attributeName()})`;
  if (option.isBoolean()) return `${text} (default: off)`;
  return text;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rkvs')
    .description('robust-kvs: a fault-tolerant register over several cloud key-value stores, and its benchmark harness')
    .version(versionText(), '-V, --version', 'print the version of robust-kvs and of Node.js')
    .configureHelp({ optionDescription })
    .exitOverride()
    .showHelpAfterError('(run rkvs --help for usage)');
  registerBench(program);
  registerEmulators(program);
  registerCheck(program);
  registerSoak(program);
  registerProbe(program);
  registerClean(program);
  registerCompare(program);
  registerAb(program);
  registerCost(program);
  registerReport(program);
  registerSimulate(program);
  registerMerge(program);
  registerFaultProxy(program);
  return program;
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE; // commander already printed the usage error
    }
    if (e instanceof ExitCode) {
      if (e.message) process.stderr.write(`${e.message}\n`);
      return e.code;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`rkvs: ${e.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`rkvs: ${describeCause(e)}\n`);
    if (process.env.RKVS_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
    return EXIT_FAILURE;
  }
}
