/**
 * Key layout at each replica (SPEC §2), per register R:
 *
 *   r<name>/t/<num>-<client>      temporary key of one write (value bytes)
 *   r<name>/t/<num>-<client>.d    temporary key of a tombstone write (empty value)
 *   r<name>/e                     eternal key: encodeEternal(ts, value)
 *
 * `<name>` escapes the register name one UTF-16 code unit at a time: `A-Z a-z 0-9 -` stay as they are,
 * any other ASCII unit becomes `_XX` and any other unit `~XXXX` (uppercase hex). The code is prefix-free
 * and per unit, so `name(p)` is a prefix of `name(k)` exactly when `p` is a prefix of `k`: listing the
 * robust store by prefix is a replica listing by the encoded prefix. Encoded names contain no `/`, `.`,
 * control characters or spaces, so keys are valid on S3, Azure Blob and GCS, never form `..` segments
 * and never end with a dot. The leading `r` keeps the empty name from starting a key with `/`.
 *
 * Names whose escape is longer than HASH_THRESHOLD keep a readable prefix (the escape cut at a unit
 * boundary, at most READABLE_PREFIX characters) followed by `!` and the SHA-256 of the full escape;
 * `!` never occurs in an escape, so hashed and plain names cannot collide. The full name of a hashed
 * register is kept in its eternal key header, so listing still returns it.
 * The clientId is escaped the same way, so no clientId can forge the `-`, `.` or `/` separators.
 */
import { createHash } from 'node:crypto';
import { formatNum, NUM_WIDTH, type Timestamp } from './timestamp.js';

/** Escaped names longer than this are hashed. */
export const HASH_THRESHOLD = 400;
/** Longest readable prefix kept in a hashed name. */
export const READABLE_PREFIX = 300;
/** Longest escaped token (`~XXXX`). */
const MAX_TOKEN = 5;

const PLAIN = /^[A-Za-z0-9-]$/;

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/** Escapes a string one UTF-16 code unit at a time (prefix-preserving, prefix-free). */
export function escapeName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    const code = s.charCodeAt(i);
    if (code < 0x80) out += PLAIN.test(ch) ? ch : `_${hex(code, 2)}`;
    else out += `~${hex(code, 4)}`;
  }
  return out;
}

/** Inverse of escapeName; null when `e` is not a valid escape. */
export function unescapeName(e: string): string | null {
  let out = '';
  let i = 0;
  while (i < e.length) {
    const ch = e[i] as string;
    if (ch === '_' || ch === '~') {
      const width = ch === '_' ? 2 : 4;
      const digits = e.slice(i + 1, i + 1 + width);
      if (digits.length !== width || !/^[0-9A-F]+$/.test(digits)) return null;
      const code = parseInt(digits, 16);
      if (ch === '_' ? PLAIN.test(String.fromCharCode(code)) : code < 0x80) return null; // not canonical
      out += String.fromCharCode(code);
      i += 1 + width;
    } else if (PLAIN.test(ch)) {
      out += ch;
      i += 1;
    } else {
      return null;
    }
  }
  return out;
}

/** The longest prefix of escape `e` that ends at a token boundary and has at most `max` characters. */
export function cutAtToken(e: string, max: number): string {
  if (e.length <= max) return e;
  let i = 0;
  while (i < e.length) {
    const ch = e[i];
    const len = ch === '_' ? 3 : ch === '~' ? 5 : 1;
    if (i + len > max) break;
    i += len;
  }
  return e.slice(0, i);
}

/** The encoded register part of every key of register `name` (no `/`). */
export function encodeRegister(name: string): string {
  const e = escapeName(name);
  if (e.length <= HASH_THRESHOLD) return `r${e}`;
  const digest = createHash('sha256').update(e).digest('hex');
  return `r${cutAtToken(e, READABLE_PREFIX)}!${digest}`;
}

/** True when the encoded register was hashed (its full name is in the eternal header). */
export function isHashedRegister(encoded: string): boolean {
  return encoded.includes('!');
}

/**
 * The register name of an encoded register: the name for a plain encoding, or
 * `{ readablePrefix }` for a hashed one; null when `encoded` is not a register encoding.
 */
export function decodeRegister(encoded: string): { name: string } | { hashed: true; readablePrefix: string } | null {
  if (!encoded.startsWith('r')) return null;
  const body = encoded.slice(1);
  const bang = body.indexOf('!');
  if (bang >= 0) {
    const readable = unescapeName(body.slice(0, bang));
    if (readable === null || !/^[0-9a-f]{64}$/.test(body.slice(bang + 1))) return null;
    return { hashed: true, readablePrefix: readable };
  }
  const name = unescapeName(body);
  return name === null ? null : { name };
}

/**
 * The replica listing prefix for a robust-store `list(prefix)`: every register whose name starts with
 * `prefix` has its keys under it (hashed ones included). Results must still be filtered by name.
 */
export function listPrefixFor(prefix: string): string {
  const e = escapeName(prefix);
  // A hashed name keeps at least READABLE_PREFIX - MAX_TOKEN + 1 escaped characters readable.
  return `r${cutAtToken(e, READABLE_PREFIX - MAX_TOKEN + 1)}`;
}

/** Prefix of all temporary keys of a register. */
export function tempPrefix(encodedRegister: string): string {
  return `${encodedRegister}/t/`;
}

/** The eternal key of a register. */
export function eternalKey(encodedRegister: string): string {
  return `${encodedRegister}/e`;
}

/** The temporary key of the write with timestamp `ts`. */
export function tempKey(encodedRegister: string, ts: Timestamp, tombstone: boolean): string {
  return `${encodedRegister}/t/${formatNum(ts.num)}-${escapeName(ts.clientId)}${tombstone ? '.d' : ''}`;
}

/** One temporary key, parsed. */
export interface TempEntry {
  ts: Timestamp;
  tombstone: boolean;
  key: string;
}

const TEMP_SUFFIX = new RegExp(`^(\\d{${NUM_WIDTH}})-([A-Za-z0-9_~-]+?)(\\.d)?$`);

/** Parses the part of a temporary key after `<register>/t/`; null when it is not one. */
export function parseTempSuffix(suffix: string, key: string): TempEntry | null {
  const m = TEMP_SUFFIX.exec(suffix);
  if (!m) return null;
  const clientId = unescapeName(m[2] as string);
  if (clientId === null || clientId.length === 0) return null;
  const num = Number(m[1]);
  if (!Number.isSafeInteger(num)) return null;
  return { ts: { num, clientId }, tombstone: m[3] !== undefined, key };
}

/** A key of the register layout, split into its register and its role. */
export type ParsedKey =
  | { register: string; kind: 'temp'; entry: TempEntry }
  | { register: string; kind: 'eternal' };

/** Splits any replica key of the layout; null for keys that are not ours. */
export function parseKey(key: string): ParsedKey | null {
  const slash = key.indexOf('/');
  if (slash < 0) return null;
  const register = key.slice(0, slash);
  const rest = key.slice(slash);
  if (rest === '/e') return { register, kind: 'eternal' };
  if (!rest.startsWith('/t/')) return null;
  const entry = parseTempSuffix(rest.slice(3), key);
  return entry ? { register, kind: 'temp', entry } : null;
}

/** Parses the temporary keys of one register from a listing of `tempPrefix(register)`. */
export function parseTempListing(encodedRegister: string, keys: readonly string[]): TempEntry[] {
  const prefix = tempPrefix(encodedRegister);
  const out: TempEntry[] = [];
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const e = parseTempSuffix(k.slice(prefix.length), k);
    if (e) out.push(e);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Eternal value encoding: magic "RKE1", u32 big-endian header length, JSON header, value bytes.

const MAGIC = [0x52, 0x4b, 0x45, 0x31]; // "RKE1"

export interface EternalRecord {
  ts: Timestamp;
  tombstone: boolean;
  /** Full register name, kept only for hashed registers. */
  name?: string;
  value: Uint8Array;
}

interface EternalHeader {
  n: number;
  c: string;
  d?: 1;
  r?: string;
}

/** Encodes `(ts, value)` for the eternal key: one copy of the value behind a small header. */
export function encodeEternal(rec: EternalRecord): Uint8Array {
  const header: EternalHeader = { n: rec.ts.num, c: rec.ts.clientId };
  if (rec.tombstone) header.d = 1;
  if (rec.name !== undefined) header.r = rec.name;
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + rec.value.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(4, h.length);
  out.set(h, 8);
  out.set(rec.value, 8 + h.length);
  return out;
}

/** Decodes an eternal value; throws an Error describing the damage when it is not one. */
export function decodeEternal(bytes: Uint8Array): EternalRecord {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error('eternal key does not start with the RKE1 header (not written by robust-kvs, or damaged)');
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4);
  if (8 + len > bytes.length) throw new Error('eternal key header is truncated');
  let header: EternalHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len))) as EternalHeader;
  } catch (e) {
    throw new Error(`eternal key header is not valid JSON: ${(e as Error).message}`);
  }
  if (!Number.isSafeInteger(header.n) || header.n < 0 || typeof header.c !== 'string' || header.c.length === 0) {
    throw new Error('eternal key header has no valid timestamp');
  }
  const rec: EternalRecord = {
    ts: { num: header.n, clientId: header.c },
    tombstone: header.d === 1,
    value: bytes.slice(8 + len),
  };
  if (typeof header.r === 'string') rec.name = header.r;
  return rec;
}
