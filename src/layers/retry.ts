/**
 * The retry layer: retries calls that failed with a retryable StoreError (RateLimited, Unavailable,
 * Timeout that was not an abort, or any error marked `retryable`), with exponential backoff and
 * seeded jitter. Waiting is abortable. All four calls are idempotent, so retrying them is safe.
 */
import { ConfigError, StoreError, type StoreOp } from '../errors.js';
import type { CallOptions, Layer, Store } from '../store.js';
import { Random } from '../util/random.js';
import { ForwardingStore } from './forwarding.js';
import { PendingWaits } from './latency.js';

export interface RetryInfo {
  op: StoreOp;
  key: string;
  /** The attempt that failed (1 = the first call). */
  attempt: number;
  error: StoreError;
  /** Backoff before the next attempt, in ms. */
  delayMs: number;
}

export interface RetryOptions {
  /**
   * Most calls made in total, the first included (1 = never retry).
   * @default 4
   */
  maxAttempts?: number;
  /**
   * Backoff ceiling before the first retry, in ms; it doubles (times `multiplier`) per retry.
   * @default 50
   */
  baseDelayMs?: number;
  /**
   * Largest backoff, in ms.
   * @default 2000
   */
  maxDelayMs?: number;
  /** @default 2 */
  multiplier?: number;
  /**
   * `full`: wait uniform in [0, ceiling]; `equal`: ceiling/2 plus uniform in [0, ceiling/2]; `none`: the ceiling.
   * @default "full"
   */
  jitter?: 'full' | 'equal' | 'none';
  /**
   * Seed of the jitter.
   * @default 1
   */
  seed?: number | string;
  /** Decides whether an error is retried. @default the error's `retryable` flag, never when aborted */
  shouldRetry?: (error: StoreError, op: StoreOp) => boolean;
  /** Called before each backoff (for logging and tests). */
  onRetry?: (info: RetryInfo) => void;
}

function defaultShouldRetry(e: StoreError): boolean {
  return e.retryable && !e.aborted;
}

function positiveInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ConfigError(where, `must be an integer >= 1, got ${JSON.stringify(v)}`);
  }
  return v;
}

function nonNegative(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigError(where, `must be a finite number >= 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A store that retries transient failures. */
export class RetryStore extends ForwardingStore {
  private readonly random: Random;
  private readonly maxAttempts: number;
  private readonly base: number;
  private readonly max: number;
  private readonly multiplier: number;
  private readonly jitter: 'full' | 'equal' | 'none';
  private readonly waits = new PendingWaits();
  /** Retries made so far. */
  retries = 0;

  constructor(
    inner: Store,
    private readonly opts: RetryOptions = {},
  ) {
    super(inner, 'retry');
    this.maxAttempts = positiveInt(opts.maxAttempts ?? 4, 'retry.maxAttempts');
    this.base = nonNegative(opts.baseDelayMs ?? 50, 'retry.baseDelayMs');
    this.max = nonNegative(opts.maxDelayMs ?? 2000, 'retry.maxDelayMs');
    this.multiplier = nonNegative(opts.multiplier ?? 2, 'retry.multiplier');
    const j = opts.jitter ?? 'full';
    if (j !== 'full' && j !== 'equal' && j !== 'none') {
      throw new ConfigError('retry.jitter', `must be "full", "equal" or "none", got ${JSON.stringify(j)}`);
    }
    this.jitter = j;
    const seed = opts.seed ?? 1;
    if (typeof seed !== 'number' && typeof seed !== 'string') throw new ConfigError('retry.seed', 'must be a number or a string');
    this.random = new Random(seed).fork('retry');
  }

  /** The backoff before retry number `retry` (1-based), drawn from the seeded stream. */
  private backoff(retry: number): number {
    const ceiling = Math.min(this.max, this.base * this.multiplier ** (retry - 1));
    switch (this.jitter) {
      case 'none':
        return ceiling;
      case 'equal':
        return ceiling / 2 + this.random.uniform(0, ceiling / 2);
      case 'full':
        return this.random.uniform(0, ceiling);
    }
  }

  private async attempt<T>(op: StoreOp, key: string, opts: CallOptions | undefined, call: () => Promise<T>): Promise<T> {
    const shouldRetry = this.opts.shouldRetry ?? defaultShouldRetry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof StoreError) || attempt >= this.maxAttempts || opts?.signal?.aborted || !shouldRetry(e, op)) throw e;
        const delayMs = this.backoff(attempt);
        this.retries++;
        this.opts.onRetry?.({ op, key, attempt, error: e, delayMs });
        await this.waits.sleep(delayMs, opts?.signal, { store: this.name, op, key });
      }
    }
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.attempt('put', key, opts, () => this.inner.put(key, value, opts));
  }

  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.attempt('get', key, opts, () => this.inner.get(key, opts));
  }

  override list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.attempt('list', prefix, opts, () => this.inner.list(prefix, opts));
  }

  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.attempt('remove', key, opts, () => this.inner.remove(key, opts));
  }

  override close(): Promise<void> {
    this.waits.closeAll();
    return this.inner.close();
  }
}

/** Retries retryable failures with seeded-jitter exponential backoff. */
export function retry(opts: RetryOptions = {}): Layer {
  new RetryStore(PLACEHOLDER, opts); // validate where the configuration is written
  return (inner) => new RetryStore(inner, opts);
}

const PLACEHOLDER = { name: 'none' } as Store;
