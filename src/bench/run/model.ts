/**
 * The `model` suite kind: every planned cell runs on the deterministic simulator (src/simulate)
 * instead of real stores. n simulated replicas share a virtual clock on which every call takes
 * exactly `delayMs` (its effect halfway), so a cell's requests and bytes per operation, its rounds,
 * its copies per register and its latency in virtual time are exact: the same on every machine and
 * every run. They are handed to the record as usual (latency in virtual microseconds) and, exactly,
 * as `exact` metrics (run/exact.ts) for exact.csv, which `rkvs compare` gates at zero tolerance.
 */
import { StoreError } from '../../errors.js';
import type { Store } from '../../store.js';
import { Cluster } from '../../simulate/run.js';
import { Random } from '../../util/random.js';
import { keyOf, type Cell, type CellKey } from '../config/cell.js';
import type { Suite } from '../config/suite.js';
import type { BenchSchedule, LogicalOp } from '../config/workload.js';
import { CountingStore, RequestCounter, withOp, type RequestCounts } from './counting.js';
import { seriesMetrics, storageMetrics, type ExactMetric } from './exact.js';
import { createHistogram, recordMs, type Histogram } from './histogram.js';
import type { CellMeasurement, MeasurementSink, SeriesMeasurement, StorageMeasurement } from './measurement.js';
import { cellOf, type PlannedCell } from './plan.js';
import type { Progress } from './progress.js';
import type { BenchRegisterStore, CreateRobustStore } from './register.js';
import { makeValue } from './runner.js';
import { opSampler, registerName, registerSampler, sizeBucket, valueSizeSampler } from './workload.js';

/** The configuration name of every model cell. */
export const MODEL_CONFIG = 'model';

/** The simulated replicas of a model suite. */
export interface ModelSettings {
  n: number;
  t?: number;
  delayMs: number;
}

export const DEFAULT_MODEL: ModelSettings = { n: 3, delayMs: 10 };

export interface ModelRunOptions {
  suite: Suite;
  cells: PlannedCell[];
  sink: MeasurementSink;
  progress: Progress;
  createRobustStore: CreateRobustStore | null;
  seed: number;
  ops?: number;
  durationS?: number;
  signal?: AbortSignal;
}

/** Runs every planned cell of a model suite, one measurement per cell. */
export async function runModel(o: ModelRunOptions): Promise<void> {
  const settings = o.suite.model ?? DEFAULT_MODEL;
  for (const [i, planned] of o.cells.entries()) {
    if (o.signal?.aborted) break;
    if (planned.variant !== 'raw' && !o.createRobustStore) throw new Error('the register (src/register) is not available in this build');
    const index = i + 1;
    o.progress.cell(index, o.cells.length, `${MODEL_CONFIG} ${planned.variant}${planned.schedule === 'none' ? '' : `/${planned.schedule}`} ${planned.workload.name} ${planned.valueBytes ?? 'dist'}B ${planned.clients}c`, o.ops ?? planned.workload.ops ?? 0);
    const m = await runModelCell(o, settings, planned, index);
    o.sink(m);
    o.progress.cellDone(`${m.series.reduce((a, s) => a + (s.ok?.totalCount ?? 0), 0)} ok in ${(m.window.elapsedMs / 1000).toFixed(2)} virtual s`);
  }
}

/** A client of a model cell: the register (or replica 0 for raw) through the counting layer. */
interface ModelClient {
  write(reg: string, v: Uint8Array): Promise<void>;
  read(reg: string): Promise<void>;
  remove(reg: string): Promise<void>;
  settled(): Promise<void>;
}

/** What one model cell measured, before it becomes a CellMeasurement. */
interface ModelTally {
  latencies: Map<string, number[]>;
  errors: Map<string, Map<string, number>>;
  lastWritten: Map<string, number>;
  measureStart: number | undefined;
  end: number;
}

function buildCluster(settings: ModelSettings, planned: PlannedCell, seed: number): Cluster {
  const n = planned.variant === 'raw' ? 1 : settings.n;
  const t = planned.variant === 'raw' ? 0 : (settings.t ?? Math.floor((n - 1) / 2));
  return new Cluster({ models: Array.from({ length: n }, () => ({ default: { kind: 'fixed', ms: settings.delayMs } })), t, seed, names: Array.from({ length: n }, (_, i) => `r${i}`) });
}

function buildClients(o: ModelRunOptions, cluster: Cluster, planned: PlannedCell, wrapped: Store[]): ModelClient[] {
  return Array.from({ length: planned.clients }, (_, k): ModelClient => {
    if (planned.variant === 'raw') {
      const s = wrapped[0] as Store;
      return { write: (r, v) => s.put(r, v), read: async (r) => void (await s.get(r)), remove: (r) => s.remove(r), settled: async () => {} };
    }
    const rs: BenchRegisterStore = (o.createRobustStore as CreateRobustStore)({
      replicas: wrapped,
      variant: planned.variant,
      schedule: planned.schedule as BenchSchedule,
      faults: cluster.t,
      clientId: `c${k}`,
      name: `${planned.variant}-${planned.schedule}`,
    });
    return { write: async (r, v) => void (await rs.write(r, v)), read: async (r) => void (await rs.read(r)), remove: (r) => rs.remove(r), settled: () => rs.settled() };
  });
}

async function runModelCell(o: ModelRunOptions, settings: ModelSettings, planned: PlannedCell, index: number): Promise<CellMeasurement> {
  const seed = (o.seed + index * 7919) >>> 0;
  const cluster = buildCluster(settings, planned, seed);
  const labels = cluster.replicas.map((r) => r.name);
  const counter = new RequestCounter();
  const wrapped: Store[] = cluster.replicas.map((r, i) => new CountingStore(r, labels[i] as string, counter));
  const clients = buildClients(o, cluster, planned, wrapped);
  const tally = await cluster.drive(runWorkload(o, cluster, planned, clients, seed));
  await cluster.drive(Promise.all(clients.map((c) => c.settled())));
  await (cluster.clock as { drain?: () => Promise<void> }).drain?.();
  const cell = cellOf(planned, MODEL_CONFIG, 1);
  let logical = 0;
  for (const v of tally.lastWritten.values()) logical += v;
  const storage: StorageMeasurement[] =
    tally.lastWritten.size === 0
      ? []
      : cluster.replicas.map((r) => ({
          replica: r.name,
          registers_written: tally.lastWritten.size,
          logical_bytes: logical,
          peak: { objects: Math.max(r.peakObjects, r.objects), stored_bytes: Math.max(r.peakBytes, r.bytes) },
          quiescent: { objects: r.objects, stored_bytes: r.bytes },
        }));
  return measurement(cell, `model${String(index).padStart(4, '0')}`, planned.repeat, tally, counter, labels, settings.delayMs, storage);
}

/** The closed (or open) loop of a model cell, in virtual time; mirrors run/runner.ts. */
async function runWorkload(o: ModelRunOptions, cluster: Cluster, planned: PlannedCell, clients: ModelClient[], seed: number): Promise<ModelTally> {
  const w = planned.workload;
  const clock = cluster.clock;
  const opsTarget = o.ops ?? (o.durationS === undefined ? w.ops : undefined);
  const durationMs = (o.durationS ?? (opsTarget === undefined ? w.durationS : undefined) ?? 0) * 1000;
  const interval = w.mode === 'closed' ? 0 : 1000 / w.mode.openRate;
  const tally: ModelTally = { latencies: new Map(), errors: new Map(), lastWritten: new Map(), measureStart: undefined, end: 0 };
  const root = new Random(seed);
  let next = 0;
  const done = (i: number, now: number) =>
    opsTarget !== undefined ? i >= w.warmupOps + opsTarget : i >= w.warmupOps && tally.measureStart !== undefined && now >= tally.measureStart + durationMs;
  const runClient = async (client: ModelClient, k: number) => {
    const rnd = root.fork(`client-${k}`);
    const nextOp = opSampler(w.mix, rnd);
    const nextReg = registerSampler(w.registers, w.access, rnd);
    const nextSize = valueSizeSampler(w.valueBytes, planned.valueBytes, rnd);
    for (let seq = 0; ; seq++) {
      const i = next;
      let intended = interval ? i * interval : clock.now();
      if (done(i, intended) || o.signal?.aborted) return;
      next++;
      if (interval && intended > clock.now()) await cluster.sleep(intended - clock.now());
      if (!interval) intended = clock.now();
      if (i >= w.warmupOps && tally.measureStart === undefined) tally.measureStart = intended;
      const op = nextOp();
      const register = registerName(nextReg());
      const size = op === 'write' ? nextSize() : 0;
      const bucket = op === 'write' ? (planned.valueBytes ?? sizeBucket(size)) : (planned.valueBytes ?? 0);
      const value = op === 'write' ? makeValue(size, `c${k}:${seq}`, rnd) : undefined;
      await perform(tally, client, { op, register, size, bucket, value, measured: i >= w.warmupOps, start: intended }, () => clock.now());
    }
  };
  await Promise.all(clients.map((c, k) => runClient(c, k)));
  tally.end = clock.now();
  return tally;
}

interface ModelOp {
  op: LogicalOp;
  register: string;
  size: number;
  bucket: number;
  value?: Uint8Array;
  measured: boolean;
  start: number;
}

async function perform(tally: ModelTally, client: ModelClient, p: ModelOp, now: () => number): Promise<void> {
  const series = `${p.op}|${p.bucket}`;
  try {
    await withOp({ op: p.op, value_bytes: p.bucket, measured: p.measured }, async () => {
      if (p.op === 'write') await client.write(p.register, p.value as Uint8Array);
      else if (p.op === 'remove') await client.remove(p.register);
      else await client.read(p.register);
    });
  } catch (e) {
    if (!p.measured) return;
    const kind = e instanceof StoreError ? e.kind : 'Unexpected';
    const m = tally.errors.get(series) ?? new Map<string, number>();
    m.set(kind, (m.get(kind) ?? 0) + 1);
    tally.errors.set(series, m);
    return;
  }
  if (p.op === 'write') tally.lastWritten.set(p.register, p.size);
  else if (p.op === 'remove') tally.lastWritten.delete(p.register);
  if (!p.measured) return;
  const list = tally.latencies.get(series) ?? [];
  list.push(now() - p.start);
  tally.latencies.set(series, list);
}

/** The cell's measurement: histograms in virtual microseconds, requests, storage, and its exact metrics. */
function measurement(
  cell: Cell,
  cellId: string,
  repeat: number,
  tally: ModelTally,
  counter: RequestCounter,
  labels: string[],
  delayMs: number,
  storage: StorageMeasurement[],
): CellMeasurement {
  const ids = [...new Set([...tally.latencies.keys(), ...tally.errors.keys()])].sort();
  const requests = counter.entries().map((e) => ({ key: keyOf(cell, e.op, e.value_bytes), replica: e.replica, counts: e.counts }));
  const series: SeriesMeasurement[] = [];
  const exact: ExactMetric[] = [];
  for (const id of ids) {
    const [op, vb] = id.split('|') as [string, string];
    const key: CellKey = keyOf(cell, op, Number(vb));
    const lat = tally.latencies.get(id) ?? [];
    const errs = tally.errors.get(id) ?? new Map<string, number>();
    const ok: Histogram = createHistogram();
    let rounds = 0;
    for (const ms of lat) {
      recordMs(ok, ms);
      rounds += ms / delayMs;
    }
    series.push({ key, ok, errors: errs, rounds: { sum: rounds, n: lat.length } });
    const perReplica = new Map<string, RequestCounts>();
    for (const r of requests) if (r.key.op === op && r.key.value_bytes === Number(vb)) perReplica.set(r.replica, r.counts);
    const errors = [...errs.values()].reduce((a, b) => a + b, 0);
    exact.push(...seriesMetrics({ key, latenciesMs: lat, errors, delayMs, requests: perReplica, replicas: labels }));
  }
  if (storage.length) exact.push(...storageMetrics({ ...cell, op: '' }, storage));
  const start = tally.measureStart ?? tally.end;
  return {
    cell,
    cellId,
    repeat,
    window: { startEpochMs: start, endEpochMs: tally.end, elapsedMs: Math.max(0, tally.end - start) },
    series,
    requests,
    storage,
    history: [],
    ran: true,
    interrupted: false,
    exact,
  };
}
