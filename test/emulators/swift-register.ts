/**
 * The register suite on a Swift s3api server: the robust register over three buckets, in all four
 * variant/schedule pairs: reads and writes of two clients, values of 0 bytes and 2 MiB, removes and
 * listings, register names that need escaping, and exactly two objects per register in every bucket
 * once the writes are over (one more write after concurrent ones). test/adapters/s3-swift.test.ts
 * runs it on the Swift it starts, so that one Swift serves the adapter and the register suites.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { prefixed } from '../../src/layers/prefix.js';
import { createRobustStore, encodeRegister, type RobustStore } from '../../src/register/index.js';
import type { Store } from '../../src/store.js';
import { utf8 } from '../../src/store.js';
import { MATRIX, copiesAt } from '../register/helpers.js';

const BUCKETS = ['reg-a', 'reg-b', 'reg-c'];
const TIMEOUT = 300_000;

/** Three replicas, one per bucket, each under a fresh prefix of its own. */
async function replicas(e: RunningEmulator, label: string): Promise<Store[]> {
  const ns = `${label}-${randomBytes(4).toString('hex')}/`;
  return Promise.all(BUCKETS.map(async (bucket) => prefixed(ns)(await storeForEmulator(e, { bucket, name: `swift:${bucket}` }))));
}

const text = (v: Uint8Array | null) => (v === null ? null : Buffer.from(v).toString());

/** Register names whose keys need escaping (the register encodes them into S3-safe keys). */
const NAMES = ['plain', 'with space', 'a/b/c', '..', 'ctl\u0001\t\u007f', 'percent%2F + ?#', 'unicode ü 键 😀'];

export function describeRegisterOnSwift(emulator: () => RunningEmulator): void {
  describe.each(MATRIX)('robust $variant/$schedule over three Swift s3api buckets', ({ variant, schedule }) => {
    let reps: Store[] = [];
    let a: RobustStore;
    let b: RobustStore;
    beforeAll(async () => {
      reps = await replicas(emulator(), `${variant}-${schedule}`);
      a = createRobustStore({ replicas: reps, variant, schedule, clientId: 'a' });
      b = createRobustStore({ replicas: reps, variant, schedule, clientId: 'b' });
    }, TIMEOUT);
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close()]);
      for (const r of reps) {
        for (const k of await r.list('').catch(() => [])) await r.remove(k).catch(() => {});
        await r.close();
      }
    }, TIMEOUT);

    it(
      'an empty register is absent; each client reads the other\'s writes and writes above them',
      async () => {
        expect(await a.read('fresh')).toMatchObject({ ts: null, value: null, tombstone: false });
        const w1 = await a.write('shared', utf8('from a'));
        expect(w1.ts).toEqual({ num: 1, clientId: 'a' });
        expect(text(await b.get('shared'))).toBe('from a');
        const w2 = await b.write('shared', utf8('from b'));
        expect(w2.ts).toEqual({ num: 2, clientId: 'b' });
        expect(text(await a.get('shared'))).toBe('from b');
      },
      TIMEOUT,
    );

    it(
      'values of 0 bytes and 2 MiB round-trip byte-exact',
      async () => {
        await a.put('empty', new Uint8Array(0));
        expect((await b.get('empty'))?.byteLength).toBe(0);
        const big = randomBytes(2 * 1024 * 1024);
        await a.put('big', big);
        const got = await b.get('big');
        expect(got?.byteLength).toBe(big.byteLength);
        expect(Buffer.compare(Buffer.from(got!), big)).toBe(0);
      },
      TIMEOUT,
    );

    it(
      'names that need escaping write, read and list; remove leaves a tombstone that list hides',
      async () => {
        for (const name of NAMES) await a.put(`n/${name}`, utf8(`v:${name}`));
        for (const name of NAMES) expect(text(await b.get(`n/${name}`)), JSON.stringify(name)).toBe(`v:${name}`);
        const sorted = NAMES.map((n) => `n/${n}`).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        expect(await b.list('n/')).toEqual(sorted);
        await b.remove('n/with space');
        expect(await a.get('n/with space')).toBeNull();
        expect((await a.read('n/with space')).tombstone).toBe(true);
        expect(await a.list('n/')).toEqual(sorted.filter((k) => k !== 'n/with space'));
      },
      TIMEOUT,
    );

    it(
      'sequential writes, concurrent writers, one more write: exactly 2 objects per register in every bucket',
      async () => {
        for (let i = 0; i < 4; i++) await a.put('seq', utf8(`a${i}`));
        await a.remove('gone');
        await Promise.all([a.put('race', utf8('from a')), b.put('race', utf8('from b')), a.put('race', utf8('a again'))]);
        // every call of the concurrent writes has landed; then one more write collects them
        await Promise.all([a.settled(), b.settled()]);
        await b.put('race', utf8('last'));
        await Promise.all([a.settled(), b.settled()]);
        expect(text(await a.get('race'))).toBe('last');
        expect(text(await b.get('seq'))).toBe('a3');
        expect(await b.get('gone')).toBeNull();
        for (const [i, r] of reps.entries()) {
          for (const name of ['seq', 'gone', 'race']) {
            const c = await copiesAt(r, encodeRegister(name));
            expect(c.temp.length + c.eternal.length, `${BUCKETS[i]} ${name}: ${[...c.temp, ...c.eternal].join(', ')}`).toBe(2);
            expect(c.eternal).toHaveLength(1);
          }
        }
      },
      TIMEOUT,
    );
  });
}
