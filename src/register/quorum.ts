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

/**
 * The store call an operation serves (`put("k")`, whether the user called put, remove or write),
 * and the signals that may end its wait. Every error of the operation names this call, not the
 * replica round it was waiting for (the round is said in the message).
 */
export interface OpContext {
  /** The call as the user made it: put, get, list, remove, write, read. */
  op: string;
  /** Its key (the register name) or, for list, its prefix. */
  key: string;
  /** What the operation waits under: any of the three below. */
  signal?: AbortSignal;
  /** The caller's `opts.signal`. */
  caller?: AbortSignal;
  /** The operation timeout (`operationTimeoutMs`). */
  timeout?: AbortSignal;
  timeoutMs?: number;
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
    readonly ctx: OpContext,
    /** The replica call of this round (`list`, `put`, `get`), for messages. */
    readonly round: string,
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
  error(needed: number, aborted: boolean): QuorumError {
    return quorumError(this.rs, this.ctx, this.round, needed, this.ok, this.outcomes, aborted);
  }
}

/** Why an operation's wait ended before a quorum: the caller's signal, close(), or the operation timeout. */
type EndedBy = 'caller' | 'close' | 'timeout';

function endedBy(rs: ReplicaSet, ctx: OpContext): EndedBy {
  if (ctx.caller?.aborted) return 'caller';
  if (rs.closed) return 'close';
  if (ctx.timeout?.aborted) return 'timeout';
  return 'caller';
}

/**
 * Builds a QuorumError for the user's call `ctx`, with one entry per replica that did not answer
 * successfully in `round`. When the wait was cut short (`aborted`), the error says by what:
 * - the caller's signal: `Timeout`, `aborted: true`, not retryable (the store contract's abort);
 * - `close()`: `Unavailable`, `aborted: true`, not retryable (as an adapter closed in flight);
 * - `operationTimeoutMs`: `Timeout`, `aborted: false`, retryable (the store's own limit passed, as an
 *   adapter's request timeout; the retry layer may try again).
 * Too few replicas able to answer: `Unavailable`, retryable.
 */
export function quorumError(
  rs: ReplicaSet,
  ctx: OpContext,
  round: string,
  needed: number,
  received: number,
  outcomes: readonly (Outcome<unknown> | undefined)[],
  aborted: boolean,
): QuorumError {
  const by = aborted ? endedBy(rs, ctx) : undefined;
  const reason =
    by === 'caller'
      ? (ctx.caller?.reason as { name?: unknown } | undefined)?.name === 'TimeoutError'
        ? 'timed out (the caller\'s AbortSignal.timeout)'
        : 'aborted by the caller'
      : by === 'close'
        ? 'the robust store was closed while the call was in flight'
        : by === 'timeout'
          ? `no quorum within operationTimeoutMs (${ctx.timeoutMs ?? '?'} ms)`
          : undefined;
  const pending =
    by === 'caller'
      ? 'no answer before the caller aborted'
      : by === 'close'
        ? 'no answer before the robust store was closed'
        : by === 'timeout'
          ? 'no answer before the operation timed out'
          : 'no answer yet';
  const failures: ReplicaFailure[] = [];
  outcomes.forEach((o, i) => {
    if (o?.ok) return;
    failures.push({ replica: rs.replicaName(i), error: o ? o.error : pending });
  });
  return new QuorumError({
    store: rs.storeName,
    op: ctx.op,
    key: ctx.key,
    needed,
    received,
    failures,
    round,
    reason,
    aborted: by === 'caller' || by === 'close',
    retryable: by === undefined || by === 'timeout',
    cause: by === 'caller' ? ctx.caller?.reason : undefined,
    kind: by === 'caller' || by === 'timeout' ? 'Timeout' : 'Unavailable',
  });
}
