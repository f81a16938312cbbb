/**
 * The latency layer: adds a delay to every call, drawn from a distribution, so a fast local store can
 * stand in for a distant cloud region. Every draw comes from a seeded generator; each call type has
 * its own stream, so the n-th `get` of a run always gets the same delay for the same seed, however
 * calls of different types interleave.
 */
import * as hdr from 'hdr-histogram-js';
import { ConfigError, StoreError, type StoreOp } from '../errors.js';
import { STORE_OPS, type CallOptions, type Layer, type Store } from '../store.js';
import { abortError, throwIfAborted, type CallSite } from '../util/abort.js';
import { Random } from '../util/random.js';
import { testInjections } from '../util/test-inject.js';
import { ForwardingStore } from './forwarding.js';

/** A delay distribution, in milliseconds. A bare number is a fixed delay. */
export type DelayDistribution =
  | number
  | { kind: 'fixed'; ms: number }
  /** Uniform in [minMs, maxMs). */
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** Normal, truncated at 0. */
  | { kind: 'normal'; meanMs: number; stddevMs: number }
  /** Log-normal: `medianMs * exp(sigma * N(0,1))`; the usual shape of network latency (long right tail). */
  | { kind: 'lognormal'; medianMs: number; sigma: number }
  /** Replays recorded delays: each draw picks one of the samples uniformly at random. */
  | { kind: 'samples'; samplesMs: readonly number[] }
  /**
   * Replays a recorded HDR histogram (an `hdr-histogram-js` Histogram or its compressed base64 form):
   * each draw is the value at a uniformly random percentile. `unit` is the unit the histogram recorded.
   */
  | { kind: 'histogram'; histogram: hdr.Histogram | string; unit: 'ms' | 'us' | 'ns' };

export interface LatencyOptions {
  /**
   * Delay added to every call type without its own entry in `perOp`.
   * @default 0
   */
  delay?: DelayDistribution;
  /** Delay per call type, overriding `delay`. */
  perOp?: Partial<Record<StoreOp, DelayDistribution>>;
  /**
   * Transfer cost in milliseconds per KiB of value: uploaded bytes for `put`, downloaded bytes for `get`.
   * A number applies to both.
   * @default 0
   */
  msPerKiB?: number | Partial<Record<'put' | 'get', number>>;
  /**
   * Fraction of the drawn delay spent before the call reaches the inner store (the request leg);
   * the rest is spent after it answers (the response leg). The transfer cost of a put is on the
   * request leg, that of a get on the response leg.
   * @default 0.5
   */
  requestShare?: number;
  /**
   * Seed of the delay draws.
   * @default 1
   */
  seed?: number | string;
  /** Called with every delay applied (for logging and tests). */
  onDelay?: (op: StoreOp, ms: number) => void;
  /**
   * TEST ONLY: stretches every drawn delay by this factor (1.25: +25% per call), an injected
   * regression the regression gate's tests must catch (src/util/test-inject.ts). Never set it in a
   * real configuration.
   * @default 1, or the factor of RKVS_TEST_INJECT=latency+N% when that test-only variable is set
   */
  testFactor?: number;
}

/** Draws delays in milliseconds. */
export type DelaySampler = () => number;

const UNIT_MS = { ms: 1, us: 1e-3, ns: 1e-6 } as const;

function finiteNonNegative(v: unknown, where: string, hint: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(where, `must be a finite number >= 0 (got ${JSON.stringify(v)}); ${hint}`);
  }
  return v;
}

/** Builds a sampler for `dist` drawing from `random`. Validates the distribution (ConfigError naming `where`). */
export function createDelaySampler(dist: DelayDistribution, random: Random, where = 'latency.delay'): DelaySampler {
  if (typeof dist === 'number') {
    const ms = finiteNonNegative(dist, where, 'a bare number is a fixed delay in ms');
    return () => ms;
  }
  if (dist === null || typeof dist !== 'object') {
    throw new ConfigError(where, 'must be a number of ms or an object like { kind: "normal", meanMs: 50, stddevMs: 5 }');
  }
  switch (dist.kind) {
    case 'fixed': {
      const ms = finiteNonNegative(dist.ms, `${where}.ms`, 'the fixed delay in ms');
      return () => ms;
    }
    case 'uniform': {
      const min = finiteNonNegative(dist.minMs, `${where}.minMs`, 'the smallest delay in ms');
      const max = finiteNonNegative(dist.maxMs, `${where}.maxMs`, 'the largest delay in ms');
      if (max < min) throw new ConfigError(`${where}.maxMs`, `must be >= minMs (${min}), got ${max}`);
      return () => random.uniform(min, max);
    }
    case 'normal': {
      const mean = finiteNonNegative(dist.meanMs, `${where}.meanMs`, 'the mean delay in ms');
      const sd = finiteNonNegative(dist.stddevMs, `${where}.stddevMs`, 'the standard deviation in ms');
      return () => Math.max(0, random.normal(mean, sd));
    }
    case 'lognormal': {
      const median = finiteNonNegative(dist.medianMs, `${where}.medianMs`, 'the median delay in ms');
      const sigma = finiteNonNegative(dist.sigma, `${where}.sigma`, 'the spread of log(delay), e.g. 0.5');
      if (median === 0) return () => 0;
      const mu = Math.log(median);
      return () => Math.exp(random.normal(mu, sigma));
    }
    case 'samples': {
      const samples = dist.samplesMs;
      if (!Array.isArray(samples) || samples.length === 0) {
        throw new ConfigError(`${where}.samplesMs`, 'must be a non-empty array of delays in ms');
      }
      const copy = samples.map((s, i) => finiteNonNegative(s, `${where}.samplesMs[${i}]`, 'each sample is a delay in ms'));
      return () => random.pick(copy);
    }
    case 'histogram': {
      const unit = UNIT_MS[dist.unit];
      if (unit === undefined) {
        throw new ConfigError(`${where}.unit`, `must be "ms", "us" or "ns" (the unit the histogram recorded), got ${JSON.stringify(dist.unit)}`);
      }
      let h: hdr.Histogram;
      if (typeof dist.histogram === 'string') {
        try {
          h = hdr.decodeFromCompressedBase64(dist.histogram);
        } catch (e) {
          throw new ConfigError(`${where}.histogram`, 'is not a compressed base64 HDR histogram (encodeIntoCompressedBase64 output)', { cause: e });
        }
      } else if (dist.histogram && typeof dist.histogram.getValueAtPercentile === 'function') {
        h = dist.histogram;
      } else {
        throw new ConfigError(`${where}.histogram`, 'must be an hdr-histogram-js Histogram or its compressed base64 string');
      }
      if (h.totalCount === 0) throw new ConfigError(`${where}.histogram`, 'is empty: record some values first');
      return () => h.getValueAtPercentile(random.next() * 100) * unit;
    }
    default:
      throw new ConfigError(
        `${where}.kind`,
        `unknown distribution ${JSON.stringify((dist as { kind: unknown }).kind)}; use fixed, uniform, normal, lognormal, samples or histogram`,
      );
  }
}

/** The generator of one call type's delays for a seed (the layer uses exactly this stream). */
export function delayRandom(seed: number | string, op: StoreOp): Random {
  return new Random(seed).fork(`latency:${op}`);
}

/**
 * The first `n` delays the latency layer draws for `op` with these options (without transfer cost):
 * what a run with this seed will apply, in order.
 */
export function sampleDelays(opts: LatencyOptions, op: StoreOp, n: number): number[] {
  const sampler = createDelaySampler(opts.perOp?.[op] ?? opts.delay ?? 0, delayRandom(opts.seed ?? 1, op), `latency.perOp.${op}`);
  return Array.from({ length: n }, sampler);
}

/**
 * Waits that end early when the call's signal fires or the store is closed. It holds exactly the
 * waits in progress; combining each call's signal with a long-lived "closing" signal through
 * `AbortSignal.any` instead makes memory grow with every call on Node 20.
 */
export class PendingWaits {
  private readonly pending = new Set<() => void>();
  private closed = false;

  /** Resolves after `ms` (a zero delay costs no timer); rejects with a Timeout StoreError on abort or close. */
  sleep(ms: number, signal: AbortSignal | undefined, site: CallSite): Promise<void> {
    if (this.closed) return Promise.reject(closedError(site));
    if (ms <= 0) {
      throwIfAborted(signal, site);
      return Promise.resolve();
    }
    return this.wait(ms, signal, site) as Promise<void>;
  }

  /** Never resolves; rejects with a Timeout StoreError on abort or close (a hung call). */
  hang(signal: AbortSignal | undefined, site: CallSite): Promise<never> {
    if (this.closed) return Promise.reject(closedError(site));
    return this.wait(undefined, signal, site) as Promise<never>;
  }

  /** Ends every wait in progress and every later one. */
  closeAll(): void {
    this.closed = true;
    for (const release of [...this.pending]) release();
  }

  private wait(ms: number | undefined, signal: AbortSignal | undefined, site: CallSite): Promise<void | never> {
    if (signal?.aborted) return Promise.reject(abortError(site, signal));
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(onClose);
      };
      const onAbort = () => {
        done();
        reject(abortError(site, signal));
      };
      const onClose = () => {
        done();
        reject(closedError(site));
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          done();
          resolve();
        }, ms);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.add(onClose);
    });
  }
}

function closedError(site: CallSite): StoreError {
  return new StoreError({ ...site, kind: 'Timeout', aborted: true, retryable: false, detail: 'the store was closed while the call waited' });
}

/** A store whose calls take extra time. */
export class LatencyStore extends ForwardingStore {
  private readonly samplers: Record<StoreOp, DelaySampler>;
  private readonly perKiB: { put: number; get: number };
  private readonly requestShare: number;
  private readonly onDelay?: (op: StoreOp, ms: number) => void;
  private readonly waits = new PendingWaits();
  /** Delays applied so far, per call type (count and sum in ms). */
  readonly applied: Record<StoreOp, { count: number; totalMs: number }> = {
    put: { count: 0, totalMs: 0 },
    get: { count: 0, totalMs: 0 },
    list: { count: 0, totalMs: 0 },
    remove: { count: 0, totalMs: 0 },
  };

  constructor(inner: Store, opts: LatencyOptions = {}) {
    super(inner, 'latency');
    const seed = opts.seed ?? 1;
    if (typeof seed !== 'number' && typeof seed !== 'string') throw new ConfigError('latency.seed', 'must be a number or a string');
    const samplers = {} as Record<StoreOp, DelaySampler>;
    for (const op of STORE_OPS) {
      const own = opts.perOp?.[op];
      samplers[op] = createDelaySampler(own ?? opts.delay ?? 0, delayRandom(seed, op), own !== undefined ? `latency.perOp.${op}` : 'latency.delay');
    }
    // test-only (see LatencyOptions.testFactor): the samplers are wrapped only when it is not 1
    const factor = opts.testFactor ?? testInjections().latencyFactor;
    if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) throw new ConfigError('latency.testFactor', `must be a positive number (test-only), got ${JSON.stringify(factor)}`);
    if (factor !== 1) for (const op of STORE_OPS) samplers[op] = ((draw: DelaySampler) => () => draw() * factor)(samplers[op]);
    this.samplers = samplers;
    const k = opts.msPerKiB ?? 0;
    this.perKiB =
      typeof k === 'number'
        ? { put: finiteNonNegative(k, 'latency.msPerKiB', 'ms per KiB of value'), get: k }
        : {
            put: finiteNonNegative(k.put ?? 0, 'latency.msPerKiB.put', 'ms per KiB uploaded'),
            get: finiteNonNegative(k.get ?? 0, 'latency.msPerKiB.get', 'ms per KiB downloaded'),
          };
    const share = opts.requestShare ?? 0.5;
    if (typeof share !== 'number' || !(share >= 0 && share <= 1)) {
      throw new ConfigError('latency.requestShare', `must be between 0 and 1, got ${JSON.stringify(share)}`);
    }
    this.requestShare = share;
    this.onDelay = opts.onDelay;
  }

  private async around<T>(
    op: StoreOp,
    key: string,
    opts: CallOptions | undefined,
    requestBytes: number,
    call: (opts: CallOptions | undefined) => Promise<T>,
    responseBytes: (result: T) => number,
  ): Promise<T> {
    const site = { store: this.name, op, key };
    const signal = opts?.signal;
    const base = this.samplers[op]();
    const before = base * this.requestShare + (requestBytes / 1024) * this.perKiB.put;
    await this.waits.sleep(before, signal, site);
    const result = await call(opts);
    const after = base - base * this.requestShare + (responseBytes(result) / 1024) * this.perKiB.get;
    await this.waits.sleep(after, signal, site);
    const total = before + after;
    this.applied[op].count++;
    this.applied[op].totalMs += total;
    this.onDelay?.(op, total);
    return result;
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.around('put', key, opts, value.byteLength, (o) => this.inner.put(key, value, o), () => 0);
  }

  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.around('get', key, opts, 0, (o) => this.inner.get(key, o), (v) => v?.byteLength ?? 0);
  }

  override list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.around('list', prefix, opts, 0, (o) => this.inner.list(prefix, o), () => 0);
  }

  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.around('remove', key, opts, 0, (o) => this.inner.remove(key, o), () => 0);
  }

  override close(): Promise<void> {
    this.waits.closeAll();
    return this.inner.close();
  }
}

/** Adds a delay to every call: `compose(memory, latency({ delay: { kind: 'normal', meanMs: 40, stddevMs: 5 }, seed: 7 }))`. */
export function latency(opts: LatencyOptions = {}): Layer {
  // Validate now, so a bad configuration fails where it is written.
  new LatencyStore(NULL_STORE, opts);
  return (inner) => new LatencyStore(inner, opts);
}

/** A placeholder inner store used only to validate options eagerly. */
const NULL_STORE: Store = {
  name: 'none',
  capabilities: {
    sortedList: true,
    linearizable: true,
    persistent: false,
    maxKeyBytes: Number.POSITIVE_INFINITY,
    maxValueBytes: Number.POSITIVE_INFINITY,
  },
  put: () => Promise.resolve(),
  get: () => Promise.resolve(null),
  list: () => Promise.resolve([]),
  remove: () => Promise.resolve(),
  close: () => Promise.resolve(),
};
