/**
 * Counts replica requests and bytes per logical operation of a cell. Every replica is wrapped in a
 * counting layer; each replica call is attributed to the logical operation (write/read/remove, at
 * its value size) whose async context issued it — background GC and lingering calls included —
 * through AsyncLocalStorage.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallOptions, Store } from '../../store.js';
import { ForwardingStore } from '../../layers/forwarding.js';

/** The logical operation a replica call belongs to. */
export interface OpContext {
  op: string;
  /** Value size of the operation's series (the cell's size, or a distribution's bucket). @default 0 */
  value_bytes?: number;
  /** False during warm-up: calls are then not counted. */
  measured: boolean;
}

export const opContext = new AsyncLocalStorage<OpContext>();

/** Runs `fn` with its replica calls attributed to `ctx`. */
export function withOp<T>(ctx: OpContext, fn: () => Promise<T>): Promise<T> {
  return opContext.run(ctx, fn);
}

export interface RequestCounts {
  puts: number;
  gets: number;
  lists: number;
  removes: number;
  bytes_up: number;
  bytes_down: number;
}

export function emptyCounts(): RequestCounts {
  return { puts: 0, gets: 0, lists: 0, removes: 0, bytes_up: 0, bytes_down: 0 };
}

export function addCounts(into: RequestCounts, c: RequestCounts): void {
  into.puts += c.puts;
  into.gets += c.gets;
  into.lists += c.lists;
  into.removes += c.removes;
  into.bytes_up += c.bytes_up;
  into.bytes_down += c.bytes_down;
}

/** The requests one replica received for one operation of a cell, at one value size. */
export interface RequestEntry {
  op: string;
  value_bytes: number;
  replica: string;
  counts: RequestCounts;
}

/** Counts per (logical op, value size, replica). */
export class RequestCounter {
  private readonly counts = new Map<string, RequestCounts>();

  private slot(replica: string): RequestCounts | undefined {
    const ctx = opContext.getStore();
    if (!ctx || !ctx.measured) return undefined;
    const k = `${ctx.op}\u0000${ctx.value_bytes ?? 0}\u0000${replica}`;
    let c = this.counts.get(k);
    if (!c) this.counts.set(k, (c = emptyCounts()));
    return c;
  }

  count(replica: string, call: 'put' | 'get' | 'list' | 'remove', up: number, down: number): void {
    const c = this.slot(replica);
    if (!c) return;
    if (call === 'put') c.puts++;
    else if (call === 'get') c.gets++;
    else if (call === 'list') c.lists++;
    else c.removes++;
    c.bytes_up += up;
    c.bytes_down += down;
  }

  /** Every (op, value size, replica) with its totals. */
  entries(): RequestEntry[] {
    return [...this.counts].map(([k, counts]) => {
      const [op, vb, replica] = k.split('\u0000') as [string, string, string];
      return { op, value_bytes: Number(vb), replica, counts };
    });
  }
}

const utf8Len = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * A layer counting every call and its payload bytes (keys included) into `counter` under
 * `replica`. Calls are counted when issued, whether they succeed or not.
 */
export class CountingStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly replica: string,
    private readonly counter: RequestCounter,
  ) {
    super(inner, 'counted');
  }

  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    this.counter.count(this.replica, 'put', utf8Len(key) + value.byteLength, 0);
    return this.inner.put(key, value, opts);
  }

  override async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const v = await this.inner.get(key, opts).catch((e: unknown) => {
      this.counter.count(this.replica, 'get', utf8Len(key), 0);
      throw e;
    });
    this.counter.count(this.replica, 'get', utf8Len(key), v?.byteLength ?? 0);
    return v;
  }

  override async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const keys = await this.inner.list(prefix, opts).catch((e: unknown) => {
      this.counter.count(this.replica, 'list', utf8Len(prefix), 0);
      throw e;
    });
    let down = 0;
    for (const k of keys) down += utf8Len(k);
    this.counter.count(this.replica, 'list', utf8Len(prefix), down);
    return keys;
  }

  override async remove(key: string, opts?: CallOptions): Promise<void> {
    this.counter.count(this.replica, 'remove', utf8Len(key), 0);
    return this.inner.remove(key, opts);
  }
}
