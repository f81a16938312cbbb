/**
 * Quorum machinery: issue a call to all n replicas, count answers as they arrive, and let an operation
 * wait until a condition over the answers holds. The operation never waits for one particular replica;
 * calls it leaves behind keep running ("lingering"), their outcomes are still recorded (late answers
 * count), their rejections are always caught, and `ReplicaSet.close()` aborts them all.
 *
 * No timers and no randomness: everything is driven by the settlement of the replicas' promises, so a
 * deterministic scheduler that controls those promises controls the whole register.
 */
import { setMaxListeners } from 'node:events';
import { QuorumError, StoreError, type ReplicaFailure } from '../errors.js';
import type { Store } from '../store.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** The n replicas of one client, with the calls it has in flight. */
export class ReplicaSet {
  readonly n: number;
  private readonly closer = new AbortController();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    readonly replicas: readonly Store[],
    /** Name of the robust store, for errors. */
    readonly storeName: string,
  ) {
    this.n = replicas.length;
    // every call in flight (lingering ones included) listens to this signal: no listener cap
    setMaxListeners(0, this.closer.signal);
  }

  /** Fires when the client is closed; every replica call carries it. */
  get closeSignal(): AbortSignal {
    return this.closer.signal;
  }

  get closed(): boolean {
    return this.closer.signal.aborted;
  }

  /** How replica `i` is named in errors. */
  replicaName(i: number): string {
    return `replica ${i} (${this.replicas[i]?.name ?? '?'})`;
  }

  /** Calls in flight right now (lingering ones included). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * Issues one call to replica `i`. `onSettle` runs with its outcome whenever it settles, even long after
   * the operation that issued it returned. Returns a promise that settles (never rejects) after `onSettle`.
   */
  call<T>(i: number, fn: (store: Store, signal: AbortSignal) => Promise<T>, onSettle: (o: Outcome<T>) => void): Promise<void> {
    const store = this.replicas[i] as Store;
    let p: Promise<T>;
    try {
      p = fn(store, this.closer.signal);
    } catch (error) {
      p = Promise.reject(error);
    }
    const done = p.then(
      (value) => onSettle({ ok: true, value }),
      (error: unknown) => onSettle({ ok: false, error }),
    );
    const tracked = done.then(
      () => {
        this.inflight.delete(tracked);
      },
      (bug: unknown) => {
        // onSettle must not throw; if it does, keep the failure visible without an unhandled rejection.
        this.inflight.delete(tracked);
        queueMicrotask(() => {
          throw bug;
        });
      },
    );
    this.inflight.add(tracked);
    return tracked;
  }

  /** Resolves once no call is in flight (calls issued while waiting are waited for too). */
  async settled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Aborts every call in flight and waits until they have settled. Idempotent. */
  async close(): Promise<void> {
    if (!this.closer.signal.aborted) {
      this.closer.abort(new StoreError({ kind: 'Unavailable', store: this.storeName, op: 'close', key: '', detail: 'the robust store was closed' }));
    }
    await this.settled();
  }
}

/** Wakes the waiters of one operation whenever one of its calls settles. */
export class Waiter {
  private readonly wakers = new Set<() => void>();

  wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /**
   * Resolves with the first non-undefined result of `check`, evaluated now and after every wake.
   * `check` throws to fail the wait. When `signal` fires first, rejects with `onAbort()`.
   */
  until<R>(check: () => R | undefined, signal: AbortSignal | undefined, onAbort: () => Error): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let finished = false;
      const finish = () => {
        finished = true;
        this.wakers.delete(run);
        signal?.removeEventListener('abort', abort);
      };
      const run = () => {
        if (finished) return;
        let r: R | undefined;
        try {
          r = check();
        } catch (e) {
          finish();
          reject(e);
          return;
        }
        if (r !== undefined) {
          finish();
          resolve(r);
        }
      };
      const abort = () => {
        if (finished) return;
        finish();
        reject(onAbort());
      };
      if (signal?.aborted) {
        abort();
        return;
      }
      this.wakers.add(run);
      signal?.addEventListener('abort', abort, { once: true });
      run();
    });
  }
}

/** One call issued to all n replicas; outcomes recorded per replica as they arrive. */
export class Round<T> {
  readonly outcomes: (Outcome<T> | undefined)[];
  ok = 0;
  failed = 0;
  /** Settle-tracking promises of the n calls. */
  readonly calls: Promise<void>[];

  constructor(
    readonly rs: ReplicaSet,
    readonly op: string,
    readonly key: string,
    fn: (store: Store, i: number, signal: AbortSignal) => Promise<T>,
    waiter: Waiter | undefined,
    onEach?: (i: number, o: Outcome<T>) => void,
  ) {
    this.outcomes = new Array<Outcome<T> | undefined>(rs.n).fill(undefined);
    this.calls = [...Array(rs.n).keys()].map((i) =>
      rs.call(
        i,
        (store, signal) => fn(store, i, signal),
        (o) => {
          this.outcomes[i] = o;
          if (o.ok) this.ok++;
          else this.failed++;
          onEach?.(i, o);
          waiter?.wake();
        },
      ),
    );
  }

  get pending(): number {
    return this.rs.n - this.ok - this.failed;
  }

  /** Successful answers so far, with the replica index. */
  values(): { i: number; value: T }[] {
    const out: { i: number; value: T }[] = [];
    this.outcomes.forEach((o, i) => {
      if (o?.ok) out.push({ i, value: o.value });
    });
    return out;
  }

  /** True when `q` successes are in; throws a QuorumError when `q` can no longer be reached. */
  reached(q: number): true | undefined {
    if (this.ok >= q) return true;
    if (this.ok + this.pending < q) throw this.error(q, false);
    return undefined;
  }

  /** A QuorumError describing each replica that has not answered successfully. */
  error(needed: number, aborted: boolean, signal?: AbortSignal): QuorumError {
    return quorumError(this.rs, this.op, this.key, needed, this.ok, this.outcomes, aborted, signal);
  }
}

/** Builds a QuorumError with one entry per replica that did not answer successfully. */
export function quorumError(
  rs: ReplicaSet,
  op: string,
  key: string,
  needed: number,
  received: number,
  outcomes: readonly (Outcome<unknown> | undefined)[],
  aborted: boolean,
  signal?: AbortSignal,
): QuorumError {
  const failures: ReplicaFailure[] = [];
  outcomes.forEach((o, i) => {
    if (o?.ok) return;
    failures.push({
      replica: rs.replicaName(i),
      error: o ? o.error : aborted ? 'no answer before the operation timed out or was aborted' : 'no answer yet',
    });
  });
  const err = new QuorumError({
    store: rs.storeName,
    op,
    key,
    needed,
    received,
    failures,
    aborted,
    cause: aborted ? signal?.reason : undefined,
    // The Store contract: a call that ended because its signal fired has kind Timeout.
    kind: aborted ? 'Timeout' : 'Unavailable',
  });
  return err;
}
