/**
 * The encryption layer: AES-256-GCM (node:crypto) on every value, so no provider can read the data.
 * Each put uses a fresh random 96-bit IV; the key name is the additional authenticated data, so a
 * value copied to another key does not decrypt. A wrong key or tampered bytes give an IntegrityError.
 *
 * Stored format: `"RKE1"` (4 bytes) | IV (12 bytes) | ciphertext | GCM tag (16 bytes).
 *
 * IVs come from the system's cryptographic generator, never from a seed: a repeated IV under one key
 * would break GCM. This is the one random choice in robust-kvs that is deliberately not replayable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError, StoreError } from '../errors.js';
import type { CallOptions, Layer, Store, StoreCapabilities } from '../store.js';
import { ForwardingStore } from './forwarding.js';

const MAGIC = Buffer.from('RKE1', 'ascii');
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Bytes the encryption layer adds to every value. */
export const ENCRYPTION_OVERHEAD = MAGIC.length + IV_BYTES + TAG_BYTES;

export interface EncryptionOptions {
  /**
   * The 256-bit key: 32 bytes, or a string of 64 hex digits, or base64 (standard or URL-safe) of
   * 32 bytes. Generate one with `openssl rand -base64 32`.
   */
  key: Uint8Array | string;
}

const HOW = 'give 32 bytes as a Uint8Array, 64 hex digits, or base64 of 32 bytes (generate one with `openssl rand -base64 32`)';

/** Parses an AES-256 key; throws a ConfigError naming `where` when it is not exactly 32 bytes. */
export function parseEncryptionKey(key: unknown, where = 'encryption.key'): Buffer {
  if (key instanceof Uint8Array) {
    if (key.byteLength !== 32) throw new ConfigError(where, `is ${key.byteLength} bytes, AES-256 needs 32; ${HOW}`);
    return Buffer.from(key); // a copy: later changes to the caller's buffer do not change the key
  }
  if (typeof key === 'string') {
    const s = key.trim();
    if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
      const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (b.length === 32) return b;
      throw new ConfigError(where, `decodes (as base64) to ${b.length} bytes, AES-256 needs 32; ${HOW}`);
    }
    throw new ConfigError(where, `is neither hex nor base64; ${HOW}`);
  }
  throw new ConfigError(where, `is missing or of the wrong type (${key === null ? 'null' : typeof key}); ${HOW}`);
}

/** A store whose values are encrypted. */
export class EncryptionStore extends ForwardingStore {
  private readonly key: Buffer;

  constructor(inner: Store, opts: EncryptionOptions) {
    super(inner, 'encryption');
    if (opts === null || typeof opts !== 'object') throw new ConfigError('encryption', `needs options { key }; ${HOW}`);
    this.key = parseEncryptionKey(opts.key);
  }

  override get capabilities(): StoreCapabilities {
    const c = this.inner.capabilities;
    return { ...c, maxValueBytes: Math.max(0, c.maxValueBytes - ENCRYPTION_OVERHEAD) };
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(key, 'utf8'));
    const body = cipher.update(value);
    const final = cipher.final();
    const tag = cipher.getAuthTag();
    const out = new Uint8Array(ENCRYPTION_OVERHEAD + body.length + final.length);
    let at = 0;
    for (const part of [MAGIC, iv, body, final, tag]) {
      out.set(part, at);
      at += part.length;
    }
    return this.inner.put(key, out, opts);
  }

  override async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const stored = await this.inner.get(key, opts);
    if (stored === null) return null;
    const fail = (detail: string, cause?: unknown) =>
      new StoreError({ store: this.name, op: 'get', key, kind: 'IntegrityError', retryable: false, detail, cause });
    const buf = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    if (buf.length < ENCRYPTION_OVERHEAD || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw fail('the stored value is not an encrypted value: it was corrupted, or written without the encryption layer');
    }
    const iv = buf.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
    const tag = buf.subarray(buf.length - TAG_BYTES);
    const body = buf.subarray(MAGIC.length + IV_BYTES, buf.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAAD(Buffer.from(key, 'utf8'));
      decipher.setAuthTag(tag);
      const a = decipher.update(body);
      const b = decipher.final();
      const out = new Uint8Array(a.length + b.length);
      out.set(a, 0);
      out.set(b, a.length);
      return out;
    } catch (e) {
      throw fail('decryption failed: wrong key, tampered bytes, or a value that belongs to another key', e);
    }
  }
}

/** Encrypts every value with AES-256-GCM; a wrong key or tampered bytes give an IntegrityError. */
export function encryption(opts: EncryptionOptions): Layer {
  if (opts === null || typeof opts !== 'object') throw new ConfigError('encryption', `needs options { key }; ${HOW}`);
  parseEncryptionKey(opts.key); // fail where the configuration is written
  return (inner) => new EncryptionStore(inner, opts);
}
