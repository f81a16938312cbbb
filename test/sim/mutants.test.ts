import { describe, expect, it } from 'vitest';
import { MUTANTS, type SimOptions } from '../../src/sim/index.js';
import { report, sweep } from './helpers.js';

/**
 * Each broken variant of SPEC §6 must be caught within a bounded number of seeds by a targeted
 * adversary (scripted scenario or strategy), and the same adversary must pass the correct register.
 */
const CASES: { mutant: string; strategy: string; variants: ('regular' | 'atomic')[]; schedules: ('classic' | 'fast')[]; within: number }[] = [
  { mutant: 'gc-without-ack', strategy: 'gc-ack', variants: ['regular', 'atomic'], schedules: ['classic', 'fast'], within: 10 },
  { mutant: 'quorum-minus-one', strategy: 'gc-early', variants: ['regular', 'atomic'], schedules: ['classic', 'fast'], within: 200 },
  { mutant: 'no-write-back', strategy: 'inversion', variants: ['atomic'], schedules: ['classic', 'fast'], within: 10 },
  { mutant: 'stale-eternal', strategy: 'stale-eternal', variants: ['regular', 'atomic'], schedules: ['fast'], within: 10 },
  { mutant: 'timestamp-not-above', strategy: 'uniform', variants: ['regular', 'atomic'], schedules: ['classic', 'fast'], within: 100 },
];

describe('mutation tests: every broken variant is caught', () => {
  it('covers all five mutants', () => {
    expect(new Set(CASES.map((c) => c.mutant))).toEqual(new Set(MUTANTS.map((m) => m.name)));
  });
  for (const c of CASES) {
    for (const variant of c.variants) {
      for (const schedule of c.schedules) {
        const opts = (seed: number): SimOptions => ({ seed, variant, schedule, strategy: c.strategy, gc: 'background' });
        it(`${c.mutant} (${variant}/${schedule}) is caught by ${c.strategy} within ${c.within} seeds`, async () => {
          const r = await sweep(c.within, 1, (seed) => ({ ...opts(seed), mutant: c.mutant }));
          expect(r.failed, `${c.mutant} survived ${c.within} seeds of ${c.strategy}`).not.toBeNull();
          // caught by the checker, not by a side effect
          expect(r.failed!.verdict.result, report(r.failed)).toBe('violation');
        });
        it(`the correct register passes the same ${c.strategy} schedules (${variant}/${schedule})`, async () => {
          const r = await sweep(c.within, 1, opts);
          expect(r.failed, report(r.failed)).toBeNull();
        });
      }
    }
  }
});
