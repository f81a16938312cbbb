/**
 * Shrinking a violation to a minimal witness, by fixpoint.
 *
 * A witness is a set of operations of one register that violates the model on its own and whose
 * violation implies the history's: every read in it keeps every write it may have returned
 * (its candidate sources, see sources.ts). Removing one operation from a witness therefore
 * removes, with a write, the reads that could have returned its value (and, for a value written
 * only once, every read of it): without it they could not be explained, and keeping them would
 * turn a real write into a phantom. This is `removalClosure`.
 *
 * `minimizeWitness` removes chunks first (halves, quarters, ... as in delta debugging) while the
 * rest still violates, then single operations, and repeats passes until no single removal keeps
 * a violation: the result is minimal by fixpoint. Every check runs under the caller's deadline; a
 * result cut short by it (or by an undecided check) is reported as not minimal.
 */
import { isComplete, type Operation } from './history.js';

/** Does this set of one register's operations violate the model? 'unknown' when it could not say in time. */
export type Violates = (ops: Operation[]) => boolean | 'unknown';

function retOf(o: Operation): number {
  return isComplete(o) ? (o.return as number) : Number.POSITIVE_INFINITY;
}

/**
 * The operations that go with `o` when it is removed from `ops` (ids): `o` itself, and for a write,
 * the reads of its value that it may have been the source of, or that no other write of the value
 * left in `ops` could explain.
 */
export function removalClosure(ops: readonly Operation[], o: Operation): Set<number> {
  const out = new Set<number>([o.id]);
  if (o.op !== 'write') return out;
  const v = o.input;
  const otherWriter = v !== null && ops.some((x) => x.op === 'write' && x.id !== o.id && x.input === v);
  const completedWrites = ops.filter((x) => x.op === 'write' && isComplete(x));
  for (const r of ops) {
    if (r.op !== 'read' || !isComplete(r) || r.output !== v) continue;
    if (v !== null && !otherWriter) {
      out.add(r.id);
      continue;
    }
    const rCall = r.call;
    const rRet = r.return as number;
    if (o.call > rRet) continue;
    let mu = Number.NEGATIVE_INFINITY;
    for (const y of completedWrites) if ((y.return as number) < rCall && y.call > mu) mu = y.call;
    if (retOf(o) >= mu) out.add(r.id);
  }
  return out;
}

export interface Minimized {
  operations: Operation[];
  minimal: boolean;
}

/** Shrinks a violating witness (see the module comment); `deadline` is a Date.now() value. */
export function minimizeWitness(start: readonly Operation[], violates: Violates, deadline: number): Minimized {
  let cur = dedupe(start);
  let undecided = false;
  const tryDrop = (drop: Set<number>): boolean => {
    if (drop.size === 0 || drop.size >= cur.length) return false;
    const candidate = cur.filter((x) => !drop.has(x.id));
    const v = violates(candidate);
    if (v === 'unknown') {
      undecided = true;
      return false;
    }
    if (v) cur = candidate;
    return v;
  };

  // chunks first: cheap on large witnesses (those the search found)
  let chunks = 2;
  while (cur.length > 8 && chunks < cur.length) {
    if (Date.now() > deadline) return { operations: cur, minimal: false };
    const size = Math.ceil(cur.length / chunks);
    let dropped = false;
    for (let from = 0; from < cur.length; from += size) {
      const drop = new Set<number>();
      for (const o of cur.slice(from, from + size)) for (const id of removalClosure(cur, o)) drop.add(id);
      if (tryDrop(drop)) {
        dropped = true;
        break;
      }
    }
    if (dropped) chunks = Math.max(2, chunks - 1);
    else chunks *= 2;
  }

  // then single operations, until a whole pass removes nothing (and every check was decided)
  for (;;) {
    let changed = false;
    undecided = false;
    for (let i = cur.length - 1; i >= 0; i--) {
      if (Date.now() > deadline) return { operations: cur, minimal: false };
      if (i >= cur.length) continue;
      if (tryDrop(removalClosure(cur, cur[i]))) changed = true;
    }
    if (!changed) break;
  }
  return { operations: cur, minimal: !undecided };
}

function dedupe(ops: readonly Operation[]): Operation[] {
  return [...new Map(ops.map((o) => [o.id, o])).values()].sort((a, b) => a.id - b.id);
}
