import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { StoreError } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { integrity, INTEGRITY_OVERHEAD } from '../../src/layers/integrity.js';
import { utf8 } from '../../src/store.js';

async function expectIntegrityError(p: Promise<unknown>, key: string): Promise<void> {
  const err = await p.then(
    (v) => expect.fail(`expected an IntegrityError, got ${String(v)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  expect(err).toMatchObject({ kind: 'IntegrityError', retryable: false, op: 'get', key, store: 'integrity(memory)' });
}

describe('integrity layer', () => {
  it('stores a header with each value and returns the value unchanged', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, integrity());
    await store.put('k', utf8('hello'));
    expect((await inner.get('k'))!.byteLength).toBe(5 + INTEGRITY_OVERHEAD);
    expect(await store.get('k')).toEqual(utf8('hello'));
    expect(store.capabilities.maxValueBytes).toBe(Number.POSITIVE_INFINITY);
  });

  it('detects a flip of any single byte, in the header or the value', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, integrity());
    await store.put('k', utf8('some value'));
    const good = (await inner.get('k'))!;
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] = (bad[i] as number) ^ 0x01;
      await inner.put('k', bad);
      await expectIntegrityError(store.get('k'), 'k');
    }
  });

  it('detects truncation, extension and a value written without the layer', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, integrity());
    await store.put('k', utf8('value'));
    const good = (await inner.get('k'))!;
    await inner.put('k', good.subarray(0, good.length - 1));
    await expectIntegrityError(store.get('k'), 'k');
    await inner.put('k', new Uint8Array([...good, 0]));
    await expectIntegrityError(store.get('k'), 'k');
    await inner.put('k', utf8('raw'));
    await expectIntegrityError(store.get('k'), 'k');
    await inner.put('k', new Uint8Array(0));
    await expectIntegrityError(store.get('k'), 'k');
  });

  it('detects a value swapped or copied from another key', async () => {
    const inner = createMemoryStore();
    const store = compose(inner, integrity());
    await store.put('a', utf8('value of a'));
    await store.put('b', utf8('value of b'));
    const a = (await inner.get('a'))!;
    const b = (await inner.get('b'))!;
    await inner.put('a', b);
    await inner.put('b', a);
    await expectIntegrityError(store.get('a'), 'a');
    await expectIntegrityError(store.get('b'), 'b');
  });

  it('absent stays absent, and the empty value round-trips', async () => {
    const store = compose(createMemoryStore(), integrity());
    expect(await store.get('nope')).toBeNull();
    await store.put('e', new Uint8Array(0));
    expect(await store.get('e')).toEqual(new Uint8Array(0));
  });
});
