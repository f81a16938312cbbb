/**
 * The main job (`npm run bench`): the three local emulators (S3, Azure, GCS; n = 3, t = 1),
 * the raw single-store baseline, regular and atomic, in about two minutes on a 2-core machine.
 */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'default',
  description: 'raw baseline, regular and atomic on the local emulators; latency model and harness overhead checks',
  defaultConfig: 'emulators',
  variants: ['raw', 'regular', 'atomic'],
  schedules: ['fast', 'classic'],
  repeat: 1,
  seed: 1,
  sampleMs: 250,
  workloads: [
    {
      name: 'mixed',
      mix: { write: 1, read: 1 },
      valueBytes: [1024],
      registers: 32,
      access: 'uniform',
      clients: [1, 4],
      ops: 300,
      warmupOps: 20,
      schedules: ['fast'],
    },
    {
      name: 'large',
      mix: { write: 1, read: 1 },
      valueBytes: [65536],
      registers: 8,
      clients: 1,
      ops: 100,
      warmupOps: 6,
      schedules: ['fast'],
    },
    {
      name: 'classic',
      mix: { write: 1, read: 1 },
      valueBytes: [1024],
      registers: 8,
      clients: 1,
      ops: 100,
      warmupOps: 6,
      variants: ['regular', 'atomic'],
      schedules: ['classic'],
    },
  ],
  checks: {
    latencyModel: { delayMs: 20, ops: 20, n: 3 },
    harnessOverhead: { delayMs: 1, ops: 1000 },
  },
});
