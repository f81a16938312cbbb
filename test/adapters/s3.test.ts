import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/s3.js';
import { emulatorServerFor, startEmulator, storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { describeStoreConformance } from '../conformance/suite.js';
import { describeAdapterEdgeCases, storeErrorOf } from '../emulators/adapter-edge-cases.js';
import { describeS3ServerCases } from './s3-cases.js';

let emu: RunningEmulator | undefined;
beforeAll(async () => {
  emu = await startEmulator('s3');
}, 120_000);
afterAll(async () => {
  await emu?.stop();
});

const running = (): RunningEmulator => {
  if (!emu) throw new Error('the S3 emulator did not start (see the beforeAll error)');
  return emu;
};

describeStoreConformance('s3 emulator', async () => ({ store: await storeForEmulator(running(), { bucket: 'conformance' }) }));

describeAdapterEdgeCases('s3', running, {
  missingBucketStore: (e, bucket) =>
    createS3Store({
      bucket,
      endpoint: e.endpoint,
      region: e.region,
      credentials: { accessKeyId: e.accessKeyId!, secretAccessKey: e.secretAccessKey! },
    }),
  // fauxqs accepts any credentials; MinIO checks them.
  wrongCredentialsStore: emulatorServerFor('s3') !== 'minio' ? undefined : (e, bucket) =>
    createS3Store({
      bucket,
      endpoint: e.endpoint,
      region: e.region,
      credentials: { accessKeyId: e.accessKeyId!, secretAccessKey: 'wrong-secret' },
    }),
  unreachableStore: (endpoint) =>
    createS3Store({ bucket: 'nowhere', endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
});

// fauxqs ignores the region and the credentials, and sends listed keys raw (no EncodingType)
describeS3ServerCases(emulatorServerFor('s3'), running, {
  checksRegion: false,
  checksCredentials: emulatorServerFor('s3') === 'minio',
  rawListingOfControlCharactersFails: false,
});

describe('createS3Store options', () => {
  it('rejects a missing bucket name and a bad endpoint with ConfigError naming the option', () => {
    expect(() => createS3Store({ bucket: '' })).toThrow(/s3\.bucket/);
    expect(() => createS3Store({ bucket: 'b', endpoint: 'not a url' })).toThrow(/s3\.endpoint/);
    expect(() => createS3Store({ bucket: 'b', maxAttempts: 0 })).toThrow(/s3\.maxAttempts/);
  });
});

describe('S3 error mapping (a local server answering with fixed errors)', () => {
  let server: Server;
  let endpoint = '';
  let answer = { status: 500, code: 'InternalError' };
  let requests = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>fixed answer</Message></Error>`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  const cases = [
    { status: 403, code: 'AccessDenied', kind: 'PermissionDenied', retryable: false },
    { status: 403, code: 'SignatureDoesNotMatch', kind: 'PermissionDenied', retryable: false },
    { status: 503, code: 'SlowDown', kind: 'RateLimited', retryable: true },
    { status: 429, code: 'TooManyRequests', kind: 'RateLimited', retryable: true },
    { status: 500, code: 'InternalError', kind: 'Unavailable', retryable: true },
    { status: 404, code: 'NoSuchBucket', kind: 'ConfigInvalid', retryable: false },
  ] as const;
  for (const c of cases) {
    it(`HTTP ${c.status} ${c.code} -> ${c.kind}`, async () => {
      answer = { status: c.status, code: c.code };
      requests = 0;
      const s = createS3Store({
        bucket: 'fixed',
        endpoint,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        maxAttempts: 2,
      });
      try {
        // get's first call checks the bucket (HEAD, no body): the status alone decides there
        const err = await storeErrorOf(s.put('k/1', new Uint8Array([1])));
        expect(err.kind).toBe(c.kind);
        expect(err.retryable).toBe(c.retryable);
        expect(err.message).toContain('s3:fixed');
        if (c.retryable) expect(requests).toBe(2); // the SDK retried once (maxAttempts: 2)
      } finally {
        await s.close();
      }
    });
  }

  it('a 404 on get is absence, and NoSuchKey is not an error', async () => {
    answer = { status: 200, code: 'none' };
    const s = createS3Store({ bucket: 'fixed', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      await s.ensureBucket(); // HEAD answered 200
      answer = { status: 404, code: 'NoSuchKey' };
      expect(await s.get('absent')).toBeNull();
      await s.remove('absent');
    } finally {
      await s.close();
    }
  });
});
