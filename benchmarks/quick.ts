/** A few seconds on in-process memory replicas: used by the tests and as a smoke run. */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'quick',
  description: 'smoke run on 3 memory replicas (n = 3, t = 1)',
  defaultConfig: { memory: { n: 3, delayMs: 1 } },
  variants: ['raw', 'regular', 'atomic'],
  schedules: ['fast'],
  repeat: 1,
  seed: 7,
  sampleMs: 20,
  workloads: [
    {
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [256],
      registers: 8,
      clients: 2,
      ops: 40,
      warmupOps: 8,
      variants: ['raw'],
    },
    {
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [256],
      registers: 8,
      clients: [1, 2],
      ops: 40,
      warmupOps: 8,
      variants: ['regular', 'atomic'],
    },
  ],
});
