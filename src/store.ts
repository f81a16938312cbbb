/**
 * The Store contract: the four calls every cloud key-value store offers.
 *
 * Every adapter (memory, fs, S3, Azure Blob, GCS), every layer and the robust store itself
 * implements this interface, and the shared conformance suite (test/conformance/) enforces
 * the behaviour written on each method below.
 */
import type { StoreOp } from './errors.js';

/** Options accepted by every call. */
export interface CallOptions {
  /**
   * Aborts the call. An aborted call rejects with a StoreError of kind `Timeout` and
   * `aborted: true`, releases its resources, and never hangs.
   */
  signal?: AbortSignal;
}

/** What a store supports; layers pass their inner store's capabilities through unless they change them. */
export interface StoreCapabilities {
  /** `list` returns keys in ascending code-unit (lexicographic) order. All built-in stores do. */
  readonly sortedList: boolean;
  /** A completed put is visible to every later get and list (the store is linearizable per key). */
  readonly linearizable: boolean;
  /** Data survives the process (false for memory). */
  readonly persistent: boolean;
  /** Largest key accepted, in UTF-8 bytes (Infinity when unbounded). */
  readonly maxKeyBytes: number;
  /** Largest value accepted, in bytes (Infinity when unbounded). */
  readonly maxValueBytes: number;
}

/** A key-value store with put/get/list/remove. */
export interface Store {
  /** Human-readable name; layers show the stack, e.g. `latency(faults(memory))`. */
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  /**
   * Creates or overwrites `key` with exactly `value` (any bytes, including empty).
   * When the promise resolves, the value is durable at the store and visible to later calls.
   * The store keeps no reference to `value`: the caller may reuse the buffer afterwards.
   */
  put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void>;

  /**
   * Returns the bytes stored at `key`, byte-exact, or `null` when the key is absent.
   * Absence is not an error. The returned buffer belongs to the caller.
   */
  get(key: string, opts?: CallOptions): Promise<Uint8Array | null>;

  /**
   * Returns every key that starts with `prefix` (empty prefix: all keys), draining all pages,
   * sorted ascending by code units when `capabilities.sortedList`. No key is repeated.
   */
  list(prefix: string, opts?: CallOptions): Promise<string[]>;

  /** Removes `key`. Removing an absent key succeeds (idempotent). */
  remove(key: string, opts?: CallOptions): Promise<void>;

  /**
   * Releases resources (sockets, timers) and aborts calls still in flight where the store can.
   * Calls after close may fail. Idempotent.
   */
  close(): Promise<void>;
}

/** A layer wraps a store and is a store itself. */
export type Layer = (inner: Store) => Store;

export const STORE_OPS: readonly StoreOp[] = ['put', 'get', 'list', 'remove'];

/** Capabilities of an ideal local store. */
export const DEFAULT_CAPABILITIES: StoreCapabilities = Object.freeze({
  sortedList: true,
  linearizable: true,
  persistent: false,
  maxKeyBytes: Number.POSITIVE_INFINITY,
  maxValueBytes: Number.POSITIVE_INFINITY,
});

/** Sorts keys by UTF-16 code units (the order of JavaScript's default comparison). */
export function sortKeys(keys: string[]): string[] {
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** UTF-8 encode a string. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** UTF-8 decode bytes. */
export function fromUtf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
