import type { StoreOp } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import type { CallOptions, Store, StoreCapabilities } from '../store.js';

/**
 * Base class of every layer: forwards each call to the inner store unchanged.
 * A layer overrides only the calls it changes; its `name` shows the stack, e.g. `metrics(memory)`.
 * Every layer checks its arguments at its own entry (src/store-args.ts), whichever calls it
 * overrides: the constructor puts the checks in front of the four data calls, so a bad key, value
 * or prefix rejects with a ConfigError naming this layer before any of its code runs.
 */
export class ForwardingStore implements Store {
  readonly name: string;

  constructor(
    readonly inner: Store,
    layerName: string,
  ) {
    this.name = `${layerName}(${inner.name})`;
    guardStoreCalls(this);
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

/**
 * Base class of a layer that does the same thing around every data call (put, get, list, remove):
 * it implements `around`, which receives the call type, the key (the prefix for `list`), the call
 * options and a function that makes the inner call.
 */
export abstract class InterceptingStore extends ForwardingStore {
  protected abstract around<T>(op: StoreOp, key: string, opts: CallOptions | undefined, call: () => Promise<T>): Promise<T>;

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.around('put', key, opts, () => this.inner.put(key, value, opts));
  }

  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.around('get', key, opts, () => this.inner.get(key, opts));
  }

  override list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.around('list', prefix, opts, () => this.inner.list(prefix, opts));
  }

  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.around('remove', key, opts, () => this.inner.remove(key, opts));
  }
}
