/**
 * Regularity checker for the multi-writer regular register.
 *
 * A history is regular when there is one total order of the writes (the register's timestamp
 * order) such that
 *   1. it is consistent with real time: a write that completed before another began comes first;
 *   2. every read returns the value of a write S that did not begin after the read returned, and
 *      every write that completed before the read began (other than S) comes before S.
 * So a read returns the last write completed before it began, or a write concurrent with it, and
 * all reads agree on which completed write is "last". Reads of one value may go back in time
 * between concurrent reads (new-old inversion): that is regular, though not linearizable.
 *
 * The register starts absent (an initial write of absent before everything); a read of absent may
 * return the initial value or any remove. Incomplete or failed writes may or may not have taken
 * effect: they return at +infinity. Incomplete or failed reads are ignored.
 *
 * Polynomial decision. Map each read to its source S (sources.ts lists the candidates). Both
 * conditions then say "x comes before S" for every completed write x with x.return < theta(S),
 * where theta(S) is the latest of S.call and the calls of S's reads. Such constraints admit an
 * order iff no two completed writes x != w need each other first: x.return < theta(w) and
 * w.return < theta(x). (In a shortest cycle of length >= 3 the missing chords would give
 * w[i+1].return < w[i].return all around.) Writes that never completed only receive constraints,
 * so they never close a cycle. Sorting by return and keeping prefix maxima of theta finds such a
 * pair in O(n log n).
 *
 * A read with several candidates (absent, or a value written twice) is given the candidate that
 * returned last (one that never returned first): its theta raises put the fewest writes after it.
 * When a conflict depends on such a choice, a search over the choices decides (`search`).
 */
import type { Operation } from './history.js';
import { AMBIGUOUS, INITIAL, NO_SOURCE, explainNoSource, type RegisterModel } from './sources.js';

const POS = Number.POSITIVE_INFINITY;

export type RegularOutcome =
  | { result: 'ok'; decidedBy: 'polynomial' | 'search' }
  | { result: 'violation'; decidedBy: 'polynomial' | 'search'; operations: Operation[]; message: string; whole?: boolean }
  | { result: 'unknown'; decidedBy: 'search'; message: string };

interface Theta {
  theta: Float64Array;
  /** Read that set theta (-1: the write's own call). */
  arg: Int32Array;
}

/** Decides regularity of one register; `deadline` bounds the search over ambiguous reads. */
export function regularCheck(m: RegisterModel, deadline: number): RegularOutcome {
  const nR = m.reads.length;
  for (let i = 0; i < nR; i++) {
    if (m.source[i] === NO_SOURCE) return { result: 'violation', decidedBy: 'polynomial', ...explainNoSource(m, i) };
  }
  const forced = thetaOf(m);
  for (let i = 0; i < nR; i++) if (m.source[i] !== AMBIGUOUS) raise(m, forced, m.source[i], i);
  const cyc = findPair(m, forced.theta);
  if (cyc) return { result: 'violation', decidedBy: 'polynomial', ...explainPair(m, forced, cyc[0], cyc[1]) };
  if (m.candidates.size === 0) return { result: 'ok', decidedBy: 'polynomial' };

  // ambiguous reads: the candidate that returned last
  const t: Theta = { theta: forced.theta.slice(), arg: forced.arg.slice() };
  for (const [i, cands] of m.candidates) {
    let best = cands[0];
    for (const k of cands) if (m.wRet[k] > m.wRet[best] || (m.wRet[k] === m.wRet[best] && m.wCall[k] > m.wCall[best])) best = k;
    raise(m, t, best, i);
  }
  if (!findPair(m, t.theta)) return { result: 'ok', decidedBy: 'polynomial' };
  return searchChoices(m, forced, deadline);
}

function thetaOf(m: RegisterModel): Theta {
  return { theta: Float64Array.from(m.wCall), arg: new Int32Array(m.wOp.length).fill(-1) };
}

function raise(m: RegisterModel, t: Theta, k: number, i: number): void {
  if (m.rCall[i] > t.theta[k]) {
    t.theta[k] = m.rCall[i];
    t.arg[k] = i;
  }
}

/** Two completed writes that must each come before the other, or null. */
function findPair(m: RegisterModel, theta: Float64Array): [number, number] | null {
  const nodes: number[] = [];
  for (let k = 0; k < m.wOp.length; k++) if (m.wRet[k] !== POS) nodes.push(k);
  nodes.sort((a, b) => m.wRet[a] - m.wRet[b] || a - b);
  const n = nodes.length;
  const rets = Float64Array.from(nodes, (k) => m.wRet[k]);
  // prefix maxima of theta, best two from different writes
  const max1 = new Float64Array(n);
  const arg1 = new Int32Array(n);
  const max2 = new Float64Array(n);
  let a1 = Number.NEGATIVE_INFINITY;
  let g1 = -1;
  let a2 = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const th = theta[nodes[j]];
    if (th > a1) {
      a2 = a1;
      a1 = th;
      g1 = nodes[j];
    } else if (th > a2) a2 = th;
    max1[j] = a1;
    arg1[j] = g1;
    max2[j] = a2;
  }
  for (let j = 0; j < n; j++) {
    const w = nodes[j];
    // writes returning strictly before theta(w)
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rets[mid] < theta[w]) lo = mid + 1;
      else hi = mid;
    }
    const p = lo - 1;
    if (p < 0) continue;
    const best = arg1[p] === w ? max2[p] : max1[p];
    if (best > m.wRet[w]) {
      // find the partner
      for (let q = 0; q <= p; q++) {
        const x = nodes[q];
        if (x !== w && theta[x] > m.wRet[w]) return [x, w];
      }
    }
  }
  return null;
}

function reasonOps(m: RegisterModel, t: Theta, before: number, after: number): Operation[] {
  // `before` must precede `after`: by real time, or by the read of `after` that set theta
  if (m.wRet[before] < m.wCall[after]) return [];
  const i = t.arg[after];
  return i >= 0 ? [m.reads[i]] : [];
}

function name(m: RegisterModel, k: number): string {
  if (k === INITIAL) return 'the initial (absent) value';
  const o = m.wOp[k]!;
  return o.input === null ? `remove #${o.id}` : `write #${o.id} (${JSON.stringify(o.input)})`;
}

function explainPair(m: RegisterModel, t: Theta, x: number, w: number): { operations: Operation[]; message: string } {
  const ops: Operation[] = [];
  if (x !== INITIAL) ops.push(m.wOp[x]!);
  if (w !== INITIAL) ops.push(m.wOp[w]!);
  ops.push(...reasonOps(m, t, x, w), ...reasonOps(m, t, w, x));
  return {
    operations: ops,
    message:
      `${name(m, x)} must come before ${name(m, w)} and after it: no single order of the writes is consistent with real time ` +
      'and with what these reads returned (reads disagree on which completed write is the latest)',
  };
}

/** Depth-first search over the sources of ambiguous reads, with the forced constraints already acyclic. */
function searchChoices(m: RegisterModel, forced: Theta, deadline: number): RegularOutcome {
  const reads = [...m.candidates.keys()].sort((a, b) => m.candidates.get(a)!.length - m.candidates.get(b)!.length || a - b);
  const theta = forced.theta.slice();
  const completed: number[] = [];
  for (let k = 0; k < m.wOp.length; k++) if (m.wRet[k] !== POS) completed.push(k);
  let steps = 0;
  let timedOut = false;
  const conflictsAt = (k: number): boolean => {
    if (m.wRet[k] === POS) return false;
    for (const x of completed) if (x !== k && m.wRet[x] < theta[k] && m.wRet[k] < theta[x]) return true;
    return false;
  };
  const dfs = (d: number): boolean => {
    if (d === reads.length) return true;
    if ((++steps & 255) === 0 && Date.now() > deadline) {
      timedOut = true;
      return false;
    }
    const i = reads[d];
    const cands = [...m.candidates.get(i)!].sort((a, b) => m.wRet[b] - m.wRet[a] || m.wCall[b] - m.wCall[a]);
    for (const k of cands) {
      const saved = theta[k];
      if (m.rCall[i] > saved) theta[k] = m.rCall[i];
      if (!conflictsAt(k) && dfs(d + 1)) return true;
      theta[k] = saved;
      if (timedOut) return false;
    }
    return false;
  };
  if (dfs(0)) return { result: 'ok', decidedBy: 'search' };
  if (timedOut) return { result: 'unknown', decidedBy: 'search', message: 'time limit reached while searching the sources of ambiguous reads' };
  if ([...m.truncated].length > 0) {
    return { result: 'unknown', decidedBy: 'search', message: `a read has more than ${m.candidates.get([...m.truncated][0])!.length} candidate writes` };
  }
  return {
    result: 'violation',
    decidedBy: 'search',
    whole: true,
    operations: m.ops,
    message: 'no choice of the writes that reads of absent (or of a value written twice) returned admits one order of the writes consistent with real time and with what the reads returned',
  };
}
