import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { encryption, ENCRYPTION_OVERHEAD, parseEncryptionKey } from '../../src/layers/encryption.js';
import { integrity } from '../../src/layers/integrity.js';
import { utf8 } from '../../src/store.js';

const KEY = randomBytes(32);

async function expectIntegrityError(p: Promise<unknown>, key: string): Promise<StoreError> {
  const err = await p.then(
    (v) => expect.fail(`expected an IntegrityError, got ${String(v)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect(err).toMatchObject({ kind: 'IntegrityError', retryable: false, op: 'get', key });
  return err as StoreError;
}

describe('encryption layer', () => {
  it('the provider never sees the plaintext; each put uses a fresh IV', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, encryption({ key: KEY }));
    const secret = utf8('attack at dawn, attack at dawn, attack at dawn');
    await store.put('k', secret);
    const first = (await inner.get('k'))!;
    expect(first.byteLength).toBe(secret.byteLength + ENCRYPTION_OVERHEAD);
    expect(Buffer.from(first).includes(Buffer.from('attack'))).toBe(false);
    await store.put('k', secret);
    const second = (await inner.get('k'))!;
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(false);
    expect(await store.get('k')).toEqual(secret);
  });

  it('a wrong key gives an IntegrityError, never bytes', async () => {
    const inner = createMemoryStore();
    await compose(inner, encryption({ key: KEY })).put('k', utf8('v'));
    const other = compose(inner, encryption({ key: randomBytes(32) }));
    const err = await expectIntegrityError(other.get('k'), 'k');
    expect(err.message).toContain('wrong key');
  });

  it('tampering with any byte gives an IntegrityError', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, encryption({ key: KEY }));
    await store.put('k', utf8('sixteen byte msg'));
    const good = (await inner.get('k'))!;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] = (bad[i] as number) ^ 0x80;
      await inner.put('k', bad);
      await expectIntegrityError(store.get('k'), 'k');
    }
    await inner.put('k', good.subarray(0, ENCRYPTION_OVERHEAD - 1));
    await expectIntegrityError(store.get('k'), 'k');
    await inner.put('k', utf8('plain text written by someone else'));
    await expectIntegrityError(store.get('k'), 'k');
  });

  it('a ciphertext moved to another key does not decrypt (the key name is authenticated)', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, encryption({ key: KEY }));
    await store.put('a', utf8('for a'));
    await inner.put('b', (await inner.get('a'))!);
    await expectIntegrityError(store.get('b'), 'b');
  });

  it('composes with integrity and keeps empty values', async () => {
    const store = compose(createMemoryStore(), encryption({ key: KEY }), integrity());
    await store.put('e', new Uint8Array(0));
    expect(await store.get('e')).toEqual(new Uint8Array(0));
    expect(store.name).toBe('integrity(encryption(memory))');
  });

  it('accepts the key as bytes, hex or base64 (standard and URL-safe), all equal', async () => {
    const inner = createMemoryStore();
    await compose(inner, encryption({ key: KEY })).put('k', utf8('v'));
    for (const key of [KEY.toString('hex'), KEY.toString('hex').toUpperCase(), KEY.toString('base64'), KEY.toString('base64url'), ` ${KEY.toString('base64')}\n`]) {
      expect(await compose(inner, encryption({ key })).get('k')).toEqual(utf8('v'));
    }
    expect(parseEncryptionKey(new Uint8Array(KEY))).toEqual(KEY);
  });

  it.each<[string, unknown, RegExp]>([
    ['31 bytes', new Uint8Array(31), /encryption\.key: is 31 bytes, AES-256 needs 32/],
    ['short hex', 'abcd', /encryption\.key: decodes \(as base64\) to 3 bytes/],
    ['base64 of 16 bytes', Buffer.alloc(16).toString('base64'), /to 16 bytes, AES-256 needs 32/],
    ['not an encoding', 'my secret password!', /encryption\.key: is neither hex nor base64/],
    ['missing', undefined, /encryption\.key: is missing/],
    ['a number', 42, /wrong type \(number\)/],
  ])('rejects a bad key with a ConfigError: %s', (_label, key, message) => {
    const make = () => encryption({ key: key as string });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
    expect(make).toThrow(/openssl rand -base64 32/);
  });

  it('never echoes the key in errors', () => {
    const secret = 'my secret password!';
    expect(() => encryption({ key: secret })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }));
  });
});
