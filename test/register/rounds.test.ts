/**
 * Sequential round trips per operation: every replica call is delayed by a fixed d, so an operation's
 * latency divided by d is its round count. The median of several operations absorbs timer noise.
 */
import { describe, expect, it } from 'vitest';
import { compose } from '../../src/layers/compose.js';
import { latency } from '../../src/layers/latency.js';
import { createRobustStore, type RobustStore } from '../../src/register/index.js';
import { bytes, memories } from './helpers.js';

const D = 50;
const REPS = 7;

function delayed(n: number) {
  return memories(n).map((m, i) => compose(m, latency({ delay: D, seed: i + 1 })));
}

async function medianRatio(store: RobustStore, op: (i: number) => Promise<unknown>): Promise<number> {
  const ratios: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await store.settled();
    const t0 = performance.now();
    await op(i);
    ratios.push((performance.now() - t0) / D);
  }
  ratios.sort((a, b) => a - b);
  return ratios[Math.floor(REPS / 2)] as number;
}

const cases = [
  { variant: 'regular', schedule: 'fast', write: 2, read: 1 },
  { variant: 'atomic', schedule: 'fast', write: 2, read: 1 },
  { variant: 'regular', schedule: 'classic', write: 3, read: 2 },
  { variant: 'atomic', schedule: 'classic', write: 3, read: 3 },
] as const;

describe.each(cases)('rounds $variant/$schedule', ({ variant, schedule, write, read }) => {
  it(`write = ${write} rounds, read = ${read} rounds (latency / d within 10%)`, async () => {
    const store = createRobustStore({ replicas: delayed(3), variant, schedule, clientId: 'r' });
    const w = await medianRatio(store, (i) => store.write('reg', bytes(`v${i}`)));
    let reported = 0;
    const r = await medianRatio(store, async () => {
      const res = await store.read('reg');
      reported = res.rounds;
    });
    expect(reported).toBe(read);
    expect(w, `write latency / d`).toBeGreaterThanOrEqual(write * 0.9);
    expect(w).toBeLessThanOrEqual(write * 1.1);
    expect(r, `read latency / d`).toBeGreaterThanOrEqual(read * 0.9);
    expect(r).toBeLessThanOrEqual(read * 1.1);
    await store.close();
  });
});

describe('rounds of other paths', () => {
  it('gc "sync" adds the remove round to the write', async () => {
    const store = createRobustStore({ replicas: delayed(3), variant: 'regular', schedule: 'fast', gc: 'sync' });
    await store.write('g', bytes('first'));
    const w = await medianRatio(store, (i) => store.write('g', bytes(`v${i}`)));
    expect(w).toBeGreaterThanOrEqual(3 * 0.9);
    expect(w).toBeLessThanOrEqual(3 * 1.1);
    await store.close();
  });

  it('an empty register reads in one round in every schedule', async () => {
    for (const schedule of ['classic', 'fast'] as const) {
      const store = createRobustStore({ replicas: delayed(3), variant: 'atomic', schedule });
      const r = await store.read('none');
      expect(r.rounds).toBe(1);
      expect(r.value).toBeNull();
      await store.close();
    }
  });
});
