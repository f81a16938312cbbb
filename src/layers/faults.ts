/**
 * The faults layer: injects failures for tests, benchmarks and demos — a crash (every call hangs
 * until aborted, or fails fast), transient errors at a seeded rate, and a slow-down factor — with a
 * switch to crash and recover at run time.
 *
 * ```ts
 * const f = faults({ seed: 42, errorRate: 0.01 });
 * const store = compose(createMemoryStore(), f);   // f is a Layer ...
 * f.crash();                                        // ... and its controller
 * f.recover();
 * ```
 */
import { ConfigError, ERROR_KINDS, StoreError, type ErrorKind, type StoreOp } from '../errors.js';
import { STORE_OPS, type CallOptions, type Layer, type Store } from '../store.js';
import type { CallSite } from '../util/abort.js';
import { Random } from '../util/random.js';
import { InterceptingStore } from './forwarding.js';
import { PendingWaits } from './latency.js';

/** How a crashed store behaves: `hang` (no answer until the call is aborted) or `fail` (Unavailable at once). */
export type CrashMode = 'hang' | 'fail';

export interface FaultsOptions {
  /** Seed of every random choice (which calls get a transient error). Required so runs replay. */
  seed: number | string;
  /**
   * Probability in [0, 1] that a call fails with a transient error.
   * @default 0
   */
  errorRate?: number;
  /**
   * Kind of the transient errors (retryable unless the kind is not retryable by default).
   * @default "Unavailable"
   */
  errorKind?: ErrorKind;
  /**
   * Where a transient error strikes: `before` the call reaches the inner store (nothing happened),
   * `after` it (the effect happened, the answer was lost), or `either` (half and half, seeded).
   * @default "before"
   */
  errorTiming?: 'before' | 'after' | 'either';
  /**
   * Call types that get transient errors.
   * @default all four
   */
  ops?: readonly StoreOp[];
  /**
   * Each call takes `slowdown` times as long as the inner store took (1 = unchanged).
   * @default 1
   */
  slowdown?: number;
  /**
   * What a crash does.
   * @default "hang"
   */
  crashMode?: CrashMode;
  /**
   * Start crashed.
   * @default false
   */
  crashed?: boolean;
}

/** Counts of injected faults. */
export interface FaultStats {
  /** Transient errors injected. */
  transientErrors: number;
  /** Calls that met a crashed store (hung or failed). */
  crashedCalls: number;
}

/** Run-time control of a faults layer (shared by every store the layer wraps). */
export interface FaultController {
  /** Crashes the store(s): calls in flight lose their answer, new calls hang or fail. */
  crash(mode?: CrashMode): void;
  /** Ends the crash: new calls work again. Calls that hung stay hung until aborted. */
  recover(): void;
  readonly crashed: boolean;
  readonly crashMode: CrashMode;
  /** Changes the transient error rate (validated like the option). */
  setErrorRate(rate: number): void;
  /** Changes the slow-down factor (validated like the option). */
  setSlowdown(factor: number): void;
  /** Faults injected so far, over every store this layer wraps. */
  stats(): FaultStats;
}

/** A Layer that is also the controller of the stores it builds. */
export type FaultsLayer = Layer & FaultController;

interface FaultState {
  crashed: boolean;
  crashMode: CrashMode;
  errorRate: number;
  slowdown: number;
  epoch: number; // bumped by every crash: calls that started before it lose their answer
  stats: FaultStats;
}

function checkRate(rate: unknown, where: string): number {
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    throw new ConfigError(where, `must be a probability between 0 and 1, got ${JSON.stringify(rate)}`);
  }
  return rate;
}

function checkSlowdown(f: unknown, where: string): number {
  if (typeof f !== 'number' || !Number.isFinite(f) || f < 1) {
    throw new ConfigError(where, `must be a finite factor >= 1 (1 = no slow-down), got ${JSON.stringify(f)}`);
  }
  return f;
}

function checkMode(m: unknown, where: string): CrashMode {
  if (m !== 'hang' && m !== 'fail') throw new ConfigError(where, `must be "hang" or "fail", got ${JSON.stringify(m)}`);
  return m;
}

/** A store that fails on purpose. Build it with `faults({...})`. */
export class FaultyStore extends InterceptingStore {
  private readonly random: Random;
  private readonly waits = new PendingWaits();
  private readonly errorOps: ReadonlySet<StoreOp>;

  constructor(
    inner: Store,
    private readonly state: FaultState,
    private readonly opts: FaultsOptions,
    instance: number,
  ) {
    super(inner, 'faults');
    this.random = new Random(opts.seed).fork(`faults:${instance}`);
    this.errorOps = new Set(opts.ops ?? STORE_OPS);
  }

  private crashedError(site: CallSite): StoreError {
    return new StoreError({ ...site, kind: 'Unavailable', detail: 'the store is crashed (fault injection)' });
  }

  private crashedCall(site: CallSite, signal: AbortSignal | undefined): Promise<never> {
    this.state.stats.crashedCalls++;
    if (this.state.crashMode === 'fail') return Promise.reject(this.crashedError(site));
    return this.waits.hang(signal, site);
  }

  protected override async around<T>(op: StoreOp, key: string, opts: CallOptions | undefined, call: () => Promise<T>): Promise<T> {
    const site = { store: this.name, op, key };
    const signal = opts?.signal;
    if (this.state.crashed) return this.crashedCall(site, signal);
    let strike: 'before' | 'after' | undefined;
    if (this.state.errorRate > 0 && this.errorOps.has(op) && this.random.chance(this.state.errorRate)) {
      const timing = this.opts.errorTiming ?? 'before';
      strike = timing === 'either' ? (this.random.chance(0.5) ? 'before' : 'after') : timing;
    }
    const transient = () => {
      this.state.stats.transientErrors++;
      return new StoreError({
        ...site,
        kind: this.opts.errorKind ?? 'Unavailable',
        detail: `injected transient error (${strike} the call reached the store)`,
      });
    };
    if (strike === 'before') throw transient();
    const epoch = this.state.epoch;
    const started = performance.now();
    const result = await call();
    if (this.state.epoch !== epoch || this.state.crashed) return this.crashedCall(site, signal); // answer lost
    if (this.state.slowdown > 1) {
      const extra = (performance.now() - started) * (this.state.slowdown - 1);
      await this.waits.sleep(extra, signal, site);
    }
    if (strike === 'after') throw transient();
    return result;
  }

  /** Releases hung calls (they reject with a Timeout error) and closes the inner store. */
  override close(): Promise<void> {
    this.waits.closeAll();
    return this.inner.close();
  }
}

/**
 * Injects faults. The returned value is a Layer (use it in `compose`) and the controller of every
 * store it builds: `crash()`, `recover()`, `setErrorRate()`, `setSlowdown()`, `stats()`.
 * Applying one faults layer to several stores crashes and recovers them together; each store draws
 * from its own seeded stream.
 */
export function faults(opts: FaultsOptions): FaultsLayer {
  if (opts === null || typeof opts !== 'object') {
    throw new ConfigError('faults', 'needs options, e.g. faults({ seed: 1, errorRate: 0.01 })');
  }
  if (typeof opts.seed !== 'number' && typeof opts.seed !== 'string') {
    throw new ConfigError('faults.seed', 'is required (a number or string) so that the injected faults replay');
  }
  if (opts.errorKind !== undefined && !ERROR_KINDS.includes(opts.errorKind)) {
    throw new ConfigError('faults.errorKind', `must be one of ${ERROR_KINDS.join(', ')}, got ${JSON.stringify(opts.errorKind)}`);
  }
  if (opts.errorTiming !== undefined && !['before', 'after', 'either'].includes(opts.errorTiming)) {
    throw new ConfigError('faults.errorTiming', `must be "before", "after" or "either", got ${JSON.stringify(opts.errorTiming)}`);
  }
  for (const [i, op] of (opts.ops ?? []).entries()) {
    if (!STORE_OPS.includes(op)) throw new ConfigError(`faults.ops[${i}]`, `must be one of ${STORE_OPS.join(', ')}, got ${JSON.stringify(op)}`);
  }
  const state: FaultState = {
    crashed: opts.crashed ?? false,
    crashMode: checkMode(opts.crashMode ?? 'hang', 'faults.crashMode'),
    errorRate: checkRate(opts.errorRate ?? 0, 'faults.errorRate'),
    slowdown: checkSlowdown(opts.slowdown ?? 1, 'faults.slowdown'),
    epoch: 0,
    stats: { transientErrors: 0, crashedCalls: 0 },
  };
  let instances = 0;
  const layer = (inner: Store): Store => new FaultyStore(inner, state, opts, instances++);
  const controller: FaultController = {
    crash(mode?: CrashMode) {
      if (mode !== undefined) state.crashMode = checkMode(mode, 'crash(mode)');
      state.crashed = true;
      state.epoch++;
    },
    recover() {
      state.crashed = false;
    },
    get crashed() {
      return state.crashed;
    },
    get crashMode() {
      return state.crashMode;
    },
    setErrorRate(rate: number) {
      state.errorRate = checkRate(rate, 'setErrorRate(rate)');
    },
    setSlowdown(factor: number) {
      state.slowdown = checkSlowdown(factor, 'setSlowdown(factor)');
    },
    stats() {
      return { ...state.stats };
    },
  };
  return Object.defineProperties(layer, Object.getOwnPropertyDescriptors(controller)) as FaultsLayer;
}
