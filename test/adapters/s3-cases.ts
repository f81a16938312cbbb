/**
 * S3 adapter cases run against every S3 server the tests start (fauxqs, Swift s3api): keys that
 * need URL-encoded listings, and, where the server checks them, the errors of a wrong region, of
 * wrong credentials, and of a server error that repeats.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createS3Store, type S3Store } from '../../src/adapters/s3.js';
import { storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { utf8 } from '../../src/store.js';
import { storeErrorOf } from '../emulators/adapter-edge-cases.js';

export interface S3ServerTraits {
  /** The server checks the SigV4 region (Swift: AuthorizationHeaderMalformed). */
  checksRegion: boolean;
  /** The server checks credentials. */
  checksCredentials: boolean;
  /** Listing a key with a control character without URL encoding fails with a 500 (Swift). */
  rawListingOfControlCharactersFails: boolean;
}

/** Keys whose listing needs URL encoding, or whose decoding is easy to get wrong. */
export const ENCODING_KEYS: readonly string[] = [
  'ctl\u0001one',
  'ctl\u001f\u007f',
  'tab\tin',
  'plus+sign',
  'a+b c',
  'space in name',
  ' leading',
  'trailing ',
  'percent%',
  '100%25literal',
  'pct%2Bplus',
  'pct%20space',
  '+',
  '%',
  'unicode ünï 键 🎉',
  'xml <&>"\'',
  'query?hash#',
  'tilde~star*',
];

const TIMEOUT = 180_000;

function storeOn(e: RunningEmulator, over: { bucket: string; region?: string; secretAccessKey?: string; maxAttempts?: number }): S3Store {
  return createS3Store({
    bucket: over.bucket,
    endpoint: e.endpoint,
    region: over.region ?? e.region,
    forcePathStyle: true,
    credentials: { accessKeyId: e.accessKeyId!, secretAccessKey: over.secretAccessKey ?? e.secretAccessKey! },
    checksums: 'when_required',
    maxAttempts: over.maxAttempts,
  });
}

export function describeS3ServerCases(label: string, emulator: () => RunningEmulator, traits: S3ServerTraits): void {
  describe(`S3 adapter on ${label}`, () => {
    it(
      'keys with control characters, +, %, spaces and unicode round-trip through list (URL-encoded listings, decoded)',
      async () => {
        const s = await storeForEmulator(emulator(), { bucket: 's3-listing' });
        const ns = `enc-${randomBytes(4).toString('hex')}/`;
        try {
          const keys = ENCODING_KEYS.map((k) => ns + k);
          for (const k of keys) await s.put(k, utf8(k));
          const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(await s.list(ns)).toEqual(sorted);
          expect((await s.list('')).filter((k) => k.startsWith(ns))).toEqual(sorted);
          // prefixes holding the awkward characters themselves select exactly their keys
          for (const p of ['ctl\u0001', 'a+b', 'plus+', 'pct%2', '%', ' ', 'unicode ü']) {
            expect(await s.list(ns + p), `prefix ${JSON.stringify(p)}`).toEqual(sorted.filter((k) => k.startsWith(ns + p)));
          }
          for (const k of keys) expect(Buffer.from((await s.get(k))!).toString(), JSON.stringify(k)).toBe(k);
          for (const k of keys) await s.remove(k);
          expect(await s.list(ns)).toEqual([]);
        } finally {
          for (const k of await s.list(ns).catch(() => [])) await s.remove(k).catch(() => {});
          await s.close();
        }
      },
      TIMEOUT,
    );

    if (traits.checksRegion) {
      it(
        'a wrong region is ConfigInvalid with the server\'s own words, naming both regions',
        async () => {
          const e = emulator();
          await (await storeForEmulator(e, { bucket: 's3-region' })).close();
          const s = storeOn(e, { bucket: 's3-region', region: 'eu-west-1' });
          try {
            const err = await storeErrorOf(s.get('some/key'));
            expect(err.kind).toBe('ConfigInvalid');
            expect(err.retryable).toBe(false);
            expect(err.message).toContain('get("some/key")');
            expect(err.message).toContain('AuthorizationHeaderMalformed');
            expect(err.message).toContain("the region 'eu-west-1' is wrong; expecting 'us-east-1'");
            expect(err.message).toContain('this store signs requests for "eu-west-1"');
            expect(err.message).not.toContain('UnknownError');
          } finally {
            await s.close();
          }
        },
        TIMEOUT,
      );
    }

    if (traits.checksCredentials) {
      it(
        'a wrong secret at the bucket check is PermissionDenied with the server\'s code, not "UnknownError"',
        async () => {
          const e = emulator();
          const s = storeOn(e, { bucket: 's3-region', secretAccessKey: 'not-the-secret' });
          try {
            const err = await storeErrorOf(s.ensureBucket());
            expect(err.kind).toBe('PermissionDenied');
            expect(err.retryable).toBe(false);
            expect(err.message).toContain('HTTP 403 SignatureDoesNotMatch');
            expect(err.message).toContain('check the credentials');
            expect(err.message).not.toContain('UnknownError');
          } finally {
            await s.close();
          }
        },
        TIMEOUT,
      );
    }

    if (traits.rawListingOfControlCharactersFails) {
      it(
        'a 500 the server repeats with a specific reason is Unexpected and not retryable (listing sent without URL encoding)',
        async () => {
          const e = emulator();
          const bucket = 's3-listing';
          await (await storeForEmulator(e, { bucket })).close();
          const s = storeOn(e, { bucket, maxAttempts: 3 });
          // Take the store back to the old request: ListObjectsV2 without encoding-type.
          s.client.middlewareStack.add(
            (next) => async (args) => {
              const req = (args as { request?: { query?: Record<string, unknown> } }).request;
              if (req?.query) delete req.query['encoding-type'];
              return next(args);
            },
            { step: 'build', name: 'dropEncodingType' },
          );
          const ns = `raw-${randomBytes(4).toString('hex')}/`;
          try {
            await s.put(`${ns}ctl\u0001`, utf8('v'));
            const err = await storeErrorOf(s.list(ns));
            expect(err.kind).toBe('Unexpected');
            expect(err.retryable).toBe(false);
            expect(err.message).toContain('HTTP 500 InternalError');
            expect(err.message).toContain('All strings must be XML compatible');
            expect(err.message).toContain('the same answer to all 2 attempts'); // the third is not sent
          } finally {
            const clean = await storeForEmulator(e, { bucket });
            for (const k of await clean.list(ns)) await clean.remove(k);
            await clean.close();
            await s.close();
          }
        },
        TIMEOUT,
      );
    }
  });
}
