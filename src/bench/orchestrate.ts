/**
 * A whole bench run: configurations x variants x schedules x workload cells x repetitions, the
 * summary checks, and the report directory. Partial results are written whatever happens.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describeCause } from '../errors.js';
import type { CallOptions, Store } from '../store.js';
import { ForwardingStore } from '../layers/forwarding.js';
import { type BenchRegisterStore, loadRegister } from './integrations.js';
import { baseMeta, type RunMeta } from './meta.js';
import { measureReplica, PeakSampler } from './overhead.js';
import type { Progress } from './progress.js';
import { CountingStore, RequestCounter, withOp } from './requests.js';
import { BenchResults, type SummaryCheck } from './results.js';
import { createRunDir, makeRunId, writeReport } from './run-dir.js';
import { runCell, type BenchClient, type HistoryEvent } from './runner.js';
import { summarize } from './histogram.js';
import type { Suite } from './suite.js';
import { ScopedStore } from './stores.js';
import { memoryConfiguration } from './configurations.js';
import type { ConfigurationHandle, OpenedConfiguration } from './types.js';
import {
  clientCounts,
  valueCells,
  workloadSchema,
  type BenchSchedule,
  type BenchVariant,
  type LogicalOp,
  type Workload,
} from './workload.js';
import { sleep } from '../util/abort.js';

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

/** Replica labels for reports: names, made unique with `#i` when they repeat. */
export function replicaLabels(replicas: readonly Store[]): string[] {
  // the run's own key prefix says nothing about the replica: show what is inside it
  const strip = (n: string): string => {
    const m = /^(?:prefixed\[[^\]]*\]|scoped)\((.*)\)$/.exec(n);
    return m ? strip(m[1] as string) : n;
  };
  const names = replicas.map((r) => strip(r.name));
  return names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}#${i}`));
}

function rawClient(id: string, store: Store): BenchClient {
  return {
    id,
    write: (reg, v, opts) => store.put(reg, v, opts),
    read: async (reg, opts) => ({ value: await store.get(reg, opts) }),
    remove: (reg, opts) => store.remove(reg, opts),
  };
}

function registerClient(rs: BenchRegisterStore): BenchClient {
  return {
    id: rs.clientId,
    write: async (reg, v, opts) => {
      await rs.write(reg, v, opts);
    },
    read: async (reg, opts) => {
      const r = await rs.read(reg, opts);
      return { value: r.tombstone ? null : r.value, rounds: r.rounds };
    },
    remove: (reg, opts) => rs.remove(reg, opts),
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
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
  createRobustStore: Awaited<ReturnType<typeof loadRegister>>,
  index: number,
  count: number,
): Promise<CellRunResult> {
  const { workload: w, variant, schedule } = cell;
  const ns = `cell${String(++ctx.cellCounter.n).padStart(4, '0')}/`;
  const counter = new RequestCounter();
  const all = variant === 'raw' ? opened.replicas.slice(0, 1) : opened.replicas;
  const labels = replicaLabels(all);
  const wrapped = all.map((r, i) => new CountingStore(new ScopedStore(r, ns), labels[i] as string, counter));
  const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
  const clients: BenchClient[] = [];
  const robust: BenchRegisterStore[] = [];
  for (let k = 0; k < cell.clients; k++) {
    if (variant === 'raw') clients.push(rawClient(`c${k}`, wrapped[0] as Store));
    else {
      if (!createRobustStore) throw new Error('the register (src/register) is not available in this build');
      const rs = createRobustStore({ replicas: wrapped, variant, schedule: schedule as BenchSchedule, faults: t, clientId: `c${k}`, name: `${variant}-${schedule}` });
      robust.push(rs);
      clients.push(registerClient(rs));
    }
  }
  const seed = (ctx.seed + index * 7919) >>> 0;
  const valueLabel = cell.valueBytes === null ? 'dist' : `${cell.valueBytes}B`;
  const label = `${cfg} ${variant}${schedule === 'none' ? '' : `/${schedule}`} ${w.name} ${valueLabel} ${cell.clients}c${cell.repeat > 0 ? ` rep ${cell.repeat}` : ''}`;
  const opsTotal = ctx.durationS !== undefined ? 0 : (ctx.ops ?? w.ops ?? 0);
  ctx.progress.cell(index, count, label, opsTotal);
  const sampler = new PeakSampler(all, ns, ctx.sampleMs);
  sampler.start();
  const outcome = await runCell({
    clients,
    workload: w,
    valueBytes: cell.valueBytes,
    seed,
    ops: ctx.ops,
    durationS: ctx.durationS,
    signal: ctx.signal,
    epochMs: ctx.epochMs,
    history: ctx.history ? (e: HistoryEvent) => ctx.history?.push(JSON.stringify({ ...e, register: `${cfg}/${variant}/${schedule}/${ns}${e.register}` })) : undefined,
    onOp: () => ctx.progress.tick(),
  });
  if (!ctx.signal?.aborted) await sampler.sample();
  await sampler.stop();

  // quiescence: every client's background GC and lingering calls settled
  if (!ctx.signal?.aborted) {
    await Promise.all(robust.map((rs) => withTimeout(rs.settled(), 60_000, `client ${rs.clientId} settling`).catch(() => undefined)));
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
    r.addSeries({ config: cfg, variant, schedule, op, value_bytes: Number(vb), clients: cell.clients }, cell.repeat, ok, failed, errs, window, outcome.rounds.get(op));
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
  for (const e of counter.entries()) r.addRequests(cfg, variant, e.op, e.replica, e.counts);
  for (const [op, n] of outcome.measured) r.addLogicalOps(cfg, variant, op, n);

  // storage overhead: peak (sampled) and quiescent, listing every replica directly
  const registers = outcome.lastWritten.size;
  let logical = 0;
  for (const v of outcome.lastWritten.values()) logical += v;
  const quiescentCopies: number[] = [];
  if (!ctx.signal?.aborted && registers > 0) {
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
  r.cellsMeasured++;
  await Promise.all(robust.map((rs) => rs.close().catch(() => undefined)));
  if (!ctx.signal?.aborted) await Promise.all(all.map((rep) => removeAll(rep, ns).catch(() => undefined)));

  const rate = elapsedMs > 0 ? ((okTotal * 1000) / elapsedMs).toFixed(0) : '0';
  const p50s = [...p50].map(([op, v]) => `${op} p50 ${v.toFixed(2)} ms`).join(', ');
  ctx.progress.cellDone(`${okTotal} ok, ${errTotal} errors, ${rate} ops/s${p50s ? `, ${p50s}` : ''}`);
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

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  const start = o.now ?? new Date();
  const suite = o.suite;
  // every replica call of every client listens to the run's signal
  if (o.signal) setMaxListeners(0, o.signal);
  const runId = makeRunId(suite.name, start);
  const dir = await createRunDir(o.outDir ?? 'reports', runId);
  const results = new BenchResults(runId, suite.name);
  const meta = await baseMeta(runId, suite.name, start);
  const seed = o.seed ?? suite.seed;
  meta.seeds = { suite: seed };
  meta.options = { ...(o.options ?? {}) };
  meta.configurations = o.configurations.map((c) => c.describe());
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
  };
  let variants = o.variants ?? suite.variants;
  if (!createRobustStore && variants.some((v) => v !== 'raw')) {
    results.failures.push('the register (src/register) is not available in this build: only the raw baseline was measured');
    variants = variants.filter((v) => v === 'raw');
  }
  const cells = planCells(suite, { variants, schedules: o.schedules, repeat: o.repeat, clients: o.clients, interleave: o.interleave });

  let crashed: unknown;
  try {
    if (suite.kind === 'micro') {
      const { runMicro } = await import('./micro.js');
      await runMicro({ suite, results, progress: o.progress, createRobustStore, variants, schedules: o.schedules ?? suite.schedules, signal: o.signal });
    } else {
      for (const cfgHandle of o.configurations) {
        if (o.signal?.aborted) break;
        if (cells.length === 0) break;
        let opened: OpenedConfiguration | undefined;
        try {
          o.progress.log(`opening configuration ${cfgHandle.name} ...`);
          opened = await cfgHandle.open({ prefix: `rkvs-bench/${runId}/`, signal: o.signal });
          await preflight(cfgHandle.name, opened, o.signal);
          for (let i = 0; i < cells.length; i++) {
            if (o.signal?.aborted) break;
            await runPlannedCell(ctx, cfgHandle.name, opened, cells[i] as PlannedCell, createRobustStore, i + 1, cells.length);
          }
        } catch (e) {
          if (o.signal?.aborted) break;
          const msg = describeCause(e);
          results.failures.push(msg.startsWith('configuration ') ? msg : `configuration ${cfgHandle.name}: ${msg}`);
          o.progress.log(`error: ${results.failures[results.failures.length - 1]}`);
        } finally {
          await opened?.close().catch((e: unknown) => o.progress.log(`warning: closing ${cfgHandle.name}: ${describeCause(e)}`));
        }
      }
      if (!o.signal?.aborted) await runChecks(o, ctx, createRobustStore, variants);
    }
  } catch (e) {
    crashed = e;
    results.failures.push(describeCause(e));
  } finally {
    o.progress.stop();
  }
  const interrupted = o.signal?.aborted ?? false;
  meta.end = new Date().toISOString();
  if (interrupted) meta.interrupted = true;
  if (results.failures.length) meta.failures = results.failures;
  meta.checks = results.checks;
  const files = await writeReport(dir, results, meta, { history });
  if (crashed && !(crashed instanceof Error)) throw crashed;
  return { runId, dir, results, meta, files, interrupted, failures: results.failures };
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
  // copies per register at quiescence: exactly 2 in the common case (one writer, GC done);
  // concurrent writers may leave a temporary key their GC never listed
  const q = results.quiescent.filter((x) => x.variant !== 'raw');
  for (const [label, cells] of [
    ['one client', q.filter((x) => x.clients === 1)],
    ['concurrent clients', q.filter((x) => x.clients > 1)],
  ] as const) {
    const copies = cells.flatMap((x) => x.copies);
    if (!copies.length) continue;
    const min = Math.min(...copies);
    const max = Math.max(...copies);
    results.checks.push({
      name: `copies per register at quiescence, ${label}`,
      detail: min === max ? `${min.toFixed(2)} at every replica` : `between ${min.toFixed(2)} and ${max.toFixed(2)}`,
      pass: label === 'one client' ? min === 2 && max === 2 : null,
    });
  }
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
