/**
 * Reference checkers for small histories, written from the definitions and nothing else, and the
 * random history generator the checker tests share.
 */
import { normalizeHistory, partitionByRegister, type Operation } from '../../src/check/index.js';
import { Random } from '../../src/util/random.js';

const done = (o: Operation) => o.return !== null && o.error === undefined;
const end = (o: Operation) => (done(o) ? (o.return as number) : Infinity);

/** Linearizability by trying every order (incomplete writes may be left out, incomplete reads are). */
export function bruteLinearizable(h: readonly Operation[]): boolean {
  for (const all of partitionByRegister(h).values()) {
    const ops = all.filter((o) => o.op === 'write' || done(o));
    const used = new Array(ops.length).fill(false);
    const rec = (depth: number, state: string | null): boolean => {
      // every remaining operation that completed must still be placed; incomplete writes may be dropped
      if (ops.every((o, i) => used[i] || !done(o))) return true;
      for (let i = 0; i < ops.length; i++) {
        if (used[i]) continue;
        // an operation that returned before ops[i] was called must come first
        if (ops.some((p, j) => !used[j] && j !== i && done(p) && end(p) < ops[i].call)) continue;
        const o = ops[i];
        if (o.op === 'read' && o.output !== state) continue;
        used[i] = true;
        const ok = rec(depth + 1, o.op === 'write' ? o.input : state);
        used[i] = false;
        if (ok) return true;
      }
      return false;
    };
    if (!rec(0, null)) return false;
  }
  return true;
}

/**
 * Regularity from its definition: some order of all writes (the initial absent value first),
 * consistent with real time, such that every completed read returns the value of a write S that
 * did not begin after the read returned and after which (in the order) comes no write that
 * completed before the read began. Depth-first over orders, memoised on (placed, satisfied).
 */
export function bruteRegular(h: readonly Operation[]): boolean {
  for (const all of partitionByRegister(h).values()) {
    const writes = all.filter((o) => o.op === 'write');
    const reads = all.filter((o) => o.op === 'read' && done(o));
    const n = writes.length;
    // reads explained by the initial value right away: no completed write before them
    const initiallyOk = reads.map((r) => r.output === null && !writes.some((x) => done(x) && end(x) < r.call));
    const failed = new Set<string>();
    const rec = (placed: number, satisfied: boolean[]): boolean => {
      if (placed === (1 << n) - 1) return satisfied.every(Boolean);
      const key = `${placed}|${satisfied.map(Number).join('')}`;
      if (failed.has(key)) return false;
      for (let i = 0; i < n; i++) {
        if (placed & (1 << i)) continue;
        const w = writes[i];
        if (writes.some((p, j) => !(placed & (1 << j)) && j !== i && done(p) && end(p) < w.call)) continue;
        const next = satisfied.map((s, k) => {
          if (s) return true;
          const r = reads[k];
          if (r.output !== w.input || w.call > (r.return as number)) return false;
          // every write completed before r began is already placed (or is w)
          return writes.every((x, j) => j === i || !done(x) || end(x) >= r.call || (placed & (1 << j)) !== 0);
        });
        if (rec(placed | (1 << i), next)) return true;
      }
      failed.add(key);
      return false;
    };
    if (!rec(0, initiallyOk)) return false;
  }
  return true;
}

export interface RandomHistoryOptions {
  size: number;
  /** Fraction of writes that are removes. */
  removes?: number;
  /** Fraction of writes that repeat an earlier value. */
  repeats?: number;
  /** Calls are drawn in [0, span]. */
  span?: number;
  /** Two registers instead of one. */
  registers?: boolean;
}

/** A random history: overlapping operations, incomplete and failed ones, reads of recent or random values. */
export function randomHistory(rnd: Random, o: RandomHistoryOptions): Operation[] {
  const recs = [];
  let nextValue = 0;
  const values: (string | null)[] = [null];
  const span = o.span ?? 20;
  for (let i = 0; i < o.size; i++) {
    const call = rnd.int(0, span);
    const ret = rnd.chance(0.1) ? null : call + rnd.int(0, 8);
    const error = ret !== null && rnd.chance(0.04) ? 'Unavailable' : undefined;
    const register = o.registers && rnd.chance(0.3) ? 'y' : 'x';
    if (rnd.chance(0.45)) {
      const written = values.filter((x) => x !== null);
      const v = rnd.chance(o.removes ?? 0.1) ? null : written.length > 0 && rnd.chance(o.repeats ?? 0) ? rnd.pick(written) : `v${nextValue++}`;
      values.push(v);
      recs.push({ client: `c${i}`, op: 'write' as const, input: v, call, return: ret, register, ...(error ? { error } : {}) });
    } else {
      recs.push({ client: `c${i}`, op: 'read' as const, output: null as string | null, call, return: ret, register, ...(error ? { error } : {}) });
    }
  }
  for (const r of recs) {
    if (r.op !== 'read') continue;
    // mostly one of the latest values (plausible histories), sometimes any
    r.output = rnd.chance(0.6) ? values[Math.max(0, values.length - 1 - rnd.int(0, 2))] : rnd.pick(values);
  }
  return normalizeHistory(recs);
}
