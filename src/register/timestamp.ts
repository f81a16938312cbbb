/**
 * Timestamps `(num, clientId)` of the robust register, ordered by `num`, then by `clientId`
 * (code-unit order). The initial timestamp ts0 is represented by `null` (an empty register).
 */
import { ConfigError } from '../errors.js';

export interface Timestamp {
  num: number;
  clientId: string;
}

/** Digits of `num` in keys: fixed width, zero-padded, so listing order is `num` order. */
export const NUM_WIDTH = 16;

/** Largest `num` a key can hold (10^16 - 1; also below Number.MAX_SAFE_INTEGER * 2, checked on use). */
export const MAX_NUM = Number.MAX_SAFE_INTEGER;

/** Longest clientId accepted, in UTF-16 code units (keeps keys below 1024 bytes on every provider). */
export const MAX_CLIENT_ID_LENGTH = 64;

/** Negative, zero or positive as `a` is below, equal to or above `b`. */
export function compareTs(a: Timestamp, b: Timestamp): number {
  if (a.num !== b.num) return a.num < b.num ? -1 : 1;
  return a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0;
}

/** Like compareTs, with `null` (ts0) below every timestamp. */
export function compareTsOrNull(a: Timestamp | null, b: Timestamp | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return compareTs(a, b);
}

/** The larger of two timestamps (null is ts0). */
export function maxTs(a: Timestamp | null, b: Timestamp | null): Timestamp | null {
  return compareTsOrNull(a, b) >= 0 ? a : b;
}

export function tsEquals(a: Timestamp | null, b: Timestamp | null): boolean {
  return compareTsOrNull(a, b) === 0;
}

/** `num` as a fixed-width decimal string. */
export function formatNum(num: number): string {
  if (!Number.isSafeInteger(num) || num < 0) {
    throw new RangeError(`timestamp num ${num} is not a safe non-negative integer`);
  }
  return String(num).padStart(NUM_WIDTH, '0');
}

/** Human-readable form, e.g. `3:client-a`. */
export function formatTs(ts: Timestamp | null): string {
  return ts === null ? 'ts0' : `${ts.num}:${ts.clientId}`;
}

/** A random 16-hex-digit client id. */
export function randomClientId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Throws a ConfigError naming the problem when `clientId` cannot be used. */
export function validateClientId(clientId: string, path = 'clientId'): void {
  if (typeof clientId !== 'string' || clientId.length === 0) {
    throw new ConfigError(path, 'must be a non-empty string (or leave it out for a random id)');
  }
  if (clientId.length > MAX_CLIENT_ID_LENGTH) {
    throw new ConfigError(
      path,
      `is ${clientId.length} characters long; use at most ${MAX_CLIENT_ID_LENGTH} (it is part of every key this client writes)`,
    );
  }
}
