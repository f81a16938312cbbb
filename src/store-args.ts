/**
 * The argument checks every store call makes at its public entry, before anything else happens:
 * keys are non-empty strings, prefixes are strings, values are `Uint8Array`s (a `Buffer` is one),
 * options are an object whose `signal` is an AbortSignal. A call with a bad argument rejects with a `ConfigError` whose
 * `path` is the argument (`key`, `value`, `prefix`, `opts`, `opts.signal`) and whose message names
 * the store, the call, what was received and how to fix it. Nothing is copied, converted or coerced:
 * a string is not encoded, a `Uint16Array` is not narrowed, `123` is not turned into `"123"` (nor
 * into the empty key), and `list()` without a prefix does not mean `''`.
 *
 * Used by the adapters (memory and fs directly, the cloud adapters through their BucketGate), by
 * the base class of every layer (ForwardingStore), and by the robust store.
 */
import { types } from 'node:util';
import { ConfigError, type StoreOp } from './errors.js';
import type { Store } from './store.js';

/** The arguments a store call checks. */
export type StoreArgument = 'key' | 'value' | 'prefix' | 'opts' | 'opts.signal';

const an = (word: string): string => (/^(?:[aeio]|u(?!int))/i.test(word) ? `an ${word}` : `a ${word}`);

/**
 * What was received, for a message: its type and size, never its content (a value may be secret);
 * numbers, booleans and bigints are shown, since a key given as one is the usual mistake.
 */
export function describeReceived(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return `a string of ${v.length} character${v.length === 1 ? '' : 's'}`;
    case 'number':
      return `the number ${String(v)}`;
    case 'bigint':
      return `the bigint ${String(v)}n`;
    case 'boolean':
      return `the boolean ${String(v)}`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (types.isArrayBuffer(v)) return `an ArrayBuffer of ${v.byteLength} bytes`;
  if (types.isSharedArrayBuffer(v)) return `a SharedArrayBuffer of ${v.byteLength} bytes`;
  if (types.isDataView(v)) return `a DataView of ${v.byteLength} bytes`;
  if (types.isTypedArray(v)) {
    const name = Object.prototype.toString.call(v).slice(8, -1);
    return `${an(name)} of ${v.length} element${v.length === 1 ? '' : 's'} (${v.byteLength} bytes)`;
  }
  if (Array.isArray(v)) return `an array of ${v.length} element${v.length === 1 ? '' : 's'}`;
  if (types.isPromise(v)) return 'a Promise';
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof ctor === 'string' && ctor !== '' && ctor !== 'Object' ? `${an(ctor)} object` : 'a plain object';
}

/** The call as shown in messages, e.g. `put("users/42", value)` or `list(prefix)`. */
function callText(call: string, key: unknown, withValue: boolean, argName = 'key'): string {
  const first = typeof key === 'string' ? JSON.stringify(key) : argName;
  return `${call}(${first}${withValue ? ', value' : ''})`;
}

function invalid(arg: StoreArgument, store: string, call: string, what: string): ConfigError {
  return new ConfigError(arg, `${call} on store ${store} ${what}`);
}

function keyFix(key: unknown): string {
  switch (typeof key) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `pass the key as a string, e.g. ${JSON.stringify(String(key))}`;
    case 'symbol':
      return 'a symbol cannot name a stored key; pass a string';
    case 'object':
    case 'function':
      if (key !== null) return 'pass a string, e.g. an id taken from the object, or JSON.stringify(key) if the whole object is the key';
  }
  return 'pass the key as a string';
}

function valueFix(value: unknown): string {
  if (typeof value === 'string') {
    return 'encode text first: new TextEncoder().encode(text) or Buffer.from(text, "utf8") (and decode after get)';
  }
  if (value === undefined || value === null) {
    return 'pass the bytes to store (new Uint8Array(0) for an empty value); to delete a key, call remove(key)';
  }
  if (types.isArrayBuffer(value) || types.isSharedArrayBuffer(value)) return 'wrap it: new Uint8Array(buffer)';
  if (types.isDataView(value)) return 'pass its bytes: new Uint8Array(view.buffer, view.byteOffset, view.byteLength)';
  if (types.isTypedArray(value)) {
    return (
      'pass its bytes explicitly: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) ' +
      '(multi-byte elements are then stored in this machine\'s byte order, and get returns a Uint8Array)'
    );
  }
  if (Array.isArray(value)) return 'if the elements are bytes (integers 0-255), pass Uint8Array.from(array)';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'object') {
    return 'serialize it to bytes first, e.g. new TextEncoder().encode(JSON.stringify(value))';
  }
  return 'pass a Uint8Array';
}

/**
 * Throws a ConfigError (path `key`) unless `key` is a non-empty string. The empty key is refused by
 * every store, not only by those whose backend cannot hold it (Azure Blob and GCS answer 400; on S3
 * it addresses the bucket itself), so a program that works on one store works on every other.
 */
export function checkKey(store: string, call: string, key: unknown, withValue = false): asserts key is string {
  if (typeof key === 'string') {
    if (key !== '') return;
    throw invalid(
      'key',
      store,
      callText(call, key, withValue),
      'needs a non-empty key, got the empty string; "" names no object in S3, Azure Blob or GCS, so no store takes it: give the object a name (list(\'\') still lists every key)',
    );
  }
  throw invalid('key', store, callText(call, key, withValue), `needs a string key, got ${describeReceived(key)}; ${keyFix(key)}`);
}

/** Throws a ConfigError (path `value`) unless `value` is a Uint8Array (a Buffer is one; a Uint8ClampedArray is not). */
export function checkValue(store: string, call: string, key: string, value: unknown): asserts value is Uint8Array {
  if (types.isUint8Array(value)) return;
  throw invalid(
    'value',
    store,
    callText(call, key, true),
    `needs the value as a Uint8Array (a Buffer is one), got ${describeReceived(value)}; ${valueFix(value)}`,
  );
}

/** Throws a ConfigError (path `prefix`) unless `prefix` is a string (`''` lists every key). */
export function checkPrefix(store: string, call: string, prefix: unknown): asserts prefix is string {
  if (typeof prefix === 'string') return;
  const fix = prefix === undefined || prefix === null ? "pass '' to list every key" : keyFix(prefix).replace('the key', 'the prefix');
  throw invalid('prefix', store, `${call}(prefix)`, `needs a string prefix, got ${describeReceived(prefix)}; ${fix}`);
}

function isAbortSignal(s: unknown): s is AbortSignal {
  if (s instanceof AbortSignal) return true;
  // A signal from another realm (vm context) or a compatible implementation.
  const o = s as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.aborted === 'boolean' &&
    typeof o.addEventListener === 'function' &&
    typeof o.removeEventListener === 'function'
  );
}

/** Throws a ConfigError (path `opts` or `opts.signal`) unless `opts` is absent or an object with an AbortSignal (or no) `signal`. */
export function checkCallOptions(store: string, call: string, key: unknown, opts: unknown, withValue = false): void {
  if (opts === undefined) return;
  const where = `${callText(call, key, withValue, call === 'list' ? 'prefix' : 'key').slice(0, -1)}, opts)`;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    const hint = typeof opts === 'number' ? `; for a time limit pass { signal: AbortSignal.timeout(${opts}) }` : '; pass { signal } or leave it out';
    throw invalid('opts', store, where, `needs the options as an object such as { signal }, got ${describeReceived(opts)}${hint}`);
  }
  const signal = (opts as { signal?: unknown }).signal;
  if (signal === undefined || isAbortSignal(signal)) return;
  const hint =
    typeof signal === 'number'
      ? `; for a time limit pass { signal: AbortSignal.timeout(${signal}) }`
      : '; pass an AbortController\'s signal or AbortSignal.timeout(ms), or leave it out';
  throw invalid('opts.signal', store, where, `needs opts.signal to be an AbortSignal, got ${describeReceived(signal)}${hint}`);
}

/** Checks the arguments of `put` (or a call that takes a key and a value, such as the robust store's `write`). */
export function checkPutArgs(store: string, key: unknown, value: unknown, opts: unknown, call = 'put'): void {
  checkKey(store, call, key, true);
  checkValue(store, call, key, value);
  checkCallOptions(store, call, key, opts, true);
}

/** Checks the arguments of a call that takes a key: `get`, `remove` (and the robust store's `read`). */
export function checkKeyArgs(store: string, call: string, key: unknown, opts: unknown): void {
  checkKey(store, call, key);
  checkCallOptions(store, call, key, opts);
}

/** Checks the arguments of `list`. */
export function checkListArgs(store: string, prefix: unknown, opts: unknown, call = 'list'): void {
  checkPrefix(store, call, prefix);
  checkCallOptions(store, call, prefix, opts);
}

/** Checks the arguments of one of the four data calls, given as they were passed (`put`: key, value, opts; `list`: prefix, opts; `get`/`remove`: key, opts). */
export function checkStoreCall(store: string, op: StoreOp, args: readonly unknown[]): void {
  if (op === 'put') checkPutArgs(store, args[0], args[1], args[2]);
  else if (op === 'list') checkListArgs(store, args[0], args[1]);
  else checkKeyArgs(store, op, args[0], args[1]);
}

type DataCall = (this: Store, ...args: unknown[]) => Promise<unknown>;

/**
 * Makes the four data calls of `store` check their arguments before its own code runs, whatever
 * class defines (or overrides) them: a bad call rejects with the ConfigError and never reaches the
 * store's code. The base class of every layer calls it in its constructor, so a layer cannot forget
 * the checks, whichever calls it overrides. The checked calls are own, non-enumerable properties.
 */
export function guardStoreCalls(store: Store): void {
  const methods = store as unknown as Record<StoreOp, DataCall>;
  for (const op of ['put', 'get', 'list', 'remove'] as const) {
    const call = methods[op];
    if (typeof call !== 'function') continue;
    const checked = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      try {
        checkStoreCall(store.name, op, args);
      } catch (e) {
        return Promise.reject(e);
      }
      return call.apply(store, args);
    };
    Object.defineProperty(checked, 'name', { value: op });
    Object.defineProperty(store, op, { value: checked, writable: true, configurable: true, enumerable: false });
  }
}
