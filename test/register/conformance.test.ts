/**
 * The robust store is a Store like any other: the whole shared conformance suite runs against it,
 * over memory replicas, for both variants — round trips, listing, argument checks, and aborts
 * (an aborted call's error names the user's call, `put`, not the replica round it was waiting for,
 * and is not retryable).
 */
import { createMemoryStore } from '../../src/adapters/memory.js';
import { createRobustStore } from '../../src/register/index.js';
import { describeStoreConformance } from '../conformance/suite.js';

for (const [variant, schedule] of [
  ['atomic', 'fast'],
  ['regular', 'classic'],
] as const) {
  describeStoreConformance(
    `robust ${variant}/${schedule} over 3 memory replicas`,
    async () => {
      const replicas = [0, 1, 2].map((i) => createMemoryStore({ name: `m${i}` }));
      return { store: createRobustStore({ replicas, variant, schedule, clientId: 'conformance', closeReplicas: true }) };
    },
    { largeValueBytes: 1024 * 1024 },
  );
}
