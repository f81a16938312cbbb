import { describe, expect, it } from 'vitest';
import type { Schedule, Variant } from '../../src/register/index.js';
import type { SimOptions } from '../../src/sim/index.js';
import { report, sweep } from './helpers.js';

/** Seeds per variant; `SIM_SEEDS` raises it (the soak command goes much further). */
const SEEDS = Number(process.env.SIM_SEEDS ?? 2000);
const START = Number(process.env.SIM_START ?? 1);

/**
 * Random schedules from every strategy, 3 or 5 replicas, up to t crashed replicas (hanging or
 * failing), crashed clients, background and synchronous GC. Synchronous GC runs with failing (not
 * hanging) crashed replicas: see the wait-freedom test in register-findings.test.ts.
 */
export function sweepOptions(variant: Variant, schedule: Schedule): (seed: number) => SimOptions {
  return (seed) => {
    const gc = seed % 3 === 0 ? 'sync' : 'background';
    return { seed, variant, schedule, gc, ...(gc === 'sync' ? { replicaCrashMode: 'error' as const } : {}) };
  };
}

describe('seed sweep of the correct register', () => {
  for (const variant of ['regular', 'atomic'] as const) {
    for (const schedule of ['classic', 'fast'] as const) {
      it(`${variant}/${schedule}: ${SEEDS} schedules are ${variant === 'atomic' ? 'linearizable' : 'regular'}, wait-free, and leave 2 copies per register after quiescence`, async () => {
        const r = await sweep(SEEDS, START, sweepOptions(variant, schedule));
        expect(r.failed, report(r.failed)).toBeNull();
        expect(r.runs).toBe(SEEDS);
        // the sweep exercised what it claims
        expect(r.clientCrashes).toBeGreaterThan(SEEDS / 10);
        expect(r.replicaCrashes).toBeGreaterThan(SEEDS / 10);
        expect(r.quiescenceChecks).toBeGreaterThan(SEEDS);
      });
    }
  }
});
