/**
 * The metrics layer: counts calls, errors and value bytes per call type.
 *
 * ```ts
 * const m = metrics();
 * const store = compose(createMemoryStore(), m, latency({ delay: 20 }));
 * await store.put('k', bytes);
 * m.snapshot().put.calls; // 1
 * ```
 *
 * Bytes count values only: `bytesUp` is the size of each value sent by `put` (counted when the call
 * is made, so failed uploads count too), `bytesDown` the size of each value returned by `get`.
 */
import type { ErrorKind, StoreOp } from '../errors.js';
import { StoreError } from '../errors.js';
import { STORE_OPS, type CallOptions, type Layer, type Store } from '../store.js';
import { ForwardingStore } from './forwarding.js';

/** Counters of one call type. */
export interface OpCounters {
  /** Calls made. */
  calls: number;
  /** Calls that rejected (any error, aborted ones included). */
  errors: number;
  /** Calls that rejected because their signal fired. */
  aborted: number;
  /** Value bytes sent (put). */
  bytesUp: number;
  /** Value bytes received (get). */
  bytesDown: number;
}

/** A point-in-time copy of the counters. */
export interface MetricsSnapshot {
  put: OpCounters;
  get: OpCounters;
  list: OpCounters;
  remove: OpCounters;
  /** Sum over the four call types. */
  total: OpCounters;
  /** Errors by kind (`Unexpected` for rejections that were not StoreErrors). */
  errorsByKind: Partial<Record<ErrorKind, number>>;
}

/** The counters themselves; several stores may share one. */
export class MetricsRegistry {
  private counters = MetricsRegistry.zero();
  private byKind: Partial<Record<ErrorKind, number>> = {};

  private static zero(): Record<StoreOp, OpCounters> {
    const z = (): OpCounters => ({ calls: 0, errors: 0, aborted: 0, bytesUp: 0, bytesDown: 0 });
    return { put: z(), get: z(), list: z(), remove: z() };
  }

  call(op: StoreOp, bytesUp: number): void {
    this.counters[op].calls++;
    this.counters[op].bytesUp += bytesUp;
  }

  success(op: StoreOp, bytesDown: number): void {
    this.counters[op].bytesDown += bytesDown;
  }

  failure(op: StoreOp, e: unknown): void {
    const c = this.counters[op];
    c.errors++;
    const kind: ErrorKind = e instanceof StoreError ? e.kind : 'Unexpected';
    if (e instanceof StoreError && e.aborted) c.aborted++;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
  }

  snapshot(): MetricsSnapshot {
    const total: OpCounters = { calls: 0, errors: 0, aborted: 0, bytesUp: 0, bytesDown: 0 };
    const copy = {} as Record<StoreOp, OpCounters>;
    for (const op of STORE_OPS) {
      const c = this.counters[op];
      copy[op] = { ...c };
      for (const f of Object.keys(total) as (keyof OpCounters)[]) total[f] += c[f];
    }
    return { ...copy, total, errorsByKind: { ...this.byKind } };
  }

  reset(): void {
    this.counters = MetricsRegistry.zero();
    this.byKind = {};
  }
}

/** A store that counts its calls. `snapshot()` reads its counters, `reset()` zeroes them. */
export class MetricsStore extends ForwardingStore {
  constructor(
    inner: Store,
    /** The counters this store adds to (shared when one `metrics()` layer wraps several stores). */
    readonly registry: MetricsRegistry = new MetricsRegistry(),
  ) {
    super(inner, 'metrics');
  }

  snapshot(): MetricsSnapshot {
    return this.registry.snapshot();
  }

  reset(): void {
    this.registry.reset();
  }

  private async count<T>(op: StoreOp, bytesUp: number, call: () => Promise<T>, bytesDown: (r: T) => number): Promise<T> {
    this.registry.call(op, bytesUp);
    try {
      const r = await call();
      this.registry.success(op, bytesDown(r));
      return r;
    } catch (e) {
      this.registry.failure(op, e);
      throw e;
    }
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.count('put', value.byteLength, () => this.inner.put(key, value, opts), () => 0);
  }

  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.count('get', 0, () => this.inner.get(key, opts), (v) => v?.byteLength ?? 0);
  }

  override list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.count('list', 0, () => this.inner.list(prefix, opts), () => 0);
  }

  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.count('remove', 0, () => this.inner.remove(key, opts), () => 0);
  }
}

/** A Layer that is also the reader of its counters (summed over every store it wraps). */
export type MetricsLayer = Layer & {
  snapshot(): MetricsSnapshot;
  reset(): void;
  readonly registry: MetricsRegistry;
};

/** Counts calls, errors and bytes per call type. The returned layer reads and resets the counters. */
export function metrics(): MetricsLayer {
  const registry = new MetricsRegistry();
  const layer = (inner: Store): Store => new MetricsStore(inner, registry);
  return Object.assign(layer, {
    snapshot: () => registry.snapshot(),
    reset: () => registry.reset(),
    registry,
  });
}

/** Finds the outermost layer of class `cls` in a stack built with `compose` (walks `inner`). */
export function findLayer<T extends Store>(store: Store, cls: abstract new (...args: never[]) => T): T | undefined {
  let s: Store | undefined = store;
  while (s) {
    if (s instanceof cls) return s;
    s = s instanceof ForwardingStore ? s.inner : undefined;
  }
  return undefined;
}
