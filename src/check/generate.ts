/**
 * Synthetic register histories shaped like `rkvs bench --history` records, for benchmarking and
 * testing the checkers at any scale: closed-loop clients, each issuing one operation after the
 * other with a think time and a heavy-tailed latency; reads, writes of unique values and removes
 * on one or more registers. Outputs come from a linearizable register: every operation takes
 * effect at one instant within its [call, return], so the history is linearizable (and regular)
 * unless `staleReads` asks for reads of an older value.
 *
 * Crashed clients leave their last operation without a return (a write may or may not have taken
 * effect); failed operations carry an `error` (a failed write may have taken effect too).
 */
import type { Operation } from './history.js';
import { Random } from '../util/random.js';

export interface GenerateOptions {
  seed: number;
  clients: number;
  /** Total operations (all clients together). */
  operations: number;
  /** @default 1 */
  registers?: number;
  /** Fractions of reads and removes; the rest are writes. @default 0.5, 0.05 */
  readFraction?: number;
  removeFraction?: number;
  /** Median latency and think time, in ms. @default 20, 5 */
  latencyMs?: number;
  thinkMs?: number;
  /** Fraction of clients that crash once (their operation in flight never returns). @default 0 */
  crashFraction?: number;
  /** Fraction of operations that fail with an error. @default 0 */
  errorFraction?: number;
  /**
   * Fraction of reads that return an older value instead of the current one (a stale read): the
   * value `staleDepth` writes back (absent if there were fewer). Makes the history
   * non-linearizable as soon as one lands where it can be told apart.
   * @default 0
   */
  staleReads?: number;
  /** How many writes back a stale read looks. @default max(10, 2 * clients) */
  staleDepth?: number;
  /** Register name prefix. @default 'r' */
  registerPrefix?: string;
}

interface Pending {
  op: Operation;
  /** Effect instant; null: a write that never takes effect. */
  at: number | null;
}

/** Generates a history; ids are positions in call order. */
export function generateHistory(o: GenerateOptions): Operation[] {
  const rnd = new Random(o.seed);
  const registers = o.registers ?? 1;
  const readF = o.readFraction ?? 0.5;
  const removeF = o.removeFraction ?? 0.05;
  const lat = o.latencyMs ?? 20;
  const think = o.thinkMs ?? 5;
  const prefix = o.registerPrefix ?? 'r';
  const crashes = new Set<number>();
  for (let c = 0; c < o.clients; c++) if (rnd.chance(o.crashFraction ?? 0)) crashes.add(c);

  const clientTime = new Float64Array(o.clients);
  const seq = new Int32Array(o.clients);
  const crashed = new Uint8Array(o.clients);
  for (let c = 0; c < o.clients; c++) clientTime[c] = rnd.uniform(0, think * 2);
  // the client that is free first issues the next operation
  const heap = new MinHeap(o.clients, (c) => clientTime[c]);
  for (let c = 0; c < o.clients; c++) heap.push(c);
  const effects: Pending[] = [];
  const crashAt = Math.floor(o.operations / 2);
  for (let n = 0; n < o.operations && heap.size > 0; n++) {
    const c = heap.pop();
    const call = clientTime[c];
    const latency = lat * Math.exp(rnd.normal(0, 0.6)) * (rnd.chance(0.01) ? 10 : 1);
    const ret = call + latency;
    const register = `${prefix}${registers === 1 ? 0 : Math.min(registers - 1, Math.floor(registers * rnd.next() ** 1.5))}`;
    const u = rnd.next();
    const kind = u < readF ? 'read' : u < readF + removeF ? 'remove' : 'write';
    const op: Operation = {
      id: 0,
      client: `c${c}`,
      op: kind === 'read' ? 'read' : 'write',
      register,
      input: kind === 'write' ? `c${c}:${seq[c]}` : null,
      output: null,
      call,
      return: ret,
    };
    seq[c]++;
    let at: number | null = rnd.uniform(call, ret);
    if (crashes.has(c) && n >= crashAt && !crashed[c]) {
      crashed[c] = 1;
      op.return = null;
      if (op.op === 'write' && rnd.chance(0.5)) at = rnd.chance(0.5) ? null : call + latency * rnd.uniform(0, 3);
    } else if (rnd.chance(o.errorFraction ?? 0)) {
      op.error = 'Unavailable: injected';
      if (op.op === 'write' && rnd.chance(0.5)) at = null;
    }
    effects.push({ op, at });
    if (crashed[c] && op.return === null) continue; // the client is gone
    clientTime[c] = ret + think * Math.exp(rnd.normal(0, 1));
    heap.push(c);
  }
  // apply effects in order of their instants
  const ordered = effects.filter((e) => e.at !== null).sort((a, b) => a.at! - b.at!);
  // per register, the last `depth + 1` values written (a ring)
  const stale = o.staleReads ?? 0;
  const depth = o.staleDepth ?? Math.max(10, 2 * o.clients);
  const state = new Map<string, { ring: (string | null)[]; writes: number }>();
  for (const e of ordered) {
    let s = state.get(e.op.register);
    if (!s) state.set(e.op.register, (s = { ring: new Array<string | null>(depth + 1).fill(null), writes: 0 }));
    const at = (back: number) => (back > s.writes - 1 ? null : s.ring[(s.writes - 1 - back) % (depth + 1)]);
    if (e.op.op === 'write') {
      s.ring[s.writes % (depth + 1)] = e.op.input;
      s.writes++;
    } else {
      e.op.output = stale > 0 && rnd.chance(stale) ? at(depth) : at(0);
    }
  }
  for (const e of effects) if (e.op.op === 'read' && (e.op.return === null || e.op.error !== undefined)) e.op.output = null;
  const ops = effects.map((e) => e.op).sort((a, b) => a.call - b.call);
  ops.forEach((op, i) => (op.id = i));
  return ops;
}

/** A binary min-heap of small integers keyed by a function. */
class MinHeap {
  private readonly a: Int32Array;
  size = 0;
  constructor(
    capacity: number,
    private readonly key: (x: number) => number,
  ) {
    this.a = new Int32Array(capacity);
  }
  push(x: number): void {
    let i = this.size++;
    this.a[i] = x;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.key(this.a[p]) <= this.key(this.a[i])) break;
      [this.a[p], this.a[i]] = [this.a[i], this.a[p]];
      i = p;
    }
  }
  pop(): number {
    const top = this.a[0];
    this.a[0] = this.a[--this.size];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && this.key(this.a[l]) < this.key(this.a[m])) m = l;
      if (r < this.size && this.key(this.a[r]) < this.key(this.a[m])) m = r;
      if (m === i) break;
      [this.a[m], this.a[i]] = [this.a[i], this.a[m]];
      i = m;
    }
    return top;
  }
}
