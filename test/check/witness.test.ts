/**
 * Every witness is minimal by fixpoint and is a real witness:
 *   - it violates the model on its own;
 *   - removing any one of its operations (a write with the reads that could have returned its value,
 *     or every read of its value when no other write of that value is left) leaves a history that
 *     satisfies the model;
 *   - every read in it keeps every write of the history it may have returned, so its violation is
 *     the history's.
 * Checked on violations from random histories, the broken variants of the simulator, bench-like
 * histories, for both models. Seeds: CHECK_SEED.
 */
import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  formatHistory,
  formatVerdict,
  type CheckModel,
  type Operation,
  type Verdict,
} from '../../src/check/index.js';
import { generateHistory } from '../../src/check/generate.js';
import { runSimulation } from '../../src/sim/index.js';
import { Random } from '../../src/util/random.js';
import { bruteLinearizable, bruteRegular, randomHistory } from './reference.js';
import { MUTANT_ADVERSARIES } from '../support/mutant-adversaries.js';

const SEED = Number(process.env.CHECK_SEED ?? 20260417);
const done = (o: Operation) => o.return !== null && o.error === undefined;
const end = (o: Operation) => (done(o) ? (o.return as number) : Infinity);

/** Could write w be the source of read r among `ops`? (began before r returned, not overwritten before r began) */
function mayReturn(ops: readonly Operation[], w: Operation, r: Operation): boolean {
  if (w.input !== r.output || w.call > (r.return as number)) return false;
  return !ops.some((y) => y.op === 'write' && done(y) && y.call > end(w) && end(y) < r.call);
}

/** The operations removed with `o`. */
function closure(ops: readonly Operation[], o: Operation): Set<number> {
  const out = new Set([o.id]);
  if (o.op === 'read') return out;
  const others = ops.some((x) => x.op === 'write' && x.id !== o.id && x.input === o.input);
  for (const r of ops) {
    if (r.op !== 'read' || !done(r) || r.output !== o.input) continue;
    if ((o.input !== null && !others) || mayReturn(ops, o, r)) out.add(r.id);
  }
  return out;
}

const relabel = (ops: readonly Operation[]) => ops.map((o) => ({ ...o }));

function holds(model: CheckModel, ops: Operation[]): boolean {
  return model === 'linearizable' ? bruteLinearizable(ops) : bruteRegular(ops);
}

function checkWitness(h: Operation[], model: CheckModel, v: Verdict, where: string): void {
  const msg = (s: string) => `${where} (CHECK_SEED=${SEED}): ${s}\n${formatVerdict(v)}\nhistory:\n${formatHistory(h)}`;
  expect(v.result, msg('expected a violation')).toBe('violation');
  if (v.result !== 'violation') return;
  const w = relabel(v.operations);
  expect(v.minimal, msg('not marked minimal')).toBe(true);
  expect(w.length, msg('empty witness')).toBeGreaterThan(0);
  expect(holds(model, w), msg('the witness does not violate on its own')).toBe(false);
  for (const o of w) {
    const drop = closure(w, o);
    if (drop.size === w.length) continue;
    const rest = w.filter((x) => !drop.has(x.id));
    expect(holds(model, rest), msg(`removing #${o.id} still violates: not minimal`)).toBe(true);
  }
  // a real witness: every read keeps every write of the history it may have returned
  const reg = h.filter((o) => o.register === v.register);
  const ids = new Set(w.map((o) => o.id));
  for (const r of w) {
    if (r.op !== 'read') continue;
    for (const x of reg) {
      if (x.op === 'write' && mayReturn(reg, x, r)) expect(ids.has(x.id), msg(`read #${r.id} lost its possible source #${x.id}`)).toBe(true);
    }
  }
}

describe('witnesses are minimal by fixpoint', () => {
  it('random histories, both models', () => {
    const rnd = new Random(SEED);
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const h = randomHistory(rnd, { size: rnd.int(3, 12), removes: [0, 0.2, 0.5][i % 3], repeats: i % 4 === 3 ? 0.3 : 0, span: 20, registers: i % 5 === 0 });
      for (const model of ['linearizable', 'regular'] as const) {
        const v = checkHistory(h, model);
        if (v.result !== 'violation') continue;
        checkWitness(h, model, v, `random history ${i} (${model})`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(800);
  });

  it('violations of the broken variants in the simulator', async () => {
    let checked = 0;
    for (const [mutant, strategy] of MUTANT_ADVERSARIES) {
      for (let seed = SEED; seed < SEED + 60; seed++) {
        const variant = seed % 3 ? 'atomic' : 'regular';
        const r = await runSimulation({ seed, variant, schedule: seed % 2 ? 'fast' : 'classic', mutant, strategy, checkSpace: false });
        for (const model of ['linearizable', 'regular'] as const) {
          const v = checkHistory(r.history, model);
          if (v.result !== 'violation') continue;
          checkWitness(r.history, model, v, `mutant ${mutant} seed ${seed} (${model})`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
  });

  it('bench-like histories with stale reads', () => {
    let checked = 0;
    for (let i = 0; i < 150; i++) {
      const h = generateHistory({ seed: SEED + i, clients: 4 + (i % 8), operations: 200, removeFraction: [0.05, 0.3][i % 2], staleReads: 0.05, crashFraction: 0.2, errorFraction: 0.02 });
      for (const model of ['linearizable', 'regular'] as const) {
        const v = checkHistory(h, model);
        if (v.result !== 'violation') continue;
        checkWitness(h, model, v, `bench-like history ${i} (${model})`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('a stale read deep in a long history yields the three operations that show it', () => {
    // 40 sequential writes, each read back; then one read returns the value before last
    const recs = [];
    let t = 0;
    for (let i = 0; i < 40; i++) {
      recs.push({ client: 'w', op: 'write' as const, register: 'k', input: `v${i}`, call: t, return: t + 1 });
      recs.push({ client: 'r', op: 'read' as const, register: 'k', output: `v${i}`, call: t + 2, return: t + 3 });
      t += 4;
    }
    recs.push({ client: 'r', op: 'read' as const, register: 'k', output: 'v38', call: t, return: t + 1 });
    const h = recs.map((r, id) => ({ id, input: null, output: null, ...r }));
    for (const model of ['linearizable', 'regular'] as const) {
      const v = checkHistory(h, model);
      checkWitness(h, model, v, model);
      // write v38, write v39 (completed before the read), and the stale read
      if (v.result === 'violation') expect(v.operations.map((o) => o.id)).toEqual([76, 78, 80]);
    }
  });
});
