import { describe, expect, it } from 'vitest';
import { createMemoryStore, MemoryStore } from '../../src/adapters/memory.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { prefixed } from '../../src/layers/prefix.js';
import { DEFAULT_CAPABILITIES, utf8 } from '../../src/store.js';

describe('prefix layer', () => {
  it('stores every key under the prefix and strips it when listing', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, prefixed('run-1/'));
    await store.put('a', utf8('1'));
    await store.put('b/c', utf8('2'));
    expect(await inner.list('')).toEqual(['run-1/a', 'run-1/b/c']);
    expect(await store.list('')).toEqual(['a', 'b/c']);
    expect(await store.list('b')).toEqual(['b/c']);
    expect(await store.get('a')).toEqual(utf8('1'));
    await store.remove('a');
    expect(await inner.list('')).toEqual(['run-1/b/c']);
  });

  it('two namespaces on one store do not see each other', async () => {
    const inner = createMemoryStore();
    const one = compose(inner, prefixed('one/'));
    const two = compose(inner, prefixed('one-two/')); // shares a textual prefix with the first
    await one.put('k', utf8('1'));
    await two.put('k', utf8('2'));
    expect(await one.list('')).toEqual(['k']);
    expect(await two.list('')).toEqual(['k']);
    expect(await one.get('k')).toEqual(utf8('1'));
    expect(await two.get('k')).toEqual(utf8('2'));
  });

  it('errors name the key as the caller gave it and keep their kind', async () => {
    const f = faults({ seed: 1, crashMode: 'fail', crashed: true });
    const store = compose(createMemoryStore(), f, prefixed('ns/'));
    const err = (await store.get('k').catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ kind: 'Unavailable', retryable: true, key: 'k', op: 'get', store: 'prefixed[ns/](faults(memory))' });
    expect((err.cause as StoreError).key).toBe('ns/k');
  });

  it('reduces the key limit by the prefix length', () => {
    class Limited extends MemoryStore {
      override readonly capabilities = { ...DEFAULT_CAPABILITIES, maxKeyBytes: 100 };
    }
    const inner = new Limited();
    expect(prefixed('ünï/')(inner).capabilities.maxKeyBytes).toBe(100 - 6);
  });

  it('rejects a non-string prefix', () => {
    expect(() => prefixed(3 as unknown as string)).toThrow(ConfigError);
  });
});
