/**
 * `rkvs bench`: runs a suite (default: the `default` suite on the three local emulators), writes
 * `reports/<YYYYMMDD-HHMMSS>-<suite>/` (with report.html and cost.csv) and prints a summary table.
 * `--workers N` spreads every cell's clients over N processes; `--shard i/N` runs this machine's
 * share of a run that `rkvs merge` puts together.
 */
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
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
}

/**
 * Worker counts from `--workers` (or the suite's `workers`): `N`, `a,b,c`, `auto` (one per core)
 * or `sweep` (1, 2, ... up to the number of cores).
 */
export function resolveWorkers(flag: string | undefined, suite: Pick<Suite, 'workers'>, cores = os.cpus().length): number[] {
  const spec: string | number | number[] = flag ?? suite.workers ?? 1;
  const where = flag !== undefined ? '--workers' : `suite ${'workers'}`;
  const sweep = () => Array.from({ length: Math.max(1, cores) }, (_, i) => i + 1);
  if (Array.isArray(spec)) return [...new Set(spec)].sort((a, b) => a - b);
  if (typeof spec === 'number') return [spec];
  const v = spec.trim();
  if (v === 'auto') return [Math.max(1, cores)];
  if (v === 'sweep') return sweep();
  const items = v.split(',').map((x) => x.trim());
  if (!items.every((x) => /^\d+$/.test(x) && Number(x) >= 1))
    throw new ConfigError(where, `expected a number of worker processes >= 1, a list such as 1,2,4, auto (one per core) or sweep (1 to ${cores}); got ${JSON.stringify(v)}`);
  return [...new Set(items.map(Number))].sort((a, b) => a - b);
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
    .option('--repeat <n>', "repetitions of every cell (default: the suite's)")
    .option('--interleave', 'alternate variants across repetitions, so drift hits all of them')
    .option('--ops <n>', "measured operations per cell (default: the suite's)")
    .option('--duration <s>', "measured seconds per cell, instead of --ops (default: the suite's)")
    .option('--clients <n>', "concurrent clients per cell (default: the suite's)")
    .option('--seed <n>', 'seed of every random choice (default: the suite seed)')
    .option('--history', 'record every operation to history.jsonl (for rkvs check)')
    .option('--no-progress', 'no live progress output')
    .option('--no-checks', "skip the suite's latency-model and harness-overhead checks")
    .option('--no-html', 'do not write report.html, report.md, charts/ and cost.csv (rkvs report DIR and rkvs cost DIR write them later)')
    .option('--variants <list>', `variants to run, of ${VARIANT_NAMES.join(',')} (default: the suite's)`)
    .option('--schedules <list>', `schedules to run, of ${SCHEDULE_NAMES.join(',')} (default: the suite's)`)
    .option('--workers <n|list|auto|sweep>', "spread every cell's clients over N worker processes (a list, or sweep = 1..cores, runs each count in turn) (default: the suite's, else 1)")
    .option('--shard <i/N>', 'run shard i of N (0-based) of a run spread over machines; combine the shards with rkvs merge (default: the whole run; see --shard-count)')
    .option('--shard-count <N>', 'number of shards, the index coming from RKVS_SHARD_INDEX or JOB_COMPLETION_INDEX (default: RKVS_SHARD_COUNT)')
    .option('--run-id <id>', 'run id (default: <YYYYMMDD-HHMMSS>-<suite>, or RKVS_RUN_ID); every shard of a run needs the same one')
    .option('--sync-timeout <s>', 'seconds a shard waits for the others before each cell (shared replicas only)', '600')
    .option('--yes', 'run even when a bucket holds objects outside the rkvs prefix root')
    .option(
      '--fault <spec>',
      "also run every register cell under a fault injected through a proxy: replica=<name|index>,<fault>,at=<time>[,for=<duration>], e.g. 'replica=s3,blackhole,at=10s' (repeatable: one scenario per flag; ';' joins faults of one scenario; see docs/benchmarks.md)",
      (v: string, prev?: string[]) => [...(prev ?? []), v],
    )
    .action(async (flags: BenchFlags) => {
      const variants = list<BenchVariant>('--variants', flags.variants, VARIANT_NAMES);
      const schedules = list<BenchSchedule>('--schedules', flags.schedules, SCHEDULE_NAMES);
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
      const { checkRunId, resolveShard } = await import('../bench/run/shard.js');
      const shard = resolveShard({ shard: flags.shard, shardCount: flags.shardCount });
      const runIdText = flags.runId ?? (process.env.RKVS_RUN_ID || undefined);
      const runId = runIdText === undefined ? undefined : checkRunId(flags.runId !== undefined ? '--run-id' : 'RKVS_RUN_ID', runIdText);
      const syncTimeoutS = Number(flags.syncTimeout ?? '600');
      if (!Number.isFinite(syncTimeoutS) || syncTimeoutS <= 0) throw new ConfigError('--sync-timeout', `expected a positive number of seconds, got ${JSON.stringify(flags.syncTimeout)}`);
      const { parseFaultFlag } = await import('../bench/config/fault.js');
      const faults = (flags.fault ?? []).map((f) => parseFaultFlag(f, '--fault'));
      const { loadSuite } = await import('../bench/config/suite.js');
      const suite = await loadSuite(flags.suite);
      const workers = resolveWorkers(flags.workers, suite);

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
          htmlAndCost: flags.html,
          options: { ...flags },
          workers,
          shard,
          runId,
          syncTimeoutS,
          yes: flags.yes ?? false,
          ...(faults.length ? { faults } : {}),
        });
        process.stdout.write(summaryTable(outcome.results, outcome.dir, { history: flags.history ?? false, configs: configOrder(outcome.meta), html: flags.html }));
        if (outcome.interrupted) throw new ExitCode(130, `rkvs: interrupted; partial results written to ${outcome.dir}`);
        if (outcome.failures.length)
          throw new ExitCode(1, `rkvs: ${outcome.failures[0]}${outcome.failures.length > 1 ? ` (and ${outcome.failures.length - 1} more)` : ''}; results measured so far are in ${outcome.dir}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
