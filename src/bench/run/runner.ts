/**
 * The measurement engine: runs one cell (a workload at one value size and client count against one
 * set of client stores) in a closed or open loop and records latencies, errors and history.
 *
 * Closed loop: each client issues its next operation when the previous one returns.
 * Open loop: operation i is due at `start + i / rate` (all clients together); a free client takes the
 * next due operation, waits until it is due, and its latency is measured from that INTENDED start,
 * so time spent queued behind a slow operation counts (no coordinated omission).
 */
import { performance } from 'node:perf_hooks';
import { StoreError } from '../../errors.js';
import type { CallOptions } from '../../store.js';
import { sleep } from '../../util/abort.js';
import { Random } from '../../util/random.js';
import { createHistogram, recordMs, type Histogram } from './histogram.js';
import { withOp } from './counting.js';
import type { Operation } from '../../check/history.js';
import {
  opSampler,
  registerName,
  registerSampler,
  sizeBucket,
  valueSizeSampler,
  type LogicalOp,
  type Workload,
} from './workload.js';

/** One client of a cell: the three logical operations over some store. */
export interface BenchClient {
  readonly id: string;
  write(register: string, value: Uint8Array, opts?: CallOptions): Promise<void>;
  /** Returns the value read (null when absent) and the rounds it took when known. */
  read(register: string, opts?: CallOptions): Promise<{ value: Uint8Array | null; rounds?: number }>;
  remove(register: string, opts?: CallOptions): Promise<void>;
}

/**
 * One recorded operation, as `rkvs check` reads it (times in ms since the run started). A remove is
 * recorded as a write with `input: null` (a tombstone).
 */
export type HistoryEvent = Omit<Operation, 'id'>;

export interface CellOptions {
  clients: BenchClient[];
  workload: Workload;
  /** Fixed value size of this cell, or null to draw from the workload's distribution. */
  valueBytes: number | null;
  seed: number;
  /** Overrides of the workload's stop condition. */
  ops?: number;
  durationS?: number;
  signal?: AbortSignal;
  /** Receives every operation (warm-up included) when history recording is on. */
  history?: (e: HistoryEvent) => void;
  /** Origin of history times (performance.now() at run start). */
  epochMs?: number;
  /** Called after each measured operation. */
  onOp?: () => void;
  /** Names registers; default `registerName`. */
  registerName?: (i: number) => string;
  /**
   * Index of `clients[0]` among all clients of the cell when the cell is spread over several
   * processes: client k draws the random stream of global client `clientOffset + k`.
   * @default 0
   */
  clientOffset?: number;
}

/** Cell key of one measured series: op and value size bucket. */
export function seriesKey(op: string, valueBytes: number): string {
  return `${op}|${valueBytes}`;
}

export interface CellOutcome {
  /** Latencies of successful operations, per series (`op|value_bytes`), in microseconds. */
  ok: Map<string, Histogram>;
  /** Latencies of failed operations, kept apart. */
  failed: Map<string, Histogram>;
  /** Error counts per `op|kind`. */
  errors: Map<string, number>;
  /** Measured operations per op (ok + failed). */
  measured: Map<LogicalOp, number>;
  /** Sum and count of read rounds reported by the store, per op. */
  rounds: Map<LogicalOp, { sum: number; n: number }>;
  /** Last written size per register (logical bytes), removes drop the register. */
  lastWritten: Map<string, number>;
  /** Measured window, performance.now() milliseconds. */
  startMs: number;
  endMs: number;
  /** Wall-clock of the measured window (Date.now()). */
  startEpochMs: number;
  endEpochMs: number;
  interrupted: boolean;
}

function errorKind(e: unknown): string {
  return e instanceof StoreError ? e.kind : 'Unexpected';
}

/** An outcome with nothing measured yet. */
export function emptyOutcome(): CellOutcome {
  return {
    ok: new Map(),
    failed: new Map(),
    errors: new Map(),
    measured: new Map(),
    rounds: new Map(),
    lastWritten: new Map(),
    startMs: 0,
    endMs: 0,
    startEpochMs: 0,
    endEpochMs: 0,
    interrupted: false,
  };
}

/** Runs one cell; never throws for operation failures (they are counted). */
export async function runCell(o: CellOptions): Promise<CellOutcome> {
  const w = o.workload;
  const opsTarget = o.ops ?? (o.durationS === undefined ? w.ops : undefined);
  const durationMs = (o.durationS ?? (opsTarget === undefined ? w.durationS : undefined) ?? 0) * 1000;
  const warmup = w.warmupOps;
  const openRate = w.mode === 'closed' ? null : w.mode.openRate;
  const nameOf = o.registerName ?? registerName;
  const epoch = o.epochMs ?? performance.now();

  const out = emptyOutcome();
  const hist = (m: Map<string, Histogram>, k: string) => {
    let h = m.get(k);
    if (!h) m.set(k, (h = createHistogram()));
    return h;
  };

  let next = 0;
  let measureStart: number | undefined;
  let lastEnd = 0;
  const loopStart = performance.now();
  const interval = openRate ? 1000 / openRate : 0;

  const done = (i: number, now: number): boolean => {
    if (o.signal?.aborted) return true;
    if (opsTarget !== undefined) return i >= warmup + opsTarget;
    if (i < warmup) return false;
    return measureStart !== undefined && now >= measureStart + durationMs;
  };

  const root = new Random(o.seed);
  const runClient = async (client: BenchClient, k: number) => {
    const rnd = root.fork(`client-${k}`);
    const nextOp = opSampler(w.mix, rnd);
    const nextReg = registerSampler(w.registers, w.access, rnd);
    const nextSize = valueSizeSampler(w.valueBytes, o.valueBytes, rnd);
    let seq = 0;
    for (;;) {
      const i = next;
      let intended = openRate ? loopStart + i * interval : performance.now();
      if (done(i, intended)) return;
      next++;
      if (openRate) {
        const wait = intended - performance.now();
        if (wait > 0) {
          try {
            await sleep(wait, o.signal);
          } catch {
            return;
          }
        }
      } else {
        intended = performance.now();
      }
      const measured = i >= warmup;
      if (measured && measureStart === undefined) {
        measureStart = intended;
        out.startEpochMs = Date.now() - (performance.now() - intended);
      }
      const op = nextOp();
      const reg = nameOf(nextReg());
      const size = op === 'write' ? nextSize() : 0;
      const id = `${client.id}:${seq++}`;
      let value: Uint8Array | undefined;
      if (op === 'write') value = makeValue(size, id, rnd);
      const opts: CallOptions = { signal: o.signal };
      let output: string | null = null;
      let rounds: number | undefined;
      const call = performance.now();
      const start = openRate ? intended : call;
      try {
        await withOp({ op, measured }, async () => {
          if (op === 'write') await client.write(reg, value as Uint8Array, opts);
          else if (op === 'remove') await client.remove(reg, opts);
          else {
            const r = await client.read(reg, opts);
            output = r.value === null ? null : valueId(r.value);
            rounds = r.rounds;
          }
        });
        const end = performance.now();
        if (op === 'write') out.lastWritten.set(reg, size);
        else if (op === 'remove') out.lastWritten.delete(reg);
        o.history?.({ client: client.id, op: op === 'read' ? 'read' : 'write', register: reg, input: op === 'write' ? id : null, output, call: call - epoch, return: end - epoch });
        if (measured) {
          const bucket = op === 'write' ? (o.valueBytes ?? sizeBucket(size)) : (o.valueBytes ?? 0);
          recordMs(hist(out.ok, seriesKey(op, bucket)), end - start);
          out.measured.set(op, (out.measured.get(op) ?? 0) + 1);
          if (rounds !== undefined) {
            const r = out.rounds.get(op) ?? { sum: 0, n: 0 };
            r.sum += rounds;
            r.n++;
            out.rounds.set(op, r);
          }
          lastEnd = Math.max(lastEnd, end);
          o.onOp?.();
        }
      } catch (e) {
        const end = performance.now();
        if (o.signal?.aborted) {
          out.interrupted = true;
          return;
        }
        const kind = errorKind(e);
        o.history?.({ client: client.id, op: op === 'read' ? 'read' : 'write', register: reg, input: op === 'write' ? id : null, output: null, call: call - epoch, return: null, error: kind });
        if (measured) {
          const bucket = op === 'write' ? (o.valueBytes ?? sizeBucket(size)) : (o.valueBytes ?? 0);
          recordMs(hist(out.failed, seriesKey(op, bucket)), end - start);
          out.errors.set(`${op}|${kind}`, (out.errors.get(`${op}|${kind}`) ?? 0) + 1);
          out.measured.set(op, (out.measured.get(op) ?? 0) + 1);
          lastEnd = Math.max(lastEnd, end);
          o.onOp?.();
        }
      }
    }
  };

  await Promise.all(o.clients.map((c, k) => runClient(c, (o.clientOffset ?? 0) + k)));
  if (o.signal?.aborted) out.interrupted = true;
  out.startMs = measureStart ?? lastEnd;
  out.endMs = Math.max(lastEnd, out.startMs);
  out.endEpochMs = out.startEpochMs + (out.endMs - out.startMs);
  return out;
}

const ID_END = 0x7c; // '|'

/** A value of `size` bytes starting with `id|` (when it fits), the rest random. */
export function makeValue(size: number, id: string, rnd: Random): Uint8Array {
  const v = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const x = rnd.nextUint32();
    v[i] = x & 0xff;
    if (i + 1 < size) v[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < size) v[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < size) v[i + 3] = (x >>> 24) & 0xff;
  }
  const head = Buffer.from(`${id}|`, 'latin1');
  if (head.length <= size) v.set(head, 0);
  return v;
}

/** The id a value was written with (`makeValue`), or a short hex digest for foreign values. */
export function valueId(v: Uint8Array): string {
  const end = v.indexOf(ID_END);
  if (end > 0 && end < 64) {
    const s = Buffer.from(v.subarray(0, end)).toString('latin1');
    if (/^[\w.-]+:\d+$/.test(s)) return s;
  }
  return `bytes:${v.byteLength}`;
}
