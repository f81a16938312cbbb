/**
 * Sequential round trips per operation, measured exactly: every replica is a simulated store on a
 * virtual clock whose every call takes exactly D, so an operation's latency divided by D is its round
 * count — with no timer noise and no dependence on how busy the machine is.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/simulate/clock.js';
import { SimReplica } from '../../src/simulate/replica.js';
import { createRobustStore, type RobustStore } from '../../src/register/index.js';
import type { RobustStoreOptions } from '../../src/register/types.js';
import { bytes } from './helpers.js';

const D = 50;
const REPS = 5;

function virtualStore(o: Omit<RobustStoreOptions, 'replicas'>): { store: RobustStore; clock: VirtualClock } {
  const clock = new VirtualClock();
  const replicas = [0, 1, 2].map(
    (i) => new SimReplica({ name: `r${i}`, clock, model: { default: { kind: 'fixed', ms: D } }, seed: i + 1 }),
  );
  return { store: createRobustStore({ ...o, replicas }), clock };
}

/** Latency / D of each of REPS operations, each started once the previous one's background work settled. */
async function ratios(clock: VirtualClock, store: RobustStore, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await clock.drive(store.settled());
    const t0 = clock.now();
    await clock.drive(op(i));
    out.push((clock.now() - t0) / D);
  }
  return out;
}

const cases = [
  { variant: 'regular', schedule: 'fast', write: 2, read: 1 },
  { variant: 'atomic', schedule: 'fast', write: 2, read: 1 },
  { variant: 'regular', schedule: 'classic', write: 3, read: 2 },
  { variant: 'atomic', schedule: 'classic', write: 3, read: 3 },
] as const;

describe.each(cases)('rounds $variant/$schedule', ({ variant, schedule, write, read }) => {
  it(`write = ${write} rounds, read = ${read} rounds (latency = rounds × d, exactly)`, async () => {
    const { store, clock } = virtualStore({ variant, schedule, clientId: 'r' });
    const w = await ratios(clock, store, (i) => store.write('reg', bytes(`v${i}`)));
    const reported: number[] = [];
    const r = await ratios(clock, store, async () => {
      const res = await store.read('reg');
      reported.push(res.rounds);
    });
    expect(reported, 'rounds reported by read()').toEqual(Array(REPS).fill(read));
    expect(w, 'write latency / d').toEqual(Array(REPS).fill(write));
    expect(r, 'read latency / d').toEqual(Array(REPS).fill(read));
    await clock.drive(store.close());
  });
});

describe('rounds of other paths', () => {
  it('gc "sync" adds the remove round to the write', async () => {
    const { store, clock } = virtualStore({ variant: 'regular', schedule: 'fast', gc: 'sync' });
    await clock.drive(store.write('g', bytes('first')));
    const w = await ratios(clock, store, (i) => store.write('g', bytes(`v${i}`)));
    expect(w, 'write latency / d with gc "sync"').toEqual(Array(REPS).fill(3));
    await clock.drive(store.close());
  });

  it('an empty register reads in one round in every schedule', async () => {
    for (const schedule of ['classic', 'fast'] as const) {
      const { store, clock } = virtualStore({ variant: 'atomic', schedule });
      const r = await clock.drive(store.read('none'));
      expect(r.rounds).toBe(1);
      expect(r.value).toBeNull();
      await clock.drive(store.close());
    }
  });
});
