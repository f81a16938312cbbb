/**
 * Adapter tests that the shared conformance suite cannot express: a missing bucket, wrong
 * credentials, an unreachable endpoint, an emulator stopped mid-run, and aborting a call in flight.
 * Each adapter test file calls `describeAdapterEdgeCases` with its emulator.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { startEmulator, storeForEmulator, type EmulatorKind, type RunningEmulator } from '../../src/emulators/index.js';
import type { Store } from '../../src/store.js';

export interface EdgeCaseFactories {
  /** A store on `bucket` without createBucketIfMissing. */
  missingBucketStore: (e: RunningEmulator, bucket: string) => Store;
  /** A store with wrong credentials; omit when the emulator does not check credentials. */
  wrongCredentialsStore?: (e: RunningEmulator, bucket: string) => Store;
  /** A store pointed at `endpoint`, where nothing listens. */
  unreachableStore: (endpoint: string) => Store;
}

/** A loopback port where nothing listens (bound, then released). */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Awaits `p` and returns the StoreError it rejected with (fails the test if it resolved). */
export async function storeErrorOf(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    expect(e, `expected a StoreError, got ${String(e)}`).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  expect.fail('expected the call to reject');
}

export function describeAdapterEdgeCases(kind: EmulatorKind, emulator: () => RunningEmulator, f: EdgeCaseFactories): void {
  describe(`${kind} adapter edge cases`, () => {
    it('a missing bucket is a ConfigInvalid error naming the bucket and how to create it', async () => {
      const bucket = `rkvs-missing-${randomBytes(4).toString('hex')}`;
      const s = f.missingBucketStore(emulator(), bucket);
      try {
        const calls = [() => s.get('k'), () => s.put('k', new Uint8Array([1])), () => s.list(''), () => s.remove('k')];
        for (const call of calls) {
          const err = await storeErrorOf(call());
          expect(err.kind).toBe('ConfigInvalid');
          expect(err.retryable).toBe(false);
          expect(err.message).toContain(bucket);
          expect(err.message).toContain('createBucketIfMissing');
        }
      } finally {
        await s.close();
      }
    });

    if (f.wrongCredentialsStore) {
      it('wrong credentials are PermissionDenied', async () => {
        const s = f.wrongCredentialsStore!(emulator(), 'conformance');
        try {
          const err = await storeErrorOf(s.get('some/key'));
          expect(err.kind).toBe('PermissionDenied');
          expect(err.retryable).toBe(false);
          expect(err.message).toContain('get("some/key")');
        } finally {
          await s.close();
        }
      });
    }

    it('an endpoint where nothing listens is Unavailable and retryable', async () => {
      const port = await closedPort();
      const s = f.unreachableStore(`http://127.0.0.1:${port}`);
      try {
        const err = await storeErrorOf(s.get('the/key'));
        expect(err.kind).toBe('Unavailable');
        expect(err.retryable).toBe(true);
        expect(err.message).toContain('"the/key"');
        expect(err.message).toContain(s.name);
      } finally {
        await s.close();
      }
    });

    it('an emulator stopped mid-run gives Unavailable, without hanging', async () => {
      const own = await startEmulator(kind);
      let s: Store | undefined;
      try {
        s = await storeForEmulator(own, { bucket: 'stopped', requestTimeoutMs: 10_000 });
        await s.put('before', new Uint8Array([1, 2, 3]));
        expect(Array.from((await s.get('before')) ?? [])).toEqual([1, 2, 3]);
        await own.stop();
        const t = s;
        const calls = [() => t.get('before'), () => t.put('after', new Uint8Array([4])), () => t.list(''), () => t.remove('before')];
        for (const call of calls) {
          const err = await storeErrorOf(call());
          expect(err.kind).toBe('Unavailable');
          expect(err.retryable).toBe(true);
        }
      } finally {
        await s?.close();
        await own.stop();
      }
    });

    it('a large put aborted in flight rejects with Timeout, aborted=true, and the store still works', async () => {
      const s = await storeForEmulator(emulator(), { bucket: 'conformance' });
      const key = `abort-${randomBytes(4).toString('hex')}`;
      try {
        const ac = new AbortController();
        const call = s.put(key, new Uint8Array(9 * 1024 * 1024), { signal: ac.signal });
        setTimeout(() => ac.abort(), 5);
        const err = await storeErrorOf(call);
        expect(err.kind).toBe('Timeout');
        expect(err.aborted).toBe(true);
        await s.put(key, new Uint8Array([7]));
        expect(Array.from((await s.get(key)) ?? [])).toEqual([7]);
      } finally {
        await s.remove(key).catch(() => {});
        await s.close();
      }
    });
  });
}
