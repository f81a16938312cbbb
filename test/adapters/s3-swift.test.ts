/**
 * The S3 adapter and the robust register against a production S3 implementation: OpenStack Swift
 * with its s3api middleware and tempauth, started on 127.0.0.1 by the launcher
 * (scripts/swift-s3api.sh). When Swift is not installed or cannot start, every test here fails with
 * the command that installs it.
 */
import { afterAll, beforeAll } from 'vitest';
import { createS3Store } from '../../src/adapters/s3.js';
import { startEmulator, storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { describeStoreConformance } from '../conformance/suite.js';
import { describeAdapterEdgeCases } from '../emulators/adapter-edge-cases.js';
import { describeRegisterOnSwift } from '../emulators/swift-register.js';
import { describeS3ServerCases } from './s3-cases.js';

let emu: RunningEmulator | undefined;
let startError: unknown;
beforeAll(async () => {
  try {
    emu = await startEmulator('swift-s3');
  } catch (e) {
    startError = e;
    throw e;
  }
}, 300_000);
afterAll(async () => {
  await emu?.stop();
});

const running = (): RunningEmulator => {
  if (!emu) throw new Error(`Swift s3api did not start: ${(startError as Error | undefined)?.message ?? 'see the beforeAll error'}`);
  return emu;
};

describeStoreConformance('swift s3api', async () => ({ store: await storeForEmulator(running(), { bucket: 'conformance' }) }), {
  timeoutMs: 300_000,
});

const s3 = (e: RunningEmulator, bucket: string, secretAccessKey = e.secretAccessKey!) =>
  createS3Store({
    bucket,
    endpoint: e.endpoint,
    region: e.region,
    credentials: { accessKeyId: e.accessKeyId!, secretAccessKey },
  });

describeAdapterEdgeCases('swift-s3', running, {
  missingBucketStore: (e, bucket) => s3(e, bucket),
  // Swift checks the signature: fauxqs cannot test this
  wrongCredentialsStore: (e, bucket) => s3(e, bucket, 'wrong-secret'),
  unreachableStore: (endpoint) =>
    createS3Store({ bucket: 'nowhere', endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
});

describeS3ServerCases('Swift s3api', running, { checksRegion: true, checksCredentials: true, rawListingOfControlCharactersFails: true });

describeRegisterOnSwift(running);
