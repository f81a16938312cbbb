/**
 * Client-side scaling on the local emulators: the same closed-loop cells run with their clients in
 * 1, 2, ... worker processes (up to the number of cores), so the report shows how throughput grows
 * when the load generator is no longer one Node process. The `workers` column of every row says the
 * count; the summary prints each cell's throughput at every worker count relative to one worker.
 *
 *   rkvs bench --suite scaling              # 1..cores workers
 *   rkvs bench --suite scaling --workers 1,4
 */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'scaling',
  description: 'throughput on the local emulators with the clients in 1..cores worker processes',
  defaultConfig: 'emulators',
  variants: ['raw', 'regular'],
  schedules: ['fast'],
  workers: 'sweep',
  repeat: 1,
  seed: 3,
  sampleMs: 1000,
  workloads: [
    {
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [1024],
      registers: 256,
      clients: 16,
      durationS: 8,
      warmupOps: 200,
    },
  ],
});
