/**
 * What every cloud adapter does before a call: fail at once when the caller's signal already fired
 * or the store is closed, and check (or create) the bucket once, lazily, shared by concurrent first
 * calls. A bucket found missing later is forgotten so the next call checks again.
 */
import { StoreError, type StoreOp } from '../errors.js';
import type { CallOptions } from '../store.js';
import { throwIfAborted, type CallSite } from '../util/abort.js';
import { raceSignal, relabel } from './errors-map.js';

export class BucketGate {
  private ready: Promise<void> | undefined;
  private checked = false;
  private isClosed = false;

  constructor(
    /** The store's name, for errors. */
    private readonly store: string,
    /** The bucket or container, for errors. */
    private readonly bucket: string,
    /** Checks that the bucket exists (creating it when the store is told to); throws a StoreError. */
    private readonly check: () => Promise<void>,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Marks the store closed; false when it already was. */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    return true;
  }

  /** The bucket turned out to be missing: check again on the next call. */
  forget(): void {
    this.ready = undefined;
    this.checked = false;
  }

  /** Checks the bucket once per store (again after a failure); the caller's signal only ends its wait. */
  ensure(signal?: AbortSignal): Promise<void> {
    if (!this.ready) {
      // shared by concurrent first calls, so it does not use any one caller's signal
      const p = this.check().then(() => {
        if (this.ready === p) this.checked = true;
      });
      this.ready = p;
      p.catch(() => {
        if (this.ready === p) this.ready = undefined; // try again next call
      });
    }
    return raceSignal(this.ready, signal, { store: this.store, op: 'ensureBucket', key: this.bucket });
  }

  /** Runs before every call: aborted or closed stores fail at once; the first call checks the bucket. */
  async begin(site: CallSite, signal?: AbortSignal): Promise<void> {
    throwIfAborted(signal, site);
    if (this.isClosed) {
      throw new StoreError({ ...site, kind: 'Unavailable', retryable: false, detail: 'the store is closed' });
    }
    if (this.checked) return;
    try {
      await this.ensure(signal);
    } catch (e) {
      throw relabel(e, site);
    }
  }

  /** `begin` for a call of this store: returns the call site (for errors) and the caller's signal. */
  async enter(op: StoreOp, key: string, opts?: CallOptions): Promise<{ site: CallSite; signal: AbortSignal | undefined }> {
    const site: CallSite = { store: this.store, op, key };
    await this.begin(site, opts?.signal);
    return { site, signal: opts?.signal };
  }
}
