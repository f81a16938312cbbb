/**
 * One register's history as the polynomial checkers see it: its writes (index 0 stands for the
 * initial absent value), its completed reads, and for every read the writes it may have returned.
 *
 * A read r may have returned the value of write S only if
 *   - S wrote what r returned (a remove and the initial value both "write" absent),
 *   - S did not begin after r returned: S.call <= r.return, and
 *   - S was not overwritten before r began: no completed write Y with S.return < Y.call and
 *     Y.return < r.call (then Y lies between S and r in every order consistent with real time).
 * These conditions hold for the write a read returned in every linearization, and in every
 * regular write order; so the candidates of a read are a superset of its possible sources.
 * When written values are unique, a read has at most one candidate; reads of absent (the initial
 * value and every remove) and reads of a value written twice may have several: those are
 * *ambiguous* and the checkers treat them apart.
 *
 * Incomplete writes (no return, or failed) return at +infinity; incomplete or failed reads say
 * nothing and are left out. Every step is O(n log n) (plus the candidates listed).
 */
import type { Operation } from './history.js';

/** Write index of the initial (absent) value. */
export const INITIAL = 0;
/** `source` of a read that no write can explain. */
export const NO_SOURCE = -1;
/** `source` of a read with several candidate writes. */
export const AMBIGUOUS = -2;
/** Candidates listed per ambiguous read; more than this and the read keeps only the first ones. */
export const MAX_CANDIDATES = 32;

export interface RegisterModel {
  register: string;
  /** The relevant operations: every write and every completed read, in history order. */
  ops: Operation[];
  /** Writes; index 0 is the initial value (no operation). */
  wOp: (Operation | null)[];
  wCall: Float64Array;
  /** +Infinity for a write that may or may not have taken effect; -Infinity for the initial value. */
  wRet: Float64Array;
  wValue: (string | null)[];
  /** Completed reads. */
  reads: Operation[];
  rCall: Float64Array;
  rRet: Float64Array;
  /** Per read: the only candidate write, NO_SOURCE, or AMBIGUOUS. */
  source: Int32Array;
  /** Per ambiguous read: its candidate writes (at most MAX_CANDIDATES). */
  candidates: Map<number, number[]>;
  /** Ambiguous reads whose candidates were cut at MAX_CANDIDATES. */
  truncated: Set<number>;
  /**
   * Per read: the completed write with the latest call among those that returned before the read
   * began (-1 if none); every write that returned before that call is overwritten for this read.
   */
  overwriter: Int32Array;
  /** Writers of a value (null: absent, the initial value included), undefined if none. */
  writersOf(value: string | null): number[] | undefined;
  /** Every candidate write of read i (no limit), for the closure of witnesses. */
  allCandidates(i: number): number[];
}

/** Builds the model of one register's operations. */
export function buildModel(register: string, all: readonly Operation[]): RegisterModel {
  // one pass over the operations (they are scattered in memory: touch each once)
  const n = all.length;
  const ops: Operation[] = [];
  const wOp: (Operation | null)[] = [null];
  const wValue: (string | null)[] = [null];
  const reads: Operation[] = [];
  let wCall: Float64Array = new Float64Array(Math.min(n, 1024) + 1);
  let wRet: Float64Array = new Float64Array(wCall.length);
  let rCall: Float64Array = new Float64Array(Math.min(n, 1024));
  let rRet: Float64Array = new Float64Array(rCall.length);
  wCall[0] = Number.NEGATIVE_INFINITY;
  wRet[0] = Number.NEGATIVE_INFINITY;
  // the first writer of each value, and a chain through the others (values are almost always unique)
  const firstWriter = new Map<string, number>();
  let nextWriter = new Int32Array(wCall.length);
  const absentWriters: number[] = [INITIAL];
  let duplicated = false;
  for (let j = 0; j < n; j++) {
    const o = all[j];
    const done = o.return !== null && o.error === undefined;
    if (o.op === 'write') {
      const k = wOp.length;
      if (k === wCall.length) {
        wCall = grow(wCall);
        wRet = grow(wRet);
        const nn = new Int32Array(wCall.length);
        nn.set(nextWriter);
        nextWriter = nn;
      }
      ops.push(o);
      wOp.push(o);
      wValue.push(o.input);
      wCall[k] = o.call;
      wRet[k] = done ? (o.return as number) : Number.POSITIVE_INFINITY;
      nextWriter[k] = -1;
      if (o.input === null) absentWriters.push(k);
      else {
        const first = firstWriter.get(o.input);
        if (first === undefined) firstWriter.set(o.input, k);
        else {
          duplicated = true;
          let last = first;
          while (nextWriter[last] >= 0) last = nextWriter[last];
          nextWriter[last] = k;
        }
      }
    } else if (done) {
      const i = reads.length;
      if (i === rCall.length) {
        rCall = grow(rCall);
        rRet = grow(rRet);
      }
      ops.push(o);
      reads.push(o);
      rCall[i] = o.call;
      rRet[i] = o.return as number;
    }
  }
  const nW = wOp.length;
  const nR = reads.length;
  wCall = wCall.subarray(0, nW);
  wRet = wRet.subarray(0, nW);
  rCall = rCall.subarray(0, nR);
  rRet = rRet.subarray(0, nR);
  const writersOf = (v: string | null): number[] | undefined => {
    if (v === null) return absentWriters;
    let k = firstWriter.get(v);
    if (k === undefined) return undefined;
    const out: number[] = [];
    for (; k >= 0; k = nextWriter[k]) out.push(k);
    return out;
  };

  // completed writes by return time, with the running maximum of their calls
  let nC = 0;
  for (let k = 1; k < nW; k++) if (wRet[k] !== Number.POSITIVE_INFINITY) nC++;
  const completed = new Int32Array(nC);
  for (let k = 1, j = 0; k < nW; k++) if (wRet[k] !== Number.POSITIVE_INFINITY) completed[j++] = k;
  completed.sort((a, b) => wRet[a] - wRet[b]);
  const cRet = new Float64Array(nC);
  const prefArg = new Int32Array(nC);
  let best = -1;
  for (let j = 0; j < nC; j++) {
    const k = completed[j];
    cRet[j] = wRet[k];
    if (best < 0 || wCall[k] > wCall[best]) best = k;
    prefArg[j] = best;
  }

  const overwriter = new Int32Array(nR);
  const source = new Int32Array(nR);
  const candidates = new Map<number, number[]>();
  const truncated = new Set<number>();
  const indexes = new Map<string | null, WriterIndex>();
  const indexOf = (v: string | null): WriterIndex => {
    let index = indexes.get(v);
    if (!index) indexes.set(v, (index = new WriterIndex(writersOf(v)!, wCall, wRet)));
    return index;
  };
  const found: number[] = [];
  // completed writes returning strictly before a read's call: a pointer that moves forward while
  // reads come in call order (the usual case), a binary search otherwise
  let p = 0;
  let prevCall = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < nR; i++) {
    const call = rCall[i];
    if (call >= prevCall) {
      while (p < nC && cRet[p] < call) p++;
    } else p = lowerBound(cRet, call);
    prevCall = call;
    const j = p - 1;
    const y = j >= 0 ? prefArg[j] : -1;
    overwriter[i] = y;
    const mu = y >= 0 ? wCall[y] : Number.NEGATIVE_INFINITY;
    const v = reads[i].output;
    let k = -1;
    if (v !== null) {
      const first = firstWriter.get(v);
      if (first === undefined) {
        source[i] = NO_SOURCE;
        continue;
      }
      if (!duplicated || nextWriter[first] < 0) k = first;
    } else if (absentWriters.length === 1) k = INITIAL;
    if (k >= 0) {
      source[i] = wCall[k] <= rRet[i] && wRet[k] >= mu ? k : NO_SOURCE;
      continue;
    }
    found.length = 0;
    const more = indexOf(v).query(rRet[i], mu, MAX_CANDIDATES, found);
    if (found.length === 0) source[i] = NO_SOURCE;
    else if (found.length === 1 && !more) source[i] = found[0];
    else {
      source[i] = AMBIGUOUS;
      candidates.set(i, found.slice());
      if (more) truncated.add(i);
    }
  }
  const allCandidates = (i: number): number[] => {
    if (source[i] === NO_SOURCE) return [];
    if (source[i] !== AMBIGUOUS) return [source[i]];
    if (!truncated.has(i)) return candidates.get(i)!;
    const y = overwriter[i];
    const out: number[] = [];
    indexOf(reads[i].output).query(rRet[i], y >= 0 ? wCall[y] : Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER, out);
    return out;
  };
  return { register, ops, wOp, wCall, wRet, wValue, reads, rCall, rRet, source, candidates, truncated, overwriter, writersOf, allCandidates };
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** Index of the first element >= x in a sorted array. */
export function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element > x in a sorted array. */
export function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The writers of one value sorted by call, with a max-tree over their returns: lists the writers
 * with call <= c and return >= m in O((k + 1) log n).
 */
class WriterIndex {
  private readonly order: Int32Array;
  private readonly calls: Float64Array;
  private readonly size: number;
  private readonly tree: Float64Array;
  private readonly stack: Int32Array;

  constructor(writers: readonly number[], wCall: Float64Array, wRet: Float64Array) {
    const order = Int32Array.from(writers).sort((a, b) => wCall[a] - wCall[b] || a - b);
    this.order = order;
    this.calls = Float64Array.from(order, (k) => wCall[k]);
    let size = 1;
    while (size < order.length) size <<= 1;
    this.size = size;
    this.tree = new Float64Array(2 * size).fill(Number.NEGATIVE_INFINITY);
    for (let i = 0; i < order.length; i++) this.tree[size + i] = wRet[order[i]];
    for (let i = size - 1; i >= 1; i--) this.tree[i] = Math.max(this.tree[2 * i], this.tree[2 * i + 1]);
    let depth = 1;
    while (1 << depth <= size) depth++;
    this.stack = new Int32Array(3 * (depth + 2) * 2);
  }

  /** Pushes up to `limit` writers with call <= maxCall and return >= minRet; true if there were more. */
  query(maxCall: number, minRet: number, limit: number, out: number[]): boolean {
    const end = upperBound(this.calls, maxCall);
    if (end === 0) return false;
    // depth-first over the tree, left to right: node, lo, hi triples on an explicit stack
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = 1;
    stack[sp++] = 0;
    stack[sp++] = this.size;
    while (sp > 0) {
      const hi = stack[--sp];
      const lo = stack[--sp];
      const node = stack[--sp];
      if (lo >= end || this.tree[node] < minRet) continue;
      if (node >= this.size) {
        if (out.length >= limit) return true;
        out.push(this.order[lo]);
        continue;
      }
      const mid = (lo + hi) >>> 1;
      stack[sp++] = 2 * node + 1;
      stack[sp++] = mid;
      stack[sp++] = hi;
      stack[sp++] = 2 * node;
      stack[sp++] = lo;
      stack[sp++] = mid;
    }
    return false;
  }
}

/** A time for messages: at most 3 decimals. */
export function showTime(t: number): string {
  if (t === Number.NEGATIVE_INFINITY) return 'the start';
  if (t === Number.POSITIVE_INFINITY) return 'the end';
  return Number.isInteger(t) ? String(t) : String(Number(t.toFixed(3)));
}

/** Quoted value for messages: the value, or "absent". */
export function showValue(v: string | null): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

/**
 * Why a read has no candidate source: the operations that show it, and a sentence. The
 * operations form a witness on their own (they admit neither a linearization nor a regular order).
 */
export function explainNoSource(m: RegisterModel, i: number): { operations: Operation[]; message: string } {
  const r = m.reads[i];
  const writers = m.writersOf(r.output);
  if (!writers) {
    return { operations: [r], message: `read returned ${JSON.stringify(r.output)}, which no write wrote` };
  }
  const early = writers.filter((k) => m.wCall[k] <= m.rRet[i]);
  if (early.length === 0) {
    const k = writers[0];
    return { operations: [r, m.wOp[k]!], message: `read returned ${JSON.stringify(r.output)} before the write of it began` };
  }
  // every writer that began in time was overwritten by the same write
  const y = m.overwriter[i];
  const yOp = m.wOp[y]!;
  const ops = [r, yOp, ...early.filter((k) => k !== INITIAL).map((k) => m.wOp[k]!)];
  const what =
    r.output !== null
      ? JSON.stringify(r.output)
      : early.length === 1 && early[0] === INITIAL
        ? 'the initial (absent) value'
        : 'absent (the register was removed or never written)';
  return { operations: ops, message: `read returned ${what} although a later write (#${yOp.id}) had completed before the read began` };
}
