import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { ConfigError, StoreError, type ErrorKind } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { ForwardingStore } from '../../src/layers/forwarding.js';
import { metrics } from '../../src/layers/metrics.js';
import { retry, RetryStore, type RetryInfo, type RetryOptions } from '../../src/layers/retry.js';
import { utf8, type CallOptions } from '../../src/store.js';

/** Fails the first `n` gets with `kind`, then forwards. */
class Flaky extends ForwardingStore {
  calls = 0;
  constructor(
    private n: number,
    private kind: ErrorKind = 'Unavailable',
  ) {
    super(createMemoryStore(), 'flaky');
  }
  override async get(key: string, opts?: CallOptions) {
    this.calls++;
    if (this.calls <= this.n) throw new StoreError({ store: this.name, op: 'get', key, kind: this.kind });
    return this.inner.get(key, opts);
  }
}

describe('retry layer', () => {
  it('retries retryable errors until the call succeeds', async () => {
    const flaky = new Flaky(3);
    const store = retry({ baseDelayMs: 1, seed: 1 })(flaky);
    expect(await store.get('k')).toBeNull();
    expect(flaky.calls).toBe(4);
    expect((store as RetryStore).retries).toBe(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const flaky = new Flaky(10, 'RateLimited');
    const store = retry({ maxAttempts: 3, baseDelayMs: 1 })(flaky);
    await expect(store.get('k')).rejects.toMatchObject({ kind: 'RateLimited', op: 'get', key: 'k' });
    expect(flaky.calls).toBe(3);
  });

  it.each<ErrorKind>(['IntegrityError', 'PermissionDenied', 'NotFound', 'ConfigInvalid', 'Unexpected'])(
    'does not retry %s',
    async (kind) => {
      const flaky = new Flaky(1, kind);
      await expect(retry({ baseDelayMs: 1 })(flaky).get('k')).rejects.toMatchObject({ kind });
      expect(flaky.calls).toBe(1);
    },
  );

  it('does not retry an aborted call', async () => {
    const m = metrics();
    const store = compose(createMemoryStore(), m, retry({ baseDelayMs: 1 }));
    const ac = new AbortController();
    ac.abort();
    await expect(store.get('k', { signal: ac.signal })).rejects.toMatchObject({ kind: 'Timeout', aborted: true });
    expect(m.snapshot().get.calls).toBe(1);
  });

  it('the backoff is abortable', async () => {
    const store = retry({ baseDelayMs: 60_000, jitter: 'none' })(new Flaky(5));
    const ac = new AbortController();
    const p = store.get('k', { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await expect(p).rejects.toMatchObject({ kind: 'Timeout', aborted: true, store: 'retry(flaky(memory))', op: 'get', key: 'k' });
  });

  it('close ends a backoff', async () => {
    const store = retry({ baseDelayMs: 60_000, jitter: 'none' })(new Flaky(5));
    const p = store.get('k');
    await new Promise((r) => setTimeout(r, 5));
    await store.close();
    await expect(p).rejects.toMatchObject({ kind: 'Timeout' });
  });

  it('backs off exponentially up to the ceiling (no jitter)', async () => {
    const delays: number[] = [];
    const store = retry({ maxAttempts: 6, baseDelayMs: 1, multiplier: 2, maxDelayMs: 8, jitter: 'none', onRetry: (i) => delays.push(i.delayMs) })(
      new Flaky(5),
    );
    await store.get('k');
    expect(delays).toEqual([1, 2, 4, 8, 8]);
  });

  it('jitter is seeded: same seed, same delays, within the ceiling', async () => {
    const run = async (seed: number, jitter: RetryOptions['jitter']) => {
      const info: RetryInfo[] = [];
      await retry({ maxAttempts: 6, baseDelayMs: 2, seed, jitter, onRetry: (i) => info.push(i) })(new Flaky(5)).get('k');
      return info.map((i) => i.delayMs);
    };
    const a = await run(7, 'full');
    expect(await run(7, 'full')).toEqual(a);
    expect(await run(8, 'full')).not.toEqual(a);
    a.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(2 * 2 ** i);
    });
    const e = await run(7, 'equal');
    e.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(2 ** i);
      expect(d).toBeLessThanOrEqual(2 * 2 ** i);
    });
  });

  it('over a faulty store, transient errors disappear', async () => {
    const store = compose(createMemoryStore(), faults({ seed: 3, errorRate: 0.3 }), retry({ maxAttempts: 20, baseDelayMs: 0 }));
    for (let i = 0; i < 200; i++) await store.put(`k${i}`, utf8(String(i)));
    expect((await store.list('')).length).toBe(200);
  });

  it.each<[string, RetryOptions, RegExp]>([
    ['zero attempts', { maxAttempts: 0 }, /retry\.maxAttempts: must be an integer >= 1/],
    ['fractional attempts', { maxAttempts: 2.5 }, /retry\.maxAttempts/],
    ['negative delay', { baseDelayMs: -1 }, /retry\.baseDelayMs/],
    ['bad jitter', { jitter: 'some' as 'full' }, /retry\.jitter/],
  ])('rejects bad options with a ConfigError: %s', (_label, opts, message) => {
    expect(() => retry(opts)).toThrow(ConfigError);
    expect(() => retry(opts)).toThrow(message);
  });
});
