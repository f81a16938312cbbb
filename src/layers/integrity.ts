/**
 * The integrity layer: stores a SHA-256 checksum with each value and checks it on every read, so a
 * corrupted value, or a value moved or copied to another key, becomes an IntegrityError instead of
 * wrong bytes.
 *
 * Stored format: `"RKI1"` (4 bytes) | SHA-256 (32 bytes) | value. The digest covers the key and the
 * value: SHA-256("rkvs-integrity-v1" | u32be(len(key)) | key | value), with the key in UTF-8.
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { CallOptions, Layer, Store, StoreCapabilities } from '../store.js';
import { ForwardingStore } from './forwarding.js';

const MAGIC = Buffer.from('RKI1', 'ascii');
const DOMAIN = Buffer.from('rkvs-integrity-v1', 'ascii');
const DIGEST_BYTES = 32;
/** Bytes the integrity layer adds to every value. */
export const INTEGRITY_OVERHEAD = MAGIC.length + DIGEST_BYTES;

function digest(key: string, value: Uint8Array): Buffer {
  const k = Buffer.from(key, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(k.length);
  return createHash('sha256').update(DOMAIN).update(len).update(k).update(value).digest();
}

/** A store whose values carry a checksum. */
export class IntegrityStore extends ForwardingStore {
  constructor(inner: Store) {
    super(inner, 'integrity');
  }

  override get capabilities(): StoreCapabilities {
    const c = this.inner.capabilities;
    return { ...c, maxValueBytes: Math.max(0, c.maxValueBytes - INTEGRITY_OVERHEAD) };
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const framed = new Uint8Array(INTEGRITY_OVERHEAD + value.byteLength);
    framed.set(MAGIC, 0);
    framed.set(digest(key, value), MAGIC.length);
    framed.set(value, INTEGRITY_OVERHEAD);
    return this.inner.put(key, framed, opts);
  }

  override async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const stored = await this.inner.get(key, opts);
    if (stored === null) return null;
    const fail = (detail: string) =>
      new StoreError({ store: this.name, op: 'get', key, kind: 'IntegrityError', retryable: false, detail });
    if (stored.byteLength < INTEGRITY_OVERHEAD || !Buffer.from(stored.buffer, stored.byteOffset, MAGIC.length).equals(MAGIC)) {
      throw fail('the stored value has no integrity header: it was corrupted, or written without the integrity layer');
    }
    const value = stored.subarray(INTEGRITY_OVERHEAD);
    const expected = Buffer.from(stored.buffer, stored.byteOffset + MAGIC.length, DIGEST_BYTES);
    if (!digest(key, value).equals(expected)) {
      throw fail('checksum mismatch: the value was corrupted, or belongs to another key');
    }
    return value.slice();
  }
}

/** Stores a SHA-256 checksum with each value; a corrupted or swapped value gives an IntegrityError. */
export function integrity(): Layer {
  return (inner) => new IntegrityStore(inner);
}
