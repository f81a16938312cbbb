import { describeRun, runSimulation, type SimOptions, type SimResult } from '../../src/sim/index.js';

/** Runs seeds [start, start + count) and returns the first failing run, with counts. */
export async function sweep(
  count: number,
  start: number,
  options: (seed: number) => SimOptions,
): Promise<{ runs: number; failed: SimResult | null; events: number; quiescenceChecks: number; clientCrashes: number; replicaCrashes: number }> {
  let events = 0;
  let quiescenceChecks = 0;
  let clientCrashes = 0;
  let replicaCrashes = 0;
  for (let seed = start; seed < start + count; seed++) {
    const r = await runSimulation(options(seed));
    events += r.events;
    quiescenceChecks += r.space.afterQuiescence.length;
    clientCrashes += r.config.clientCrashes.length;
    replicaCrashes += r.config.replicaCrashes.length;
    if (r.failures.length > 0) return { runs: seed - start + 1, failed: r, events, quiescenceChecks, clientCrashes, replicaCrashes };
  }
  return { runs: count, failed: null, events, quiescenceChecks, clientCrashes, replicaCrashes };
}

export function report(r: SimResult | null): string {
  return r ? describeRun(r) : '';
}
