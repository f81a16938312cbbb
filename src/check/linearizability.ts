/**
 * Linearizability checker for a read/write register (initially absent), after Wing & Gong's
 * search with the memoisation of Lowe and of porcupine: operations are split per register
 * (a history is linearizable iff each register's sub-history is), then a depth-first search
 * linearizes one pending call at a time, backtracking on a return that cannot be met, and never
 * revisits a (set of linearized operations, register value) pair.
 *
 * Incomplete writes (no return, or failed) may or may not have taken effect: they return at
 * +infinity, so the search may place them anywhere after their call, including after every read.
 * Incomplete or failed reads say nothing and are dropped.
 *
 * The verdict is three-valued: ok, violation (with a minimal set of operations that admits no
 * linearization), or unknown when the time limit ran out.
 */
import { isComplete, partitionByRegister, type Operation, type Verdict } from './history.js';

export interface CheckOptions {
  /**
   * Time limit for the whole check, in milliseconds; past it the verdict is `unknown`.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Shrink a violation to a minimal set of operations (costs extra searches).
   * @default true
   */
  minimize?: boolean;
}

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

/** Checks that a history of register operations is linearizable. */
export function checkLinearizable(history: readonly Operation[], opts: CheckOptions = {}): Verdict {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let unknown: string[] = [];
  for (const [register, ops] of partitionByRegister(history)) {
    const written = new Set<string>();
    for (const o of ops) if (o.op === 'write' && o.input !== null) written.add(o.input);
    const phantom = ops.find((o) => o.op === 'read' && isComplete(o) && o.output !== null && !written.has(o.output));
    if (phantom) {
      return {
        result: 'violation',
        model: 'linearizable',
        register,
        operations: [phantom],
        message: `read returned ${JSON.stringify(phantom.output)}, which no write wrote`,
      };
    }
    const r = searchRegister(ops, deadline);
    if (r === 'unknown') {
      unknown.push(register);
      continue;
    }
    if (r === 'violation') {
      const minimal = opts.minimize === false ? relevantOps(ops) : minimize(ops, started + timeoutMs * 2);
      return {
        result: 'violation',
        model: 'linearizable',
        register,
        operations: minimal,
        message: `these ${minimal.length} operations admit no linearization (no order consistent with real time in which every read returns the latest write)`,
      };
    }
  }
  if (unknown.length) {
    return {
      result: 'unknown',
      model: 'linearizable',
      message: `time limit of ${timeoutMs} ms reached while searching register(s) ${unknown.map((r) => JSON.stringify(r)).join(', ')}; raise --timeout`,
    };
  }
  unknown = [];
  return { result: 'ok', model: 'linearizable', operations: history.length };
}

function relevantOps(ops: readonly Operation[]): Operation[] {
  return ops.filter((o) => o.op === 'write' || isComplete(o));
}

/**
 * Greedily drops operations while the rest still admits no linearization. Only drops a write when no
 * remaining read returned its value (a sub-history closed that way is linearizable whenever the whole
 * is, so the shrunk set is a real witness).
 */
function minimize(ops: readonly Operation[], deadline: number): Operation[] {
  let current = relevantOps(ops);
  // try dropping later operations first: violations usually sit at the start of a conflict
  for (let i = current.length - 1; i >= 0; i--) {
    if (Date.now() > deadline) break;
    const o = current[i];
    if (o.op === 'write') {
      const v = o.input;
      const observed = current.some((r) => r.op === 'read' && isComplete(r) && r.output === v);
      if (observed) continue;
    }
    const candidate = current.slice(0, i).concat(current.slice(i + 1));
    if (searchRegister(candidate, deadline) === 'violation') current = candidate;
  }
  return current;
}
