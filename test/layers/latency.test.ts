import * as hdr from 'hdr-histogram-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { ConfigError, StoreError, type StoreOp } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import {
  createDelaySampler,
  latency,
  LatencyStore,
  PendingWaits,
  sampleDelays,
  type DelayDistribution,
  type LatencyOptions,
} from '../../src/layers/latency.js';
import { utf8 } from '../../src/store.js';
import { Random } from '../../src/util/random.js';
import { mean, percentile, stddev } from './stats.js';

const N = 20_000;
const SEEDS = [1, 2, 3];

function draw(dist: DelayDistribution, seed: number, n = N): number[] {
  const s = createDelaySampler(dist, new Random(seed));
  return Array.from({ length: n }, s);
}

describe('latency distributions (seeded, generous bounds over many samples)', () => {
  it.each(SEEDS)('fixed delay is exact (seed %i)', (seed) => {
    expect(new Set(draw(25, seed, 100))).toEqual(new Set([25]));
    expect(new Set(draw({ kind: 'fixed', ms: 7 }, seed, 100))).toEqual(new Set([7]));
  });

  it.each(SEEDS)('uniform stays in range with the right mean (seed %i)', (seed) => {
    const xs = draw({ kind: 'uniform', minMs: 10, maxMs: 30 }, seed);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...xs)).toBeLessThan(30);
    expect(mean(xs)).toBeGreaterThan(19.5);
    expect(mean(xs)).toBeLessThan(20.5);
    expect(percentile(xs, 25)).toBeCloseTo(15, 0);
  });

  it.each(SEEDS)('normal has the requested mean and spread, never negative (seed %i)', (seed) => {
    const xs = draw({ kind: 'normal', meanMs: 100, stddevMs: 10 }, seed);
    expect(mean(xs)).toBeGreaterThan(99.5);
    expect(mean(xs)).toBeLessThan(100.5);
    expect(stddev(xs)).toBeGreaterThan(9.6);
    expect(stddev(xs)).toBeLessThan(10.4);
    expect(percentile(xs, 97.5)).toBeGreaterThan(117);
    expect(percentile(xs, 97.5)).toBeLessThan(123);
    expect(Math.min(...draw({ kind: 'normal', meanMs: 1, stddevMs: 5 }, seed))).toBe(0);
  });

  it.each(SEEDS)('lognormal has the requested median and a long right tail (seed %i)', (seed) => {
    const xs = draw({ kind: 'lognormal', medianMs: 50, sigma: 0.5 }, seed);
    expect(percentile(xs, 50)).toBeGreaterThan(48.5);
    expect(percentile(xs, 50)).toBeLessThan(51.5);
    expect(stddev(xs.map(Math.log))).toBeGreaterThan(0.48);
    expect(stddev(xs.map(Math.log))).toBeLessThan(0.52);
    // p99 = median * exp(2.326 * sigma) ≈ 160
    expect(percentile(xs, 99)).toBeGreaterThan(145);
    expect(percentile(xs, 99)).toBeLessThan(175);
    expect(mean(xs)).toBeGreaterThan(percentile(xs, 50));
  });

  it.each(SEEDS)('replayed samples are drawn evenly from the recording (seed %i)', (seed) => {
    const samplesMs = [5, 10, 20, 80];
    const xs = draw({ kind: 'samples', samplesMs }, seed);
    for (const s of samplesMs) {
      const share = xs.filter((x) => x === s).length / xs.length;
      expect(share).toBeGreaterThan(0.23);
      expect(share).toBeLessThan(0.27);
    }
    expect(xs.every((x) => samplesMs.includes(x))).toBe(true);
  });

  it.each(SEEDS)('a replayed HDR histogram reproduces its percentiles (seed %i)', (seed) => {
    const h = hdr.build();
    const rec = new Random(99);
    for (let i = 0; i < 50_000; i++) h.recordValue(Math.round(1000 * Math.exp(rec.normal(Math.log(40), 0.4)))); // microseconds
    const xs = draw({ kind: 'histogram', histogram: h, unit: 'us' }, seed);
    for (const p of [10, 50, 90, 99]) {
      const want = h.getValueAtPercentile(p) / 1000;
      expect(percentile(xs, p)).toBeGreaterThan(want * 0.95);
      expect(percentile(xs, p)).toBeLessThan(want * 1.05);
    }
    // the compressed base64 form replays identically
    const b64 = hdr.encodeIntoCompressedBase64(h);
    expect(draw({ kind: 'histogram', histogram: b64, unit: 'us' }, seed, 500)).toEqual(
      draw({ kind: 'histogram', histogram: h, unit: 'us' }, seed, 500),
    );
  });

  it('same seed gives the same delays, another seed others', () => {
    const opts: LatencyOptions = { delay: { kind: 'lognormal', medianMs: 30, sigma: 1 }, seed: 42 };
    expect(sampleDelays(opts, 'get', 200)).toEqual(sampleDelays(opts, 'get', 200));
    expect(sampleDelays(opts, 'get', 200)).not.toEqual(sampleDelays({ ...opts, seed: 43 }, 'get', 200));
    expect(sampleDelays(opts, 'get', 200)).not.toEqual(sampleDelays(opts, 'put', 200)); // one stream per call type
  });
});

describe('latency layer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('applies exactly the seeded delays, per call type, whatever the interleaving', async () => {
    const opts: LatencyOptions = {
      delay: { kind: 'uniform', minMs: 0, maxMs: 2 },
      perOp: { list: { kind: 'fixed', ms: 1 } },
      seed: 'replay-me',
    };
    const run = async (order: StoreOp[]) => {
      const seen: Record<StoreOp, number[]> = { put: [], get: [], list: [], remove: [] };
      const store = compose(createMemoryStore(), latency({ ...opts, onDelay: (op, ms) => seen[op].push(ms) }));
      for (const op of order) {
        if (op === 'put') await store.put('k', utf8('v'));
        else if (op === 'get') await store.get('k');
        else if (op === 'list') await store.list('');
        else await store.remove('k');
      }
      return seen;
    };
    const a = await run(['put', 'get', 'get', 'list', 'remove', 'get', 'put', 'put']);
    const b = await run(['get', 'get', 'get', 'put', 'put', 'put', 'list', 'remove']);
    expect(a).toEqual(b);
    for (const op of ['put', 'get', 'list', 'remove'] as const) {
      expect(a[op]).toEqual(sampleDelays(opts, op, a[op].length).map((d) => expect.closeTo(d, 9)));
    }
    expect(a.list).toEqual([1]);
  });

  it('waits the delay in virtual time: half before the call reaches the store, half after', async () => {
    vi.useFakeTimers();
    const inner = createMemoryStore();
    const store = compose(inner, latency({ delay: 100 }));
    let done = false;
    const p = store.put('k', utf8('v')).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(await inner.get('k')).toBeNull();
    await vi.advanceTimersByTimeAsync(2);
    expect(await inner.get('k')).not.toBeNull(); // the write took effect at 50 ms
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(48);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(done).toBe(true);
    await p;
  });

  it('charges the per-KiB transfer cost on uploads and downloads', async () => {
    const seen: [StoreOp, number][] = [];
    const store = compose(
      createMemoryStore(),
      latency({ delay: 0, msPerKiB: { put: 0.5, get: 0.25 }, onDelay: (op, ms) => seen.push([op, ms]) }),
    );
    vi.useFakeTimers();
    const put = store.put('k', new Uint8Array(8 * 1024));
    await vi.advanceTimersByTimeAsync(5);
    await put;
    const get = store.get('k');
    await vi.advanceTimersByTimeAsync(5);
    expect((await get)?.byteLength).toBe(8192);
    const miss = store.get('absent');
    await vi.advanceTimersByTimeAsync(1);
    await miss;
    expect(seen).toEqual([
      ['put', 4],
      ['get', 2],
      ['get', 0],
    ]);
  });

  it('a delayed call is abortable', async () => {
    const store = compose(createMemoryStore(), latency({ delay: 60_000 }));
    const ac = new AbortController();
    const started = Date.now();
    const p = store.get('k', { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ kind: 'Timeout', aborted: true, op: 'get', key: 'k' });
    expect((err as StoreError).store).toBe('latency(memory)');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('close releases delayed calls', async () => {
    const store = compose(createMemoryStore(), latency({ delay: 60_000 }));
    const p = store.get('k');
    await store.close();
    await expect(p).rejects.toMatchObject({ kind: 'Timeout', aborted: true });
  });

  it('shows the stack in its name', () => {
    expect(compose(createMemoryStore(), latency()).name).toBe('latency(memory)');
    expect(new LatencyStore(createMemoryStore()).name).toBe('latency(memory)');
  });

  it.each<[string, LatencyOptions, RegExp]>([
    ['negative delay', { delay: -1 }, /latency\.delay: must be a finite number >= 0/],
    ['NaN mean', { delay: { kind: 'normal', meanMs: NaN, stddevMs: 1 } }, /latency\.delay\.meanMs/],
    ['inverted uniform', { delay: { kind: 'uniform', minMs: 5, maxMs: 1 } }, /latency\.delay\.maxMs: must be >= minMs/],
    ['unknown kind', { delay: { kind: 'pareto' } as unknown as DelayDistribution }, /latency\.delay\.kind: unknown distribution "pareto"/],
    ['empty samples', { delay: { kind: 'samples', samplesMs: [] } }, /latency\.delay\.samplesMs: must be a non-empty array/],
    ['per-op error', { perOp: { get: { kind: 'fixed', ms: -3 } } }, /latency\.perOp\.get\.ms/],
    ['bad histogram', { delay: { kind: 'histogram', histogram: 'not base64!', unit: 'ms' } }, /latency\.delay\.histogram/],
    ['bad unit', { delay: { kind: 'histogram', histogram: hdr.build(), unit: 's' as 'ms' } }, /latency\.delay\.unit/],
    ['bad share', { requestShare: 2 }, /latency\.requestShare/],
    ['bad per-KiB', { msPerKiB: -1 }, /latency\.msPerKiB/],
  ])('rejects bad options with a ConfigError: %s', (_label, opts, message) => {
    expect(() => latency(opts)).toThrow(ConfigError);
    expect(() => latency(opts)).toThrow(message);
  });
});

describe('PendingWaits', () => {
  const site = { store: 's', op: 'get', key: 'k' };

  it('holds only the waits in progress and releases them all on close', async () => {
    const w = new PendingWaits();
    const held = () => (w as unknown as { pending: Set<unknown> }).pending.size;
    await w.sleep(1, undefined, site);
    await w.sleep(0, new AbortController().signal, site);
    const ac = new AbortController();
    const aborted = w.sleep(60_000, ac.signal, site);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ kind: 'Timeout', aborted: true });
    expect(held()).toBe(0);
    const hung = w.hang(undefined, site);
    const slept = w.sleep(60_000, undefined, site);
    expect(held()).toBe(2);
    w.closeAll();
    await expect(hung).rejects.toMatchObject({ kind: 'Timeout', aborted: true, key: 'k' });
    await expect(slept).rejects.toThrow(/closed/);
    expect(held()).toBe(0);
    await expect(w.sleep(0, undefined, site)).rejects.toThrow(/closed/);
  });
});
