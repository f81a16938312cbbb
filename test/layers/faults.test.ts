import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { faults, FaultyStore, type FaultsOptions } from '../../src/layers/faults.js';
import { ForwardingStore } from '../../src/layers/forwarding.js';
import { latency } from '../../src/layers/latency.js';
import { utf8, type CallOptions } from '../../src/store.js';

/** Resolves to 'pending' when `p` has not settled after a few event-loop turns. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return s;
}

/** An inner store whose get waits until released. */
class Gate extends ForwardingStore {
  release: () => void = () => undefined;
  constructor() {
    super(createMemoryStore(), 'gate');
  }
  override async get(key: string, opts?: CallOptions) {
    await new Promise<void>((r) => (this.release = r));
    return this.inner.get(key, opts);
  }
}

async function failures(opts: FaultsOptions, calls: number): Promise<number[]> {
  const store = compose(createMemoryStore(), faults(opts));
  const failed: number[] = [];
  for (let i = 0; i < calls; i++) {
    try {
      await store.get('k');
    } catch (e) {
      expect(e).toBeInstanceOf(StoreError);
      failed.push(i);
    }
  }
  return failed;
}

describe('faults layer: transient errors', () => {
  it.each([1, 2, 3, 'text-seed'])('the error rate holds statistically (seed %s)', async (seed) => {
    const n = 5000;
    const failed = await failures({ seed, errorRate: 0.2 }, n);
    // binomial sd = sqrt(0.2 * 0.8 / 5000) ≈ 0.0057; allow five of them
    expect(failed.length / n).toBeGreaterThan(0.2 - 0.03);
    expect(failed.length / n).toBeLessThan(0.2 + 0.03);
  });

  it('the same seed fails the same calls; another seed fails others', async () => {
    const a = await failures({ seed: 9, errorRate: 0.1 }, 1000);
    expect(await failures({ seed: 9, errorRate: 0.1 }, 1000)).toEqual(a);
    expect(await failures({ seed: 10, errorRate: 0.1 }, 1000)).not.toEqual(a);
  });

  it('rate 0 never fails, rate 1 always fails', async () => {
    expect(await failures({ seed: 1, errorRate: 0 }, 200)).toEqual([]);
    expect((await failures({ seed: 1, errorRate: 1 }, 200)).length).toBe(200);
  });

  it('injected errors are retryable StoreErrors of the chosen kind, naming store, call and key', async () => {
    const store = compose(createMemoryStore(), faults({ seed: 1, errorRate: 1, errorKind: 'RateLimited' }));
    const err = (await store.put('the-key', utf8('v')).catch((e: unknown) => e)) as StoreError;
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ kind: 'RateLimited', retryable: true, store: 'faults(memory)', op: 'put', key: 'the-key' });
    expect(err.message).toContain('injected');
  });

  it('errorTiming "before" leaves the store untouched, "after" applies the write and loses the answer', async () => {
    const innerBefore = createMemoryStore();
    await expect(compose(innerBefore, faults({ seed: 1, errorRate: 1 })).put('k', utf8('v'))).rejects.toThrow(StoreError);
    expect(await innerBefore.get('k')).toBeNull();
    const innerAfter = createMemoryStore();
    await expect(compose(innerAfter, faults({ seed: 1, errorRate: 1, errorTiming: 'after' })).put('k', utf8('v'))).rejects.toThrow(
      StoreError,
    );
    expect(await innerAfter.get('k')).not.toBeNull();
  });

  it('ops limits which calls fail; setErrorRate changes the rate at run time; stats count', async () => {
    const f = faults({ seed: 1, errorRate: 1, ops: ['put'] });
    const store = compose(createMemoryStore(), f);
    await expect(store.put('k', utf8('v'))).rejects.toThrow(StoreError);
    expect(await store.get('k')).toBeNull();
    f.setErrorRate(0);
    await store.put('k', utf8('v'));
    expect(f.stats()).toEqual({ transientErrors: 1, crashedCalls: 0 });
  });
});

describe('faults layer: crash and recover', () => {
  it('hang mode: calls hang until aborted, then reject with Timeout', async () => {
    const f = faults({ seed: 1, crashMode: 'hang' });
    const store = compose(createMemoryStore(), f);
    await store.put('k', utf8('v'));
    f.crash();
    expect(f.crashed).toBe(true);
    const ac = new AbortController();
    const p = store.get('k', { signal: ac.signal });
    expect(await state(p)).toBe('pending');
    ac.abort();
    await expect(p).rejects.toMatchObject({ kind: 'Timeout', aborted: true, op: 'get', key: 'k' });
    // a timeout signal works too
    await expect(store.list('', { signal: AbortSignal.timeout(10) })).rejects.toMatchObject({ kind: 'Timeout', aborted: true });
  });

  it('fail mode: calls fail at once with a retryable Unavailable error', async () => {
    const f = faults({ seed: 1 });
    const store = compose(createMemoryStore(), f);
    f.crash('fail');
    await expect(store.put('k', utf8('v'))).rejects.toMatchObject({ kind: 'Unavailable', retryable: true, op: 'put', key: 'k' });
    expect(f.stats().crashedCalls).toBe(1);
  });

  it('recover makes the store answer again, with its data intact', async () => {
    const f = faults({ seed: 1, crashed: true, crashMode: 'fail' });
    const store = compose(createMemoryStore(), f);
    await expect(store.get('k')).rejects.toThrow(StoreError);
    f.recover();
    expect(f.crashed).toBe(false);
    await store.put('k', utf8('v'));
    f.crash();
    f.recover();
    expect(await store.get('k')).toEqual(utf8('v'));
  });

  it('a crash loses the answer of calls in flight', async () => {
    const gate = new Gate();
    const f = faults({ seed: 1, crashMode: 'fail' });
    const store = f(gate);
    const p = store.get('k');
    f.crash();
    gate.release();
    await expect(p).rejects.toMatchObject({ kind: 'Unavailable' });
  });

  it('close releases hung calls', async () => {
    const f = faults({ seed: 1, crashed: true });
    const store = compose(createMemoryStore(), f);
    const p = store.get('k');
    expect(await state(p)).toBe('pending');
    await store.close();
    await expect(p).rejects.toMatchObject({ kind: 'Timeout', aborted: true });
  });

  it('one controller crashes every store it wraps together', async () => {
    const f = faults({ seed: 1, crashMode: 'fail' });
    const a = compose(createMemoryStore({ name: 'a' }), f);
    const b = compose(createMemoryStore({ name: 'b' }), f);
    expect(a).toBeInstanceOf(FaultyStore);
    f.crash();
    await expect(a.get('k')).rejects.toMatchObject({ store: 'faults(a)' });
    await expect(b.get('k')).rejects.toMatchObject({ store: 'faults(b)' });
    f.recover();
    expect(await a.get('k')).toBeNull();
  });
});

describe('faults layer: slow-down and options', () => {
  it('slowdown stretches each call to a multiple of the inner time', async () => {
    const f = faults({ seed: 1, slowdown: 3 });
    const store = compose(createMemoryStore(), latency({ delay: 30 }), f);
    const t0 = performance.now();
    await store.get('k');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(80); // 30 ms inner, then twice that again
    f.setSlowdown(1);
    expect(() => f.setSlowdown(0.5)).toThrow(/setSlowdown\(factor\): must be a finite factor >= 1/);
  });

  it.each<[string, unknown, RegExp]>([
    ['missing seed', {}, /faults\.seed: is required/],
    ['rate above 1', { seed: 1, errorRate: 1.5 }, /faults\.errorRate: must be a probability/],
    ['bad kind', { seed: 1, errorKind: 'Oops' }, /faults\.errorKind: must be one of/],
    ['bad timing', { seed: 1, errorTiming: 'during' }, /faults\.errorTiming/],
    ['bad op', { seed: 1, ops: ['get', 'scan'] }, /faults\.ops\[1\]/],
    ['bad mode', { seed: 1, crashMode: 'explode' }, /faults\.crashMode: must be "hang" or "fail"/],
    ['slowdown below 1', { seed: 1, slowdown: 0 }, /faults\.slowdown/],
  ])('rejects bad options with a ConfigError: %s', (_label, opts, message) => {
    expect(() => faults(opts as FaultsOptions)).toThrow(ConfigError);
    expect(() => faults(opts as FaultsOptions)).toThrow(message);
  });
});
