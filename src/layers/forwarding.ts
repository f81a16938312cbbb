import type { CallOptions, Store, StoreCapabilities } from '../store.js';

/**
 * Base class of every layer: forwards each call to the inner store unchanged.
 * A layer overrides only the calls it changes; its `name` shows the stack, e.g. `metrics(memory)`.
 */
export class ForwardingStore implements Store {
  readonly name: string;

  constructor(
    readonly inner: Store,
    layerName: string,
  ) {
    this.name = `${layerName}(${inner.name})`;
  }

  get capabilities(): StoreCapabilities {
    return this.inner.capabilities;
  }

  put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.inner.put(key, value, opts);
  }

  get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.inner.get(key, opts);
  }

  list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.inner.list(prefix, opts);
  }

  remove(key: string, opts?: CallOptions): Promise<void> {
    return this.inner.remove(key, opts);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
