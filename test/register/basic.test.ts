import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createRobustStore, encodeRegister } from '../../src/register/index.js';
import { MATRIX, bytes, copiesAt, memories, text } from './helpers.js';

describe.each(MATRIX)('robust store $variant/$schedule', ({ variant, schedule }) => {
  const make = (n = 3, extra: Record<string, unknown> = {}) => {
    const reps = memories(n);
    const store = createRobustStore({ replicas: reps, variant, schedule, clientId: 'c1', ...extra });
    return { reps, store };
  };

  it('reads an empty register as absent', async () => {
    const { store } = make();
    const r = await store.read('nothing');
    expect(r).toMatchObject({ ts: null, value: null, tombstone: false, wroteBack: false });
    expect(await store.get('nothing')).toBeNull();
  });

  it('reads its own write, and later writes win', async () => {
    const { store } = make();
    const w1 = await store.write('k', bytes('one'));
    expect(w1.ts).toEqual({ num: 1, clientId: 'c1' });
    expect(text((await store.read('k')).value)).toBe('one');
    const w2 = await store.write('k', bytes('two'));
    expect(w2.ts.num).toBe(2);
    const r = await store.read('k');
    expect(text(r.value)).toBe('two');
    expect(r.ts).toEqual(w2.ts);
    await store.put('k', bytes('three'));
    expect(text(await store.get('k'))).toBe('three');
  });

  it('a second client sees the first one\'s write and writes above it', async () => {
    const reps = memories(3);
    const a = createRobustStore({ replicas: reps, variant, schedule, clientId: 'a' });
    const b = createRobustStore({ replicas: reps, variant, schedule, clientId: 'b' });
    await a.write('x', bytes('from a'));
    expect(text(await b.get('x'))).toBe('from a');
    const wb = await b.write('x', bytes('from b'));
    expect(wb.ts).toEqual({ num: 2, clientId: 'b' });
    expect(text(await a.get('x'))).toBe('from b');
  });

  it('stores values of 0 bytes and 8 MiB byte-exact', async () => {
    const { store } = make();
    await store.put('empty', new Uint8Array(0));
    const e = await store.get('empty');
    expect(e).not.toBeNull();
    expect(e?.length).toBe(0);
    const big = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    big[big.length - 1] = 0x5a;
    await store.put('big', big);
    const got = await store.get('big');
    expect(got?.length).toBe(big.length);
    expect(Buffer.compare(Buffer.from(got as Uint8Array), Buffer.from(big))).toBe(0);
  });

  it('does not keep a reference to the caller\'s buffer', async () => {
    const { store } = make();
    const buf = bytes('abc');
    await store.put('b', buf);
    buf[0] = 0x7a;
    expect(text(await store.get('b'))).toBe('abc');
  });

  it('removes with a tombstone; list shows live names only, by prefix', async () => {
    const { store, reps } = make();
    for (const k of ['a/1', 'a/2', 'a/3', 'b/1', 'ab']) await store.put(k, bytes(k));
    await store.remove('a/2');
    expect(await store.get('a/2')).toBeNull();
    const r = await store.read('a/2');
    expect(r.tombstone).toBe(true);
    expect(r.value).toBeNull();
    expect(await store.list('a/')).toEqual(['a/1', 'a/3']);
    expect(await store.list('a')).toEqual(['a/1', 'a/3', 'ab']);
    expect(await store.list('')).toEqual(['a/1', 'a/3', 'ab', 'b/1']);
    expect(await store.list('zzz')).toEqual([]);
    // removing an absent register is fine, and writing again revives a removed one
    await store.remove('never-written');
    await store.put('a/2', bytes('back'));
    expect(text(await store.get('a/2'))).toBe('back');
    expect(await store.list('a/')).toEqual(['a/1', 'a/2', 'a/3']);
    // tombstones are marked in the key: list makes no get call
    await store.settled();
    const tomb = (await reps[0]!.list(`${encodeRegister('never-written')}/t/`))[0];
    expect(tomb).toMatch(/\.d$/);
  });

  it('keeps exactly 2 copies per replica per register after quiescence', async () => {
    const { store, reps } = make(5);
    for (let i = 0; i < 6; i++) await store.put('reg', bytes(`v${i}`));
    await store.remove('gone');
    await store.remove('gone');
    await store.settled();
    for (const m of reps) {
      for (const name of ['reg', 'gone']) {
        const c = await copiesAt(m, encodeRegister(name));
        expect(c.temp.length, `${m.name} ${name}`).toBe(1);
        expect(c.eternal.length).toBe(1);
      }
    }
  });

  it('gc "sync" has collected before the write returns', async () => {
    const { store, reps } = make(3, { gc: 'sync' });
    await store.put('s', bytes('1'));
    await store.put('s', bytes('2'));
    const enc = encodeRegister('s');
    for (const m of reps) expect((await copiesAt(m, enc)).temp).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('checks n >= 2t + 1 with a clear error', () => {
    expect(() => createRobustStore({ replicas: memories(3), variant: 'regular', faults: 2 })).toThrow(ConfigError);
    expect(() => createRobustStore({ replicas: memories(3), variant: 'regular', faults: 2 })).toThrow(/n >= 2t \+ 1 = 5.*3 were given/);
    expect(() => createRobustStore({ replicas: memories(4), variant: 'regular', faults: 2 })).toThrow(/at most 1/);
  });

  it('defaults t = floor((n-1)/2), q = n - t, fast schedule, random unique client ids', () => {
    for (const [n, t] of [
      [1, 0],
      [2, 0],
      [3, 1],
      [4, 1],
      [5, 2],
    ] as const) {
      const s = createRobustStore({ replicas: memories(n), variant: 'regular' });
      expect([s.n, s.t, s.q, s.schedule]).toEqual([n, t, n - t, 'fast']);
    }
    const ids = new Set(Array.from({ length: 50 }, () => createRobustStore({ replicas: memories(1), variant: 'atomic' }).clientId));
    expect(ids.size).toBe(50);
  });

  it('rejects bad options naming the field', () => {
    const reps = memories(3);
    expect(() => createRobustStore({ replicas: [], variant: 'regular' })).toThrow(/replicas/);
    expect(() => createRobustStore({ replicas: [reps[0]!, reps[0]!, reps[1]!], variant: 'regular' })).toThrow(/same store object twice/);
    expect(() => createRobustStore({ replicas: reps, variant: 'strong' as never })).toThrow(/variant/);
    expect(() => createRobustStore({ replicas: reps, variant: 'regular', schedule: 'slow' as never })).toThrow(/schedule/);
    expect(() => createRobustStore({ replicas: reps, variant: 'regular', clientId: '' })).toThrow(/clientId/);
    expect(() => createRobustStore({ replicas: reps, variant: 'regular', clientId: 'x'.repeat(65) })).toThrow(/at most 64/);
    expect(() => createRobustStore({ replicas: reps, variant: 'regular', faults: -1 })).toThrow(/faults/);
    expect(() => createRobustStore({ replicas: reps, variant: 'regular', operationTimeoutMs: 0 })).toThrow(/operationTimeoutMs/);
  });

  it('rejects calls after close', async () => {
    const s = createRobustStore({ replicas: memories(3), variant: 'regular' });
    await s.close();
    await s.close();
    await expect(s.put('k', bytes('v'))).rejects.toThrow(/closed/);
  });

});
