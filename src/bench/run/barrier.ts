/**
 * The barrier the shards of a run meet at before and after every cell, kept on the replicas the
 * benchmark measures, with the register's own fault tolerance: no coordinator process, and no
 * replica the barrier cannot do without.
 *
 * - **Arrive**: shard i writes the marker `_sync/<name>/<i>` to every one of the n replicas at once
 *   and has arrived when q = n - t of them took it (the others keep being tried until then).
 * - **Wait**: each replica is listed on its own (one call in flight per replica, every `pollMs`)
 *   until the markers seen, over all replicas, name every shard. A marker only exists once its
 *   shard arrived, so seeing it on any replica is proof; and since every arrival is on q replicas,
 *   any q replicas that answer show every arrival between them: with up to t replicas down (or
 *   hanging: every call has its own timeout), every shard still sees every other.
 * - **Read** (the shard that measures storage): each marker's payload, from a replica that listed it.
 *
 * A shard waits at most `timeoutMs` (`--sync-timeout`), then fails naming the missing shards and
 * the replicas that did not answer, with their last error.
 */
import { describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import { sleep } from '../../util/abort.js';
import type { ShardSpec } from './shard.js';

/** A marker a shard leaves at a barrier. */
export interface BarrierMarker<T = unknown> {
  shard: number;
  /** The shard's wall clock when it arrived (ms since the epoch). */
  at: number;
  payload: T;
}

export interface BarrierOptions {
  /** Replicas that may be down (the configuration's t): an arrival counts once n - t replicas hold it. */
  t: number;
  /** Replica labels for messages (default: the stores' names). */
  labels?: readonly string[];
  /** How long a shard waits for the others at one barrier. */
  timeoutMs: number;
  /** Interval between two listings of one replica. @default 100 */
  pollMs?: number;
  /** Bound on every single replica call. @default 10000 */
  callTimeoutMs?: number;
  signal?: AbortSignal;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** State of one arrival: what each replica took and showed, and how each last failed. */
interface Arrival {
  dir: string;
  deadline: number;
  signal: AbortSignal;
  acked: Set<number>;
  /** Shard indexes each replica listed last. */
  seen: (Set<number> | undefined)[];
  lastError: (string | undefined)[];
}

export class StoreBarrier {
  private readonly labels: readonly string[];
  readonly quorum: number;

  constructor(
    private readonly replicas: readonly Store[],
    private readonly shard: ShardSpec,
    private readonly opts: BarrierOptions,
  ) {
    if (replicas.length === 0) throw new Error('a barrier needs at least one replica');
    const t = Math.max(0, Math.min(opts.t, Math.floor((replicas.length - 1) / 2)));
    this.quorum = replicas.length - t;
    this.labels = opts.labels ?? replicas.map((r) => r.name);
  }

  /**
   * Arrives at barrier `name` and waits for every shard (with `wait: 'none'`, only arrives).
   * Returns the markers of every shard when `read` is set (else an empty list).
   */
  async arrive<T>(name: string, payload: T, o: { wait?: 'all' | 'none'; read?: boolean } = {}): Promise<BarrierMarker<T>[]> {
    const stop = new AbortController();
    const a: Arrival = {
      dir: `_sync/${name}/`,
      deadline: Date.now() + this.opts.timeoutMs,
      signal: this.opts.signal ? AbortSignal.any([this.opts.signal, stop.signal]) : stop.signal,
      acked: new Set(),
      seen: this.replicas.map(() => undefined),
      lastError: this.replicas.map(() => undefined),
    };
    const mine: BarrierMarker<T> = { shard: this.shard.index, at: Date.now(), payload };
    const body = enc.encode(JSON.stringify(mine));
    const loops = this.replicas.map((_, i) => this.writeLoop(a, i, body));
    try {
      await this.until(a, () => a.acked.size >= this.quorum, () => this.cannotArrive(name, a));
      if (o.wait === 'none') return [];
      loops.push(...this.replicas.map((_, i) => this.listLoop(a, i)));
      await this.until(a, () => this.union(a).size >= this.shard.count, () => this.missing(name, a));
      return o.read ? await this.readMarkers<T>(a) : [];
    } finally {
      stop.abort();
      await Promise.allSettled(loops);
    }
  }

  /** Puts the marker on replica i until it takes it (or the arrival ends). */
  private async writeLoop(a: Arrival, i: number, body: Uint8Array): Promise<void> {
    const r = this.replicas[i] as Store;
    while (!a.signal.aborted && Date.now() <= a.deadline) {
      try {
        await r.put(`${a.dir}${this.shard.index}`, body, { signal: this.callSignal(a) });
        a.acked.add(i);
        a.lastError[i] = undefined;
        return;
      } catch (e) {
        if (a.signal.aborted) return;
        a.lastError[i] = describeCause(e);
      }
      await sleep(Math.max(250, this.pollMs * 2), a.signal).catch(() => undefined);
    }
  }

  /** Lists replica i every pollMs, one call in flight, until the arrival ends. */
  private async listLoop(a: Arrival, i: number): Promise<void> {
    const r = this.replicas[i] as Store;
    while (!a.signal.aborted) {
      try {
        const keys = await r.list(a.dir, { signal: this.callSignal(a) });
        a.seen[i] = new Set(keys.map((k) => Number(k.slice(a.dir.length))).filter((x) => Number.isInteger(x) && x >= 0 && x < this.shard.count));
        a.lastError[i] = undefined;
      } catch (e) {
        if (a.signal.aborted) return;
        a.lastError[i] = describeCause(e);
      }
      await sleep(this.pollMs, a.signal).catch(() => undefined);
    }
  }

  private get pollMs(): number {
    return this.opts.pollMs ?? 100;
  }

  private callSignal(a: Arrival): AbortSignal {
    return AbortSignal.any([a.signal, AbortSignal.timeout(this.opts.callTimeoutMs ?? 10_000)]);
  }

  /** Waits (checking every 10 ms) until `done`, or throws `fail()` past the deadline. */
  private async until(a: Arrival, done: () => boolean, fail: () => Error): Promise<void> {
    while (!done()) {
      if (this.opts.signal?.aborted) throw this.opts.signal.reason instanceof Error ? this.opts.signal.reason : new Error('aborted');
      if (Date.now() > a.deadline) throw fail();
      await sleep(10, this.opts.signal);
    }
  }

  /** Every shard index some replica listed. */
  private union(a: Arrival): Set<number> {
    const all = new Set<number>();
    for (const s of a.seen) for (const x of s ?? []) all.add(x);
    return all;
  }

  /** Replicas with an error as their last answer, for messages. */
  private failing(a: Arrival, which: (i: number) => boolean): string {
    const parts = this.replicas.flatMap((_, i) => (which(i) && a.lastError[i] ? [`${this.labels[i]}: ${a.lastError[i]}`] : []));
    return parts.length ? parts.join('; ') : 'none answered with an error (too slow)';
  }

  private cannotArrive(name: string, a: Arrival): Error {
    return new Error(
      `shard ${this.shard.index}/${this.shard.count} could not arrive at barrier ${name} within ${Math.round(this.opts.timeoutMs / 1000)} s: ` +
        `${a.acked.size} of ${this.replicas.length} replicas took its marker, ${this.quorum} needed (n - t); failing replicas: ${this.failing(a, (i) => !a.acked.has(i))}`,
    );
  }

  private missing(name: string, a: Arrival): Error {
    const seen = this.union(a);
    const missing = Array.from({ length: this.shard.count }, (_, i) => i).filter((i) => !seen.has(i));
    const silent = this.replicas.flatMap((_, i) => (a.seen[i] === undefined ? [i] : []));
    return new Error(
      `shard ${this.shard.index}/${this.shard.count} waited ${Math.round(this.opts.timeoutMs / 1000)} s at barrier ${name} for shard(s) ${missing.join(', ')}; ` +
        (silent.length ? `replica(s) never listed: ${this.failing(a, (i) => silent.includes(i))}; ` : '') +
        'check that every shard runs the same suite and options with the same --run-id, that they all started (a job array whose tasks cannot all run at once never meets), or raise --sync-timeout',
    );
  }

  /** Every shard's marker, each from a replica that listed it. */
  private async readMarkers<T>(a: Arrival): Promise<BarrierMarker<T>[]> {
    const out: BarrierMarker<T>[] = [];
    for (let s = 0; s < this.shard.count; s++) {
      const errors: string[] = [];
      let marker: BarrierMarker<T> | undefined;
      for (let i = 0; i < this.replicas.length && !marker; i++) {
        if (!a.seen[i]?.has(s)) continue;
        try {
          const v = await (this.replicas[i] as Store).get(`${a.dir}${s}`, { signal: AbortSignal.any([...(this.opts.signal ? [this.opts.signal] : []), AbortSignal.timeout(this.opts.callTimeoutMs ?? 10_000)]) });
          if (v) marker = JSON.parse(dec.decode(v)) as BarrierMarker<T>;
        } catch (e) {
          if (this.opts.signal?.aborted) throw e;
          errors.push(`${this.labels[i]}: ${describeCause(e)}`);
        }
      }
      if (!marker) throw new Error(`shard ${this.shard.index}/${this.shard.count} cannot read the marker of shard ${s} at ${a.dir}: ${errors.join('; ') || 'gone from every replica that listed it'}`);
      out.push(marker);
    }
    return out;
  }
}
