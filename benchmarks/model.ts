/**
 * The exact-metrics suite (`rkvs bench --suite model`): the workloads of the register on the
 * deterministic simulator, n = 3 replicas in virtual time where every call takes d = 10 ms. Every
 * figure it writes to exact.csv — requests and bytes per operation by call type, rounds, copies per
 * register at the peak and at quiescence, virtual latency — is the same on any machine, so
 * `rkvs compare reports/baseline <run>` gates them at zero tolerance. Takes a few seconds.
 */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'model',
  description: 'exact metrics on the deterministic simulator (n = 3, every call 10 virtual ms): requests, bytes, rounds, copies, virtual latency',
  kind: 'model',
  model: { n: 3, delayMs: 10 },
  variants: ['raw', 'regular', 'atomic'],
  schedules: ['fast', 'classic'],
  repeat: 1,
  seed: 1,
  workloads: [
    {
      // one client: the common case of writes and reads
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [1024],
      registers: 8,
      clients: 1,
      ops: 200,
      warmupOps: 16,
    },
    {
      // large values: the bytes sent and received per operation
      name: 'large',
      mix: { write: 1, read: 1 },
      valueBytes: [65536],
      registers: 4,
      clients: 1,
      ops: 40,
      warmupOps: 4,
      schedules: ['fast'],
    },
    {
      // four clients writing, reading and removing two registers: contention, retries, copies at the peak
      name: 'contended',
      mix: { write: 2, read: 2, remove: 1 },
      valueBytes: [1024],
      registers: 2,
      clients: 4,
      ops: 200,
      warmupOps: 8,
      variants: ['regular', 'atomic'],
    },
  ],
});
