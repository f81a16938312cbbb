/**
 * The robust register over three buckets of one OpenStack Swift (s3api), in all four
 * variant/schedule pairs: the Store contract, and exactly two objects per register in every bucket
 * once the writes are over (one more write after concurrent ones). Swift is started by the launcher;
 * when it is not installed these tests fail, saying how to install it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { prefixed } from '../../src/layers/prefix.js';
import { createRobustStore, encodeRegister } from '../../src/register/index.js';
import type { Store } from '../../src/store.js';
import { utf8 } from '../../src/store.js';
import { describeStoreConformance } from '../conformance/suite.js';
import { MATRIX, copiesAt } from '../register/helpers.js';

const BUCKETS = ['reg-a', 'reg-b', 'reg-c'];
const TIMEOUT = 300_000;

let emu: RunningEmulator | undefined;
let startError: unknown;
beforeAll(async () => {
  try {
    emu = await startEmulator('swift-s3');
  } catch (e) {
    startError = e;
    throw e;
  }
}, TIMEOUT);
afterAll(async () => {
  await emu?.stop();
});

/** Three replicas, one per bucket, each under a fresh prefix of its own. */
async function replicas(label: string): Promise<Store[]> {
  if (!emu) throw new Error(`Swift s3api did not start: ${(startError as Error | undefined)?.message ?? 'see the beforeAll error'}`);
  const ns = `${label}-${randomBytes(4).toString('hex')}/`;
  const e = emu;
  return Promise.all(BUCKETS.map(async (bucket) => prefixed(ns)(await storeForEmulator(e, { bucket, name: `swift:${bucket}` }))));
}

for (const { variant, schedule } of MATRIX) {
  describeStoreConformance(
    `robust ${variant}/${schedule} over three Swift s3api buckets`,
    async () => ({ store: createRobustStore({ replicas: await replicas(`conf-${variant}-${schedule}`), variant, schedule, closeReplicas: true }) }),
    // the adapter suite drains 1100-key listings already; here every key is a register (2 puts per replica)
    { manyKeys: 40, largeValueBytes: 2 * 1024 * 1024, timeoutMs: TIMEOUT },
  );
}

describe('copies per register on Swift s3api', () => {
  for (const { variant, schedule } of MATRIX) {
    it(
      `${variant}/${schedule}: sequential writes, concurrent writers, one more write: exactly 2 objects per register in every bucket`,
      async () => {
        const reps = await replicas(`copies-${variant}-${schedule}`);
        const a = createRobustStore({ replicas: reps, variant, schedule, clientId: 'a' });
        const b = createRobustStore({ replicas: reps, variant, schedule, clientId: 'b' });
        try {
          for (let i = 0; i < 4; i++) await a.put('seq', utf8(`a${i}`));
          await a.remove('gone');
          await Promise.all([a.put('race', utf8('from a')), b.put('race', utf8('from b')), a.put('race', utf8('a again'))]);
          // every call of the concurrent writes has landed; then one more write collects them
          await Promise.all([a.settled(), b.settled()]);
          await b.put('race', utf8('last'));
          await Promise.all([a.settled(), b.settled()]);
          expect(Buffer.from((await a.get('race'))!).toString()).toBe('last');
          expect(Buffer.from((await b.get('seq'))!).toString()).toBe('a3');
          expect(await b.get('gone')).toBeNull();
          expect(await a.list('')).toEqual(['race', 'seq']);
          for (const [i, r] of reps.entries()) {
            for (const name of ['seq', 'gone', 'race']) {
              const c = await copiesAt(r, encodeRegister(name));
              expect(c.temp.length + c.eternal.length, `${BUCKETS[i]} ${name}: ${[...c.temp, ...c.eternal].join(', ')}`).toBe(2);
              expect(c.eternal).toHaveLength(1);
            }
          }
        } finally {
          await Promise.all([a.close(), b.close()]);
          for (const r of reps) {
            for (const k of await r.list('')) await r.remove(k);
            await r.close();
          }
        }
      },
      TIMEOUT,
    );
  }
});
