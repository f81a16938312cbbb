/**
 * Polynomial linearizability of one register, after Gibbons and Korach ("Testing shared memories",
 * SIAM J. Comput. 1997): once every read is mapped to the write whose value it returned, a
 * read/write register history is linearizable iff a few interval conditions hold. O(n log n).
 *
 * Clusters. A write and the reads mapped to it form a cluster; in any linearization a cluster is a
 * contiguous block (the write, then its reads, then the next write). Let minRet be the earliest
 * return and maxCall the latest call among a cluster's operations.
 *   - If minRet < maxCall the cluster has a *forward zone* (minRet, maxCall): some operation of it
 *     is linearized at or before minRet and another at or after maxCall, so its block covers the
 *     zone.
 *   - Otherwise it has a *backward zone* [maxCall, minRet]: every operation of the cluster is
 *     running at any instant of it, so the whole block fits at one point there.
 * The history (with that mapping) is linearizable iff
 *   1. every read's write began no later than the read returned (write.call <= read.return),
 *   2. no two forward zones overlap (as open intervals), and
 *   3. no backward zone lies inside a forward zone (a < x and y < b for [x, y] inside (a, b)).
 * Proof sketch. Necessity: blocks are disjoint and each contains its zone (forward) or meets it
 * (backward). Sufficiency: put each forward cluster's write at minRet and its reads at
 * min(return, maxCall); put each backward cluster at one point of its zone outside every forward
 * zone (the forward zones are disjoint open intervals, so a closed interval not inside one of
 * them has a point outside all); order operations by point, a cluster's write first. Every
 * operation sits within its own [call, return], so the order respects real time, and clusters
 * never interleave. Times that touch count as concurrent, which the closed/open bounds encode.
 *
 * The initial absent value is a write at -infinity. A write that may or may not have taken effect
 * (no return, or failed) returns at +infinity and is left out unless a read returned its value.
 *
 * Reads whose write is not determined: a read of absent that several removes (or the initial
 * value) could explain goes to `absentSweep`, which decides exactly (see there). A read of a value
 * written more than once (never produced by robust-kvs) gets, greedily, the candidate whose cluster
 * grows least; if the conditions then hold the history is linearizable, otherwise this checker
 * cannot decide and the caller falls back to the search. Either way the reads with one candidate
 * must satisfy the conditions on their own (their clusters only grow): a conflict among them is a
 * violation, whatever the others do.
 */
import type { Operation } from './history.js';
import { AMBIGUOUS, INITIAL, NO_SOURCE, buildModel, explainNoSource, lowerBound, showTime, showValue, type RegisterModel } from './sources.js';

const buildSubModel = (m: RegisterModel, ops: Operation[]) => buildModel(m.register, ops);

export type PolyOutcome =
  | { result: 'ok' }
  | { result: 'violation'; operations: Operation[]; message: string }
  | { result: 'undecided'; reason: string };

interface Zones {
  minRet: Float64Array;
  maxCall: Float64Array;
  /** Read index giving minRet / maxCall, or -1 when it is the write itself. */
  argMin: Int32Array;
  argMax: Int32Array;
  /** Clusters taking part: completed writes, the initial value, and incomplete writes that were read. */
  active: Uint8Array;
}

type Conflict = { kind: 'overlap'; a: number; b: number } | { kind: 'inside'; outer: number; inner: number };

const POS = Number.POSITIVE_INFINITY;

/** Decides linearizability of one register, or says it cannot. */
export function zonesCheck(m: RegisterModel, witness = true): PolyOutcome {
  const nR = m.reads.length;
  for (let i = 0; i < nR; i++) {
    if (m.source[i] === NO_SOURCE) return { result: 'violation', ...explainNoSource(m, i) };
  }
  let onlyAbsent = true;
  for (const i of m.candidates.keys()) if (m.reads[i].output !== null) onlyAbsent = false;
  // reads of absent with several candidates: the sweep; an ok needs nothing more
  const sweep = m.candidates.size > 0 && onlyAbsent ? absentSweep(m) : null;
  if (sweep?.result === 'ok') return sweep;
  // (a) the reads whose write is determined must satisfy the conditions on their own
  const mapping = new Int32Array(nR);
  for (let i = 0; i < nR; i++) mapping[i] = m.source[i] === AMBIGUOUS ? -1 : m.source[i];
  const forced = computeZones(m, mapping);
  const c = findConflict(forced);
  if (c) return { result: 'violation', ...explainConflict(m, forced, c) };
  if (m.candidates.size === 0) return { result: 'ok' };
  if (sweep) {
    if (sweep.result === 'failed') {
      return witness ? windowWitness(m, sweep.at, sweep.what) : { result: 'violation', operations: [], message: '' };
    }
    return sweep;
  }
  return greedySources(m, forced, mapping);
}

/**
 * Ambiguous reads of values written more than once (never produced by the harness or the
 * simulator): each gets the viable candidate whose cluster grows least; the result is certain
 * only when the full mapping satisfies the conditions.
 */
function greedySources(m: RegisterModel, forced: Zones, mapping: Int32Array): PolyOutcome {
  const index = new ZoneIndex(forced);
  const z = cloneZones(forced);
  const order = [...m.candidates.keys()].sort((a, b) => m.rCall[a] - m.rCall[b] || a - b);
  for (const i of order) {
    let best = -1;
    let bestGrowth = POS;
    for (const k of m.candidates.get(i)!) {
      const lo = z.active[k] ? Math.min(z.minRet[k], m.rRet[i]) : m.rRet[i];
      const hi = Math.max(z.maxCall[k], m.rCall[i]);
      if (!index.fits(k, lo, hi)) continue;
      const before = z.active[k] ? Math.max(0, z.maxCall[k] - z.minRet[k]) : 0;
      const growth = Math.max(0, hi - lo) - before;
      if (best < 0 || growth < bestGrowth || (growth === bestGrowth && m.wRet[k] > m.wRet[best])) {
        best = k;
        bestGrowth = growth;
      }
    }
    if (best < 0) {
      return { result: 'undecided', reason: `no candidate write fits read #${m.reads[i].id} of ${showValue(m.reads[i].output)}` };
    }
    mapping[i] = best;
    addRead(m, z, best, i);
  }
  if (findConflict(z)) return { result: 'undecided', reason: 'values written more than once: the chosen sources of their reads conflict' };
  return { result: 'ok' };
}

/**
 * Reads of absent, when several removes (or the initial value) could explain them. Written values
 * are unique, so the other clusters are fixed: a forward zone is a stretch where nothing absent can
 * happen (its write comes at its start), a backward cluster is one instant anywhere in its zone
 * (a "wall": after it the register holds a value). Reads of absent, removes and walls are then
 * events with windows [call, return] (walls: their zone; windows shortened to avoid forward zones),
 * and the history is linearizable iff they can be ordered so that every read of absent comes
 * after a remove (or the initial value) with no wall or forward zone in between.
 *
 * The sweep below orders them greedily, in time order: reads of absent go as soon as the register
 * is absent; walls go at once while the register holds a value (they cost nothing then) and as late
 * as possible while it is absent; removes go as late as possible: at their deadline (after every
 * wall released by then), or when a waiting read reaches its deadline (the remove with the
 * earliest deadline first). Each rule only keeps the register absent longer, or spends a remove no
 * other schedule could have spent later, so the sweep fails only if every schedule fails
 * (an exchange argument; the differential tests check it against the search). On success the
 * order maps every read of absent to a remove and the zone conditions confirm the mapping.
 */
type SweepOutcome = { result: 'ok' } | { result: 'failed'; at: number; what: Operation } | { result: 'undecided'; reason: string };

function absentSweep(m: RegisterModel): SweepOutcome {
  const nR = m.reads.length;
  const mapping = new Int32Array(nR).fill(-1);
  for (let i = 0; i < nR; i++) if (m.reads[i].output !== null) mapping[i] = m.source[i];
  const valueZones = computeZones(m, mapping);
  const fw: number[] = [];
  for (const k of forwardZones(valueZones)) if (k !== INITIAL && m.wValue[k] !== null) fw.push(k);
  const fa = Float64Array.from(fw, (k) => valueZones.minRet[k]);
  const fb = Float64Array.from(fw, (k) => valueZones.maxCall[k]);
  // windows avoid the inside of forward zones: a start inside one moves to its end, an end to its start
  const shortenLo = (lo: number): number => {
    const j = lowerBound(fa, lo) - 1;
    return j >= 0 && lo < fb[j] ? fb[j] : lo;
  };
  const shortenHi = (hi: number): number => {
    const j = lowerBound(fa, hi) - 1;
    return j >= 0 && hi < fb[j] ? fa[j] : hi;
  };

  // events: 0 read of absent (ref: read index), 1 remove (ref: write index), 2 wall (ref: write index)
  const kind: number[] = [];
  const ref: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  const add = (k: number, r: number, l: number, h: number) => {
    kind.push(k);
    ref.push(r);
    lo.push(l);
    hi.push(h);
  };
  const fail = (at: number, what: Operation): SweepOutcome => ({ result: 'failed', at, what });
  for (let i = 0; i < nR; i++) {
    if (m.reads[i].output !== null) continue;
    const l = shortenLo(m.rCall[i]);
    const h = shortenHi(m.rRet[i]);
    if (l > h) return fail(m.rRet[i], m.reads[i]);
    add(0, i, l, h);
  }
  for (let k = 1; k < m.wOp.length; k++) {
    if (m.wValue[k] === null) {
      const l = shortenLo(m.wCall[k]);
      const h = shortenHi(m.wRet[k]);
      if (l > h) {
        if (m.wRet[k] === POS) continue; // never took effect
        return fail(m.wRet[k], m.wOp[k]!);
      }
      add(1, k, l, h);
    } else if (valueZones.active[k] && valueZones.minRet[k] >= valueZones.maxCall[k]) {
      add(2, k, valueZones.maxCall[k], valueZones.minRet[k]);
    }
  }
  const n = kind.length;
  const byLo = new Int32Array(n);
  let nHi = 0;
  for (let e = 0; e < n; e++) {
    byLo[e] = e;
    if (hi[e] !== POS) nHi++;
  }
  byLo.sort((a, b) => lo[a] - lo[b] || a - b);
  const byHi = new Int32Array(nHi);
  for (let e = 0, q = 0; e < n; e++) if (hi[e] !== POS) byHi[q++] = e;
  byHi.sort((a, b) => hi[a] - hi[b] || a - b);
  const fired = new Uint8Array(n);
  let absent = true; // the initial value
  let current = INITIAL;
  let walls: number[] = []; // released, not fired (only while absent)
  let waiting: number[] = []; // released reads, not fired (only while a value is held)
  const removes = new EventHeap(hi);
  const fireWalls = () => {
    for (const e of walls) if (!fired[e]) {
      fired[e] = 1;
      absent = false;
    }
    walls = [];
  };
  const fireReads = () => {
    for (const e of waiting) if (!fired[e]) {
      fired[e] = 1;
      mapping[ref[e]] = current;
    }
    waiting = [];
  };
  const fireRemove = (e: number) => {
    fired[e] = 1;
    current = ref[e];
    absent = true;
    fireReads();
  };
  let pl = 0;
  let ph = 0;
  let pf = 0;
  while (pl < n || ph < byHi.length || pf < fa.length) {
    const t = Math.min(pl < n ? lo[byLo[pl]] : POS, ph < byHi.length ? hi[byHi[ph]] : POS, pf < fa.length ? fa[pf] : POS);
    // 1. releases
    for (; pl < n && lo[byLo[pl]] === t; pl++) {
      const e = byLo[pl];
      if (kind[e] === 0) {
        if (absent) {
          fired[e] = 1;
          mapping[ref[e]] = current;
        } else waiting.push(e);
      } else if (kind[e] === 1) removes.push(e);
      else if (!absent) fired[e] = 1;
      else walls.push(e);
    }
    // 2. deadlines
    const first = ph;
    let needRemove = false;
    for (; ph < byHi.length && hi[byHi[ph]] === t; ph++) {
      const e = byHi[ph];
      if (fired[e]) continue;
      if (kind[e] === 1 || (kind[e] === 0 && !absent)) needRemove = true;
    }
    if (needRemove) {
      fireWalls();
      let e = removes.pop(fired);
      if (e < 0) {
        let late = first;
        while (fired[byHi[late]] || kind[byHi[late]] !== 0) late++;
        return fail(t, m.reads[ref[byHi[late]]]);
      }
      fireRemove(e);
      // every other remove due now goes too
      while ((e = removes.peek(fired)) >= 0 && hi[e] === t) fireRemove(removes.pop(fired));
    }
    for (let q = first; q < ph; q++) {
      const e = byHi[q];
      if (!fired[e] && kind[e] === 2) {
        fired[e] = 1;
        absent = false;
      }
    }
    // 3. a forward zone starts: its write ends any absent stretch
    for (; pf < fa.length && fa[pf] === t; pf++) {
      fireWalls();
      absent = false;
    }
    if (!absent) fireWalls();
  }
  const z = computeZones(m, mapping);
  if (findConflict(z)) return { result: 'undecided', reason: 'the sweep over reads of absent produced a mapping the zone conditions reject' };
  return { result: 'ok' };
}

/** A min-heap of events by deadline, skipping fired ones. */
class EventHeap {
  private readonly a: number[] = [];
  constructor(private readonly key: number[]) {}
  push(e: number): void {
    const a = this.a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[p], a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  private less(x: number, y: number): boolean {
    return this.key[x] < this.key[y] || (this.key[x] === this.key[y] && x < y);
  }
  private popRaw(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let s = i;
        if (l < a.length && this.less(a[l], a[s])) s = l;
        if (r < a.length && this.less(a[r], a[s])) s = r;
        if (s === i) break;
        [a[s], a[i]] = [a[i], a[s]];
        i = s;
      }
    }
    return top;
  }
  peek(fired: Uint8Array): number {
    while (this.a.length > 0 && fired[this.a[0]]) this.popRaw();
    return this.a.length > 0 ? this.a[0] : -1;
  }
  pop(fired: Uint8Array): number {
    const e = this.peek(fired);
    if (e >= 0) this.popRaw();
    return e;
  }
}

/**
 * A witness for a failure of the sweep at time `at`: the operations around it, in windows that
 * double until the sub-history (with every candidate source of its reads, so that it stays a
 * witness) violates on its own.
 */
function windowWitness(m: RegisterModel, at: number, what: Operation): PolyOutcome {
  const ret = (o: Operation) => (o.return === null || o.error !== undefined ? POS : o.return);
  let span = Math.max(1e-9, (what.return ?? at) - what.call);
  const readIndex = new Map(m.reads.map((r, i) => [r.id, i]));
  for (;;) {
    const from = at - span;
    const to = at + span;
    const ids = new Set<number>();
    let all = true;
    for (const o of m.ops) {
      if (o.call <= to && ret(o) >= from) ids.add(o.id);
      else all = false;
    }
    for (const id of [...ids]) {
      const i = readIndex.get(id);
      if (i !== undefined) for (const k of m.allCandidates(i)) if (k !== INITIAL) ids.add(m.wOp[k]!.id);
    }
    const ops = m.ops.filter((o) => ids.has(o.id));
    const sub = zonesCheck(buildSubModel(m, ops), false);
    if (sub.result === 'violation' || all) {
      return {
        result: 'violation',
        operations: ops,
        message:
          what.op === 'read'
            ? `no remove (or the initial value) can explain read of absent #${what.id} and the reads around it: every order puts a written value between them`
            : `remove #${what.id} can only take effect while another value must hold the register`,
      };
    }
    span *= 2;
  }
}
function computeZones(m: RegisterModel, mapping: Int32Array): Zones {
  const nW = m.wOp.length;
  const z: Zones = {
    minRet: Float64Array.from(m.wRet),
    maxCall: Float64Array.from(m.wCall),
    argMin: new Int32Array(nW).fill(-1),
    argMax: new Int32Array(nW).fill(-1),
    active: new Uint8Array(nW),
  };
  for (let k = 0; k < nW; k++) z.active[k] = m.wRet[k] !== POS ? 1 : 0;
  for (let i = 0; i < mapping.length; i++) if (mapping[i] >= 0) addRead(m, z, mapping[i], i);
  return z;
}

function cloneZones(z: Zones): Zones {
  return {
    minRet: z.minRet.slice(),
    maxCall: z.maxCall.slice(),
    argMin: z.argMin.slice(),
    argMax: z.argMax.slice(),
    active: z.active.slice(),
  };
}

function addRead(m: RegisterModel, z: Zones, k: number, i: number): void {
  z.active[k] = 1;
  if (m.rRet[i] < z.minRet[k]) {
    z.minRet[k] = m.rRet[i];
    z.argMin[k] = i;
  }
  if (m.rCall[i] > z.maxCall[k]) {
    z.maxCall[k] = m.rCall[i];
    z.argMax[k] = i;
  }
}

/** Sorted forward zones (by start); assumes nothing about overlaps. */
function forwardZones(z: Zones): Int32Array {
  const fw: number[] = [];
  for (let k = 0; k < z.active.length; k++) if (z.active[k] && z.minRet[k] < z.maxCall[k]) fw.push(k);
  const out = Int32Array.from(fw);
  out.sort((a, b) => z.minRet[a] - z.minRet[b] || z.maxCall[a] - z.maxCall[b] || a - b);
  return out;
}

function findConflict(z: Zones): Conflict | null {
  const fw = forwardZones(z);
  for (let j = 1; j < fw.length; j++) {
    if (z.minRet[fw[j]] < z.maxCall[fw[j - 1]]) return { kind: 'overlap', a: fw[j - 1], b: fw[j] };
  }
  const starts = Float64Array.from(fw, (k) => z.minRet[k]);
  for (let k = 0; k < z.active.length; k++) {
    if (!z.active[k] || z.minRet[k] < z.maxCall[k]) continue;
    const x = z.maxCall[k];
    const y = z.minRet[k];
    const j = lowerBound(starts, x) - 1; // last forward zone starting strictly before x
    if (j >= 0 && y < z.maxCall[fw[j]]) return { kind: 'inside', outer: fw[j], inner: k };
  }
  return null;
}

/**
 * The forward and backward zones of a conflict-free set of clusters, for asking whether one
 * cluster could grow to a given zone without a conflict with the others.
 */
class ZoneIndex {
  private readonly fw: Int32Array;
  private readonly fStart: Float64Array;
  private readonly fEnd: Float64Array;
  private readonly bStart: Float64Array;
  /** Suffix minima of backward zone ends (by start), and of clusters other than the minimum's. */
  private readonly bMin1: Float64Array;
  private readonly bArg1: Int32Array;
  private readonly bMin2: Float64Array;

  constructor(z: Zones) {
    this.fw = forwardZones(z);
    this.fStart = Float64Array.from(this.fw, (k) => z.minRet[k]);
    this.fEnd = Float64Array.from(this.fw, (k) => z.maxCall[k]);
    const bw: number[] = [];
    for (let k = 0; k < z.active.length; k++) if (z.active[k] && z.minRet[k] >= z.maxCall[k]) bw.push(k);
    bw.sort((a, b) => z.maxCall[a] - z.maxCall[b] || a - b);
    const n = bw.length;
    this.bStart = Float64Array.from(bw, (k) => z.maxCall[k]);
    this.bMin1 = new Float64Array(n + 1).fill(POS);
    this.bArg1 = new Int32Array(n + 1).fill(-1);
    this.bMin2 = new Float64Array(n + 1).fill(POS);
    for (let j = n - 1; j >= 0; j--) {
      const k = bw[j];
      const y = z.minRet[k];
      let m1 = this.bMin1[j + 1];
      let a1 = this.bArg1[j + 1];
      let m2 = this.bMin2[j + 1];
      if (y < m1) {
        m2 = m1;
        m1 = y;
        a1 = k;
      } else if (y < m2) m2 = y;
      this.bMin1[j] = m1;
      this.bArg1[j] = a1;
      this.bMin2[j] = m2;
    }
  }

  /** True when cluster k with zone (lo, hi) conflicts with no other cluster of the index. */
  fits(k: number, lo: number, hi: number): boolean {
    if (lo < hi) {
      // forward (lo, hi): overlaps no other forward zone ...
      let j = Math.max(0, lowerBound(this.fEnd, lo) - 1);
      for (; j < this.fw.length && this.fStart[j] < hi; j++) {
        if (this.fw[j] !== k && this.fEnd[j] > lo) return false;
      }
      // ... and contains no other backward zone [x, y] with lo < x and y < hi
      const s = lowerBound(this.bStart, lo);
      let p = s;
      while (p < this.bStart.length && this.bStart[p] === lo) p++;
      const min = this.bArg1[p] === k ? this.bMin2[p] : this.bMin1[p];
      return !(min < hi);
    }
    // backward [hi, lo]: not inside another forward zone
    const j = lowerBound(this.fStart, hi) - 1;
    return !(j >= 0 && this.fw[j] !== k && lo < this.fEnd[j]);
  }
}

function clusterOps(m: RegisterModel, z: Zones, k: number): Operation[] {
  const out: Operation[] = [];
  if (k !== INITIAL) out.push(m.wOp[k]!);
  if (z.argMin[k] >= 0) out.push(m.reads[z.argMin[k]]);
  if (z.argMax[k] >= 0 && z.argMax[k] !== z.argMin[k]) out.push(m.reads[z.argMax[k]]);
  return out;
}

function clusterName(m: RegisterModel, k: number): string {
  if (k === INITIAL) return 'the initial (absent) value';
  const o = m.wOp[k]!;
  return o.input === null ? `the remove #${o.id}` : `value ${JSON.stringify(o.input)} (write #${o.id})`;
}

const fmt = showTime;

function explainConflict(m: RegisterModel, z: Zones, c: Conflict): { operations: Operation[]; message: string } {
  if (c.kind === 'overlap') {
    const { a, b } = c;
    return {
      operations: [...clusterOps(m, z, a), ...clusterOps(m, z, b)],
      message:
        `${clusterName(m, a)} must hold the register from ${fmt(z.minRet[a])} to ${fmt(z.maxCall[a])} and ` +
        `${clusterName(m, b)} from ${fmt(z.minRet[b])} to ${fmt(z.maxCall[b])}: these spans overlap, so no order of the writes explains what the reads returned`,
    };
  }
  const { outer, inner } = c;
  return {
    operations: [...clusterOps(m, z, outer), ...clusterOps(m, z, inner)],
    message:
      `${clusterName(m, outer)} must hold the register from ${fmt(z.minRet[outer])} to ${fmt(z.maxCall[outer])}, ` +
      `but ${clusterName(m, inner)} ${z.argMin[inner] >= 0 || z.argMax[inner] >= 0 ? 'and its reads ' : ''}` +
      `must take effect between ${fmt(z.maxCall[inner])} and ${fmt(z.minRet[inner])}, inside that span`,
  };
}
