/**
 * Regularity checker for the multi-writer regular register (written values unique per register).
 *
 * A history is regular when there is one total order of the writes (the register's timestamp
 * order) such that
 *   1. it is consistent with real time: a write that completed before another began comes first;
 *   2. every read returns the value of a write that did not begin after the read returned, and no
 *      write that completed before the read began comes after that write in the order.
 * So a read returns the last write completed before it began, or a write concurrent with it, and
 * all reads agree on which completed write is "last". Reads of one value may go back in time
 * between concurrent reads (new-old inversion): that is regular, though not linearizable.
 *
 * The register starts absent (an initial write of `null` before everything). A read of `null`
 * maps to the initial value or to a remove; when several removes could explain it, it adds no
 * ordering constraint (condition 2 is still checked for it).
 *
 * Incomplete or failed writes may or may not have taken effect: they are concurrent with every
 * later operation. Incomplete or failed reads are ignored.
 */
import { isComplete, partitionByRegister, type Operation, type Verdict } from './history.js';

interface W {
  op: Operation | null; // null: the initial value
  call: number;
  ret: number; // +Infinity when incomplete
  value: string | null;
}

/** Checks that a history of register operations is regular (MWMR, unique written values). */
export function checkRegular(history: readonly Operation[]): Verdict {
  for (const [register, ops] of partitionByRegister(history)) {
    const v = checkRegister(register, ops);
    if (v) return v;
  }
  return { result: 'ok', model: 'regular', operations: history.length };
}

function violation(register: string, operations: Operation[], message: string): Verdict {
  const uniq = [...new Map(operations.map((o) => [o.id, o])).values()];
  return { result: 'violation', model: 'regular', register, operations: uniq, message };
}

function checkRegister(register: string, ops: readonly Operation[]): Verdict | null {
  const initial: W = { op: null, call: -Infinity, ret: -Infinity, value: null };
  const writes: W[] = [initial];
  const byValue = new Map<string, W>();
  for (const o of ops) {
    if (o.op !== 'write') continue;
    const w: W = { op: o, call: o.call, ret: isComplete(o) ? (o.return as number) : Infinity, value: o.input };
    if (o.input !== null) {
      const dup = byValue.get(o.input);
      if (dup) {
        return violation(register, [dup.op!, o], `value ${JSON.stringify(o.input)} was written twice; the regularity checker needs unique written values`);
      }
      byValue.set(o.input, w);
    }
    writes.push(w);
  }
  const removes = writes.filter((w) => w.value === null);
  const completed = writes.filter((w) => w.op !== null && w.ret !== Infinity).sort((a, b) => a.ret - b.ret);

  // order constraints between writes: index in `writes`
  const index = new Map<W, number>(writes.map((w, i) => [w, i]));
  const readEdges = new Map<string, Operation>(); // "a>b" -> the read that forced a before b

  for (const r of ops) {
    if (r.op !== 'read' || !isComplete(r)) continue;
    const rCall = r.call;
    const rRet = r.return as number;
    const candidates = r.output === null ? removes : byValue.has(r.output) ? [byValue.get(r.output)!] : [];
    if (candidates.length === 0) {
      return violation(register, [r], `read returned ${JSON.stringify(r.output)}, which no write wrote`);
    }
    const valid: W[] = [];
    let firstProblem: { ops: Operation[]; message: string } | null = null;
    for (const w of candidates) {
      if (w.call > rRet) {
        firstProblem ??= {
          ops: [r, w.op!],
          message: `read returned ${JSON.stringify(r.output)} before the write of it began`,
        };
        continue;
      }
      // a write that began after w completed and completed before r began overwrote w
      const over = completed.find((x) => x !== w && x.call > w.ret && x.ret < rCall);
      if (over) {
        firstProblem ??= {
          ops: w.op ? [r, w.op, over.op!] : [r, over.op!],
          message:
            `read returned ${r.output === null ? (w.op ? 'the removed (absent) value' : 'the initial (absent) value') : JSON.stringify(r.output)} ` +
            `although a later write (#${over.op!.id}) had completed before the read began`,
        };
        continue;
      }
      valid.push(w);
    }
    if (valid.length === 0) return violation(register, firstProblem!.ops, firstProblem!.message);
    if (valid.length === 1) {
      const w = valid[0];
      for (const x of completed) {
        if (x.ret >= rCall) break;
        if (x === w) continue;
        const k = `${index.get(x)}>${index.get(w)}`;
        if (!readEdges.has(k)) readEdges.set(k, r);
      }
    }
  }

  // one order of all writes: real-time edges plus the read edges must be acyclic
  const n = writes.length;
  const adj: number[][] = writes.map(() => []);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a !== b && writes[a].ret < writes[b].call) adj[a].push(b);
    }
  }
  for (const k of readEdges.keys()) {
    const [a, b] = k.split('>').map(Number);
    adj[a].push(b);
  }
  const cycle = findCycle(adj);
  if (!cycle) return null;
  const involved: Operation[] = [];
  for (let i = 0; i < cycle.length; i++) {
    const a = cycle[i];
    const b = cycle[(i + 1) % cycle.length];
    if (writes[a].op) involved.push(writes[a].op!);
    const r = readEdges.get(`${a}>${b}`);
    if (r && !(writes[a].ret < writes[b].call)) involved.push(r);
  }
  return violation(
    register,
    involved,
    'no single order of the writes is consistent with real time and with what these reads returned (reads disagree on which completed write is the latest)',
  );
}

/** A shortest-found cycle in a directed graph (node indices), or null. */
function findCycle(adj: number[][]): number[] | null {
  const n = adj.length;
  const color = new Uint8Array(n); // 0 white, 1 on stack, 2 done
  const parent = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    if (color[s] !== 0) continue;
    const stack: { node: number; next: number }[] = [{ node: s, next: 0 }];
    color[s] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      if (top.next < adj[top.node].length) {
        const m = adj[top.node][top.next++];
        if (color[m] === 0) {
          color[m] = 1;
          parent[m] = top.node;
          stack.push({ node: m, next: 0 });
        } else if (color[m] === 1) {
          return shorten(orderCycle(m, top.node, parent), adj);
        }
      } else {
        color[top.node] = 2;
        stack.pop();
      }
    }
  }
  return null;
}

function orderCycle(m: number, last: number, parent: Int32Array): number[] {
  const path: number[] = [];
  for (let x = last; x !== m; x = parent[x]) path.push(x);
  path.push(m);
  return path.reverse(); // m -> ... -> last (and last -> m closes it)
}

/** Shortens a cycle by following chords (edges skipping ahead). */
function shorten(cycle: number[], adj: number[][]): number[] {
  let changed = true;
  let c = cycle;
  while (changed && c.length > 2) {
    changed = false;
    outer: for (let i = 0; i < c.length; i++) {
      const out = new Set(adj[c[i]]);
      for (let skip = c.length - 1; skip >= 2; skip--) {
        const j = (i + skip) % c.length;
        if (out.has(c[j])) {
          // keep c[i] -> c[j] -> ... -> c[i]
          const next: number[] = [];
          for (let k = j; k !== i; k = (k + 1) % c.length) next.push(c[k]);
          next.push(c[i]);
          if (next.length < c.length) {
            c = next;
            changed = true;
            break outer;
          }
        }
      }
    }
  }
  return c;
}
