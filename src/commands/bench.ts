/**
 * `rkvs bench`: runs a suite (default: the `default` suite on the three local emulators), writes
 * `reports/<YYYYMMDD-HHMMSS>-<suite>-<random>/` (with report.html and cost.csv) and prints a
 * summary table. It never writes into an existing report directory (`--overwrite` replaces one
 * whole, `--update-baseline` a baseline), and every number it takes is bounded (./flags.ts).
 * `--workers N` spreads every cell's clients over N processes; `--shard i/N` runs this machine's
 * share of a run that `rkvs merge` puts together.
 */
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { EXIT_INTERRUPTED, ExitCode } from '../exit-codes.js';
import { decimalFlag, intFlag, LIMITS, maxWorkers } from './flags.js';
import type { Suite } from '../bench/config/suite.js';
import type { BenchSchedule, BenchVariant } from '../bench/config/workload.js';
import type { ConfigurationHandle } from '../bench/config/types.js';

// The harness (and through it the SDKs and emulators) loads in the action, not when the command is
// declared: `rkvs --help` and usage errors do not pay for it. The help text names the variants and
// schedules of src/bench/config/workload.ts (BENCH_VARIANTS, BENCH_SCHEDULES) without loading it (zod); a
// test keeps the lists equal.
export const VARIANT_NAMES: readonly BenchVariant[] = ['raw', 'regular', 'atomic'];
export const SCHEDULE_NAMES: readonly BenchSchedule[] = ['fast', 'classic'];

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
  html: boolean;
  variants?: string;
  schedules?: string;
  workers?: string;
  shard?: string;
  shardCount?: string;
  runId?: string;
  syncTimeout?: string;
  yes?: boolean;
  fault?: string[];
  force?: boolean;
  overwrite?: boolean;
  updateBaseline?: boolean;
}

/**
 * Worker counts from `--workers` (or the suite's `workers`): `N`, `a,b,c`, `auto` (one per core)
 * or `sweep` (1, 2, ... up to the number of cores). Each count is at most
 * LIMITS.workersPerCore x the cores, or LIMITS.workersForced with `force`.
 */
export function resolveWorkers(flag: string | undefined, suite: Pick<Suite, 'workers'>, cores = os.cpus().length, force = false): number[] {
  const spec: string | number | number[] = flag ?? suite.workers ?? 1;
  const where = flag !== undefined ? '--workers' : `suite ${'workers'}`;
  const sweep = () => Array.from({ length: Math.max(1, cores) }, (_, i) => i + 1);
  const max = maxWorkers(cores, force);
  const bounded = (counts: number[]) => {
    const big = counts.find((n) => n > max);
    if (big !== undefined)
      throw new ConfigError(
        where,
        force
          ? `${Number.isFinite(big) ? big : 'that many'} worker processes is above the largest allowed ${max}, even with --force; give at most ${max}`
          : `${Number.isFinite(big) ? big : 'that many'} worker processes is above the largest allowed ${max} (${LIMITS.workersPerCore} per core, ${cores} core(s)): more processes than that only compete for the cores; give at most ${max}, e.g. --workers auto (one per core), or add --force to allow up to ${maxWorkers(cores, true)}`,
      );
    return counts;
  };
  if (Array.isArray(spec)) return bounded([...new Set(spec)].sort((a, b) => a - b));
  if (typeof spec === 'number') return bounded([spec]);
  const v = spec.trim();
  if (v === 'auto') return [Math.max(1, cores)];
  if (v === 'sweep') return sweep();
  const items = v.split(',').map((x) => x.trim());
  if (!items.every((x) => /^\d+$/.test(x) && Number(x) >= 1))
    throw new ConfigError(where, `expected a number of worker processes from 1 to ${max}, a list such as 1,2,4, auto (one per core) or sweep (1 to ${cores}); got ${JSON.stringify(v)}`);
  return bounded([...new Set(items.map((x) => (x.length > 12 ? Infinity : Number(x))))].sort((a, b) => a - b));
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
    .description('run a benchmark suite and write reports/<YYYYMMDD-HHMMSS>-<suite>-<random>/ (default: the default suite on the local emulators)')
    .option('--suite <name|file>', 'suite name in benchmarks/ or a suite file', 'default')
    .option('--config <file>', 'provider configurations file (default: the three local emulators)')
    .option('--configs <a,b>', 'names of the configurations of --config to run (default: all)')
    .option('--out <dir>', 'base directory of report directories', 'reports')
    .option('--repeat <n>', `repetitions of every cell, 1 to ${LIMITS.repeat} (default: the suite's)`)
    .option('--interleave', 'alternate variants across repetitions, so drift hits all of them')
    .option('--ops <n>', `measured operations per cell, 1 to ${LIMITS.ops} (default: the suite's)`)
    .option('--duration <s>', `measured seconds per cell, instead of --ops, at most ${LIMITS.durationS} (default: the suite's)`)
    .option('--clients <n>', `concurrent clients per cell, 1 to ${LIMITS.clients} (default: the suite's)`)
    .option('--seed <n>', `seed of every random choice, 0 to ${LIMITS.seed} (default: the suite seed)`)
    .option('--history', 'record every operation to history.jsonl (for rkvs check)')
    .option('--no-progress', 'no live progress output')
    .option('--no-checks', "skip the suite's latency-model and harness-overhead checks")
    .option('--no-html', 'do not write report.html, report.md, charts/ and cost.csv (rkvs report DIR and rkvs cost DIR write them later)')
    .option('--variants <list>', `variants to run, of ${VARIANT_NAMES.join(',')} (default: the suite's)`)
    .option('--schedules <list>', `schedules to run, of ${SCHEDULE_NAMES.join(',')} (default: the suite's)`)
    .option('--workers <n|list|auto|sweep>', `spread every cell's clients over N worker processes (a list, or sweep = 1..cores, runs each count in turn), at most ${LIMITS.workersPerCore} per core without --force (default: the suite's, else 1)`)
    .option('--force', `allow more than ${LIMITS.workersPerCore} worker processes per core (up to ${LIMITS.workersForced})`)
    .option('--shard <i/N>', 'run shard i of N (0-based) of a run spread over machines; combine the shards with rkvs merge (default: the whole run; see --shard-count)')
    .option('--shard-count <N>', 'number of shards, the index coming from RKVS_SHARD_INDEX or JOB_COMPLETION_INDEX (default: RKVS_SHARD_COUNT)')
    .option('--run-id <id>', 'run id: names the report directory <out>/<id>/ and the key prefix <prefixRoot>bench/<id>/ (default: <YYYYMMDD-HHMMSS>-<suite>-<6 random characters>, or RKVS_RUN_ID); every shard of a run needs the same one')
    .option('--overwrite', 'replace an existing report directory of the same run id wholly (default: refuse it)')
    .option('--update-baseline', 'allow writing a baseline directory (reports/baseline, or one holding .rkvs-baseline); its README.md and thresholds.yaml are kept')
    .option('--sync-timeout <s>', `seconds a shard waits for the others before each cell (shared replicas only), at most ${LIMITS.waitS}`, '600')
    .option('--yes', 'run even when a bucket holds objects outside the rkvs prefix root')
    .option(
      '--fault <spec>',
      "also run every register cell under a fault injected through a proxy: replica=<name|index>,<fault>,at=<time>[,for=<duration>], e.g. 'replica=s3,blackhole,at=10s' (repeatable: one scenario per flag; ';' joins faults of one scenario; see docs/benchmarks.md) (default: none, healthy cells only)",
      (v: string, prev?: string[]) => [...(prev ?? []), v],
    )
    .action(async (flags: BenchFlags) => {
      const variants = list<BenchVariant>('--variants', flags.variants, VARIANT_NAMES);
      const schedules = list<BenchSchedule>('--schedules', flags.schedules, SCHEDULE_NAMES);
      const repeat = intFlag('--repeat', flags.repeat, 1, LIMITS.repeat, 3);
      const ops = intFlag('--ops', flags.ops, 1, LIMITS.ops, 1000);
      const clients = intFlag('--clients', flags.clients, 1, LIMITS.clients, 4);
      const seed = intFlag('--seed', flags.seed, 0, LIMITS.seed, 42);
      const durationS = decimalFlag('--duration', flags.duration, { min: 0, max: LIMITS.durationS, unit: 'seconds', example: '30' });
      if (ops !== undefined && durationS !== undefined) throw new ConfigError('--ops', 'give either --ops or --duration, not both');
      if (flags.configs && !flags.config) throw new ConfigError('--configs', 'needs --config FILE (the file the names come from)');
      const { checkRunId, resolveShard } = await import('../bench/run/shard.js');
      const shard = resolveShard({ shard: flags.shard, shardCount: flags.shardCount });
      const runIdText = flags.runId ?? (process.env.RKVS_RUN_ID || undefined);
      const runId = runIdText === undefined ? undefined : checkRunId(flags.runId !== undefined ? '--run-id' : 'RKVS_RUN_ID', runIdText);
      const syncTimeoutS = decimalFlag('--sync-timeout', flags.syncTimeout ?? '600', { min: 0, max: LIMITS.waitS, unit: 'seconds', example: '600' })!;
      if (flags.force && flags.workers === undefined) throw new ConfigError('--force', 'only lifts the bound of --workers; give --workers N with it, or leave --force out');
      const { parseFaultFlag } = await import('../bench/config/fault.js');
      const faults = (flags.fault ?? []).map((f) => parseFaultFlag(f, '--fault'));
      const { loadSuite } = await import('../bench/config/suite.js');
      const suite = await loadSuite(flags.suite);
      const workers = resolveWorkers(flags.workers, suite, os.cpus().length, flags.force ?? false);

      const { configurationsFromFile, defaultEmulatorConfiguration, memoryConfiguration, modelConfiguration } = await import('../bench/config/configurations.js');
      let configurations: ConfigurationHandle[];
      if (suite.kind === 'model' && flags.config)
        throw new ConfigError('--config', `suite ${suite.name} is a model suite: it runs on the deterministic simulator, not on configurations; drop --config`);
      if (suite.kind === 'model') {
        configurations = [modelConfiguration(suite.model ?? {})];
      } else if (flags.config) {
        const names = flags.configs?.split(',').map((s) => s.trim()).filter(Boolean);
        configurations = await configurationsFromFile(flags.config, names);
      } else if (suite.kind === 'micro') {
        configurations = [];
      } else if (suite.defaultConfig === 'emulators') {
        configurations = [await defaultEmulatorConfiguration()];
      } else {
        configurations = [memoryConfiguration({ ...suite.defaultConfig.memory })];
      }

      const [{ runBench }, { createProgress, progressMode }, { summaryTable, configOrder }] = await Promise.all([
        import('../bench/pipeline.js'),
        import('../bench/run/progress.js'),
        import('../bench/report/table.js'),
      ]);
      const ac = new AbortController();
      // every replica call of every client listens to this signal
      setMaxListeners(0, ac.signal);
      const onSignal = () => {
        if (!ac.signal.aborted) {
          process.stderr.write('\ninterrupted: stopping, writing the results measured so far (press Ctrl-C again to quit at once, writing nothing)\n');
          ac.abort(new Error('interrupted'));
        } else {
          // at once: the exit hooks kill the worker processes and emulators and remove the
          // unfinished report directory
          process.stderr.write('interrupted again: quitting at once (a report not yet complete is not written)\n');
          process.exit(EXIT_INTERRUPTED);
        }
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
          htmlAndCost: flags.html,
          options: { ...flags },
          workers,
          shard,
          runId,
          syncTimeoutS,
          yes: flags.yes ?? false,
          ...(faults.length ? { faults } : {}),
          overwrite: flags.overwrite ?? false,
          updateBaseline: flags.updateBaseline ?? false,
        });
        if (!outcome.written) throw new ExitCode(EXIT_INTERRUPTED, 'rkvs: interrupted before any cell was measured; nothing was written');
        process.stdout.write(summaryTable(outcome.results, outcome.dir, { history: flags.history ?? false, configs: configOrder(outcome.meta), html: flags.html }));
        if (outcome.interrupted) throw new ExitCode(EXIT_INTERRUPTED, `rkvs: interrupted; the results measured so far are in ${outcome.dir} (meta.json: "interrupted": true)`);
        if (outcome.failures.length)
          throw new ExitCode(1, `rkvs: ${outcome.failures[0]}${outcome.failures.length > 1 ? ` (and ${outcome.failures.length - 1} more)` : ''}; results measured so far are in ${outcome.dir}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
