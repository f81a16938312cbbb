/**
 * The prefix layer: puts every key under a namespace. `prefixed('run-42/')` stores key `k` as
 * `run-42/k`, and `list` returns keys without the prefix, so many runs can share one bucket
 * without seeing each other. Errors name the key as the caller gave it.
 */
import { ConfigError, StoreError } from '../errors.js';
import type { CallOptions, Layer, Store, StoreCapabilities } from '../store.js';
import { ForwardingStore } from './forwarding.js';

/** A store that lives under a key prefix of its inner store. */
export class PrefixStore extends ForwardingStore {
  private readonly prefixBytes: number;

  constructor(
    inner: Store,
    readonly prefix: string,
  ) {
    super(inner, `prefixed[${prefix}]`);
    if (typeof prefix !== 'string') throw new ConfigError('prefixed(prefix)', `must be a string, got ${typeof prefix}`);
    this.prefixBytes = Buffer.byteLength(prefix, 'utf8');
  }

  override get capabilities(): StoreCapabilities {
    const c = this.inner.capabilities;
    return { ...c, maxKeyBytes: Math.max(0, c.maxKeyBytes - this.prefixBytes) };
  }

  /** Rethrows an inner error with the caller's key, keeping its kind, retryability and cause. */
  private async wrap<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      throw new StoreError({
        kind: e.kind,
        store: this.name,
        op,
        key,
        retryable: e.retryable,
        aborted: e.aborted,
        cause: e,
      });
    }
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    return this.wrap('put', key, () => this.inner.put(this.prefix + key, value, opts));
  }

  override get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.wrap('get', key, () => this.inner.get(this.prefix + key, opts));
  }

  override list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const n = this.prefix.length;
    return this.wrap('list', prefix, async () => (await this.inner.list(this.prefix + prefix, opts)).map((k) => k.slice(n)));
  }

  override remove(key: string, opts?: CallOptions): Promise<void> {
    return this.wrap('remove', key, () => this.inner.remove(this.prefix + key, opts));
  }
}

/** Namespaces every key under `prefix` (list strips it). */
export function prefixed(prefix: string): Layer {
  if (typeof prefix !== 'string') throw new ConfigError('prefixed(prefix)', `must be a string, got ${typeof prefix}`);
  return (inner) => new PrefixStore(inner, prefix);
}
