import { describe, expect, it } from 'vitest';
import { describeRun, runSimulation } from '../../src/sim/index.js';

/**
 * SPEC §6 space claims. After quiescence (and one more write per register), every live replica holds
 * exactly 2 keys per register: that is checked in every simulated run (see sweep.test.ts). During a
 * run, the keys of a register at a replica stay within (operations in flight + 2), lingering puts
 * aside; checked here for one client at a time, with crashes of replicas.
 */
describe('space', () => {
  it('without concurrency, a replica never holds more than (operations in flight + 2) keys of a register', async () => {
    let measured = 0;
    for (let seed = 1; seed <= 300; seed++) {
      for (const variant of ['regular', 'atomic'] as const) {
        const r = await runSimulation({ seed, variant, schedule: seed % 2 ? 'fast' : 'classic', clients: 1, opsPerClient: 6 });
        expect(r.failures, describeRun(r)).toEqual([]);
        expect(r.space.maxExcess, `seed ${seed} ${variant}: ${r.space.worst}`).toBeLessThanOrEqual(0);
        if (Number.isFinite(r.space.maxExcess)) measured++;
      }
    }
    expect(measured).toBeGreaterThan(500);
  });
  it('after quiescence every live replica holds exactly 2 keys per register, also after concurrency and client crashes', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = await runSimulation({ seed, variant: 'atomic', schedule: 'fast', clients: 4, clientCrashes: 2, gc: 'background' });
      expect(r.failures, describeRun(r)).toEqual([]);
      expect(r.space.afterQuiescence.length).toBeGreaterThan(0);
      for (const s of r.space.afterQuiescence) expect(s.keys).toBe(2);
    }
  });
});
