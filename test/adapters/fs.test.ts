import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFsStore, decodeKey, encodeKey } from '../../src/adapters/fs.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { utf8 } from '../../src/store.js';
import { AWKWARD_KEYS, describeStoreConformance } from '../conformance/suite.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'rkvs-fs-test-'));
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

describeStoreConformance('fs', async () => {
  const dir = await tempDir();
  return { store: createFsStore({ dir, fsync: false }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('fs store specifics', () => {
  it('encodes keys injectively into safe names and decodes them back', () => {
    const names = new Set<string>();
    for (const key of [...AWKWARD_KEYS, '', 'A', 'a', '%41', '%2F', '\u{1F600}']) {
      const enc = encodeKey(key);
      expect(enc).toMatch(/^[a-z0-9_%A-F-]*$/);
      expect(decodeKey(enc)).toBe(key);
      names.add(enc.toLowerCase()); // distinct even on case-insensitive file systems
    }
    expect(names.size).toBe(AWKWARD_KEYS.length + 6);
  });

  it('never writes outside dir, whatever the key', async () => {
    const root = await tempDir();
    try {
      const dir = path.join(root, 'data');
      const store = createFsStore({ dir, fsync: false });
      for (const key of AWKWARD_KEYS) await store.put(key, utf8(key));
      const files = await walk(root);
      expect(files.length).toBe(AWKWARD_KEYS.length);
      for (const f of files) expect(f.startsWith(dir + path.sep)).toBe(true);
      for (const f of files) expect(path.basename(f)).not.toMatch(/^\.\.?$/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('persists across store instances', async () => {
    const dir = await tempDir();
    try {
      await createFsStore({ dir }).put('k/1', utf8('v'));
      const again = createFsStore({ dir });
      expect(again.capabilities.persistent).toBe(true);
      expect(await again.list('')).toEqual(['k/1']);
      expect(Buffer.from((await again.get('k/1'))!).toString()).toBe('v');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('round-trips long keys (split over nested directories) up to the key limit', async () => {
    const dir = await tempDir();
    try {
      const store = createFsStore({ dir, fsync: false });
      const long = 'x/'.repeat(200) + 'é'.repeat(100); // 600 UTF-8 bytes, ~2000 encoded chars
      const short = 'x/'.repeat(10);
      await store.put(long, utf8('long'));
      await store.put(short, utf8('short'));
      expect(Buffer.from((await store.get(long))!).toString()).toBe('long');
      expect(await store.list('x/')).toEqual([short, long].sort());
      expect(await store.list('x/'.repeat(150))).toEqual([long]);
      await store.remove(long);
      expect(await store.get(long)).toBeNull();
      const tooLong = 'k'.repeat(store.capabilities.maxKeyBytes + 1);
      await expect(store.put(tooLong, utf8('v'))).rejects.toMatchObject({ kind: 'ConfigInvalid', op: 'put' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves no temporary files behind and ignores foreign files', async () => {
    const dir = await tempDir();
    try {
      const store = createFsStore({ dir });
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('same', utf8(String(i)))));
      await writeFile(path.join(dir, 'README.txt'), 'not a key');
      await mkdir(path.join(dir, 'sub'));
      expect(await readdir(dir)).toEqual(expect.arrayContaining(['same.v', 'README.txt', 'sub']));
      expect((await readdir(dir)).filter((n) => /\.t[0-9a-f]{12}$/.test(n))).toEqual([]);
      expect(await store.list('')).toEqual(['same']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad options with a ConfigError naming dir', () => {
    expect(() => createFsStore({ dir: '' })).toThrow(ConfigError);
    expect(() => createFsStore({ dir: '   ' })).toThrow(/dir/);
    expect(() => createFsStore(undefined as unknown as { dir: string })).toThrow(/dir/);
  });

  it('maps a file where the directory should be to a clear error', async () => {
    const root = await tempDir();
    try {
      const file = path.join(root, 'file');
      await writeFile(file, 'x');
      const store = createFsStore({ dir: file });
      const err = await store.put('k', utf8('v')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toContain(file);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
