/**
 * Small store wrappers the harness puts around replicas: a key namespace per measured cell and
 * a fixed per-call delay (the latency model).
 */
import type { CallOptions, Store } from '../../store.js';
import { ForwardingStore } from '../../layers/forwarding.js';
import { sleep } from '../../util/abort.js';

/**
 * Puts every key under `ns` (which should end with `/`). `close()` does not close the inner store,
 * so several clients can share one replica and close their own view of it.
 */
export class ScopedStore extends ForwardingStore {
  constructor(
    inner: Store,
    readonly ns: string,
  ) {
    super(inner, 'scoped');
  }
  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.inner.put(this.ns + key, value, opts);
  }
  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.inner.get(this.ns + key, opts);
  }
  override async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const keys = await this.inner.list(this.ns + prefix, opts);
    return keys.map((k) => k.slice(this.ns.length));
  }
  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.inner.remove(this.ns + key, opts);
  }
  override async close(): Promise<void> {}
}

/** Adds a fixed delay of `ms` before every call (abortable). */
export class DelayedStore extends ForwardingStore {
  constructor(
    inner: Store,
    readonly ms: number,
  ) {
    super(inner, `delay${ms}ms`);
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const copy = value.slice();
    await sleep(this.ms, opts?.signal, { store: this.name, op: 'put', key });
    return this.inner.put(key, copy, opts);
  }
  override async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    await sleep(this.ms, opts?.signal, { store: this.name, op: 'get', key });
    return this.inner.get(key, opts);
  }
  override async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    await sleep(this.ms, opts?.signal, { store: this.name, op: 'list', key: prefix });
    return this.inner.list(prefix, opts);
  }
  override async remove(key: string, opts?: CallOptions): Promise<void> {
    await sleep(this.ms, opts?.signal, { store: this.name, op: 'remove', key });
    return this.inner.remove(key, opts);
  }
}
