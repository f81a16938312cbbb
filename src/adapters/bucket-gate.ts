/**
 * What every cloud adapter does around a call: fail at once when the caller's signal already fired
 * or the store is closed; check (or create) the bucket once, lazily, shared by concurrent first
 * calls; and give the call its own signal, which fires when the caller's does or when the store is
 * closed, so `close()` aborts every request in flight. A bucket found missing later is forgotten
 * so the next call checks again.
 */
import { StoreError, type StoreOp } from '../errors.js';
import type { CallOptions } from '../store.js';
import { throwIfAborted, type CallSite } from '../util/abort.js';
import { relabel, StoreClosedError, storeClosedError, abortedCallError } from './errors-map.js';

/** One call in progress: where it is (for errors), its signal, and `release()` to call when it ends. */
export interface GateCall {
  site: CallSite;
  /** Fires when the caller's signal fires or the store is closed. */
  signal: AbortSignal;
  /** Detaches the call from the caller's signal and the store; call it once the call has ended. */
  release(): void;
}

interface Check {
  promise: Promise<void>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
}

export class BucketGate {
  private current: Check | undefined;
  private checked = false;
  private isClosed = false;
  /** Controllers of the calls in progress; close() aborts them. */
  private readonly calls = new Set<AbortController>();

  constructor(
    /** The store's name, for errors. */
    private readonly store: string,
    /** The bucket or container, for errors. */
    private readonly bucket: string,
    /**
     * Checks that the bucket exists (creating it when the store is told to); throws a StoreError.
     * `signal` fires when the store is closed or every call waiting for the check gave up.
     */
    private readonly check: (signal: AbortSignal) => Promise<void>,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Calls in progress (for tests and diagnostics). */
  get inFlight(): number {
    return this.calls.size;
  }

  /** Marks the store closed and aborts every call in progress and the bucket check; false when already closed. */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    const reason = new StoreClosedError(this.store);
    for (const c of [...this.calls]) c.abort(reason);
    this.calls.clear();
    this.current?.controller.abort(reason);
    return true;
  }

  /** The bucket turned out to be missing: check again on the next call. */
  forget(): void {
    this.current = undefined;
    this.checked = false;
  }

  /**
   * Checks the bucket once per store (again after a failure). Concurrent callers share one check;
   * a caller's signal only ends its own wait, and the check itself is aborted when every caller
   * waiting for it gave up (or the store is closed), so it never runs on unobserved.
   */
  ensure(signal?: AbortSignal): Promise<void> {
    const site: CallSite = { store: this.store, op: 'ensureBucket', key: this.bucket };
    if (this.isClosed) return Promise.reject(storeClosedError(site));
    if (signal?.aborted) return Promise.reject(abortedCallError(site, signal));
    if (this.checked) return Promise.resolve();
    let check = this.current;
    if (!check) {
      const controller = new AbortController();
      const promise = this.check(controller.signal);
      const c: Check = { promise, controller, waiters: 0, settled: false };
      this.current = check = c;
      promise.then(
        () => {
          c.settled = true;
          if (this.current === c) this.checked = true;
        },
        () => {
          c.settled = true;
          if (this.current === c) this.current = undefined; // try again next call
        },
      );
    }
    const c = check;
    c.waiters++;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = () => {
        done = true;
        c.waiters--;
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        if (done) return;
        finish();
        if (c.waiters === 0 && !c.settled) {
          // nobody waits for it any more: stop it, and let the next call start afresh
          c.controller.abort(signal?.reason);
          if (this.current === c) this.current = undefined;
        }
        reject(abortedCallError(site, signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      c.promise.then(
        () => {
          if (done) return;
          finish();
          resolve();
        },
        (e: unknown) => {
          if (done) return;
          finish();
          reject(e);
        },
      );
    });
  }

  /**
   * Starts a call: fails at once when the caller's signal fired or the store is closed, checks the
   * bucket on the first call, and returns the call's own signal. Call `release()` when it ends.
   */
  async enter(op: StoreOp, key: string, opts?: CallOptions): Promise<GateCall> {
    const site: CallSite = { store: this.store, op, key };
    const caller = opts?.signal;
    throwIfAborted(caller, site);
    if (this.isClosed) {
      throw new StoreError({ ...site, kind: 'Unavailable', retryable: false, detail: 'the store is closed' });
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(caller?.reason);
    caller?.addEventListener('abort', onAbort, { once: true });
    this.calls.add(controller);
    const release = () => {
      caller?.removeEventListener('abort', onAbort);
      this.calls.delete(controller);
    };
    if (!this.checked) {
      try {
        await this.ensure(controller.signal);
      } catch (e) {
        release();
        throw relabel(e, site);
      }
    }
    return { site, signal: controller.signal, release };
  }
}
