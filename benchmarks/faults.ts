/**
 * The register under a provider outage, on the three local emulators (n = 3, t = 1): one client,
 * 1 KiB values, writes and reads. Run it with faults, e.g.
 * `rkvs bench --suite faults --fault 'replica=s3,blackhole,at=0s'`, or through `npm run bench:faults`
 * (scripts/bench-faults.ts), which probes the replicas first and measures healthy, each replica
 * blackholed and each replica delayed 10x in one run, next to the floor of each case
 * (reports/faults/).
 */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'faults',
  description: 'regular and atomic on the local emulators, one client, for runs with --fault (healthy cells next to faulty ones)',
  defaultConfig: 'emulators',
  variants: ['regular', 'atomic'],
  schedules: ['fast'],
  // three repetitions; run with --interleave (bench:faults does) so drift hits every case alike
  repeat: 3,
  seed: 19,
  // one storage sample at the end of the measured phase: no listing competes with the operations
  sampleMs: 0,
  workloads: [
    {
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [1024],
      registers: 32,
      access: 'uniform',
      clients: 1,
      ops: 100,
      warmupOps: 20,
    },
  ],
});
