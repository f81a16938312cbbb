import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobNameOfKey, createAzureBlobStore, keyOfBlobName } from '../../src/adapters/azure-blob.js';
import { Random } from '../../src/util/random.js';
import { ConfigError } from '../../src/errors.js';
import { AZURITE_KEY, startEmulator, storeForEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { describeStoreConformance } from '../conformance/suite.js';
import { describeAdapterEdgeCases } from '../emulators/adapter-edge-cases.js';

let emu: RunningEmulator | undefined;
beforeAll(async () => {
  emu = await startEmulator('azure');
}, 120_000);
afterAll(async () => {
  await emu?.stop();
});

const running = (): RunningEmulator => {
  if (!emu) throw new Error('Azurite did not start (see the beforeAll error)');
  return emu;
};

describeStoreConformance('azure blob (Azurite)', async () => ({
  store: await storeForEmulator(running(), { bucket: 'conformance' }),
}));

describeAdapterEdgeCases('azure', running, {
  missingBucketStore: (e, container) => createAzureBlobStore({ container, connectionString: e.connectionString }),
  // Azurite checks the shared-key signature.
  wrongCredentialsStore: (e, container) =>
    createAzureBlobStore({
      container,
      accountName: e.accountName,
      accountKey: Buffer.from('not the right key at all, but valid base64').toString('base64'),
      endpoint: e.endpoint,
    }),
  unreachableStore: (endpoint) =>
    createAzureBlobStore({
      container: 'nowhere',
      accountName: 'devstoreaccount1',
      accountKey: AZURITE_KEY,
      endpoint: `${endpoint}/devstoreaccount1`,
    }),
});

describe('createAzureBlobStore options', () => {
  it('account name + key reach Azurite like the connection string does', async () => {
    const e = running();
    const s = createAzureBlobStore({
      container: 'by-key',
      accountName: e.accountName,
      accountKey: e.accountKey,
      endpoint: e.endpoint,
      createBucketIfMissing: true,
    });
    try {
      await s.put('a b/ü', new Uint8Array([1, 2]));
      expect(Array.from((await s.get('a b/ü')) ?? [])).toEqual([1, 2]);
      expect(await s.list('a b/')).toEqual(['a b/ü']);
      await s.remove('a b/ü');
    } finally {
      await s.close();
    }
  });

  it('bad options are ConfigErrors naming the option and the fix', () => {
    const saved = { ...process.env };
    try {
      delete process.env.AZURE_STORAGE_CONNECTION_STRING;
      delete process.env.AZURE_STORAGE_ACCOUNT;
      expect(() => createAzureBlobStore({ container: '' })).toThrow(/azure\.container/);
      expect(() => createAzureBlobStore({ container: 'Bad_Name', connectionString: 'x' })).toThrow(/not a valid container name/);
      expect(() => createAzureBlobStore({ container: 'ok-name' })).toThrow(ConfigError);
      expect(() => createAzureBlobStore({ container: 'ok-name' })).toThrow(/AZURE_STORAGE_CONNECTION_STRING/);
      expect(() => createAzureBlobStore({ container: 'ok-name', accountName: 'acct' })).toThrow(/accountKey or sasToken/);
      expect(() => createAzureBlobStore({ container: 'ok-name', connectionString: 'garbage' })).toThrow(/azure\.connectionString/);
    } finally {
      process.env = saved;
    }
  });
});

describe('blob names', () => {
  it('keep ordinary keys unchanged and escape dot segments, backslashes and %', () => {
    expect(blobNameOfKey('a/b c/ü')).toBe('a/b c/ü');
    expect(blobNameOfKey('x/../y/./z')).toBe('x/%2E%2E/y/%2E/z');
    expect(blobNameOfKey('..')).toBe('%2E%2E');
    expect(blobNameOfKey('a\\b%20')).toBe('a%5Cb%2520');
    expect(blobNameOfKey('.../.x/x.')).toBe('.../.x/x.');
  });

  it('round-trip and stay distinct for random keys', () => {
    const seed = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);
    const rnd = new Random(seed);
    const alphabet = ['a', '/', '.', '%', '\\', '2', 'E', '5', 'C', ' ', 'é', '🎉'];
    const seen = new Map<string, string>();
    for (let i = 0; i < 5000; i++) {
      const len = rnd.int(0, 12);
      let key = '';
      for (let j = 0; j < len; j++) key += rnd.pick(alphabet);
      const name = blobNameOfKey(key);
      expect(keyOfBlobName(name), `seed ${seed}: key ${JSON.stringify(key)}`).toBe(key);
      const other = seen.get(name);
      if (other !== undefined) expect(other, `seed ${seed}: two keys share blob name ${name}`).toBe(key);
      seen.set(name, key);
      expect(name.split('/').some((seg) => seg === '.' || seg === '..'), `seed ${seed}: ${name}`).toBe(false);
    }
  });
});
