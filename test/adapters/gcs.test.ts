import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGcsStore } from '../../src/adapters/gcs.js';
import { startEmulator, storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { describeStoreConformance } from '../conformance/suite.js';
import { describeAdapterEdgeCases } from '../emulators/adapter-edge-cases.js';

let emu: RunningEmulator | undefined;
beforeAll(async () => {
  emu = await startEmulator('gcs');
}, 120_000);
afterAll(async () => {
  await emu?.stop();
});

const running = (): RunningEmulator => {
  if (!emu) throw new Error('the GCS emulator did not start (see the beforeAll error)');
  return emu;
};

describeStoreConformance('gcs (firebase-tools Storage emulator)', async () => ({
  store: await storeForEmulator(running(), { bucket: 'conformance' }),
}));

// The firebase-tools emulator does not check credentials on the GCS JSON API: no wrong-credentials test.
describeAdapterEdgeCases('gcs', running, {
  missingBucketStore: (e, bucket) => createGcsStore({ bucket, apiEndpoint: e.endpoint, projectId: e.projectId }),
  unreachableStore: (endpoint) => createGcsStore({ bucket: 'nowhere', apiEndpoint: endpoint, projectId: 'p' }),
});

describe('createGcsStore options', () => {
  it('bad options are ConfigErrors naming the option', () => {
    expect(() => createGcsStore({ bucket: '' })).toThrow(/gcs\.bucket/);
    expect(() => createGcsStore({ bucket: 'b', apiEndpoint: 'nope' })).toThrow(/gcs\.apiEndpoint/);
    expect(() => createGcsStore({ bucket: 'b', maxAttempts: -1 })).toThrow(/gcs\.maxAttempts/);
  });
});
