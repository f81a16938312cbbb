import { describe, expect, it } from 'vitest';
import { runSimulation } from '../../src/sim/index.js';
import { report } from './helpers.js';

/**
 * Wait-freedom (SPEC §1): every operation of a correct client completes while at most t replicas
 * are faulty. With synchronous GC, a write that issued a GC remove to a replica which then crashed
 * (and hangs) waits for that remove forever. Found by the seed sweep; kept as a regression test.
 */
describe('wait-freedom with synchronous GC', () => {
  it('a write completes although a replica that acknowledged it crashes before its GC remove (seed 146)', async () => {
    const r = await runSimulation({ seed: 146, variant: 'regular', schedule: 'fast', gc: 'sync', replicaCrashMode: 'hang', replicaCrashes: 1 });
    expect(r.config.replicaCrashes.length).toBe(1);
    expect(r.failures, report(r)).toEqual([]);
  });
});
