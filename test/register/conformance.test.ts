/**
 * The robust store's public entry checks its arguments like every other store: the argument part
 * of the shared conformance suite runs against it, over memory replicas, for both variants.
 *
 * It runs the argument checks only: the whole suite also asks that an aborted call's error names
 * the store call (`put`, not the replica round `list` it was waiting for) and is not retryable,
 * which the robust store's QuorumError does not do yet.
 */
import { createMemoryStore } from '../../src/adapters/memory.js';
import { createRobustStore } from '../../src/register/index.js';
import { describeArgumentConformance } from '../conformance/suite.js';

for (const [variant, schedule] of [
  ['atomic', 'fast'],
  ['regular', 'classic'],
] as const) {
  describeArgumentConformance(`robust ${variant}/${schedule} over 3 memory replicas`, async () => {
    const replicas = [0, 1, 2].map((i) => createMemoryStore({ name: `m${i}` }));
    return { store: createRobustStore({ replicas, variant, schedule, clientId: 'conformance', closeReplicas: true }) };
  });
}
