/**
 * A whole bench run: configurations x variants x schedules x workload cells x repetitions, the
 * summary checks, and the report directory. Partial results are written whatever happens.
 *
 * A cell's clients may be spread over worker processes (`workers`, see workers.ts) and over shards
 * on other machines (`shard`, see shard.ts); the parts are merged exactly (distribute.ts).
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { ConfigError, describeCause } from '../../errors.js';
import type { CallOptions, Store } from '../../store.js';
import { ForwardingStore } from '../../layers/forwarding.js';
import { preparePart, replicaLabels, type CellPartResult, type CellPartTask } from './cell-part.js';
import { cleanupOpened, guardConfiguration } from '../config/clean.js';
import { startSharedEmulators, type EmulatorEndpoint } from '../config/open.js';
import { isProviderConfiguration } from '../config/file.js';
import { memoryConfiguration, replicaScope } from '../config/configurations.js';
import { mergeOutcomes, planParts } from './distribute.js';
import { type CreateRobustStore, loadRegister } from './register.js';
import { baseMeta, type RunMeta } from '../record/meta.js';
import { measureReplica, PeakSampler } from './storage.js';
import type { Progress } from './progress.js';
import { withOp } from './counting.js';
import { BenchResults, type SummaryCheck } from '../record/results.js';
import { createRunDir, finishReportDir, makeRunId, writeReport } from '../record/run-dir.js';
import { StoreBarrier, type ShardSpec } from './shard.js';
import { summarize } from './histogram.js';
import type { Suite } from '../config/suite.js';
import { ScopedStore } from '../config/stores.js';
import type { ConfigurationHandle, OpenedConfiguration } from '../config/types.js';
import {
  clientCounts,
  valueCells,
  workloadSchema,
  type BenchSchedule,
  type BenchVariant,
  type LogicalOp,
  type Workload,
} from './workload.js';
import { WorkerPool } from './workers.js';
import { sleep, withTimeout } from '../../util/abort.js';

export { replicaLabels } from './cell-part.js';

export interface BenchOptions {
  suite: Suite;
  configurations: ConfigurationHandle[];
  /** Base directory of report directories. @default "reports" */
  outDir?: string;
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
  /** Command-line options, recorded in meta.json. */
  options?: Record<string, unknown>;
  /** Skip the suite's summary checks. */
  skipChecks?: boolean;
  now?: Date;
  /**
   * Worker processes each cell's clients are spread over (1: this process). Several counts run
   * every configuration once per count, labelled `<config>@<n>w` (a scaling sweep).
   * @default the suite's `workers`
   */
  workers?: number[];
  /** This process's shard of a run spread over several machines (0-based index). */
  shard?: ShardSpec;
  /** Run id shared by the shards (also the key prefix `rkvs-bench/<runId>/`). @default <YYYYMMDD-HHMMSS>-<suite> */
  runId?: string;
  /** How long a shard waits for the others at a cell barrier, in seconds. @default 600 */
  syncTimeoutS?: number;
  /** Run against buckets holding objects outside the prefix root (see guardConfiguration). */
  yes?: boolean;
  /** Write report.html, charts/ and cost.csv at the end. @default true */
  htmlAndCost?: boolean;
}

export interface BenchOutcome {
  runId: string;
  dir: string;
  results: BenchResults;
  meta: RunMeta;
  files: string[];
  interrupted: boolean;
  failures: string[];
}

interface PlannedCell {
  variant: BenchVariant;
  schedule: BenchSchedule | 'none';
  workload: Workload;
  valueBytes: number | null;
  clients: number;
  repeat: number;
}

/** The cells of one configuration, in run order. */
export function planCells(
  suite: Suite,
  o: { variants?: BenchVariant[]; schedules?: BenchSchedule[]; repeat?: number; clients?: number; interleave?: boolean },
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
  const cells: PlannedCell[] = [];
  if (o.interleave) {
    for (let r = 0; r < repeat; r++) for (const c of perRepeat) cells.push({ ...c, repeat: r });
  } else {
    for (const c of perRepeat) for (let r = 0; r < repeat; r++) cells.push({ ...c, repeat: r });
  }
  return cells;
}

/** Lists every replica once, so an unreachable replica or a missing bucket fails fast with one line. */
async function preflight(cfg: string, opened: OpenedConfiguration, signal?: AbortSignal): Promise<void> {
  const labels = replicaLabels(opened.replicas);
  await Promise.all(
    opened.replicas.map(async (r, i) => {
      try {
        await withTimeout(r.list('rkvs-preflight/', { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(15_000)]) : AbortSignal.timeout(15_000) }), 20_000, `replica ${labels[i]}`);
      } catch (e) {
        throw new Error(
          `configuration ${cfg}: replica ${labels[i]} is unreachable (${describeCause(e)}); check its endpoint, credentials and that the bucket/container exists`,
        );
      }
    }),
  );
}

async function removeAll(replica: Store, ns: string): Promise<void> {
  const keys = await replica.list(ns);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) await replica.remove(keys[next++] as string);
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
}

interface CellRunContext {
  results: BenchResults;
  progress: Progress;
  signal?: AbortSignal;
  history?: string[];
  epochMs: number;
  ops?: number;
  durationS?: number;
  sampleMs: number;
  seed: number;
  cellCounter: { n: number };
  /** Throughput per cell and worker count, for the scaling summary. */
  scaling: Map<string, Map<number, { ops: number; ms: number }>>;
}

/** Where the parts of a cell run (none given: all clients in this process). */
interface CellDistribution {
  /** Worker processes to spread the clients over (1: in this process). */
  workers: number;
  pool?: WorkerPool;
  cfgIndex: number;
  shard?: ShardSpec;
  /** Set when the shards share the replicas: the cell runs on every shard at once. */
  barrier?: StoreBarrier;
  /** False when this process cannot see what the parts wrote (memory replicas inside the workers). */
  visible?: boolean;
}

interface CellRunResult {
  p50: Map<LogicalOp, number>;
  mean: Map<LogicalOp, number>;
  rounds: Map<LogicalOp, number>;
  window: { ms: number; ops: number };
  quiescentCopies: number[];
  interrupted: boolean;
}

/** Runs one planned cell against an opened configuration and adds its results. */
async function runPlannedCell(
  ctx: CellRunContext,
  cfg: string,
  opened: OpenedConfiguration,
  cell: PlannedCell,
  createRobustStore: CreateRobustStore | null,
  index: number,
  count: number,
  dist: CellDistribution = { workers: 1, cfgIndex: 0 },
): Promise<CellRunResult> {
  const { workload: w, variant, schedule } = cell;
  const cellName = `cell${String(++ctx.cellCounter.n).padStart(4, '0')}`;
  const ns = `${cellName}/`;
  const all = variant === 'raw' ? opened.replicas.slice(0, 1) : opened.replicas;
  const labels = replicaLabels(all);
  const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
  const seed = (ctx.seed + index * 7919) >>> 0;
  const shard = dist.shard ?? { index: 0, count: 1 };
  const parts = planParts(cell, { shard, workers: dist.workers }, { ops: ctx.ops, durationS: ctx.durationS });
  const tasks: { worker: number; task: CellPartTask }[] = parts.map((p) => ({
    worker: p.worker,
    task: {
      config: cfg,
      ns,
      variant,
      schedule,
      workload: p.workload,
      valueBytes: cell.valueBytes,
      first: p.first,
      count: p.count,
      idPrefix: p.idPrefix,
      ...(p.ops !== undefined ? { ops: p.ops } : { durationS: p.durationS }),
      seed,
      faults: t,
      history: ctx.history !== undefined,
      ...(dist.pool && dist.visible === false ? { historyScope: `w${p.worker}/` } : {}),
    },
  }));
  const valueLabel = cell.valueBytes === null ? 'dist' : `${cell.valueBytes}B`;
  const where = [shard.count > 1 ? `shard ${shard.index}/${shard.count}` : '', dist.pool ? `${parts.length} worker${parts.length === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  const label = `${cfg} ${variant}${schedule === 'none' ? '' : `/${schedule}`} ${w.name} ${valueLabel} ${cell.clients}c${cell.repeat > 0 ? ` rep ${cell.repeat}` : ''}${where ? ` (${where})` : ''}`;
  const opsTotal = tasks.reduce((a, x) => a + (x.task.ops ?? 0), 0);
  ctx.progress.cell(index, count, label, opsTotal);
  // the shard that measures storage and removes the cell's keys (every shard when each has its own replicas)
  const owner = !dist.barrier || shard.index === 0;
  const inWorkers = tasks.length > 0 && dist.pool !== undefined;
  const measure = owner && (dist.visible !== false || !inWorkers);
  const sampler = new PeakSampler(all, ns, measure ? ctx.sampleMs : 0);

  // 1. run the parts (all at once; with a barrier, at the same time as the other shards)
  if (dist.barrier) await dist.barrier.arrive(`${cellName}-start`, null);
  sampler.start();
  let partResults: CellPartResult[] = [];
  try {
    if (tasks.length && dist.pool) {
      partResults = await dist.pool.runParts(dist.cfgIndex, tasks, { signal: ctx.signal, onOps: (n) => { for (let i = 0; i < n; i++) ctx.progress.tick(); } });
    } else if (tasks.length) {
      const part = preparePart(tasks[0]!.task, opened.replicas, createRobustStore);
      partResults = [
        await part.run({
          signal: ctx.signal,
          epochMs: ctx.epochMs,
          onOp: () => ctx.progress.tick(),
          afterRun: async () => {
            if (!ctx.signal?.aborted && measure) await sampler.sample();
          },
        }),
      ];
    }
    if (!ctx.signal?.aborted && measure) await sampler.sample();
  } finally {
    await sampler.stop();
  }
  const outcome = mergeOutcomes(partResults.map((p) => p.outcome));
  // 2. with a barrier: wait for every shard to finish the cell (each says which registers it wrote last)
  let lastWritten = outcome.lastWritten;
  if (dist.barrier && !ctx.signal?.aborted) {
    const markers = await dist.barrier.arrive<[string, number][]>(`${cellName}-end`, [...outcome.lastWritten], { read: owner });
    if (owner) {
      lastWritten = new Map();
      for (const m of markers) for (const [k, v] of m.payload) lastWritten.set(k, Math.max(v, lastWritten.get(k) ?? 0));
    }
  }

  const r = ctx.results;
  const elapsedMs = Math.max(outcome.endMs - outcome.startMs, 0);
  const window = { startEpochMs: outcome.startEpochMs, endEpochMs: outcome.endEpochMs, elapsedMs };
  const keys = new Set([...outcome.ok.keys(), ...outcome.failed.keys()]);
  const p50 = new Map<LogicalOp, number>();
  const mean = new Map<LogicalOp, number>();
  let okTotal = 0;
  let errTotal = 0;
  for (const k of keys) {
    const [op, vb] = k.split('|') as [LogicalOp, string];
    const ok = outcome.ok.get(k);
    const failed = outcome.failed.get(k);
    const errs = failed?.totalCount ?? 0;
    okTotal += ok?.totalCount ?? 0;
    errTotal += errs;
    r.addSeries({ config: cfg, variant, schedule, op, value_bytes: Number(vb), clients: cell.clients }, cell.repeat, ok, failed, errs, window, outcome.rounds.get(op), cellName);
    if (ok && ok.totalCount > 0) {
      const s = summarize(ok);
      p50.set(op, s.p50_ms);
      mean.set(op, s.mean_ms);
    }
  }
  for (const [k, n] of outcome.errors) {
    const [op, kind] = k.split('|') as [string, string];
    r.addError(cfg, variant, schedule, op, kind, n);
  }
  for (const p of partResults) for (const e of p.requests) r.addRequests(cfg, variant, e.op, e.replica, e.counts);
  for (const [op, n] of outcome.measured) r.addLogicalOps(cfg, variant, op, n);
  if (ctx.history) for (const p of partResults) ctx.history.push(...p.history);

  // storage overhead: peak (sampled) and quiescent, listing every replica directly
  const registers = lastWritten.size;
  let logical = 0;
  for (const v of lastWritten.values()) logical += v;
  const quiescentCopies: number[] = [];
  if (measure && !ctx.signal?.aborted && registers > 0) {
    for (let i = 0; i < all.length; i++) {
      const base = { config: cfg, variant, replica: labels[i] as string, registers, value_bytes: cell.valueBytes ?? 0, logical_bytes: logical };
      try {
        const q = await measureReplica(all[i] as Store, ns, { withBytes: true });
        const peak = sampler.peak[i];
        r.addOverhead({ ...base, phase: 'peak', usage: peak && peak.objects >= q.objects ? peak : q });
        r.addOverhead({ ...base, phase: 'quiescent', usage: q });
        quiescentCopies.push(q.objects / registers);
      } catch (e) {
        ctx.progress.log(`warning: ${cfg} replica ${labels[i]}: storage overhead not measured (${describeCause(e)})`);
      }
    }
  }
  if (quiescentCopies.length) r.quiescent.push({ config: cfg, variant, schedule, clients: cell.clients, copies: quiescentCopies });
  if (tasks.length) r.cellsMeasured++;
  if (owner && !ctx.signal?.aborted) await Promise.all(all.map((rep) => removeAll(rep, ns).catch(() => undefined)));

  const rate = elapsedMs > 0 ? ((okTotal * 1000) / elapsedMs).toFixed(0) : '0';
  const p50s = [...p50].map(([op, v]) => `${op} p50 ${v.toFixed(2)} ms`).join(', ');
  ctx.progress.cellDone(tasks.length ? `${okTotal} ok, ${errTotal} errors, ${rate} ops/s${p50s ? `, ${p50s}` : ''}` : 'no client of this cell on this shard');
  const rounds = new Map<LogicalOp, number>();
  for (const [op, x] of outcome.rounds) if (x.n > 0) rounds.set(op, x.sum / x.n);
  return { p50, mean, rounds, window: { ms: elapsedMs, ops: okTotal + errTotal }, quiescentCopies, interrupted: outcome.interrupted };
}

/** Times every put call of the inner store (to separate the store's time from the harness's own). */
class PutTimingStore extends ForwardingStore {
  private readonly durations: number[] = [];
  constructor(inner: Store) {
    super(inner, 'timed');
  }
  get calls(): number {
    return this.durations.length;
  }
  /** Total time of the last `n` puts. */
  lastMs(n: number): number {
    let s = 0;
    for (const d of this.durations.slice(-n)) s += d;
    return s;
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const t0 = performance.now();
    try {
      return await this.inner.put(key, value, opts);
    } finally {
      this.durations.push(performance.now() - t0);
    }
  }
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Expected rounds of an operation in the common case (no concurrency, all replicas up). */
export function expectedRounds(variant: 'regular' | 'atomic', schedule: BenchSchedule, op: LogicalOp): number {
  if (op === 'write' || op === 'remove') return schedule === 'fast' ? 2 : 3;
  if (schedule === 'fast') return 1;
  return variant === 'atomic' ? 3 : 2;
}

/** Short hash of a suite's definition: shards and merges check they ran the same suite. */
export function suiteHash(suite: Suite): string {
  return createHash('sha256').update(JSON.stringify(suite)).digest('hex').slice(0, 16);
}

/** Emulator kinds the configurations start (for --workers: started once, shared with the workers). */
function emulatorKinds(configurations: readonly ConfigurationHandle[]): ('s3' | 'azure' | 'gcs')[] {
  const kinds = new Set<'s3' | 'azure' | 'gcs'>();
  for (const h of configurations) if (isProviderConfiguration(h)) for (const r of h.spec.replicas) if (r.provider === 'emulator') kinds.add(r.kind);
  return [...kinds];
}

/** True when the configuration has replicas that live inside the process opening it (memory). */
function hasPerProcessReplicas(h: ConfigurationHandle): boolean {
  if (isProviderConfiguration(h)) return h.spec.replicas.some((r) => r.provider === 'memory');
  return h.origin?.kind !== 'emulators' && h.origin?.kind !== 'file';
}

/** Checks the distribution options before anything is measured; ConfigError (exit 2) otherwise. */
function checkDistribution(o: BenchOptions, counts: number[]): void {
  if (counts.some((n) => n > 1)) {
    const bad = o.configurations.find((c) => !c.origin);
    if (bad) throw new ConfigError('--workers', `configuration ${bad.name} cannot be opened in worker processes; run it without --workers`);
    if (o.suite.kind === 'micro') throw new ConfigError('--workers', 'the micro suite measures CPU cost in one process; run it without --workers');
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

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const start = o.now ?? new Date();
  const suite = o.suite;
  // every replica call of every client listens to the run's signal
  if (o.signal) setMaxListeners(0, o.signal);
  const counts = [...new Set(o.workers ?? [1])].sort((a, b) => a - b);
  checkDistribution(o, counts);
  const shard = o.shard && o.shard.count > 1 ? o.shard : undefined;
  // refuse buckets holding foreign objects before anything is written (unless --yes)
  if (suite.kind !== 'micro') for (const h of o.configurations) await guardConfiguration(h, { yes: o.yes, signal: o.signal });
  const runId = o.runId ?? makeRunId(suite.name, start);
  const dir = await createRunDir(o.outDir ?? 'reports', shard ? `${runId}-shard${shard.index}` : runId);
  const results = new BenchResults(runId, suite.name);
  const meta = await baseMeta(runId, suite.name, start);
  const seed = o.seed ?? suite.seed;
  meta.suite_hash = suiteHash(suite);
  meta.host = os.hostname();
  meta.seeds = { suite: seed };
  meta.options = { ...(o.options ?? {}) };
  meta.configurations = o.configurations.map((c) => c.describe());
  meta.workers = counts.length === 1 ? counts[0] : counts;
  if (shard) meta.shard = { index: shard.index, count: shard.count };
  const history: string[] | undefined = o.history ? [] : undefined;
  const createRobustStore = await loadRegister();
  const ctx: CellRunContext = {
    results,
    progress: o.progress,
    signal: o.signal,
    history,
    epochMs: performance.now(),
    ops: o.ops,
    durationS: o.durationS,
    sampleMs: suite.sampleMs,
    seed,
    cellCounter: { n: 0 },
    scaling: new Map(),
  };
  let variants = o.variants ?? suite.variants;
  if (!createRobustStore && variants.some((v) => v !== 'raw')) {
    results.failures.push('the register (src/register) is not available in this build: only the raw baseline was measured');
    variants = variants.filter((v) => v === 'raw');
  }
  const cells = planCells(suite, { variants, schedules: o.schedules, repeat: o.repeat, clients: o.clients, interleave: o.interleave });
  const sweep = counts.length > 1;
  const maxWorkers = Math.max(...counts);
  const prefix = `rkvs-bench/${runId}/`;
  const notes: string[] = [];

  let crashed: unknown;
  let pool: WorkerPool | undefined;
  let shared: { endpoints: EmulatorEndpoint[]; stop(): Promise<void> } | undefined;
  try {
    if (suite.kind === 'micro') {
      const { runMicro } = await import('./micro.js');
      await runMicro({ suite, results, progress: o.progress, createRobustStore, variants, schedules: o.schedules ?? suite.schedules, signal: o.signal });
    } else {
      if (maxWorkers > 1 && cells.length && o.configurations.length) {
        const kinds = emulatorKinds(o.configurations);
        if (kinds.length) {
          o.progress.log(`starting the ${kinds.join(', ')} emulator(s) once for every worker ...`);
          shared = await startSharedEmulators(kinds, o.signal);
        }
        o.progress.log(`starting ${maxWorkers} worker processes ...`);
        pool = await WorkerPool.start({
          workers: maxWorkers,
          origins: o.configurations.map((c) => c.origin!),
          emulators: shared?.endpoints ?? [],
          epochAbsMs: performance.timeOrigin + ctx.epochMs,
        });
        for (const c of o.configurations)
          if (hasPerProcessReplicas(c))
            notes.push(`configuration ${c.name}: its memory replicas live in each worker process, so workers do not contend on the same registers and storage overhead is not measured`);
      }
      for (let ci = 0; ci < o.configurations.length; ci++) {
        const cfgHandle = o.configurations[ci] as ConfigurationHandle;
        if (o.signal?.aborted) break;
        if (cells.length === 0) break;
        let opened: OpenedConfiguration | undefined;
        let poolOpened = false;
        try {
          o.progress.log(`opening configuration ${cfgHandle.name} ...`);
          opened = await cfgHandle.open({ prefix, signal: o.signal });
          await preflight(cfgHandle.name, opened, o.signal);
          if (pool) {
            await pool.open(ci, prefix);
            poolOpened = true;
          }
          const perProcess = hasPerProcessReplicas(cfgHandle);
          const barrier =
            shard && replicaScope(cfgHandle) === 'shared'
              ? new StoreBarrier(opened.replicas[0] as Store, shard, { timeoutMs: (o.syncTimeoutS ?? 600) * 1000, signal: o.signal })
              : undefined;
          if (shard && !barrier && ci === 0)
            notes.push(`configuration ${cfgHandle.name}: every shard has replicas of its own, so shards do not contend on the same registers and cells are not synchronised across shards`);
          const total = cells.length * counts.length;
          let k = 0;
          for (const n of counts) {
            const label = sweep ? `${cfgHandle.name}@${n}w` : cfgHandle.name;
            for (let i = 0; i < cells.length; i++) {
              if (o.signal?.aborted) break;
              const cell = cells[i] as PlannedCell;
              const res = await runPlannedCell(ctx, label, opened, cell, createRobustStore, ++k, total, {
                workers: n,
                pool: n > 1 || sweep ? pool : undefined,
                cfgIndex: ci,
                shard,
                barrier,
                visible: !perProcess,
              });
              const key = `${cfgHandle.name}|${cell.variant}|${cell.schedule}|${cell.workload.name}|${cell.valueBytes ?? 'dist'}|${cell.clients}`;
              const byN = ctx.scaling.get(key) ?? new Map<number, { ops: number; ms: number }>();
              const acc = byN.get(n) ?? { ops: 0, ms: 0 };
              acc.ops += res.window.ops;
              acc.ms += res.window.ms;
              byN.set(n, acc);
              ctx.scaling.set(key, byN);
            }
          }
          // the run prefix is removed at the end of each configuration (cells remove their own keys as they end)
          if (barrier && !o.signal?.aborted) {
            // shard 0 cleans up once every shard has left (the others only say they are leaving)
            await barrier.arrive(`cfg${ci}-exit`, null, { wait: shard?.index === 0 ? 'all' : 'none' });
          }
          if (!barrier) await cleanup(o, cfgHandle.name, opened, prefix);
          else if (shard?.index === 0 && !o.signal?.aborted) await cleanup(o, cfgHandle.name, opened, prefix);
          else if (shard?.index === 0)
            // the other shards may still be running: leave their keys alone
            o.progress.log(`the run prefix was not removed (interrupted while other shards may still run); remove it afterwards with: rkvs clean --config FILE --configs ${cfgHandle.name} --prefix ${prefix}`);
        } catch (e) {
          if (o.signal?.aborted) break;
          const msg = describeCause(e);
          results.failures.push(msg.startsWith('configuration ') ? msg : `configuration ${cfgHandle.name}: ${msg}`);
          o.progress.log(`error: ${results.failures[results.failures.length - 1]}`);
          if (opened && !shard) await cleanup(o, cfgHandle.name, opened, prefix);
        } finally {
          if (poolOpened) await pool?.close(ci);
          await opened?.close().catch((e: unknown) => o.progress.log(`warning: closing ${cfgHandle.name}: ${describeCause(e)}`));
        }
      }
      if (!o.signal?.aborted && (!shard || shard.index === 0)) await runChecks(o, ctx, createRobustStore, variants);
      if (sweep) scalingChecks(ctx, counts);
    }
  } catch (e) {
    crashed = e;
    results.failures.push(describeCause(e));
  } finally {
    o.progress.stop();
    await pool?.stop();
    await shared?.stop();
  }
  const interrupted = o.signal?.aborted ?? false;
  meta.end = new Date().toISOString();
  if (interrupted) meta.interrupted = true;
  if (results.failures.length) meta.failures = results.failures;
  if (notes.length) meta.notes = notes;
  meta.checks = results.checks;
  const files = await writeReport(dir, results, meta, { history });
  if (o.htmlAndCost !== false) files.push(...(await finishReportDir(dir, (line: string) => process.stderr.write(`${line}\n`))));
  if (crashed && !(crashed instanceof Error)) throw crashed;
  return { runId, dir, results, meta, files, interrupted, failures: results.failures };
}

/**
 * Removes what the run left under its prefix in a configuration (cells remove their own keys as
 * they end; this catches the rest: an interrupted cell, barrier markers). Bounded in time; a
 * leftover is reported with the command that removes it.
 */
async function cleanup(o: BenchOptions, cfg: string, opened: OpenedConfiguration, prefix: string): Promise<void> {
  const res = await cleanupOpened(opened, { config: cfg, signal: AbortSignal.timeout(60_000) });
  const left = res.reduce((a, r) => a + (r.found - r.removed), 0);
  if (left > 0)
    o.progress.log(
      `warning: ${cfg}: ${left} object(s) under ${prefix} could not be removed (${res.find((r) => r.firstError)?.firstError ?? 'timed out'}); remove them with: rkvs clean --config FILE --configs ${cfg} --prefix ${prefix}`,
    );
}

/** Throughput of each cell at every worker count of a sweep, relative to the smallest count. */
function scalingChecks(ctx: CellRunContext, counts: number[]): void {
  const base = counts[0] as number;
  for (const [key, byN] of ctx.scaling) {
    const [cfg, variant, schedule, workload, vb, clients] = key.split('|');
    const rate = (n: number) => {
      const x = byN.get(n);
      return x && x.ms > 0 ? (x.ops * 1000) / x.ms : undefined;
    };
    const b = rate(base);
    if (b === undefined) continue;
    const parts = counts.map((n) => {
      const r = rate(n);
      return r === undefined ? `${n}w -` : `${n}w ${r.toFixed(0)} ops/s${n === base ? '' : ` (x${(r / b).toFixed(2)})`}`;
    });
    ctx.results.checks.push({
      name: `throughput scaling ${cfg} ${variant}${schedule === 'none' ? '' : `/${schedule}`} ${workload} ${vb === 'dist' ? vb : `${vb}B`} ${clients}c`,
      detail: parts.join(', '),
      pass: null,
    });
  }
}

/** The suite's summary checks: the latency model and the harness's own overhead. */
async function runChecks(
  o: BenchOptions,
  ctx: CellRunContext,
  createRobustStore: Awaited<ReturnType<typeof loadRegister>>,
  variants: BenchVariant[],
): Promise<void> {
  const checks = o.skipChecks ? {} : o.suite.checks;
  const results = ctx.results;
  const model = 'latencyModel' in checks ? checks.latencyModel : undefined;
  if (model && createRobustStore) {
    const d = model.delayMs;
    const cfg = memoryConfiguration({ name: 'latency-model', n: model.n, delayMs: d });
    const opened = await cfg.open({ prefix: '' });
    o.progress.log(`latency model: memory replicas with d = ${d} ms per call`);
    const modelVariants = variants.filter((v): v is 'regular' | 'atomic' => v !== 'raw');
    const schedules = o.schedules ?? o.suite.schedules;
    const cells: PlannedCell[] = [];
    for (const variant of modelVariants)
      for (const schedule of schedules)
        for (const op of ['write', 'read'] as const) {
          const workload = workloadSchema.parse({
            name: `model-${op}`,
            mix: op === 'write' ? { write: 1 } : { read: 1 },
            valueBytes: [1024],
            registers: 1,
            ops: model.ops,
            warmupOps: op === 'read' ? 0 : 2,
          });
          cells.push({ variant, schedule, workload, valueBytes: 1024, clients: 1, repeat: 0 });
        }
    try {
      for (let i = 0; i < cells.length; i += 2) {
        if (o.signal?.aborted) break;
        const wc = cells[i] as PlannedCell;
        const rc = cells[i + 1] as PlannedCell;
        // one register, written then read: the write cell leaves the register for the read cell
        const wr = await runPlannedCellKeep(ctx, opened, wc, rc, createRobustStore, i + 1, cells.length);
        for (const [cell, res] of wr) {
          const op = cell.workload.mix.write > 0 ? 'write' : 'read';
          const p50 = res.p50.get(op);
          const rounds = res.rounds.get(op) ?? expectedRounds(cell.variant as 'regular' | 'atomic', cell.schedule as BenchSchedule, op);
          if (p50 === undefined) continue;
          const expected = rounds * d;
          const dev = (p50 - expected) / expected;
          results.checks.push({
            name: `latency model ${cell.variant}/${cell.schedule} ${op}`,
            detail: `p50 ${p50.toFixed(2)} ms vs ${rounds.toFixed(2)} rounds x ${d} ms = ${expected.toFixed(1)} ms (${dev >= 0 ? '+' : ''}${(dev * 100).toFixed(1)}%)`,
            pass: Math.abs(dev) <= 0.1,
          });
        }
      }
    } finally {
      await opened.close();
    }
  }
  const ho = 'harnessOverhead' in checks ? checks.harnessOverhead : undefined;
  if (ho && !o.signal?.aborted) {
    const d = ho.delayMs;
    o.progress.log(`harness overhead: raw memory store with d = ${d} ms per call`);
    const cfg = memoryConfiguration({ name: 'harness-overhead', n: 1, delayMs: d });
    const opened = await cfg.open({ prefix: '' });
    try {
      // time spent inside the store's put calls, measured under the harness in the same run
      const timed = new PutTimingStore(opened.replicas[0] as Store);
      const timedOpened: OpenedConfiguration = { replicas: [timed], t: 0, close: async () => {} };
      const workload = workloadSchema.parse({ name: 'overhead', mix: { write: 1 }, valueBytes: [1024], registers: 16, ops: ho.ops, warmupOps: Math.min(200, ho.ops) });
      const cell: PlannedCell = { variant: 'raw', schedule: 'none', workload, valueBytes: 1024, clients: 1, repeat: 0 };
      const saved = { ops: ctx.ops, durationS: ctx.durationS, history: ctx.history, sampleMs: ctx.sampleMs };
      ctx.ops = undefined;
      ctx.durationS = undefined;
      ctx.history = undefined;
      ctx.sampleMs = 0;
      let res: CellRunResult;
      try {
        res = await runPlannedCell(ctx, 'harness-overhead', timedOpened, cell, null, 1, 1);
      } finally {
        Object.assign(ctx, saved);
      }
      const measuredCalls = Math.min(timed.calls, res.window.ops);
      const inStore = measuredCalls > 0 ? timed.lastMs(measuredCalls) / measuredCalls : 0;
      const cycle = res.window.ops > 0 ? res.window.ms / res.window.ops : 0;
      const recorded = res.mean.get('write') ?? 0;
      const own = cycle - inStore;
      results.checks.push({
        name: `harness overhead (raw memory, d = ${d} ms)`,
        detail:
          `${cycle.toFixed(3)} ms per operation, ${inStore.toFixed(3)} ms of it inside the store: the harness adds ` +
          `${(own * 1000).toFixed(0)} us (${pct(own / inStore)}); recorded latency ${recorded.toFixed(3)} ms (${pct((recorded - inStore) / inStore)})`,
        pass: inStore > 0 && own / inStore < 0.05,
      });
    } finally {
      await opened.close();
    }
  }
  results.checks.push(...quiescentChecks(results.quiescent));
}

/**
 * Copies per register at quiescence: exactly 2 in the common case (one writer, GC done);
 * concurrent writers may leave a temporary key their GC never listed.
 */
export function quiescentChecks(quiescent: BenchResults['quiescent']): SummaryCheck[] {
  const out: SummaryCheck[] = [];
  const q = quiescent.filter((x) => x.variant !== 'raw');
  for (const [label, cells] of [
    ['one client', q.filter((x) => x.clients === 1)],
    ['concurrent clients', q.filter((x) => x.clients > 1)],
  ] as const) {
    const copies = cells.flatMap((x) => x.copies);
    if (!copies.length) continue;
    const min = Math.min(...copies);
    const max = Math.max(...copies);
    out.push({
      name: `copies per register at quiescence, ${label}`,
      detail: min === max ? `${min.toFixed(2)} at every replica` : `between ${min.toFixed(2)} and ${max.toFixed(2)}`,
      pass: label === 'one client' ? min === 2 && max === 2 : null,
    });
  }
  return out;
}

/** Runs a write cell then a read cell on the same namespace-free register (latency model). */
async function runPlannedCellKeep(
  ctx: CellRunContext,
  opened: OpenedConfiguration,
  writeCell: PlannedCell,
  readCell: PlannedCell,
  createRobustStore: Awaited<ReturnType<typeof loadRegister>>,
  index: number,
  count: number,
): Promise<[PlannedCell, CellRunResult][]> {
  // The read cell needs the register written: give it a warm-up write through a shared namespace.
  const saved = { ops: ctx.ops, durationS: ctx.durationS, history: ctx.history };
  ctx.ops = undefined;
  ctx.durationS = undefined;
  ctx.history = undefined;
  try {
    const w = await runPlannedCell(ctx, 'latency-model', opened, writeCell, createRobustStore, index, count);
    const readWithWarmup: PlannedCell = {
      ...readCell,
      workload: { ...readCell.workload, mix: { write: 0, read: 1, remove: 0 } },
    };
    const r = await runPlannedCellPrewritten(ctx, opened, readWithWarmup, createRobustStore, index + 1, count);
    return [
      [writeCell, w],
      [readCell, r],
    ];
  } finally {
    Object.assign(ctx, saved);
  }
}

/** A read-only cell whose register is written once (unmeasured) before measurement. */
async function runPlannedCellPrewritten(
  ctx: CellRunContext,
  opened: OpenedConfiguration,
  cell: PlannedCell,
  createRobustStore: Awaited<ReturnType<typeof loadRegister>>,
  index: number,
  count: number,
): Promise<CellRunResult> {
  // pre-write the register under the namespace the next cell will use
  const ns = `cell${String(ctx.cellCounter.n + 1).padStart(4, '0')}/`;
  if (createRobustStore && cell.variant !== 'raw') {
    const scoped = opened.replicas.map((r) => new ScopedStore(r, ns));
    const rs = createRobustStore({ replicas: scoped, variant: cell.variant, schedule: cell.schedule as BenchSchedule, clientId: 'prewrite' });
    await withOp({ op: 'prewrite', measured: false }, () => rs.write('r000000', new Uint8Array(1024)));
    await rs.settled();
    await rs.close();
    await sleep(1);
  }
  return runPlannedCell(ctx, 'latency-model', opened, cell, createRobustStore, index, count);
}
