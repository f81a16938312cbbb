import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  checkLinearizable,
  checkRegular,
  formatHistory,
  formatVerdict,
  normalizeHistory,
  parseHistory,
  type Operation,
} from '../../src/check/index.js';
import { ConfigError } from '../../src/errors.js';
import { Random } from '../../src/util/random.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.jsonl'));

describe('golden histories', () => {
  it('has ok and bad histories for both models', () => {
    const exp = files.map((f) => f.split('.')[1]);
    expect(exp).toContain('ok-ok');
    expect(exp).toContain('violation-ok'); // regular, not linearizable
    expect(exp).toContain('violation-violation');
  });
  for (const f of files) {
    const [lin, reg] = f.split('.')[1].split('-') as ['ok' | 'violation', 'ok' | 'violation'];
    it(`${f}: linearizable=${lin}, regular=${reg}`, () => {
      const h = parseHistory(readFileSync(join(GOLDEN, f), 'utf8'), f);
      const l = checkLinearizable(h);
      const r = checkRegular(h);
      expect(l.result, formatVerdict(l)).toBe(lin);
      expect(r.result, formatVerdict(r)).toBe(reg);
    });
  }
});

describe('violation explanations', () => {
  const load = (name: string) => parseHistory(readFileSync(join(GOLDEN, name), 'utf8'));
  it('an overwritten read names exactly the two writes and the read', () => {
    for (const v of [checkLinearizable(load('overwritten-read.violation-violation.jsonl')), checkRegular(load('overwritten-read.violation-violation.jsonl'))]) {
      expect(v.result).toBe('violation');
      if (v.result !== 'violation') continue;
      expect(v.operations.map((o) => o.id).sort()).toEqual([0, 1, 2]);
      expect(formatVerdict(v)).toMatch(/#2 c3 read\(\) -> "a"/);
    }
  });
  it('the linearizability witness is minimal for a new-old inversion inside a longer history', () => {
    const h = normalizeHistory([
      { client: 'c0', op: 'write', input: 'z', call: 0, return: 1 },
      { client: 'c0', op: 'read', output: 'z', call: 1.5, return: 1.7 },
      { client: 'c1', op: 'write', input: 'a', call: 2, return: 3 },
      { client: 'c1', op: 'write', input: 'b', call: 4, return: 40 },
      { client: 'c2', op: 'read', output: 'b', call: 5, return: 6 },
      { client: 'c3', op: 'read', output: 'a', call: 7, return: 8 },
      { client: 'c4', op: 'read', output: 'b', call: 41, return: 42 },
    ]);
    const v = checkLinearizable(h);
    expect(v.result).toBe('violation');
    if (v.result === 'violation') expect(v.operations.map((o) => o.id).sort()).toEqual([2, 3, 4, 5]);
  });
  it('names the register of the violation', () => {
    const v = checkHistory(load('two-registers.violation-violation.jsonl'), 'linearizable');
    expect(v.result === 'violation' && v.register).toBe('y');
  });
  it('regularity: reads disagreeing on the write order are explained by the writes and both reads', () => {
    const v = checkRegular(load('writes-order-disagree.violation-violation.jsonl'));
    expect(v.result).toBe('violation');
    if (v.result === 'violation') expect(v.operations.map((o) => o.id).sort()).toEqual([0, 1, 2, 3]);
  });
  it('a value written twice is decided, not refused', () => {
    const twice = normalizeHistory([
      { client: 'a', op: 'write', input: 'v', call: 0, return: 1 },
      { client: 'b', op: 'write', input: 'v', call: 2, return: 3 },
      { client: 'c', op: 'read', output: 'v', call: 4, return: 5 },
    ]);
    expect(checkRegular(twice).result).toBe('ok');
    expect(checkLinearizable(twice).result).toBe('ok');
    // the first v was overwritten by u, the second began after the read returned
    const stale = normalizeHistory([
      { client: 'a', op: 'write', input: 'v', call: 0, return: 1 },
      { client: 'b', op: 'write', input: 'u', call: 2, return: 3 },
      { client: 'c', op: 'read', output: 'v', call: 4, return: 5 },
      { client: 'a', op: 'write', input: 'v', call: 6, return: 7 },
    ]);
    for (const v of [checkRegular(stale), checkLinearizable(stale)]) {
      expect(v.result).toBe('violation');
      if (v.result === 'violation') expect(v.operations.map((o) => o.id).sort()).toEqual([0, 1, 2]);
    }
  });
  it('says which algorithm decided', () => {
    const h = load('new-old-inversion.violation-ok.jsonl');
    expect(checkLinearizable(h).decidedBy).toBe('polynomial');
    expect(checkLinearizable(h, { method: 'search' }).decidedBy).toBe('search');
    expect(checkRegular(h).decidedBy).toBe('polynomial');
  });
});

describe('time limit', () => {
  it('returns unknown when the search runs out of time', () => {
    // many concurrent writes and reads that can only be ordered late: a large search space
    const rnd = new Random(7);
    const recs = [];
    for (let i = 0; i < 40; i++) recs.push({ client: `w${i}`, op: 'write' as const, input: `v${i}`, call: 0, return: 1000 });
    for (let i = 0; i < 40; i++) recs.push({ client: `r${i}`, op: 'read' as const, output: `v${rnd.int(0, 39)}`, call: 1 + i, return: 999 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v0', call: 1001, return: 1002 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v1', call: 1003, return: 1004 });
    const v = checkLinearizable(normalizeHistory(recs), { timeoutMs: 1, minimize: false, method: 'search' });
    expect(v.result).toBe('unknown');
    expect(v.decidedBy).toBe('search');
    // the polynomial checker decides the same history at once
    expect(checkLinearizable(normalizeHistory(recs)).result).toBe('violation');
  });
});

describe('parsing', () => {
  it('round-trips through JSON lines', () => {
    const text = readFileSync(join(GOLDEN, 'failed-write.ok-ok.jsonl'), 'utf8');
    const h = parseHistory(text);
    expect(parseHistory(formatHistory(h))).toEqual(h);
  });
  it('names the line and field of bad input', () => {
    expect(() => parseHistory('{"client":"a","op":"write","input":"v","call":0,"return":1}\n{"client":"a","op":"put"}')).toThrow(
      /history:2\.op: must be "write" or "read"/,
    );
    expect(() => parseHistory('not json')).toThrow(ConfigError);
    expect(() => parseHistory('{"client":"a","op":"read","output":"v","call":5,"return":1}')).toThrow(/returns \(1\) before/);
  });
});

/** Brute force over all orders, for cross-checking on small histories. */
function bruteLinearizable(h: Operation[]): boolean {
  const byReg = new Map<string, Operation[]>();
  for (const o of h) if (o.op === 'write' || (o.return !== null && o.error === undefined)) (byReg.get(o.register) ?? byReg.set(o.register, []).get(o.register)!).push(o);
  const end = (o: Operation) => (o.return === null || o.error !== undefined ? Infinity : o.return);
  for (const ops of byReg.values()) {
    const used = new Array(ops.length).fill(false);
    const rec = (depth: number, state: string | null): boolean => {
      if (depth === ops.length) return true;
      for (let i = 0; i < ops.length; i++) {
        if (used[i]) continue;
        // every unused op that must precede ops[i] blocks it
        if (ops.some((p, j) => !used[j] && j !== i && end(p) < ops[i].call)) continue;
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

function randomHistory(rnd: Random, size: number): Operation[] {
  const recs = [];
  let nextValue = 0;
  const values: (string | null)[] = [null];
  for (let i = 0; i < size; i++) {
    const call = rnd.int(0, 20);
    const ret = rnd.chance(0.1) ? null : call + rnd.int(0, 8);
    if (rnd.chance(0.45)) {
      const v = rnd.chance(0.1) ? null : `v${nextValue++}`;
      values.push(v);
      recs.push({ client: `c${i}`, op: 'write' as const, input: v, call, return: ret, register: rnd.chance(0.2) ? 'y' : 'x' });
    } else {
      recs.push({ client: `c${i}`, op: 'read' as const, output: null as string | null, call, return: ret, register: rnd.chance(0.2) ? 'y' : 'x' });
    }
  }
  for (const r of recs) if (r.op === 'read') r.output = rnd.pick(values);
  return normalizeHistory(recs);
}

describe('randomised cross-checks', () => {
  it('agrees with brute force, and every linearizable history is regular', () => {
    const seed = Number(process.env.CHECK_SEED ?? 20260401);
    const rnd = new Random(seed);
    let lin = 0;
    let bad = 0;
    for (let i = 0; i < 3000; i++) {
      const h = randomHistory(rnd, rnd.int(1, 7));
      const v = checkLinearizable(h);
      const expected = bruteLinearizable(h) ? 'ok' : 'violation';
      const msg = `seed ${seed} history ${i}:\n${formatHistory(h)}\n${formatVerdict(v)}`;
      expect(v.result, msg).toBe(expected);
      if (v.result === 'ok') {
        lin++;
        expect(checkRegular(h).result, msg).toBe('ok');
      } else if (v.result === 'violation') {
        bad++;
        // the witness is itself a non-linearizable history
        expect(bruteLinearizable(v.operations.map((o, id) => ({ ...o, id }))), msg).toBe(false);
      }
    }
    // both outcomes are exercised
    expect(lin).toBeGreaterThan(100);
    expect(bad).toBeGreaterThan(100);
  });
});
