/**
 * A simulated replica: an in-memory key-value store whose every call takes a sampled latency on a
 * `Clock`. The call's effect (or its read of the state) happens at a point inside the call
 * (`effectFraction` of its latency), its reply arrives at the end, so effects of calls the
 * register stopped waiting for still land later ("lingering" calls), as in SPEC §1.
 * Faults: crashed (calls hang forever and have no effect), slow (latency x factor),
 * flapping (periodically down: calls fail with Unavailable after their latency).
 * It counts requests and bytes per call type and tracks its object count over time.
 */
import { setMaxListeners } from 'node:events';
import { StoreError, type StoreOp } from '../errors.js';
import { DEFAULT_CAPABILITIES, sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { guardStoreCalls } from '../store-args.js';
import { abortError } from '../util/abort.js';
import { Random } from '../util/random.js';
import type { Clock } from './clock.js';
import { sampleLatency, type LatencyModel } from './models.js';

/** A replica's fault behaviour. */
export interface ReplicaFaults {
  /** Crashed from the start: calls hang (until aborted) and never take effect. */
  crashed?: boolean;
  /** Multiplies every latency. @default 1 */
  slowFactor?: number;
  /** Periodically down: `upMs` up then `downMs` down, starting after `phaseMs`. Calls made while down fail after their latency. */
  flap?: { upMs: number; downMs: number; phaseMs?: number };
}

export interface SimReplicaOptions {
  name: string;
  clock: Clock;
  model: LatencyModel;
  seed: number;
  faults?: ReplicaFaults;
  /**
   * Fraction of a call's latency after which its effect happens at the store.
   * @default 0.5
   */
  effectFraction?: number;
  /**
   * Tells whether the write of a temporary key (`<num>-<clientId>` suffix) has already returned;
   * such a key landing is a lingering put and is not counted in `peakInOrder`.
   */
  writeReturned?: (tempSuffix: string) => boolean;
  /** Called after every change of the stored objects (for space tracking). */
  onChange?: (replica: SimReplica) => void;
}

/** Requests and bytes per call type. */
export interface ReplicaCounters {
  puts: number;
  gets: number;
  lists: number;
  removes: number;
  bytesUp: number;
  bytesDown: number;
}

export function zeroCounters(): ReplicaCounters {
  return { puts: 0, gets: 0, lists: 0, removes: 0, bytesUp: 0, bytesDown: 0 };
}

export class SimReplica implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities = DEFAULT_CAPABILITIES;
  readonly counters: ReplicaCounters = zeroCounters();
  /** Largest object count seen so far. */
  peakObjects = 0;
  /** Largest stored bytes seen so far. */
  peakBytes = 0;
  /**
   * Largest object count seen so far, not counting lingering temporary keys: those that arrived
   * after a larger temporary key of the same register had already arrived here (out of order), or
   * after their write had returned.
   */
  peakInOrder = 0;
  /** Out-of-order temporary keys present now. */
  private readonly late = new Set<string>();
  /** Per register: the largest temporary key suffix that ever arrived here. */
  private readonly maxTemp = new Map<string, string>();
  private readonly data = new Map<string, Uint8Array>();
  private storedBytes = 0;
  private readonly rng: Random;
  private crashed: boolean;
  private readonly factor: number;

  constructor(private readonly opts: SimReplicaOptions) {
    this.name = opts.name;
    this.rng = new Random(opts.seed);
    this.crashed = opts.faults?.crashed ?? false;
    this.factor = opts.faults?.slowFactor ?? 1;
    // the same argument checks as every real store, before any counter or clock moves
    guardStoreCalls(this);
  }

  /** Number of objects held now. */
  get objects(): number {
    return this.data.size;
  }

  /** Objects held now, not counting out-of-order temporary keys (see `peakInOrder`). */
  get objectsInOrder(): number {
    return this.data.size - this.late.size;
  }

  /** Bytes held now (values only). */
  get bytes(): number {
    return this.storedBytes;
  }

  /** Keys held now (sorted). */
  keys(): string[] {
    return sortKeys([...this.data.keys()]);
  }

  /** Crashes the replica now: later calls hang and never take effect. */
  crash(): void {
    this.crashed = true;
  }

  /** Whether the replica is down at virtual time `at` (crashed or in a flap's down period). */
  isDown(at: number): boolean {
    if (this.crashed) return true;
    const f = this.opts.faults?.flap;
    if (!f) return false;
    const t = at - (f.phaseMs ?? 0);
    if (t < 0) return false;
    return t % (f.upMs + f.downMs) >= f.upMs;
  }

  resetCounters(): void {
    Object.assign(this.counters, zeroCounters());
  }

  resetPeaks(): void {
    this.peakObjects = this.data.size;
    this.peakBytes = this.storedBytes;
    this.peakInOrder = this.objectsInOrder;
  }

  put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const copy = value.slice();
    this.counters.puts++;
    this.counters.bytesUp += copy.byteLength;
    return this.call('put', key, copy.byteLength, opts, () => {
      const prev = this.data.get(key);
      if (prev) this.storedBytes -= prev.byteLength;
      this.data.set(key, copy);
      this.storedBytes += copy.byteLength;
      const cut = key.lastIndexOf('/t/');
      if (cut >= 0) {
        const reg = key.slice(0, cut);
        const suffix = key.slice(cut + 3);
        const max = this.maxTemp.get(reg);
        if ((max !== undefined && suffix < max) || this.opts.writeReturned?.(suffix)) this.late.add(key);
        if (max === undefined || suffix > max) this.maxTemp.set(reg, suffix);
      }
      this.changed();
      return undefined;
    });
  }

  get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    this.counters.gets++;
    return this.call(
      'get',
      key,
      0,
      opts,
      () => {
        const v = this.data.get(key);
        if (v) this.counters.bytesDown += v.byteLength;
        return v ? v.slice() : null;
      },
      (v) => v?.byteLength ?? 0,
    );
  }

  list(prefix: string, opts?: CallOptions): Promise<string[]> {
    this.counters.lists++;
    return this.call('list', prefix, 0, opts, () => {
      const out: string[] = [];
      for (const k of this.data.keys()) if (k.startsWith(prefix)) out.push(k);
      return sortKeys(out);
    });
  }

  remove(key: string, opts?: CallOptions): Promise<void> {
    this.counters.removes++;
    return this.call('remove', key, 0, opts, () => {
      const prev = this.data.get(key);
      if (prev) {
        this.storedBytes -= prev.byteLength;
        this.data.delete(key);
        this.late.delete(key);
        this.changed();
      }
      return undefined;
    });
  }

  async close(): Promise<void> {}

  private changed(): void {
    if (this.data.size > this.peakObjects) this.peakObjects = this.data.size;
    if (this.storedBytes > this.peakBytes) this.peakBytes = this.storedBytes;
    if (this.objectsInOrder > this.peakInOrder) this.peakInOrder = this.objectsInOrder;
    this.opts.onChange?.(this);
  }

  private call<T>(
    op: StoreOp,
    key: string,
    bytes: number,
    opts: CallOptions | undefined,
    effect: () => T,
    responseBytes?: (result: T) => number,
  ): Promise<T> {
    const site = { store: this.name, op, key };
    const signal = opts?.signal;
    if (signal?.aborted) return Promise.reject(abortError(site, signal));
    const clock = this.opts.clock;
    const start = clock.now();
    const down = this.isDown(start);
    const latency = sampleLatency(this.opts.model, op, bytes, this.rng) * this.factor;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        reject(abortError(site, signal));
      };
      if (signal) {
        // One operation's signal is shared by all its calls to every replica.
        setMaxListeners(0, signal);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const finish = (fn: () => void) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        fn();
      };
      if (this.crashed) return; // hangs until aborted; no effect
      if (down) {
        clock.schedule(latency, () =>
          finish(() => reject(new StoreError({ kind: 'Unavailable', store: this.name, op, key, detail: 'replica is down (simulated flap)' }))),
        );
        return;
      }
      const frac = this.opts.effectFraction ?? 0.5;
      let result: T;
      clock.schedule(latency * frac, () => {
        if (this.crashed) return; // crashed meanwhile: no effect, no reply
        result = effect();
        const transfer = responseBytes ? (((this.opts.model.perKiBMs ?? 0) * responseBytes(result)) / 1024) * this.factor : 0;
        clock.schedule(latency * (1 - frac) + transfer, () => {
          if (this.crashed) return;
          finish(() => resolve(result));
        });
      });
    });
  }
}
