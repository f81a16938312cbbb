/** The register's own CPU cost per operation (tinybench, memory replicas, no latency). */
import { defineSuite } from '../src/bench/config/suite.js';

export default defineSuite({
  name: 'micro',
  description: 'CPU cost per operation of the register code on memory replicas, written as latency.csv rows (config memory-cpu)',
  kind: 'micro',
  variants: ['raw', 'regular', 'atomic'],
  schedules: ['fast', 'classic'],
  micro: { valueBytes: [1024], n: 3, timeMs: 400, registers: 16 },
});
