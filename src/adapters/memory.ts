import { guardStoreCalls } from '../store-args.js';
import { DEFAULT_CAPABILITIES, sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { throwIfAborted } from '../util/abort.js';

export interface MemoryStoreOptions {
  /**
   * Name shown in errors and layer stacks.
   * @default "memory"
   */
  name?: string;
}

/** An in-process store backed by a Map; linearizable, not persistent. */
export class MemoryStore implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities = DEFAULT_CAPABILITIES;
  private readonly data = new Map<string, Uint8Array>();

  constructor(opts: MemoryStoreOptions = {}) {
    this.name = opts.name ?? 'memory';
    guardStoreCalls(this);
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts?.signal, { store: this.name, op: 'put', key });
    this.data.set(key, new Uint8Array(value)); // a copy, in this realm even when `value` comes from another
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    throwIfAborted(opts?.signal, { store: this.name, op: 'get', key });
    const v = this.data.get(key);
    return v === undefined ? null : v.slice();
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    throwIfAborted(opts?.signal, { store: this.name, op: 'list', key: prefix });
    const out: string[] = [];
    for (const k of this.data.keys()) if (k.startsWith(prefix)) out.push(k);
    return sortKeys(out);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    throwIfAborted(opts?.signal, { store: this.name, op: 'remove', key });
    this.data.delete(key);
  }

  async close(): Promise<void> {}

  /** Number of keys held (for tests and overhead accounting). */
  get size(): number {
    return this.data.size;
  }
}

/** Creates an in-memory store. */
export function createMemoryStore(opts: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(opts);
}
