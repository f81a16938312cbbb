/**
 * The search: linearizability of a read/write register (initially absent) after Wing & Gong's
 * search with the memoisation of Lowe and of porcupine. It decides every history, in time
 * exponential in the concurrency; register-check.ts uses it where the polynomial checker
 * (zones.ts) cannot decide, and to cross-check it in the tests. Per register, a depth-first search
 * linearizes one pending call at a time, backtracking on a return that cannot be met, and never
 * revisits a (set of linearized operations, register value) pair.
 *
 * Incomplete writes (no return, or failed) may or may not have taken effect: they return at
 * +infinity, so the search may place them anywhere after their call, including after every read.
 * Incomplete or failed reads say nothing and are dropped.
 *
 * The result is three-valued: ok, violation, or unknown when the deadline passed.
 */
import { isComplete, type Operation } from './history.js';

type SearchResult = 'ok' | 'violation' | 'unknown';

interface Entry {
  op: number; // index into ops
  isCall: boolean;
  time: number;
  match: Entry | null; // call -> its return
  prev: Entry | null;
  next: Entry | null;
}

const ABSENT = '\u0000';

/** Checks one register's operations; `deadline` is a Date.now() value. */
export function searchRegister(ops: readonly Operation[], deadline: number): SearchResult {
  const relevant = ops.filter((o) => o.op === 'write' || isComplete(o));
  if (relevant.length === 0) return 'ok';
  const n = relevant.length;
  const entries: Entry[] = [];
  relevant.forEach((o, i) => {
    const call: Entry = { op: i, isCall: true, time: o.call, match: null, prev: null, next: null };
    const ret: Entry = {
      op: i,
      isCall: false,
      time: isComplete(o) ? (o.return as number) : Number.POSITIVE_INFINITY,
      match: null,
      prev: null,
      next: null,
    };
    call.match = ret;
    entries.push(call, ret);
  });
  // by time; at equal times calls first (touching operations are concurrent); then by op for stability
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const head: Entry = { op: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const lift = (e: Entry) => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry) => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  const words = Math.ceil(n / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const key = (bits: Uint32Array, state: string) => `${Array.prototype.join.call(bits, ',')}|${state}`;
  const stack: { entry: Entry; state: string }[] = [];
  let state = ABSENT;
  let entry: Entry | null = head.next;
  let iterations = 0;

  while (head.next !== null) {
    if ((++iterations & 1023) === 0 && Date.now() > deadline) return 'unknown';
    if (entry === null) return 'violation'; // cannot happen: a return entry always ends the scan
    if (entry.isCall) {
      const o = relevant[entry.op];
      let ok: boolean;
      let newState: string;
      if (o.op === 'write') {
        ok = true;
        newState = o.input === null ? ABSENT : `v${o.input}`;
      } else {
        ok = (o.output === null ? ABSENT : `v${o.output}`) === state;
        newState = state;
      }
      if (ok) {
        const w = entry.op >>> 5;
        const bit = 1 << (entry.op & 31);
        linearized[w] |= bit;
        const k = key(linearized, newState);
        if (!cache.has(k)) {
          cache.add(k);
          stack.push({ entry, state });
          state = newState;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[w] &= ~bit;
      }
      entry = entry.next;
    } else {
      // a return whose call was not linearized yet: backtrack
      const top = stack.pop();
      if (!top) return 'violation';
      state = top.state;
      const e = top.entry;
      linearized[e.op >>> 5] &= ~(1 << (e.op & 31));
      unlift(e);
      entry = e.next;
    }
  }
  return 'ok';
}
