/**
 * A store in a local directory: one file per key.
 *
 * Keys are encoded into file names that are safe on every file system: the characters `a-z`, `0-9`,
 * `-` and `_` are kept, every other UTF-8 byte becomes `%XX` (upper-case hex). So `/`, `.`, `..`,
 * spaces and unicode never reach the file system as path syntax, no key can escape `dir`, and keys
 * that differ only in case stay distinct on case-insensitive file systems. Encoded names longer than
 * one file-name component are split into nested directories (`<chunk>.d/…/<chunk>.v`).
 *
 * Writes are atomic: the value goes to a temporary file next to its target, is flushed, then renamed
 * over the target, so a reader sees the old value or the new one, never a torn write.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { ConfigError, StoreError, type StoreOp } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import { DEFAULT_CAPABILITIES, sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { abortError, throwIfAborted, type CallSite } from '../util/abort.js';
import { mkdirs } from '../util/fs.js';

export interface FsStoreOptions {
  /** Directory holding the data; created (with parents) on first use. */
  dir: string;
  /**
   * Name shown in errors and layer stacks.
   * @default "fs"
   */
  name?: string;
  /**
   * Flush every write to disk (fsync) before the put resolves. Turn off for throwaway test data.
   * @default true
   */
  fsync?: boolean;
}

/** Largest key accepted, in UTF-8 bytes (the same limit as S3). */
export const FS_MAX_KEY_BYTES = 1024;
/** Longest encoded chunk per path component (file-name limits are 255 bytes nearly everywhere). */
const CHUNK = 200;
const VALUE_SUFFIX = '.v';
const DIR_SUFFIX = '.d';
const TEMP_MARK = '.t';

const KEEP = /^[a-z0-9_-]$/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Encodes a key into a file-name-safe string (injective, prefix-preserving per character). */
export function encodeKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (KEEP.test(ch)) {
      out += ch;
      continue;
    }
    for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Decodes a file name made by `encodeKey`; returns null for names it did not make. */
export function decodeKey(name: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name[i] as string;
    if (c === '%') {
      const hex = name.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (KEEP.test(c)) {
      bytes.push(c.charCodeAt(0));
    } else {
      return null;
    }
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(new Uint8Array(bytes));
  return encodeKey(text) === name ? text : null;
}

/** Splits an encoded key into its relative path under the data directory. */
function relativePath(encoded: string): string[] {
  const parts: string[] = [];
  let rest = encoded;
  while (rest.length > CHUNK) {
    parts.push(rest.slice(0, CHUNK) + DIR_SUFFIX);
    rest = rest.slice(CHUNK);
  }
  parts.push(rest + VALUE_SUFFIX);
  return parts;
}

interface NodeError {
  code?: string;
  name?: string;
}

/** A store in a local directory; persistent and linearizable per key. */
export class FsStore implements Store {
  readonly name: string;
  readonly dir: string;
  readonly capabilities: StoreCapabilities;
  private readonly fsync: boolean;
  private ready: Promise<void> | undefined;

  constructor(opts: FsStoreOptions) {
    if (opts === null || typeof opts !== 'object') {
      throw new ConfigError('dir', 'createFsStore needs an options object, e.g. createFsStore({ dir: "./data" })');
    }
    if (typeof opts.dir !== 'string' || opts.dir.trim() === '') {
      throw new ConfigError('dir', 'must be a non-empty directory path, e.g. createFsStore({ dir: "./data" })');
    }
    this.dir = path.resolve(opts.dir);
    this.name = opts.name ?? 'fs';
    this.fsync = opts.fsync ?? true;
    this.capabilities = Object.freeze({
      ...DEFAULT_CAPABILITIES,
      persistent: true,
      maxKeyBytes: FS_MAX_KEY_BYTES,
      maxValueBytes: 2 ** 31 - 1,
    });
    guardStoreCalls(this);
  }

  private ensureDir(site: CallSite): Promise<void> {
    this.ready ??= mkdirs(this.dir).then(
      () => undefined,
      (e: unknown) => {
        this.ready = undefined;
        throw this.mapError(e, site);
      },
    );
    return this.ready;
  }

  private site(op: StoreOp, key: string): CallSite {
    return { store: this.name, op, key };
  }

  private checkKey(site: CallSite): void {
    if (LONE_SURROGATE.test(site.key)) {
      throw new StoreError({ ...site, kind: 'ConfigInvalid', detail: 'the key is not well-formed UTF-16 (lone surrogate)' });
    }
    const bytes = Buffer.byteLength(site.key, 'utf8');
    if (bytes > FS_MAX_KEY_BYTES) {
      throw new StoreError({
        ...site,
        kind: 'ConfigInvalid',
        detail: `key is ${bytes} UTF-8 bytes; the fs store accepts at most ${FS_MAX_KEY_BYTES}`,
      });
    }
  }

  private fileOf(key: string): { file: string; parent: string } {
    const parts = relativePath(encodeKey(key));
    const file = path.join(this.dir, ...parts);
    return { file, parent: path.dirname(file) };
  }

  private mapError(e: unknown, site: CallSite, signal?: AbortSignal): StoreError {
    if (e instanceof StoreError) return e;
    const err = (e ?? {}) as NodeError;
    if (err.name === 'AbortError' || signal?.aborted) return abortError(site, signal);
    const where = ` (directory ${this.dir})`;
    switch (err.code) {
      case 'EACCES':
      case 'EPERM':
      case 'EROFS':
        return new StoreError({ ...site, kind: 'PermissionDenied', cause: e, detail: `${describe(e)}${where}` });
      case 'EMFILE':
      case 'ENFILE':
      case 'EAGAIN':
      case 'EBUSY':
        return new StoreError({ ...site, kind: 'Unavailable', cause: e, detail: `${describe(e)}${where}` });
      case 'ENOSPC':
      case 'EDQUOT':
        return new StoreError({
          ...site,
          kind: 'Unavailable',
          retryable: false,
          cause: e,
          detail: `${describe(e)}${where}: free some disk space`,
        });
      case 'ENOTDIR':
      case 'EEXIST':
        return new StoreError({
          ...site,
          kind: 'ConfigInvalid',
          cause: e,
          detail: `${describe(e)}${where}: the path is not a directory managed by this store`,
        });
      default:
        return new StoreError({ ...site, kind: 'Unexpected', cause: e, detail: `${describe(e)}${where}` });
    }
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const site = this.site('put', key);
    const signal = opts?.signal;
    throwIfAborted(signal, site);
    this.checkKey(site);
    await this.ensureDir(site);
    const { file, parent } = this.fileOf(key);
    const temp = `${file.slice(0, -VALUE_SUFFIX.length)}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
    let renamed = false;
    try {
      if (parent !== this.dir) await mkdirs(parent);
      throwIfAborted(signal, site);
      const handle = await fsp.open(temp, 'wx');
      try {
        // writeFile on a handle writes the whole view (byteOffset/byteLength respected).
        await handle.writeFile(value, { signal });
        if (this.fsync) await handle.sync();
      } finally {
        await handle.close();
      }
      throwIfAborted(signal, site);
      await fsp.rename(temp, file);
      renamed = true;
    } catch (e) {
      throw this.mapError(e, site, signal);
    } finally {
      if (!renamed) await fsp.rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const site = this.site('get', key);
    const signal = opts?.signal;
    throwIfAborted(signal, site);
    this.checkKey(site);
    const { file } = this.fileOf(key);
    try {
      const buf = await fsp.readFile(file, { signal });
      throwIfAborted(signal, site);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      const code = (e as NodeError | undefined)?.code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && !signal?.aborted) return null;
      throw this.mapError(e, site, signal);
    }
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const site = this.site('list', prefix);
    const signal = opts?.signal;
    throwIfAborted(signal, site);
    // A trailing high surrogate cannot be encoded on its own; match on what precedes it.
    const want = encodeKey(prefix.replace(/[\uD800-\uDBFF]$/, ''));
    const out: string[] = [];
    const walk = async (dir: string, acc: string): Promise<void> => {
      throwIfAborted(signal, site);
      let entries;
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeError).code === 'ENOENT') return; // nothing written yet, or removed meanwhile
        throw e;
      }
      for (const entry of entries) {
        const n = entry.name;
        if (entry.isDirectory() && n.endsWith(DIR_SUFFIX)) {
          const next = acc + n.slice(0, -DIR_SUFFIX.length);
          if (next.startsWith(want) || want.startsWith(next)) await walk(path.join(dir, n), next);
        } else if (entry.isFile() && n.endsWith(VALUE_SUFFIX)) {
          const encoded = acc + n.slice(0, -VALUE_SUFFIX.length);
          if (!encoded.startsWith(want)) continue;
          const key = decodeKey(encoded);
          if (key !== null && key.startsWith(prefix)) out.push(key);
        }
      }
    };
    try {
      await walk(this.dir, '');
    } catch (e) {
      throw this.mapError(e, site, signal);
    }
    return sortKeys(out);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    const site = this.site('remove', key);
    const signal = opts?.signal;
    throwIfAborted(signal, site);
    this.checkKey(site);
    const { file } = this.fileOf(key);
    try {
      await fsp.unlink(file);
    } catch (e) {
      const code = (e as NodeError | undefined)?.code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw this.mapError(e, site, signal);
    }
  }

  async close(): Promise<void> {}
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Creates a store that keeps one file per key under `dir`. */
export function createFsStore(opts: FsStoreOptions): FsStore {
  return new FsStore(opts);
}
