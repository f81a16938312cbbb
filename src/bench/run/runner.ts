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
import type { LogicalOp, Workload } from '../config/workload.js';
import { opSampler, registerName, registerSampler, sizeBucket, valueSizeSampler } from './workload.js';

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
  /**
   * Awaited right before and right after each operation (warm-up ones too), in a closed loop only:
   * a measurement taken in turn with the cell's (`CellProbeRun`). Neither is part of the
   * operation's latency.
   */
  around?: OpNeighbour;
  /** Names registers; default `registerName`. */
  registerName?: (i: number) => string;
  /**
   * Index of `clients[0]` among all clients of the cell when the cell is spread over several
   * processes: client k draws the random stream of global client `clientOffset + k`.
   * @default 0
   */
  clientOffset?: number;
  /**
   * Holds the measured phase back until `open` is true (`rkvs bench --fault`: the fault is in
   * force): operations issued before are warm-up. The first operation issued once it is open and
   * the warm-up operations are done starts the measured phase.
   */
  measureGate?: { readonly open: boolean };
}

/** What runs right before and right after each operation of a closed loop (`CellOptions.around`). */
export interface OpNeighbour {
  beforeOp(op: string, measured: boolean, register: string): Promise<void>;
  afterOp(op: string, measured: boolean, register: string): Promise<void>;
}

/** Key of one measured series of a cell: op and value size (bucket). */
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
  /** The same, per series: `op|value_bytes|kind`. */
  errorsBySeries: Map<string, number>;
  /** Measured operations per op (ok + failed). */
  measured: Map<LogicalOp, number>;
  /** Sum and count of read rounds reported by the store, per series (`op|value_bytes`). */
  rounds: Map<string, { sum: number; n: number }>;
  /** Last written size per register (logical bytes), removes drop the register. */
  lastWritten: Map<string, number>;
  /** Measured window, performance.now() milliseconds. */
  startMs: number;
  endMs: number;
  /** Wall-clock of the measured window (Date.now()). */
  startEpochMs: number;
  endEpochMs: number;
  interrupted: boolean;
  /**
   * Every operation (warm-up included) by the second of the loop it ended in:
   * `second|phase|op|value_bytes` (see `perSecondKey`) to the latencies of its successful
   * operations and its failed-operation count.
   */
  perSecond: Map<string, SecondBucket>;
  /** Wall clock (ms since the epoch) when the loop started: second 0 of `perSecond`. */
  loopStartEpochMs: number;
  /** From the loop's start to the end of its last operation, ms (the last second may be partial). */
  loopSpanMs: number;
}

/** One second of one series: latencies of the operations that ended in it. */
export interface SecondBucket {
  /** Successful operations' latencies (microseconds). */
  ok: Histogram;
  errors: number;
}

/** `warmup` operations come before the measured ones; both are kept in the per-second series. */
export type SecondPhase = 'warmup' | 'measured';

/** Key of one per-second bucket. */
export function perSecondKey(second: number, phase: SecondPhase, op: string, valueBytes: number): string {
  return `${second}|${phase}|${op}|${valueBytes}`;
}

/** The parts of a per-second key. */
export function parsePerSecondKey(k: string): { second: number; phase: SecondPhase; op: string; valueBytes: number } {
  const [second, phase, op, vb] = k.split('|') as [string, SecondPhase, string, string];
  return { second: Number(second), phase, op, valueBytes: Number(vb) };
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
    errorsBySeries: new Map(),
    measured: new Map(),
    rounds: new Map(),
    lastWritten: new Map(),
    startMs: 0,
    endMs: 0,
    startEpochMs: 0,
    endEpochMs: 0,
    interrupted: false,
    perSecond: new Map(),
    loopStartEpochMs: 0,
    loopSpanMs: 0,
  };
}

/** Runs one cell; never throws for operation failures (they are counted). */
export async function runCell(o: CellOptions): Promise<CellOutcome> {
  const loop = new CellLoop(o);
  await Promise.all(o.clients.map((c, k) => loop.runClient(c, (o.clientOffset ?? 0) + k)));
  return loop.finish();
}

/** One operation about to be issued by a client. */
interface PendingOp {
  op: LogicalOp;
  register: string;
  size: number;
  /** Series value size: the cell's size, or the bucket of a drawn size (writes). */
  bucket: number;
  id: string;
  value?: Uint8Array;
  measured: boolean;
  /** When the operation was due (open loop) or issued (closed loop), performance.now() ms. */
  intended: number;
}

/** The shared state of one cell's clients: the next operation, the measured window, the outcome. */
class CellLoop {
  readonly out = emptyOutcome();
  private next = 0;
  /** Index of the first measured operation, once the measured phase started. */
  private firstMeasured: number | undefined;
  private measureStart: number | undefined;
  private lastEnd = 0;
  /** End of the last operation, warm-up included. */
  private lastAnyEnd = 0;
  private readonly loopStart = performance.now();
  private readonly opsTarget: number | undefined;
  private readonly durationMs: number;
  private readonly openRate: number | null;
  private readonly interval: number;
  private readonly epoch: number;
  private readonly root: Random;

  constructor(private readonly o: CellOptions) {
    const w = o.workload;
    this.opsTarget = o.ops ?? (o.durationS === undefined ? w.ops : undefined);
    this.durationMs = (o.durationS ?? (this.opsTarget === undefined ? w.durationS : undefined) ?? 0) * 1000;
    this.openRate = w.mode === 'closed' ? null : w.mode.openRate;
    this.interval = this.openRate ? 1000 / this.openRate : 0;
    this.epoch = o.epochMs ?? performance.now();
    this.root = new Random(o.seed);
  }

  /** True when operation `i` would start the measured phase now: warm-up done, gate open. */
  private measuring(i: number): boolean {
    return i >= this.o.workload.warmupOps && (this.o.measureGate?.open ?? true);
  }

  private done(i: number, now: number): boolean {
    if (this.o.signal?.aborted) return true;
    const first = this.firstMeasured ?? (this.measuring(i) ? i : undefined);
    if (first === undefined) return false;
    if (this.opsTarget !== undefined) return i >= first + this.opsTarget;
    return this.measureStart !== undefined && now >= this.measureStart + this.durationMs;
  }

  /** Takes the next operation and waits until it is due; undefined when the cell is over. */
  private async claim(): Promise<{ i: number; intended: number; measured: boolean } | undefined> {
    const i = this.next;
    let intended = this.openRate ? this.loopStart + i * this.interval : performance.now();
    if (this.done(i, intended)) return undefined;
    this.next++;
    if (this.openRate) {
      const wait = intended - performance.now();
      if (wait > 0) {
        try {
          await sleep(wait, this.o.signal);
        } catch {
          return undefined;
        }
      }
    } else {
      intended = performance.now();
    }
    if (this.firstMeasured === undefined && this.measuring(i)) {
      this.firstMeasured = i;
      this.measureStart = intended;
      this.out.startEpochMs = Date.now() - (performance.now() - intended);
    }
    return { i, intended, measured: this.firstMeasured !== undefined && i >= this.firstMeasured };
  }

  async runClient(client: BenchClient, k: number): Promise<void> {
    const w = this.o.workload;
    const rnd = this.root.fork(`client-${k}`);
    const nextOp = opSampler(w.mix, rnd);
    const nextReg = registerSampler(w.registers, w.access, rnd);
    const nextSize = valueSizeSampler(w.valueBytes, this.o.valueBytes, rnd);
    const nameOf = this.o.registerName ?? registerName;
    let seq = 0;
    for (;;) {
      const slot = await this.claim();
      if (!slot) return;
      const op = nextOp();
      const register = nameOf(nextReg());
      const size = op === 'write' ? nextSize() : 0;
      const bucket = op === 'write' ? (this.o.valueBytes ?? sizeBucket(size)) : (this.o.valueBytes ?? 0);
      const id = `${client.id}:${seq++}`;
      const value = op === 'write' ? makeValue(size, id, rnd) : undefined;
      const p: PendingOp = { op, register, size, bucket, id, value, measured: slot.measured, intended: slot.intended };
      const around = this.openRate ? undefined : this.o.around;
      if (around && !this.o.signal?.aborted) await around.beforeOp(op, slot.measured, register);
      if (await this.perform(client, p)) return;
      if (around && !this.o.signal?.aborted) await around.afterOp(op, slot.measured, register);
    }
  }

  /** Issues one operation and records it; true when the run was interrupted during it. */
  private async perform(client: BenchClient, p: PendingOp): Promise<boolean> {
    const opts: CallOptions = { signal: this.o.signal };
    let output: string | null = null;
    let rounds: number | undefined;
    const call = performance.now();
    const start = this.openRate ? p.intended : call;
    const event = { client: client.id, op: p.op === 'read' ? ('read' as const) : ('write' as const), register: p.register, input: p.op === 'write' ? p.id : null };
    try {
      await withOp({ op: p.op, value_bytes: p.bucket, measured: p.measured }, async () => {
        if (p.op === 'write') await client.write(p.register, p.value as Uint8Array, opts);
        else if (p.op === 'remove') await client.remove(p.register, opts);
        else {
          const r = await client.read(p.register, opts);
          output = r.value === null ? null : valueId(r.value);
          rounds = r.rounds;
        }
      });
    } catch (e) {
      const end = performance.now();
      if (this.o.signal?.aborted) {
        this.out.interrupted = true;
        return true;
      }
      const kind = errorKind(e);
      this.o.history?.({ ...event, output: null, call: call - this.epoch, return: null, error: kind });
      this.recordSecond(p, end, null);
      if (p.measured) this.recordFailed(p, kind, end - start, end);
      return false;
    }
    const end = performance.now();
    if (p.op === 'write') this.out.lastWritten.set(p.register, p.size);
    else if (p.op === 'remove') this.out.lastWritten.delete(p.register);
    this.o.history?.({ ...event, output, call: call - this.epoch, return: end - this.epoch });
    this.recordSecond(p, end, end - start);
    if (p.measured) this.recordOk(p, end - start, end, rounds);
    return false;
  }

  private hist(m: Map<string, Histogram>, k: string): Histogram {
    let h = m.get(k);
    if (!h) m.set(k, (h = createHistogram()));
    return h;
  }

  /** Adds an operation (warm-up too) to the second of the loop it ended in; `ms` null: it failed. */
  private recordSecond(p: PendingOp, end: number, ms: number | null): void {
    this.lastAnyEnd = Math.max(this.lastAnyEnd, end);
    const second = Math.max(0, Math.floor((end - this.loopStart) / 1000));
    const k = perSecondKey(second, p.measured ? 'measured' : 'warmup', p.op, p.bucket);
    let b = this.out.perSecond.get(k);
    if (!b) this.out.perSecond.set(k, (b = { ok: createHistogram(), errors: 0 }));
    if (ms === null) b.errors++;
    else recordMs(b.ok, ms);
  }

  private count(p: PendingOp, end: number): void {
    this.out.measured.set(p.op, (this.out.measured.get(p.op) ?? 0) + 1);
    this.lastEnd = Math.max(this.lastEnd, end);
    this.o.onOp?.();
  }

  private recordOk(p: PendingOp, ms: number, end: number, rounds: number | undefined): void {
    const series = seriesKey(p.op, p.bucket);
    recordMs(this.hist(this.out.ok, series), ms);
    if (rounds !== undefined) {
      const r = this.out.rounds.get(series) ?? { sum: 0, n: 0 };
      r.sum += rounds;
      r.n++;
      this.out.rounds.set(series, r);
    }
    this.count(p, end);
  }

  private recordFailed(p: PendingOp, kind: string, ms: number, end: number): void {
    const series = seriesKey(p.op, p.bucket);
    recordMs(this.hist(this.out.failed, series), ms);
    const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    add(this.out.errors, `${p.op}|${kind}`);
    add(this.out.errorsBySeries, `${series}|${kind}`);
    this.count(p, end);
  }

  finish(): CellOutcome {
    const out = this.out;
    if (this.o.signal?.aborted) out.interrupted = true;
    out.startMs = this.measureStart ?? this.lastEnd;
    out.endMs = Math.max(this.lastEnd, out.startMs);
    out.endEpochMs = out.startEpochMs + (out.endMs - out.startMs);
    out.loopStartEpochMs = performance.timeOrigin + this.loopStart;
    out.loopSpanMs = Math.max(0, this.lastAnyEnd - this.loopStart);
    return out;
  }
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
