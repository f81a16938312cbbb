/**
 * The plan of a run: which cells run, in which order, with which options. Pure: nothing is opened
 * or measured here.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import type { Cell } from '../config/cell.js';
import { resolveFaultScenario, type FaultScenario, type ResolvedFaultScenario } from '../config/fault.js';
import { isProviderConfiguration } from '../config/file.js';
import { ownerMarker, prefixRootOf, runPrefix, type OwnerMarker } from '../config/run-prefix.js';
import type { Suite } from '../config/suite.js';
import type { ConfigurationHandle } from '../config/types.js';
import { clientCounts, loadOf, valueCells, type BenchSchedule, type BenchVariant, type Workload } from '../config/workload.js';
import type { Progress } from './progress.js';
import type { Store } from '../../store.js';
import { shardRange } from './distribute.js';
import type { ShardSpec } from './shard.js';

/** What the run stage needs to know (the command-line overrides of the suite among them). */
export interface RunOptions {
  suite: Suite;
  configurations: ConfigurationHandle[];
  repeat?: number;
  interleave?: boolean;
  ops?: number;
  durationS?: number;
  clients?: number;
  seed?: number;
  history?: boolean;
  variants?: BenchVariant[];
  schedules?: BenchSchedule[];
  progress: Progress;
  signal?: AbortSignal;
  /** Skip the suite's summary checks. */
  skipChecks?: boolean;
  /**
   * Worker processes each cell's clients are spread over (1: this process). Several counts run
   * every configuration once per count (a scaling sweep); the `workers` column tells them apart.
   * @default the suite's `workers`
   */
  workers?: number[];
  /** This process's shard of a run spread over several machines (0-based index). */
  shard?: ShardSpec;
  /** How long a shard waits for the others at a cell barrier, in seconds. @default 600 */
  syncTimeoutS?: number;
  /**
   * Fault scenarios (`--fault`): every register cell runs once healthy, then once under each
   * scenario (docs/benchmarks.md, "Faults").
   */
  faults?: FaultScenario[];
  /**
   * Measures beside each register cell that runs in this process, in turn with its operations and
   * under its fault (`npm run bench:faults`: the ideal operations of the cell's floor,
   * src/bench/run/ideal-op.ts). Not called for cells spread over worker processes.
   */
  cellProbe?: CellProbe;
}

/** What a {@link CellProbe} is given: the cell's key, and the replicas its clients use. */
export interface CellProbeContext {
  cell: Cell;
  /** The cell's key namespace under the run prefix (`cell0001/`); a probe writes elsewhere. */
  cellNs: string;
  /** The configuration's opened replicas, run-prefixed (through the fault proxies when faulted). */
  replicas: readonly Store[];
  /** The replicas' fault tolerance t. */
  t: number;
  signal?: AbortSignal;
}

/** A measurement taken beside each cell, in turn with the cell's own operations. */
export interface CellProbe {
  /** Called before the cell's first operation; undefined: nothing to measure beside this cell. */
  start(ctx: CellProbeContext): CellProbeRun | undefined;
}

/** A {@link CellProbe} on one run of one cell. */
export interface CellProbeRun {
  /**
   * Around each operation of the cell (warm-up ones too, `measured` false), in a closed loop only:
   * `beforeOp` right before the client issues it, `afterOp` right after it returned and before the
   * client issues the next; `register` is the one it uses. The probe takes its own measurement in
   * one of the two, so the two alternate and whatever drifts on the machine hits both alike.
   */
  beforeOp(op: string, measured: boolean, register: string): Promise<void>;
  afterOp(op: string, measured: boolean, register: string): Promise<void>;
  /** Once the fault is healed (before the cell's quiescence and storage listing): settle and remove what it wrote. */
  afterHeal(): Promise<void>;
}

/** One cell of the plan, before it is given a configuration and a worker count. */
export interface PlannedCell {
  variant: BenchVariant;
  schedule: BenchSchedule | 'none';
  workload: Workload;
  valueBytes: number | null;
  clients: number;
  repeat: number;
  /** 1-based index of the fault scenario the cell runs under (`RunPlan.faults`); absent: healthy. */
  fault?: number;
}

/**
 * The cell key of a planned cell run on configuration `config` over `workers` worker processes,
 * under the fault whose canonical text is `fault` (empty: healthy).
 */
export function cellOf(p: PlannedCell, config: string, workers: number, fault = ''): Cell {
  return {
    config,
    variant: p.variant,
    schedule: p.schedule,
    value_bytes: p.valueBytes ?? 0,
    clients: p.clients,
    registers: p.workload.registers,
    workers,
    workload: p.workload.name,
    ...loadOf(p.workload),
    fault,
  };
}

/** The cells of one configuration, in run order. Two workloads giving the same cell are refused. */
export function planCells(
  suite: Suite,
  o: { variants?: BenchVariant[]; schedules?: BenchSchedule[]; repeat?: number; clients?: number; interleave?: boolean; faults?: number },
): PlannedCell[] {
  const repeat = o.repeat ?? suite.repeat;
  const perRepeat: Omit<PlannedCell, 'repeat'>[] = [];
  for (const variant of o.variants ?? suite.variants) {
    for (const w of suite.workloads) {
      if (w.variants && !w.variants.includes(variant)) continue;
      if (!o.variants && !suite.variants.includes(variant)) continue;
      const schedules: (BenchSchedule | 'none')[] =
        variant === 'raw' ? ['none'] : (o.schedules ?? suite.schedules).filter((s) => !w.schedules || w.schedules.includes(s));
      for (const schedule of schedules)
        for (const valueBytes of valueCells(w))
          for (const clients of o.clients ? [o.clients] : clientCounts(w)) perRepeat.push({ variant, schedule, workload: w, valueBytes, clients });
    }
  }
  refuseDuplicates(suite, perRepeat);
  const cells: PlannedCell[] = [];
  if (o.interleave) {
    for (let r = 0; r < repeat; r++) for (const c of perRepeat) cells.push({ ...c, repeat: r });
  } else {
    for (const c of perRepeat) for (let r = 0; r < repeat; r++) cells.push({ ...c, repeat: r });
  }
  return withFaults(cells, o.faults ?? 0);
}

/**
 * Each register cell followed by its runs under fault scenarios 1..`count`, so a healthy cell and
 * its faulty runs are measured one after the other. Raw cells (replica 0 alone) run healthy only.
 */
function withFaults(cells: PlannedCell[], count: number): PlannedCell[] {
  if (count === 0) return cells;
  return cells.flatMap((c) => (c.variant === 'raw' ? [c] : [c, ...Array.from({ length: count }, (_, k) => ({ ...c, fault: k + 1 }))]));
}

/** Two planned cells with one key would be reported as one: name the workloads to tell apart. */
function refuseDuplicates(suite: Suite, cells: readonly Omit<PlannedCell, 'repeat'>[]): void {
  const seen = new Map<string, Omit<PlannedCell, 'repeat'>>();
  for (const c of cells) {
    const k = cellOf({ ...c, repeat: 0 }, '', 1);
    const id = JSON.stringify({ ...k, value_bytes: c.valueBytes ?? 'dist' });
    const prev = seen.get(id);
    if (prev) {
      const which = suite.workloads.indexOf(prev.workload) === suite.workloads.indexOf(c.workload) ? `workload ${c.workload.name}` : `workloads #${suite.workloads.indexOf(prev.workload)} and #${suite.workloads.indexOf(c.workload)} (both named ${c.workload.name})`;
      throw new ConfigError(
        `suite ${suite.name}`,
        `${which} give the same cell (${c.variant}${c.schedule === 'none' ? '' : `/${c.schedule}`}, ${c.valueBytes ?? 'distribution'} bytes, ${c.clients} clients, ${c.workload.registers} registers): give the workloads different names, or different sizes, clients or registers`,
      );
    }
    seen.set(id, c);
  }
}

/** A run's plan: its id, the cells of every configuration, and where they run. */
export interface RunPlan {
  runId: string;
  /** True when the run id was made here (unique), false when it was given (--run-id). */
  generatedId: boolean;
  /** Name of the report directory (`<runId>`, or `<runId>-shard<i>` on a shard). */
  dirName: string;
  /**
   * The key prefix of configuration `h`: every key the run writes there lives under it,
   * `<prefixRoot>bench/<runId>/` (config/run-prefix.ts), the same on every shard of the run.
   */
  prefixOf(h: ConfigurationHandle): string;
  /** This process's owner marker of the run prefixes (random nonce; a shard's slot). */
  owner: OwnerMarker;
  cells: PlannedCell[];
  /** Worker counts, ascending (several: a scaling sweep). */
  counts: number[];
  /** Set when the run is one shard of several. */
  shard?: ShardSpec;
  variants: BenchVariant[];
  schedules: BenchSchedule[];
  seed: number;
  /** What the reader of the report should know about the plan (meta.json `notes`). */
  notes: string[];
  /** Fault scenarios resolved against each configuration: `faults[configuration][scenario - 1]`. */
  faults?: ResolvedFaultScenario[][];
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `n` random characters of [a-z0-9] (36^6 ≈ 2.2e9 values for n = 6). */
export function randomIdPart(n = 6): string {
  const bytes = randomBytes(n * 2);
  let out = '';
  // 252 = 7 x 36: bytes above it are dropped, so every character is equally likely
  for (const b of bytes) if (b < 252 && out.length < n) out += ID_ALPHABET[b % 36];
  return out.length === n ? out : out + randomIdPart(n - out.length);
}

/**
 * `YYYYMMDD-HHMMSS-<suite>-<random>` in UTC: six random characters of [a-z0-9] after the time, so two
 * runs started in the same second (on one machine or many) get different ids, report directories
 * and key prefixes.
 */
export function makeRunId(suite: string, at: Date = new Date(), random: string = randomIdPart()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}`;
  const t = `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  return `${d}-${t}-${suite}-${random}`;
}

/** Plans a run; a ConfigError (exit 2) for options that cannot work together, before anything runs. */
export function planRun(o: RunOptions & { runId?: string; now?: Date }): RunPlan {
  const counts = [...new Set(o.workers ?? [1])].sort((a, b) => a - b);
  checkDistribution(o, counts);
  const shard = o.shard && o.shard.count > 1 ? o.shard : undefined;
  const runId = o.runId ?? makeRunId(o.suite.name, o.now ?? new Date());
  const variants = o.variants ?? o.suite.variants;
  const faults = planFaults(o, counts);
  const cells = planCells(o.suite, { variants, schedules: o.schedules, repeat: o.repeat, clients: o.clients, interleave: o.interleave, faults: o.faults?.length ?? 0 });
  const notes = shard ? shardCoverage(o.suite.name, cells, counts, shard) : [];
  return {
    runId,
    generatedId: o.runId === undefined,
    dirName: shard ? `${runId}-shard${shard.index}` : runId,
    prefixOf: (h) => runPrefix(prefixRootOf(h), runId),
    owner: ownerMarker(runId, shard),
    cells,
    counts,
    ...(shard ? { shard } : {}),
    variants,
    schedules: o.schedules ?? o.suite.schedules,
    seed: o.seed ?? o.suite.seed,
    notes,
    ...(faults ? { faults } : {}),
  };
}

/**
 * Which shards get clients. A cell with fewer clients than shards runs on as many shards as it has
 * clients, moving on by one shard from cell to cell (run/distribute.ts `shardRange`, offset = the
 * cell's position in a configuration's run order); that is noted. A shard that would get no client
 * in any cell would measure nothing: refused (exit 2), the same way on every shard, before anything
 * runs, so no shard waits at a barrier for one that refused.
 */
function shardCoverage(suite: string, cells: readonly PlannedCell[], counts: readonly number[], shard: ShardSpec): string[] {
  const busy = new Set<number>();
  const small: string[] = [];
  let k = 0;
  for (const _n of counts)
    for (const c of cells) {
      const offset = k++;
      for (let i = 0; i < shard.count; i++) {
        const [a, b] = shardRange(c.clients, i, shard.count, offset);
        if (b > a) busy.add(i);
      }
      if (c.clients < shard.count) small.push(`${c.variant}${c.schedule === 'none' ? '' : `/${c.schedule}`} ${c.workload.name} ${c.clients}c`);
    }
  const idle = Array.from({ length: shard.count }, (_, i) => i).filter((i) => !busy.has(i));
  if (idle.length) {
    const most = Math.max(0, ...cells.map((c) => c.clients));
    throw new ConfigError(
      '--shard',
      `shard(s) ${idle.join(', ')} of ${shard.count} would measure nothing: no cell of suite ${suite} has a client for them (the largest cell has ${most} client(s)); ` +
        `run at most ${Math.max(1, busy.size)} shard(s), or give every cell more clients with --clients ${shard.count}`,
    );
  }
  if (!small.length) return [];
  const unique = [...new Set(small)];
  return [
    `${small.length} cell(s) have fewer clients than the ${shard.count} shards (${unique.slice(0, 4).join(', ')}${unique.length > 4 ? ', ...' : ''}): ` +
      'each runs one client on as many shards as it has clients, the next cell starting one shard further, so some shards have no client in some cells',
  ];
}

/** Resolves the `--fault` scenarios against every configuration; ConfigError (exit 2) when one cannot run. */
function planFaults(o: RunOptions, counts: number[]): ResolvedFaultScenario[][] | undefined {
  if (!o.faults?.length) return undefined;
  if (o.suite.kind === 'micro') throw new ConfigError('--fault', 'the micro suite measures CPU cost on memory replicas inside this process; a fault at the socket needs a latency suite on network replicas');
  if (counts.some((n) => n > 1))
    throw new ConfigError('--fault', 'the fault proxies run in the rkvs bench process, and worker processes open their replicas without them; run without --workers (or --workers 1)');
  if (o.variants && o.variants.every((v) => v === 'raw'))
    throw new ConfigError('--fault', 'raw cells use replica 0 alone and run healthy only; add regular or atomic to --variants to measure the register under the fault');
  return o.configurations.map((h) => {
    if (!isProviderConfiguration(h))
      throw new ConfigError('--fault', `configuration ${h.name} has replicas inside this process (memory): a fault at the socket needs network replicas; run against the emulators (the default suite) or a configuration file (--config)`);
    return o.faults!.map((s) => resolveFaultScenario(s, { name: h.name, replicas: h.spec.replicas, t: h.spec.t }));
  });
}

/** Checks the distribution options before anything is measured; ConfigError (exit 2) otherwise. */
function checkDistribution(o: RunOptions & { runId?: string }, counts: number[]): void {
  if (counts.some((n) => n > 1)) {
    const bad = o.configurations.find((c) => !c.origin);
    if (bad) throw new ConfigError('--workers', `configuration ${bad.name} cannot be opened in worker processes; run it without --workers`);
    if (o.suite.kind === 'micro') throw new ConfigError('--workers', 'the micro suite measures CPU cost in one process; run it without --workers');
  }
  if (o.suite.kind === 'model') {
    const why = 'the model suite runs every cell in this process on the deterministic simulator';
    if (counts.some((n) => n > 1)) throw new ConfigError('--workers', `${why}; run it without --workers`);
    if (o.shard && o.shard.count > 1) throw new ConfigError('--shard', `${why}; run it without --shard (it takes seconds)`);
    if (o.history) throw new ConfigError('--history', `${why} and records no history; rkvs soak checks the simulator's histories`);
  }
  if (o.shard && o.shard.count > 1) {
    if (!o.runId)
      throw new ConfigError(
        '--run-id',
        'a sharded run needs the same run id on every shard (it names the shared key prefix and lets rkvs merge match the shards), e.g. --run-id nightly-42 or RKVS_RUN_ID',
      );
    if (o.suite.kind === 'micro') throw new ConfigError('--shard', 'the micro suite cannot be sharded');
  }
}
