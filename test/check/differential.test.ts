/**
 * Differential tests: the polynomial checkers against the search (linearizability) and against
 * brute force from the definitions (both models), on thousands of seeded histories: random ones
 * with incomplete and failed operations, removes and repeated values; simulator runs of the correct
 * register and of the five broken variants; bench-like histories with crashes and stale reads.
 * Every verdict must be identical. Seeds: CHECK_SEED (printed on failure).
 */
import { describe, expect, it } from 'vitest';
import {
  checkLinearizable,
  checkRegular,
  formatHistory,
  formatVerdict,
  partitionByRegister,
  type Operation,
} from '../../src/check/index.js';
import { generateHistory } from '../../src/check/generate.js';
import { runSimulation, type SimOptions } from '../../src/sim/index.js';
import { Random } from '../../src/util/random.js';
import { bruteLinearizable, bruteRegular, randomHistory } from './reference.js';
import { MUTANT_ADVERSARIES } from '../support/mutant-adversaries.js';

const SEED = Number(process.env.CHECK_SEED ?? 20260417);
const ok = (b: boolean) => (b ? 'ok' : 'violation');

interface Tally {
  histories: number;
  polynomial: number;
  violations: number;
  regularBrute: number;
}

/** Runs every comparison on one history; returns what was compared. */
function compare(h: Operation[], where: string, t: Tally, opts: { brute: boolean }): void {
  const msg = (extra: string) => `${where} (CHECK_SEED=${SEED})\n${formatHistory(h)}${extra}`;
  const search = checkLinearizable(h, { method: 'search', minimize: false, timeoutMs: 20_000 });
  const poly = checkLinearizable(h, { method: 'polynomial', minimize: false });
  const auto = checkLinearizable(h, { minimize: false, timeoutMs: 20_000 });
  expect(search.result, msg(`\n${formatVerdict(search)}`)).not.toBe('unknown');
  expect(auto.result, msg(`\nsearch: ${formatVerdict(search)}\nauto: ${formatVerdict(auto)}`)).toBe(search.result);
  if (poly.result !== 'unknown') {
    t.polynomial++;
    expect(poly.result, msg(`\nsearch: ${formatVerdict(search)}\npolynomial: ${formatVerdict(poly)}`)).toBe(search.result);
  }
  if (opts.brute) expect(search.result, msg('\nbrute force disagrees with the search')).toBe(ok(bruteLinearizable(h)));
  if (search.result === 'violation') t.violations++;
  // regularity: brute force where the writes per register are few
  const small = [...partitionByRegister(h).values()].every((ops) => ops.filter((o) => o.op === 'write').length <= 10);
  const reg = checkRegular(h, { minimize: false });
  expect(reg.result, msg(`\n${formatVerdict(reg)}`)).not.toBe('unknown');
  if (small) {
    t.regularBrute++;
    expect(reg.result, msg(`\nregular: ${formatVerdict(reg)}`)).toBe(ok(bruteRegular(h)));
  }
  if (search.result === 'ok') expect(reg.result, msg('\nlinearizable but not regular')).toBe('ok');
  t.histories++;
}

const tally = (): Tally => ({ histories: 0, polynomial: 0, violations: 0, regularBrute: 0 });

describe('differential: polynomial checkers vs search and brute force', () => {
  it('random histories: incomplete and failed operations, removes, repeated values', () => {
    const rnd = new Random(SEED);
    const t = tally();
    let unique = 0;
    for (let i = 0; i < 3000; i++) {
      const repeats = i % 5 === 4 ? 0.3 : 0;
      const h = randomHistory(rnd, { size: rnd.int(1, i % 3 === 0 ? 7 : 13), removes: [0, 0.15, 0.5][i % 3], repeats, span: rnd.pick([10, 20, 40]), registers: i % 7 === 0 });
      const before = t.polynomial;
      compare(h, `random history ${i}`, t, { brute: h.length <= 7 });
      if (repeats === 0) {
        unique++;
        // with unique written values the polynomial checker decides every history
        expect(t.polynomial, `random history ${i} (CHECK_SEED=${SEED}) left undecided:\n${formatHistory(h)}`).toBe(before + 1);
      }
    }
    expect(unique).toBeGreaterThan(2000);
    expect(t.violations).toBeGreaterThan(600);
    expect(t.histories - t.violations).toBeGreaterThan(600);
  });

  it('simulator histories: the correct register and the five broken variants', async () => {
    const t = tally();
    const run = async (o: SimOptions, label: string) => {
      const r = await runSimulation({ ...o, checkSpace: false });
      compare(r.history, `${label} seed ${o.seed}`, t, { brute: false });
    };
    // the correct register, default workload and a busier one
    for (let seed = SEED; seed < SEED + 400; seed++) {
      await run({ seed, variant: seed % 2 ? 'atomic' : 'regular', schedule: seed % 4 < 2 ? 'fast' : 'classic' }, 'correct');
    }
    for (let seed = SEED; seed < SEED + 100; seed++) {
      await run({ seed, variant: 'atomic', schedule: seed % 2 ? 'fast' : 'classic', clients: 6, opsPerClient: 4, registers: 1 }, 'correct, 6 clients');
    }
    const correct = t.violations;
    expect(correct, 'the correct register produced a violation').toBe(0);
    for (const [mutant, strategy] of MUTANT_ADVERSARIES) {
      for (let seed = SEED; seed < SEED + 100; seed++) {
        await run({ seed, variant: seed % 3 ? 'atomic' : 'regular', schedule: seed % 2 ? 'fast' : 'classic', mutant, strategy }, `mutant ${mutant}/${strategy}`);
      }
    }
    expect(t.histories).toBe(1000);
    expect(t.polynomial).toBe(1000);
    expect(t.violations).toBeGreaterThan(100);
  });

  it('bench-like histories: many clients, crashes, failed operations, stale reads', () => {
    const t = tally();
    for (let i = 0; i < 400; i++) {
      const h = generateHistory({
        seed: SEED + i,
        clients: 2 + (i % 6),
        operations: 20 + (i % 40),
        registers: 1 + (i % 2),
        removeFraction: [0.05, 0.3][i % 2],
        staleReads: [0, 0.03, 0.1][i % 3],
        crashFraction: 0.2,
        errorFraction: 0.03,
      });
      compare(h, `bench-like history ${i}`, t, { brute: false });
    }
    expect(t.polynomial).toBe(400);
    expect(t.violations).toBeGreaterThan(50);
  });
});
