/**
 * Runs one planned cell against an opened configuration: spreads its clients over the parts
 * (this process, worker processes, shards), samples the storage while it runs, lists every replica
 * at quiescence, removes the cell's keys, and hands one `CellMeasurement` to the sink.
 */
import { describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import { cellOf as keyCellOf, keyOf, type Cell } from '../config/cell.js';
import type { OpenedConfiguration } from '../config/types.js';
import type { LogicalOp } from '../config/workload.js';
import { preparePart, replicaLabels, type CellPartResult, type CellPartTask } from './cell-part.js';
import { mergeOutcomes, planParts } from './distribute.js';
import { summarize } from './histogram.js';
import type { CellMeasurement, MeasurementSink, SecondMeasurement, SeriesMeasurement, StorageMeasurement } from './measurement.js';
import type { CellFaultRun } from './faults.js';
import { cellOf, type CellProbe, type PlannedCell } from './plan.js';
import type { Progress } from './progress.js';
import type { CreateRobustStore } from './register.js';
import { parsePerSecondKey, type CellOutcome } from './runner.js';
import type { ShardSpec, StoreBarrier } from './shard.js';
import { measureReplica, PeakSampler } from './storage.js';
import type { WorkerPool } from './workers.js';

/** What every cell of a run shares. */
export interface CellRunContext {
  progress: Progress;
  signal?: AbortSignal;
  /** Record every operation (`--history`). */
  history: boolean;
  /** performance.now() at the start of the run: the origin of history times. */
  epochMs: number;
  ops?: number;
  durationS?: number;
  /** Peak storage sampling interval (0: one sample at the end of the measured phase). */
  sampleMs: number;
  seed: number;
  /** Numbers the cells' key namespaces (`cell0001`, ...), the same on every shard. */
  cellCounter: { n: number };
  sink: MeasurementSink;
  /** Measures beside each register cell run in this process (`RunOptions.cellProbe`). */
  cellProbe?: CellProbe;
}

/** Where the parts of a cell run (none given: all clients in this process). */
export interface CellDistribution {
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

/** One planned cell on one configuration, with everything its parts need. */
interface CellJob {
  cfg: string;
  opened: OpenedConfiguration;
  planned: PlannedCell;
  cell: Cell;
  cellId: string;
  ns: string;
  /** The replicas the cell uses (raw: replica 0 only), with their report labels. */
  replicas: Store[];
  labels: string[];
  tasks: { worker: number; task: CellPartTask }[];
  dist: CellDistribution;
  shard: ShardSpec;
  /** This process measures the storage and removes the cell's keys. */
  owner: boolean;
  measure: boolean;
  /** The faults the cell runs under (`--fault`); absent: healthy. */
  fault?: CellFaultRun;
}

/** Runs one planned cell (under `fault` when given), hands its measurement to the sink and returns it. */
export async function runPlannedCell(
  ctx: CellRunContext,
  cfg: string,
  opened: OpenedConfiguration,
  planned: PlannedCell,
  createRobustStore: CreateRobustStore | null,
  index: number,
  count: number,
  dist: CellDistribution = { workers: 1, cfgIndex: 0 },
  fault?: CellFaultRun,
): Promise<CellMeasurement> {
  const job = planJob(ctx, cfg, opened, planned, dist, index, fault);
  ctx.progress.cell(index, count, jobLabel(job), job.tasks.reduce((a, x) => a + (x.task.ops ?? 0), 0));
  const sampler = new PeakSampler(job.replicas, job.ns, job.measure ? ctx.sampleMs : 0);
  const parts = await runParts(ctx, job, sampler, createRobustStore);
  const outcome = mergeOutcomes(parts.map((p) => p.outcome));
  const lastWritten = await lastWrittenEverywhere(ctx, job, outcome);
  const m = measurementOf(job, outcome, parts, ctx.history);
  if (job.measure && !ctx.signal?.aborted && lastWritten.size > 0) m.storage = await measureStorage(ctx, job, sampler, lastWritten);
  ctx.sink(m);
  if (job.owner && !ctx.signal?.aborted) await Promise.all(job.replicas.map((rep) => removeAll(rep, job.ns).catch(() => undefined)));
  if (fault) ctx.progress.log(`fault: ${fault.describe()}`);
  ctx.progress.cellDone(cellLine(m));
  return m;
}

function planJob(ctx: CellRunContext, cfg: string, opened: OpenedConfiguration, planned: PlannedCell, dist: CellDistribution, index: number, fault?: CellFaultRun): CellJob {
  const cellId = `cell${String(++ctx.cellCounter.n).padStart(4, '0')}`;
  const ns = `${cellId}/`;
  const replicas = planned.variant === 'raw' ? opened.replicas.slice(0, 1) : opened.replicas;
  const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
  const seed = (ctx.seed + index * 7919) >>> 0;
  const shard = dist.shard ?? { index: 0, count: 1 };
  const cell = cellOf(planned, cfg, dist.workers, fault?.key ?? '');
  const parts = planParts(planned, { shard, workers: dist.workers, offset: index - 1 }, { ops: ctx.ops, durationS: ctx.durationS });
  const tasks = parts.map((p) => ({
    worker: p.worker,
    task: {
      cell,
      config: cfg,
      ns,
      variant: planned.variant,
      schedule: planned.schedule,
      workload: p.workload,
      valueBytes: planned.valueBytes,
      first: p.first,
      count: p.count,
      idPrefix: p.idPrefix,
      ...(p.ops !== undefined ? { ops: p.ops } : { durationS: p.durationS }),
      seed,
      faults: t,
      history: ctx.history,
      ...(dist.pool && dist.visible === false ? { historyScope: `w${p.worker}/` } : {}),
    } satisfies CellPartTask,
  }));
  // the shard that measures storage and removes the cell's keys (every shard when each has its own replicas)
  const owner = !dist.barrier || shard.index === 0;
  const inWorkers = tasks.length > 0 && dist.pool !== undefined;
  const measure = owner && (dist.visible !== false || !inWorkers);
  return { cfg, opened, planned, cell, cellId, ns, replicas, labels: replicaLabels(replicas), tasks, dist, shard, owner, measure, ...(fault ? { fault } : {}) };
}

/** The cell's progress label, e.g. `emulators regular/fast mixed 1024B 4c rep 1 (2 workers)`. */
function jobLabel(j: CellJob): string {
  const p = j.planned;
  const valueLabel = p.valueBytes === null ? 'dist' : `${p.valueBytes}B`;
  const where = [j.shard.count > 1 ? `shard ${j.shard.index}/${j.shard.count}` : '', j.dist.pool ? `${j.tasks.length} worker${j.tasks.length === 1 ? '' : 's'}` : '']
    .filter(Boolean)
    .join(', ');
  const fault = j.fault ? ` fault ${j.fault.key}` : '';
  return `${j.cfg} ${p.variant}${p.schedule === 'none' ? '' : `/${p.schedule}`} ${p.workload.name} ${valueLabel} ${p.clients}c${p.repeat > 0 ? ` rep ${p.repeat}` : ''}${fault}${where ? ` (${where})` : ''}`;
}

/** Runs the parts (all at once; with a barrier, at the same time as the other shards). */
async function runParts(ctx: CellRunContext, job: CellJob, sampler: PeakSampler, createRobustStore: CreateRobustStore | null): Promise<CellPartResult[]> {
  const { tasks, dist } = job;
  if (dist.barrier) await dist.barrier.arrive(`${job.cellId}-start`, null);
  sampler.start();
  try {
    let results: CellPartResult[] = [];
    if (job.fault && dist.pool) throw new Error('a cell under a fault runs in the rkvs bench process, not in worker processes');
    if (tasks.length && dist.pool) {
      const onOps = (n: number) => {
        for (let i = 0; i < n; i++) ctx.progress.tick();
      };
      results = await dist.pool.runParts(dist.cfgIndex, tasks, { signal: ctx.signal, onOps });
    } else if (tasks.length) {
      const part = preparePart(tasks[0]!.task, job.opened.replicas, createRobustStore);
      const fault = job.fault;
      // a cell probe measures in turn with the cell's operations, under the same fault
      const probe =
        ctx.cellProbe && job.planned.variant !== 'raw' && !ctx.signal?.aborted
          ? ctx.cellProbe.start({ cell: job.cell, cellNs: job.ns, replicas: job.replicas, t: tasks[0]!.task.faults, ...(ctx.signal ? { signal: ctx.signal } : {}) })
          : undefined;
      const afterRun = async () => {
        // the measured phase is over: heal before the quiescence, the storage listing and the key removal
        await fault?.heal();
        await probe?.afterHeal();
        if (!ctx.signal?.aborted && job.measure) await sampler.sample();
      };
      try {
        await fault?.start();
        results = [await part.run({ signal: ctx.signal, epochMs: ctx.epochMs, onOp: () => ctx.progress.tick(), afterRun, measureGate: fault?.gate, ...(probe ? { around: probe } : {}) })];
      } finally {
        await fault?.heal();
        await probe?.afterHeal();
      }
    }
    if (!ctx.signal?.aborted && job.measure) await sampler.sample();
    return results;
  } finally {
    await sampler.stop();
  }
}

/** With a barrier: waits for every shard to finish the cell; each says which registers it wrote last. */
async function lastWrittenEverywhere(ctx: CellRunContext, job: CellJob, outcome: CellOutcome): Promise<Map<string, number>> {
  if (!job.dist.barrier || ctx.signal?.aborted) return outcome.lastWritten;
  const markers = await job.dist.barrier.arrive<[string, number][]>(`${job.cellId}-end`, [...outcome.lastWritten], { read: job.owner });
  if (!job.owner) return outcome.lastWritten;
  const all = new Map<string, number>();
  for (const m of markers) for (const [k, v] of m.payload) all.set(k, Math.max(v, all.get(k) ?? 0));
  return all;
}

/** The cell's series, errors and requests, each under its full key. */
function measurementOf(job: CellJob, outcome: CellOutcome, parts: readonly CellPartResult[], history: boolean): CellMeasurement {
  const series = new Map<string, SeriesMeasurement>();
  const seriesFor = (op: string, vb: string): SeriesMeasurement => {
    const id = `${op}|${vb}`;
    let s = series.get(id);
    if (!s) series.set(id, (s = { key: keyOf(job.cell, op, Number(vb)), errors: new Map() }));
    return s;
  };
  for (const [k, h] of outcome.ok) seriesFor(...(k.split('|') as [string, string])).ok = h;
  for (const [k, h] of outcome.failed) seriesFor(...(k.split('|') as [string, string])).failed = h;
  for (const [k, r] of outcome.rounds) seriesFor(...(k.split('|') as [string, string])).rounds = r;
  for (const [k, n] of outcome.errorsBySeries) {
    const [op, vb, kind] = k.split('|') as [string, string, string];
    const s = seriesFor(op, vb);
    s.errors.set(kind, (s.errors.get(kind) ?? 0) + n);
  }
  // replicas in the configuration's order, whichever answered first
  const requests = parts
    .flatMap((p) => p.requests.map((e) => ({ key: keyOf(job.cell, e.op, e.value_bytes), replica: e.replica, counts: e.counts })))
    .sort((a, b) => job.labels.indexOf(a.replica) - job.labels.indexOf(b.replica));
  return {
    cell: keyCellOf(job.cell),
    cellId: job.cellId,
    repeat: job.planned.repeat,
    window: { startEpochMs: outcome.startEpochMs, endEpochMs: outcome.endEpochMs, elapsedMs: Math.max(outcome.endMs - outcome.startMs, 0) },
    series: [...series.values()],
    requests,
    storage: [],
    history: history ? parts.flatMap((p) => p.history) : [],
    ran: job.tasks.length > 0,
    interrupted: outcome.interrupted,
    perSecond: perSecondOf(job.cell, outcome),
  };
}

/** The outcome's per-second buckets, each under its key, in time order. */
function perSecondOf(cell: Cell, o: CellOutcome): SecondMeasurement[] {
  return [...o.perSecond]
    .map(([k, b]) => {
      const x = parsePerSecondKey(k);
      return {
        key: keyOf(cell, x.op, x.valueBytes),
        second: x.second,
        phase: x.phase,
        startEpochMs: Math.round(o.loopStartEpochMs + x.second * 1000),
        spanMs: Math.max(0, Math.min(1000, o.loopSpanMs - x.second * 1000)),
        ok: b.ok,
        errors: b.errors,
      };
    })
    .sort((a, b) => a.second - b.second || (a.phase === b.phase ? 0 : a.phase === 'warmup' ? -1 : 1));
}

/**
 * Storage at every replica, listed directly: the quiescent listing now, and the peak sampled while
 * the cell ran. The peak is the largest object count and the largest byte total seen, the quiescent
 * listing included, so it is never below quiescence.
 */
async function measureStorage(ctx: CellRunContext, job: CellJob, sampler: PeakSampler, lastWritten: Map<string, number>): Promise<StorageMeasurement[]> {
  let logical = 0;
  for (const v of lastWritten.values()) logical += v;
  const out: StorageMeasurement[] = [];
  for (let i = 0; i < job.replicas.length; i++) {
    try {
      const q = await measureReplica(job.replicas[i] as Store, job.ns, { withBytes: true });
      const p = sampler.peak[i] ?? q;
      const peak = { objects: Math.max(p.objects, q.objects), stored_bytes: Math.max(p.stored_bytes, q.stored_bytes) };
      out.push({ replica: job.labels[i] as string, registers_written: lastWritten.size, logical_bytes: logical, peak, quiescent: q });
    } catch (e) {
      ctx.progress.log(`warning: ${job.cfg} replica ${job.labels[i]}: storage overhead not measured (${describeCause(e)})`);
    }
  }
  return out;
}

/** The one-line result of a cell: operations, errors, rate and p50 of each op. */
function cellLine(m: CellMeasurement): string {
  if (!m.ran) return 'no client of this cell on this shard';
  let ok = 0;
  let errors = 0;
  const p50 = new Map<LogicalOp | string, number>();
  const order = (op: string) => ['write', 'read', 'remove'].indexOf(op);
  for (const s of [...m.series].sort((a, b) => order(a.key.op) - order(b.key.op))) {
    ok += s.ok?.totalCount ?? 0;
    for (const n of s.errors.values()) errors += n;
    if (s.ok && s.ok.totalCount > 0) p50.set(s.key.op, summarize(s.ok).p50_ms);
  }
  const rate = m.window.elapsedMs > 0 ? ((ok * 1000) / m.window.elapsedMs).toFixed(0) : '0';
  const p50s = [...p50].map(([op, v]) => `${op} p50 ${v.toFixed(2)} ms`).join(', ');
  return `${ok} ok, ${errors} errors, ${rate} ops/s${p50s ? `, ${p50s}` : ''}`;
}

async function removeAll(replica: Store, ns: string): Promise<void> {
  const keys = await replica.list(ns);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) await replica.remove(keys[next++] as string);
  };
  await Promise.all(Array.from({ length: Math.min(16, keys.length) }, worker));
}
