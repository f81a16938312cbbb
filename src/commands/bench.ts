/**
 * `rkvs bench`: runs a suite (default: the `default` suite on the three local emulators), writes
 * `reports/<YYYYMMDD-HHMMSS>-<suite>/` and prints a summary table.
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { ExitCode } from '../cli.js';
import { configurationsFromFile, defaultEmulatorConfiguration, memoryConfiguration } from '../bench/configurations.js';
import { runBench } from '../bench/orchestrate.js';
import { createProgress, progressMode } from '../bench/progress.js';
import { summaryTable } from '../bench/report/table.js';
import { loadSuite } from '../bench/suite.js';
import { BENCH_SCHEDULES, BENCH_VARIANTS, type BenchSchedule, type BenchVariant } from '../bench/workload.js';
import type { ConfigurationHandle } from '../bench/types.js';

interface BenchFlags {
  suite: string;
  config?: string;
  configs?: string;
  out: string;
  repeat?: string;
  interleave?: boolean;
  ops?: string;
  duration?: string;
  clients?: string;
  seed?: string;
  history?: boolean;
  progress: boolean;
  checks: boolean;
  variants?: string;
  schedules?: string;
}

function positiveInt(flag: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new ConfigError(flag, `expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

function list<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(flag, `expected a comma-separated list of ${allowed.join(', ')}`);
  for (const i of items) if (!allowed.includes(i as T)) throw new ConfigError(flag, `unknown value ${JSON.stringify(i)}; expected ${allowed.join(', ')}`);
  return [...new Set(items)] as T[];
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark suite and write reports/<timestamp>-<suite>/ (default: the default suite on the local emulators)')
    .option('--suite <name|file>', 'suite name in benchmarks/ or a suite file', 'default')
    .option('--config <file>', 'provider configurations file (default: the three local emulators)')
    .option('--configs <a,b>', 'names of the configurations of --config to run (default: all)')
    .option('--out <dir>', 'base directory of report directories', 'reports')
    .option('--repeat <n>', 'repetitions of every cell (overrides the suite)')
    .option('--interleave', 'alternate variants across repetitions, so drift hits all of them')
    .option('--ops <n>', 'measured operations per cell (overrides the suite)')
    .option('--duration <s>', 'measured seconds per cell (overrides the suite)')
    .option('--clients <n>', 'concurrent clients per cell (overrides the suite)')
    .option('--seed <n>', 'seed of every random choice (default: the suite seed)')
    .option('--history', 'record every operation to history.jsonl (for rkvs check)')
    .option('--no-progress', 'no live progress output')
    .option('--no-checks', "skip the suite's latency-model and harness-overhead checks")
    .option('--variants <list>', `variants to run: ${BENCH_VARIANTS.join(',')}`)
    .option('--schedules <list>', `schedules to run: ${BENCH_SCHEDULES.join(',')}`)
    .action(async (flags: BenchFlags) => {
      const variants = list<BenchVariant>('--variants', flags.variants, BENCH_VARIANTS);
      const schedules = list<BenchSchedule>('--schedules', flags.schedules, BENCH_SCHEDULES);
      const repeat = positiveInt('--repeat', flags.repeat);
      const ops = positiveInt('--ops', flags.ops);
      const clients = positiveInt('--clients', flags.clients);
      const seed = positiveInt('--seed', flags.seed, 0);
      let durationS: number | undefined;
      if (flags.duration !== undefined) {
        durationS = Number(flags.duration);
        if (!Number.isFinite(durationS) || durationS <= 0) throw new ConfigError('--duration', `expected a positive number of seconds, got ${JSON.stringify(flags.duration)}`);
      }
      if (ops !== undefined && durationS !== undefined) throw new ConfigError('--ops', 'give either --ops or --duration, not both');
      if (flags.configs && !flags.config) throw new ConfigError('--configs', 'needs --config FILE (the file the names come from)');
      const suite = await loadSuite(flags.suite);

      let configurations: ConfigurationHandle[];
      if (flags.config) {
        const names = flags.configs?.split(',').map((s) => s.trim()).filter(Boolean);
        configurations = await configurationsFromFile(flags.config, names);
      } else if (suite.kind === 'micro') {
        configurations = [];
      } else if (suite.defaultConfig === 'emulators') {
        configurations = [await defaultEmulatorConfiguration()];
      } else {
        configurations = [memoryConfiguration({ ...suite.defaultConfig.memory })];
      }

      const ac = new AbortController();
      const onSignal = () => {
        if (!ac.signal.aborted) {
          process.stderr.write('\ninterrupted: stopping, writing the results measured so far (press Ctrl-C again to quit at once)\n');
          ac.abort(new Error('interrupted'));
        } else process.exit(130);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const progress = createProgress({ mode: progressMode(flags.progress) });
      try {
        const outcome = await runBench({
          suite,
          configurations,
          outDir: flags.out,
          repeat,
          interleave: flags.interleave ?? false,
          ops,
          durationS,
          clients,
          seed,
          history: flags.history ?? false,
          variants,
          schedules,
          progress,
          signal: ac.signal,
          skipChecks: !flags.checks,
          options: { ...flags },
        });
        process.stdout.write(summaryTable(outcome.results, outcome.dir));
        if (outcome.interrupted) throw new ExitCode(130, `rkvs: interrupted; partial results written to ${outcome.dir}`);
        if (outcome.failures.length)
          throw new ExitCode(1, `rkvs: ${outcome.failures[0]}${outcome.failures.length > 1 ? ` (and ${outcome.failures.length - 1} more)` : ''}; results measured so far are in ${outcome.dir}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
