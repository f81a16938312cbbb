/** Every layer, with settings that have no visible effect, still satisfies the Store contract. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createFsStore } from '../../src/adapters/fs.js';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { compose } from '../../src/layers/compose.js';
import { encryption } from '../../src/layers/encryption.js';
import { faults } from '../../src/layers/faults.js';
import { integrity } from '../../src/layers/integrity.js';
import { latency } from '../../src/layers/latency.js';
import { metrics } from '../../src/layers/metrics.js';
import { prefixed } from '../../src/layers/prefix.js';
import { retry } from '../../src/layers/retry.js';
import type { Layer } from '../../src/store.js';
import { describeStoreConformance } from '../conformance/suite.js';

const KEY = Buffer.alloc(32, 7);

const layers: Record<string, () => Layer> = {
  latency: () => latency({ delay: 0, seed: 1 }),
  'latency (small random delay)': () => latency({ delay: { kind: 'uniform', minMs: 0, maxMs: 2 }, seed: 1 }),
  faults: () => faults({ seed: 1 }),
  metrics: () => metrics(),
  integrity: () => integrity(),
  encryption: () => encryption({ key: KEY }),
  retry: () => retry({ seed: 1 }),
  prefixed: () => prefixed('ns/'),
};

for (const [name, layer] of Object.entries(layers)) {
  describeStoreConformance(`${name} over memory`, async () => ({ store: compose(createMemoryStore(), layer()) }), {
    largeValueBytes: 1024 * 1024,
  });
}

const all = (): Layer[] => [
  prefixed('stack/'),
  faults({ seed: 2 }),
  retry({ seed: 2 }),
  latency({ delay: { kind: 'uniform', minMs: 0, maxMs: 1 }, seed: 2 }),
  integrity(),
  encryption({ key: KEY.toString('base64') }),
  metrics(),
];

describeStoreConformance('all layers stacked over memory', async () => ({ store: compose(createMemoryStore(), ...all()) }));

describeStoreConformance('all layers stacked over fs', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rkvs-layers-'));
  return {
    store: compose(createFsStore({ dir, fsync: false }), ...all()),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
