/**
 * The shared Store conformance suite. Every adapter and every layer runs it; a per-store test file is
 * a few lines:
 *
 * ```ts
 * describeStoreConformance('memory', async () => ({ store: createMemoryStore() }));
 * ```
 *
 * `make` is called once per describe block; every test writes under its own random key prefix, so
 * one store (an emulator bucket, a temp directory) serves all tests. Each test removes what it wrote.
 * The tests enforce the behaviour written on each method of `Store` in src/store.ts.
 */
import { randomBytes } from 'node:crypto';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, StoreError } from '../../src/errors.js';
import type { Store } from '../../src/store.js';

export interface ConformanceTarget {
  store: Store;
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the large-value round trip, capped at `capabilities.maxValueBytes`. @default 8 MiB */
  largeValueBytes?: number;
  /** Number of keys in the listing/pagination test (more than one page everywhere). @default 1100 */
  manyKeys?: number;
  /** Per-test timeout in milliseconds. @default 120000 */
  timeoutMs?: number;
}

const OPS = ['put', 'get', 'list', 'remove'] as const;

/** Keys that stress encoding: separators, dots, unicode, spaces and URL-special characters. */
export const AWKWARD_KEYS: readonly string[] = [
  'plain',
  'with space',
  '  leading and trailing spaces  ',
  'a/b/c',
  'trailing/',
  '/leading',
  'double//slash',
  '.',
  '..',
  '...',
  '../escape',
  '../../../../etc/passwd',
  'a/../b',
  'a/./b',
  '.hidden',
  'dots.in.name',
  'name.',
  'ünïcödé/ключ/键/キー',
  'emoji 🎉🚀',
  'percent%20%2F%',
  'plus+and=equals&amp',
  'question?mark#hash',
  'back\\slash',
  'colon:star*pipe|quote"lt<gt>',
  "apostrophe'tick`tilde~caret^",
  'CON',
  'nul.txt',
  '[brackets]{braces}(parens)',
  'UPPER and lower',
  'upper', // differs from UPPER only by case
  'Upper',
];

/** Keys that are not strings: each must be refused, never turned into a string (or into the empty key). */
export const BAD_KEYS: readonly (readonly [string, unknown])[] = [
  ['a number', 123],
  ['zero', 0],
  ['a boolean', true],
  ['a plain object', { a: 1 }],
  ['a symbol', Symbol('k')],
  ['undefined', undefined],
  ['null', null],
  ['a bigint', 5n],
  ['an array', ['k']],
  ['a String object', new String('k')],
  ['bytes', new Uint8Array([107])],
];

/** Values that are not Uint8Arrays: each must be refused, never encoded, narrowed or copied. */
export const BAD_VALUES: readonly (readonly [string, unknown])[] = [
  ['a string', 'hello'],
  ['an empty string', ''],
  ['a number', 5],
  ['a boolean', false],
  ['undefined', undefined],
  ['null', null],
  ['a Uint16Array', new Uint16Array([0x0102, 0x0203])],
  ['a Float32Array of 8 bytes', new Float32Array([1.5, 2.5])],
  ['an Int8Array', new Int8Array([1, -1])],
  ['a Uint8ClampedArray', new Uint8ClampedArray([1, 2])],
  ['a BigUint64Array', new BigUint64Array([1n])],
  ['a DataView', new DataView(new ArrayBuffer(8))],
  ['an ArrayBuffer', new ArrayBuffer(8)],
  ['an array of bytes', [1, 2, 3]],
  ['an array-like object', { length: 2, 0: 1, 1: 2 }],
  ['a plain object', { a: 1 }],
  ['a symbol', Symbol('v')],
  ['a Promise of bytes', Promise.resolve(new Uint8Array([1]))],
];

/** Prefixes that are not strings; `list()` without a prefix is one of them (the empty prefix is `''`). */
export const BAD_PREFIXES: readonly (readonly [string, unknown])[] = [
  ['undefined', undefined],
  ['null', null],
  ['a number', 0],
  ['a plain object', {}],
  ['a symbol', Symbol('p')],
  ['an array', ['a']],
];

/**
 * Calls `call` and checks the store refused it with a ConfigError for `arg`, as a rejected promise
 * (never a synchronous throw), with a message naming the store, the call, what was received and a fix.
 */
export async function expectArgumentError(
  call: () => Promise<unknown>,
  check: { arg: string; store: Store; op: string; fix?: string | RegExp },
): Promise<ConfigError> {
  let p: Promise<unknown> | undefined;
  expect(() => {
    p = call();
  }, `${check.op} must reject, not throw synchronously`).not.toThrow();
  expect(p, `${check.op} must return a promise`).toBeInstanceOf(Promise);
  let caught: unknown;
  await p!.then(
    () => expect.fail(`${check.op} with a bad ${check.arg} resolved; it must reject`),
    (e: unknown) => {
      caught = e;
    },
  );
  expect(caught, `expected a ConfigError, got ${String(caught)}`).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect(err.path).toBe(check.arg);
  expect(err.kind).toBe('ConfigInvalid');
  expect(err.message.startsWith(`${check.arg}: ${check.op}(`), err.message).toBe(true);
  expect(err.message, 'the message names the store').toContain(`on store ${check.store.name} `);
  expect(err.message, 'the message says what was received').toMatch(/, got /);
  if (check.fix !== undefined) expect(err.message).toMatch(check.fix);
  return err;
}

/** A fresh random key namespace for one test. */
function freshNamespace(): string {
  return `conf-${randomBytes(6).toString('hex')}/`;
}

/** Asserts byte equality without dumping megabytes on failure. */
export function expectBytes(actual: Uint8Array | null, expected: Uint8Array, what = 'value'): void {
  expect(actual, `${what}: expected bytes, got null`).not.toBeNull();
  const a = actual as Uint8Array;
  expect(a, `${what}: result must be a Uint8Array`).toBeInstanceOf(Uint8Array);
  if (a.byteLength !== expected.byteLength) {
    expect.fail(`${what}: length ${a.byteLength}, expected ${expected.byteLength}`);
  }
  const ab = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const eb = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (!ab.equals(eb)) {
    let i = 0;
    while (i < ab.length && ab[i] === eb[i]) i++;
    expect.fail(`${what}: bytes differ first at offset ${i} (got ${ab[i]}, expected ${eb[i]})`);
  }
}

async function expectStoreError(
  p: Promise<unknown>,
  check: { kind?: string; aborted?: boolean; op?: string; key?: string; store?: Store },
): Promise<StoreError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected the call to reject').toBeDefined();
  expect(caught, `expected a StoreError, got ${String(caught)}`).toBeInstanceOf(StoreError);
  const err = caught as StoreError;
  if (check.kind !== undefined) expect(err.kind).toBe(check.kind);
  if (check.aborted !== undefined) expect(err.aborted).toBe(check.aborted);
  if (check.op !== undefined) expect(err.op).toBe(check.op);
  if (check.key !== undefined) expect(err.key).toBe(check.key);
  expect(typeof err.retryable).toBe('boolean');
  expect(err.store.length, 'error must name the store').toBeGreaterThan(0);
  if (check.store) {
    // A layer may report its own name or the name of the store below it; both appear in the stack.
    expect(check.store.name, `error store ${JSON.stringify(err.store)} is not in the stack`).toContain(err.store);
  }
  expect(err.message).toContain(err.store);
  expect(err.message).toContain(err.op);
  expect(err.message).toContain(JSON.stringify(err.key));
  return err;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isSortedUnique(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (!((keys[i - 1] as string) < (keys[i] as string))) return false;
  return true;
}

type TestFn = (name: string, fn: () => Promise<void>) => void;

/**
 * Registers the set-up of a conformance block (inside a `describe`): `make` once, close (twice) and
 * clean up at the end, a fresh key namespace per test (`k('')` is the namespace itself) and removal of
 * what each test wrote.
 */
function perTestNamespace(
  label: string,
  make: () => Promise<ConformanceTarget>,
  timeout: number,
): { store: () => Store; k: (suffix: string) => string; test: TestFn } {
  let target: ConformanceTarget | undefined;
  let ns = '';
  const store = (): Store => {
    if (!target) throw new Error(`conformance(${label}): make() did not produce a store (see the beforeAll error)`);
    return target.store;
  };
  const k = (suffix: string) => ns + suffix;

  beforeAll(async () => {
    target = await make();
  }, timeout);

  afterAll(async () => {
    if (!target) return;
    try {
      await target.store.close();
      await target.store.close(); // close is idempotent
    } finally {
      await target.cleanup?.();
    }
  }, timeout);

  afterEach(async () => {
    // Best effort: leave the shared store as we found it.
    if (!target || !ns) return;
    const prefix = ns;
    ns = '';
    try {
      const keys = await target.store.list(prefix);
      await pool(keys, 16, (key) => target!.store.remove(key));
    } catch {
      // a failing store already failed its test
    }
  }, timeout);

  const test: TestFn = (name, fn) =>
    it(
      name,
      async () => {
        ns = freshNamespace();
        await fn();
      },
      timeout,
    );
  return { store, k, test };
}

/**
 * Defines a vitest `describe` block that runs the whole Store contract against the store built by `make`.
 */
export function describeStoreConformance(
  label: string,
  make: () => Promise<ConformanceTarget>,
  opts: ConformanceOptions = {},
): void {
  const largeValueBytes = opts.largeValueBytes ?? 8 * 1024 * 1024;
  const manyKeys = opts.manyKeys ?? 1100;
  const timeout = opts.timeoutMs ?? 120_000;

  describe(`Store conformance: ${label}`, () => {
    const { store, k, test } = perTestNamespace(label, make, timeout);

    // ---------------------------------------------------------------- shape

    test('has a name and sane capabilities', async () => {
      const s = store();
      expect(typeof s.name).toBe('string');
      expect(s.name.length).toBeGreaterThan(0);
      const c = s.capabilities;
      expect(typeof c.sortedList).toBe('boolean');
      expect(typeof c.linearizable).toBe('boolean');
      expect(typeof c.persistent).toBe('boolean');
      expect(c.maxKeyBytes).toBeGreaterThan(0);
      expect(c.maxValueBytes).toBeGreaterThan(0);
    });

    // ---------------------------------------------------------------- put / get

    test('put then get round-trips a small value', async () => {
      const s = store();
      const v = new TextEncoder().encode('hello, world');
      await s.put(k('small'), v);
      expectBytes(await s.get(k('small')), v);
    });

    test('get of an absent key returns null', async () => {
      expect(await store().get(k('never-written'))).toBeNull();
    });

    test('empty value round-trips and is not absent', async () => {
      const s = store();
      await s.put(k('empty'), new Uint8Array(0));
      const got = await s.get(k('empty'));
      expect(got).not.toBeNull();
      expectBytes(got, new Uint8Array(0));
      expect(await s.list(k('empty'))).toEqual([k('empty')]);
    });

    test('all 256 byte values round-trip byte-exact', async () => {
      const s = store();
      const v = new Uint8Array(512);
      for (let i = 0; i < v.length; i++) v[i] = (i * 7 + 3) & 0xff;
      for (let i = 0; i < 256; i++) v[i] = i; // every byte value, in order
      await s.put(k('bytes'), v);
      expectBytes(await s.get(k('bytes')), v);
    });

    test('random binary value round-trips byte-exact', async () => {
      const s = store();
      const v = new Uint8Array(randomBytes(64 * 1024 + 13));
      await s.put(k('random'), v);
      expectBytes(await s.get(k('random')), v);
    });

    test('large value round-trips byte-exact', async () => {
      const s = store();
      const size = Math.min(largeValueBytes, s.capabilities.maxValueBytes);
      const v = new Uint8Array(randomBytes(size));
      await s.put(k('large'), v);
      expectBytes(await s.get(k('large')), v, `${size}-byte value`);
    });

    test('overwrite replaces the value (longer and shorter)', async () => {
      const s = store();
      const a = new TextEncoder().encode('first value');
      const b = new TextEncoder().encode('a considerably longer second value');
      const c = new TextEncoder().encode('3');
      await s.put(k('ow'), a);
      await s.put(k('ow'), b);
      expectBytes(await s.get(k('ow')), b);
      await s.put(k('ow'), c);
      expectBytes(await s.get(k('ow')), c);
      expect(await s.list(k('ow'))).toEqual([k('ow')]);
    });

    test('the caller may reuse the buffer after put', async () => {
      const s = store();
      const buf = new Uint8Array([1, 2, 3, 4, 5]);
      await s.put(k('reuse'), buf);
      buf.fill(0);
      expectBytes(await s.get(k('reuse')), new Uint8Array([1, 2, 3, 4, 5]));
    });

    test('the returned buffer belongs to the caller', async () => {
      const s = store();
      await s.put(k('copy'), new Uint8Array([9, 8, 7]));
      const first = await s.get(k('copy'));
      expect(first).not.toBeNull();
      first!.fill(0);
      expectBytes(await s.get(k('copy')), new Uint8Array([9, 8, 7]));
    });

    test('put of a view stores only the bytes of the view', async () => {
      const s = store();
      const backing = new Uint8Array(64);
      for (let i = 0; i < backing.length; i++) backing[i] = i;
      const view = backing.subarray(10, 20);
      await s.put(k('view'), view);
      expectBytes(await s.get(k('view')), backing.slice(10, 20));
      const asBuffer = Buffer.from(backing.buffer, 30, 5); // a Node Buffer is a Uint8Array too
      await s.put(k('buffer'), asBuffer);
      expectBytes(await s.get(k('buffer')), backing.slice(30, 35));
    });

    test('awkward keys round-trip and stay distinct', async () => {
      const s = store();
      const keys = AWKWARD_KEYS.map((x) => k(x));
      const enc = new TextEncoder();
      for (const key of keys) {
        expect(enc.encode(key).byteLength, `test key too long for the store: ${key}`).toBeLessThanOrEqual(
          s.capabilities.maxKeyBytes,
        );
      }
      await pool(keys, 8, (key) => s.put(key, enc.encode(`value of ${key}`)));
      for (const key of keys) {
        expectBytes(await s.get(key), enc.encode(`value of ${key}`), `key ${JSON.stringify(key)}`);
      }
      const listed = await s.list(k(''));
      expect([...listed].sort()).toEqual([...keys].sort());
      if (s.capabilities.sortedList) expect(listed).toEqual([...keys].sort());
      // a key that only differs by a normalisable segment is a different key
      expect(await s.get(k('b'))).toBeNull();
      expect(await s.get(k('a/b'))).toBeNull();
      for (const key of keys) await s.remove(key);
      expect(await s.list(k(''))).toEqual([]);
    });

    test('concurrent puts to distinct keys all land', async () => {
      const s = store();
      const keys = Array.from({ length: 40 }, (_, i) => k(`conc/${String(i).padStart(3, '0')}`));
      await Promise.all(keys.map((key, i) => s.put(key, new Uint8Array([i]))));
      const got = await Promise.all(keys.map((key) => s.get(key)));
      got.forEach((v, i) => expectBytes(v, new Uint8Array([i]), keys[i]));
      expect(await s.list(k('conc/'))).toEqual(keys);
    });

    // ---------------------------------------------------------------- remove

    test('remove deletes the key', async () => {
      const s = store();
      await s.put(k('gone'), new Uint8Array([1]));
      await s.remove(k('gone'));
      expect(await s.get(k('gone'))).toBeNull();
      expect(await s.list(k('gone'))).toEqual([]);
    });

    test('remove is idempotent (absent key is fine)', async () => {
      const s = store();
      await s.remove(k('absent'));
      await s.put(k('twice'), new Uint8Array([1]));
      await s.remove(k('twice'));
      await s.remove(k('twice'));
      expect(await s.get(k('twice'))).toBeNull();
    });

    test('put after remove recreates the key', async () => {
      const s = store();
      await s.put(k('again'), new Uint8Array([1]));
      await s.remove(k('again'));
      await s.put(k('again'), new Uint8Array([2]));
      expectBytes(await s.get(k('again')), new Uint8Array([2]));
    });

    test('remove leaves keys that share a prefix', async () => {
      const s = store();
      await s.put(k('dir'), new Uint8Array([1]));
      await s.put(k('dir/child'), new Uint8Array([2]));
      await s.put(k('dirx'), new Uint8Array([3]));
      await s.remove(k('dir'));
      expect(await s.get(k('dir'))).toBeNull();
      expectBytes(await s.get(k('dir/child')), new Uint8Array([2]));
      expectBytes(await s.get(k('dirx')), new Uint8Array([3]));
      await s.remove(k('dir/child'));
      expect(await s.list(k(''))).toEqual([k('dirx')]);
    });

    // ---------------------------------------------------------------- list

    test('list returns exactly the keys under a prefix', async () => {
      const s = store();
      const all = ['a', 'a/1', 'a/2', 'a/2/deep', 'ab', 'b', 'b/1', 'é', 'é/x', 'z'].map(k);
      await pool(all, 8, (key) => s.put(key, new Uint8Array([1])));
      const check = async (prefix: string) => {
        const expected = all.filter((x) => x.startsWith(prefix)).sort();
        const listed = await s.list(prefix);
        expect(new Set(listed).size, `duplicates in list(${JSON.stringify(prefix)})`).toBe(listed.length);
        if (s.capabilities.sortedList) expect(listed).toEqual(expected);
        else expect([...listed].sort()).toEqual(expected);
      };
      await check(k(''));
      await check(k('a'));
      await check(k('a/'));
      await check(k('a/2'));
      await check(k('b'));
      await check(k('é'));
      await check(k('z'));
      await check(k('zz'));
      await check(k('nothing-here/'));
      await check(k('').slice(0, -1) + 'x'); // a sibling namespace: nothing
    });

    test('list with the empty prefix includes every key, sorted, without duplicates', async () => {
      const s = store();
      const mine = ['one', 'two', 'three/four'].map(k);
      await pool(mine, 4, (key) => s.put(key, new Uint8Array([1])));
      const listed = await s.list('');
      for (const key of mine) expect(listed).toContain(key);
      expect(new Set(listed).size).toBe(listed.length);
      if (s.capabilities.sortedList) expect(isSortedUnique(listed)).toBe(true);
    });

    test(`list drains every page (${manyKeys} keys)`, async () => {
      const s = store();
      const keys = Array.from({ length: manyKeys }, (_, i) => k(`many/${String(i).padStart(6, '0')}`));
      const empty = new Uint8Array(0);
      await pool(keys, 32, (key) => s.put(key, empty));
      await s.put(k('manyother'), empty);
      const listed = await s.list(k('many/'));
      expect(listed.length).toBe(keys.length);
      expect(new Set(listed).size).toBe(keys.length);
      if (s.capabilities.sortedList) expect(listed).toEqual(keys);
      else expect([...listed].sort()).toEqual(keys);
      const wider = await s.list(k('many'));
      expect(wider.length).toBe(keys.length + 1);
    });

    test('list sorts by UTF-16 code units', async () => {
      const s = store();
      if (!s.capabilities.sortedList) return;
      // code-unit order: 'B' < 'a' < 'é' < '中' < '\u{1F600}' (surrogates, 0xD83D) < '\uFF5E'
      const keys = ['a', 'B', 'é', '中', '\u{1F600}', '\uFF5E', 'a/b', 'a b', 'a.b', 'a-b', 'a0'].map(k);
      await pool(keys, 8, (key) => s.put(key, new Uint8Array([1])));
      const expected = [...keys].sort();
      expect(await s.list(k(''))).toEqual(expected);
    });

    // ---------------------------------------------------------------- argument types

    defineArgumentTests(store, k, test);

    // ---------------------------------------------------------------- abort and errors

    for (const op of OPS) {
      test(`${op} with an already-aborted signal rejects with Timeout, aborted=true`, async () => {
        const s = store();
        const key = k(`aborted-${op}`);
        await s.put(key, new Uint8Array([1]));
        const ac = new AbortController();
        ac.abort();
        const signal = ac.signal;
        const call =
          op === 'put'
            ? s.put(key, new Uint8Array([2]), { signal })
            : op === 'get'
              ? s.get(key, { signal })
              : op === 'list'
                ? s.list(key, { signal })
                : s.remove(key, { signal });
        const err = await expectStoreError(call, { kind: 'Timeout', aborted: true, op, key, store: s });
        expect(err.retryable).toBe(false);
        // nothing happened
        expectBytes(await s.get(key), new Uint8Array([1]));
      });
    }

    test('a timeout signal reports Timeout, aborted=true', async () => {
      const s = store();
      const signal = AbortSignal.timeout(0);
      await new Promise((r) => setTimeout(r, 5));
      await expectStoreError(s.get(k('t'), { signal }), { kind: 'Timeout', aborted: true, op: 'get', key: k('t') });
    });

    test('a call aborted in flight settles: it completes or rejects with Timeout', async () => {
      const s = store();
      for (const op of OPS) {
        const ac = new AbortController();
        const key = k(`inflight-${op}`);
        const call: Promise<unknown> =
          op === 'put'
            ? s.put(key, new Uint8Array([1]), { signal: ac.signal })
            : op === 'get'
              ? s.get(key, { signal: ac.signal })
              : op === 'list'
                ? s.list(key, { signal: ac.signal })
                : s.remove(key, { signal: ac.signal });
        setTimeout(() => ac.abort(), 1);
        try {
          await call;
        } catch (e) {
          expect(e).toBeInstanceOf(StoreError);
          expect((e as StoreError).kind).toBe('Timeout');
          expect((e as StoreError).aborted).toBe(true);
          expect((e as StoreError).op).toBe(op);
        }
      }
    });

    test('an unaborted signal does not change the result', async () => {
      const s = store();
      const { signal } = new AbortController();
      await s.put(k('sig'), new Uint8Array([4, 2]), { signal });
      expectBytes(await s.get(k('sig'), { signal }), new Uint8Array([4, 2]));
      expect(await s.list(k('sig'), { signal })).toEqual([k('sig')]);
      await s.remove(k('sig'), { signal });
      expect(await s.get(k('sig'), { signal })).toBeNull();
    });

    test('a completed put is visible to the next get and list (linearizable stores)', async () => {
      const s = store();
      if (!s.capabilities.linearizable) return;
      for (let i = 0; i < 20; i++) {
        await s.put(k('lin'), new Uint8Array([i]));
        expectBytes(await s.get(k('lin')), new Uint8Array([i]), `round ${i}`);
      }
      expect(await s.list(k('lin'))).toEqual([k('lin')]);
    });
  });
}

/**
 * The argument checks every store makes at its public entry (src/store-args.ts): keys are non-empty
 * strings, prefixes strings, values Uint8Arrays, options an object with an AbortSignal; anything else rejects with
 * a ConfigError naming the argument, and nothing is written.
 */
function defineArgumentTests(store: () => Store, k: (suffix: string) => string, test: TestFn): void {
  test('a Buffer is a Uint8Array: it round-trips, and get returns a Uint8Array', async () => {
    const s = store();
    await s.put(k('buf'), Buffer.from('hello'));
    const got = await s.get(k('buf'));
    expect(got).toBeInstanceOf(Uint8Array);
    expectBytes(got, new TextEncoder().encode('hello'));
  });

  test('a Uint8Array made in another realm round-trips', async () => {
    const s = store();
    const foreign = runInNewContext('new Uint8Array([3, 1, 4, 1, 5])') as Uint8Array;
    expect(foreign instanceof Uint8Array).toBe(false);
    await s.put(k('realm'), foreign);
    expectBytes(await s.get(k('realm')), new Uint8Array([3, 1, 4, 1, 5]));
  });

  test('every call refuses a key that is not a string, and nothing is written', async () => {
    const s = store();
    for (const [what, bad] of BAD_KEYS) {
      const key = bad as string;
      for (const op of OPS) {
        const call =
          op === 'put'
            ? () => s.put(key, new Uint8Array([1]))
            : op === 'get'
              ? () => s.get(key)
              : op === 'list'
                ? () => s.list(key)
                : () => s.remove(key);
        const err = await expectArgumentError(call, { arg: op === 'list' ? 'prefix' : 'key', store: s, op });
        expect(err.message, `${op} with ${what}`).toContain(op === 'list' ? 'string prefix' : 'string key');
      }
    }
    // nothing was written, in particular not under the empty key (where the robust store put them)
    expect(await s.list(k(''))).toEqual([]);
    expect((await s.list('')).includes(''), 'a key was written under the empty key').toBe(false);
  });

  test('put, get and remove refuse the empty key with a ConfigError, on every store alike', async () => {
    // Azure Blob and GCS answer 400 to "", and on S3 it addresses the bucket itself: no store takes it
    const s = store();
    const before = await s.list('');
    for (const op of ['put', 'get', 'remove'] as const) {
      const call = op === 'put' ? () => s.put('', new Uint8Array([1])) : op === 'get' ? () => s.get('') : () => s.remove('');
      const err = await expectArgumentError(call, { arg: 'key', store: s, op });
      expect(err.message).toContain('non-empty key');
    }
    expect(await s.list('')).toEqual(before);
  });

  test('put refuses a value that is not a Uint8Array, and keeps the value it had', async () => {
    const s = store();
    await s.put(k('kept'), new Uint8Array([7, 7]));
    for (const [what, bad] of BAD_VALUES) {
      const fix =
        typeof bad === 'string'
          ? /new TextEncoder\(\)\.encode/
          : bad instanceof ArrayBuffer
            ? /new Uint8Array\(buffer\)/
            : ArrayBuffer.isView(bad)
              ? /new Uint8Array\(\w+\.buffer, \w+\.byteOffset, \w+\.byteLength\)/
              : bad === undefined || bad === null
                ? /remove\(key\)/
                : undefined;
      const err = await expectArgumentError(() => s.put(k('fresh'), bad as Uint8Array), { arg: 'value', store: s, op: 'put', fix });
      expect(err.message, what).toContain('Uint8Array');
      await expectArgumentError(() => s.put(k('kept'), bad as Uint8Array), { arg: 'value', store: s, op: 'put' });
    }
    expect(await s.get(k('fresh'))).toBeNull();
    expectBytes(await s.get(k('kept')), new Uint8Array([7, 7]));
    expect(await s.list(k(''))).toEqual([k('kept')]);
  });

  test('list refuses a prefix that is not a string (list() does not mean every key)', async () => {
    const s = store();
    for (const [, bad] of BAD_PREFIXES) {
      const fix = bad === undefined || bad === null ? /pass '' to list every key/ : undefined;
      await expectArgumentError(() => s.list(bad as string), { arg: 'prefix', store: s, op: 'list', fix });
    }
    await expectArgumentError(() => (s.list as () => Promise<string[]>)(), { arg: 'prefix', store: s, op: 'list' });
  });

  test('every call refuses options that are not an object with an AbortSignal', async () => {
    const s = store();
    const v = new Uint8Array([1]);
    const calls = (opts: unknown) => ({
      put: () => s.put(k('o'), v, opts as never),
      get: () => s.get(k('o'), opts as never),
      list: () => s.list(k('o'), opts as never),
      remove: () => s.remove(k('o'), opts as never),
    });
    for (const op of OPS) {
      await expectArgumentError(calls(5000)[op], { arg: 'opts', store: s, op, fix: /AbortSignal\.timeout\(5000\)/ });
      await expectArgumentError(calls('fast')[op], { arg: 'opts', store: s, op });
      await expectArgumentError(calls({ signal: 5000 })[op], { arg: 'opts.signal', store: s, op, fix: /AbortSignal\.timeout\(5000\)/ });
      await expectArgumentError(calls({ signal: true })[op], { arg: 'opts.signal', store: s, op });
    }
    expect(await s.get(k('o'))).toBeNull();
  });
}

/**
 * Only the argument checks, for a store that is not (yet) held to the whole suite: a vitest
 * `describe` block with the same set-up as {@link describeStoreConformance}.
 */
export function describeArgumentConformance(label: string, make: () => Promise<ConformanceTarget>, opts: Pick<ConformanceOptions, 'timeoutMs'> = {}): void {
  describe(`Store argument checks: ${label}`, () => {
    const { store, k, test } = perTestNamespace(label, make, opts.timeoutMs ?? 120_000);
    defineArgumentTests(store, k, test);
  });
}
