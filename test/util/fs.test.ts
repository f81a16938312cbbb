import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/adapters/fs.js';
import { createRunDir } from '../../src/bench/record/run-dir.js';
import { mkdirs } from '../../src/util/fs.js';

describe('mkdirs', () => {
  it('creates missing parents, accepts an existing directory, and refuses a file as parent', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rkvs-mkdirs-'));
    try {
      const deep = join(root, 'a', 'b', 'c');
      await mkdirs(deep);
      expect((await stat(deep)).isDirectory()).toBe(true);
      await mkdirs(deep);
      await writeFile(join(root, 'file'), 'x');
      await expect(mkdirs(join(root, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  // Node's recursive mkdir spins forever on a missing path under /proc; ours must fail.
  it.runIf(existsSync('/proc/self'))('fails instead of hanging under /proc: run directory and fs store', async () => {
    await expect(mkdirs('/proc/rkvs-none/x')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(createRunDir('/proc/rkvs-none', 'run')).rejects.toThrow(/--out: cannot write reports to \/proc\/rkvs-none\/run/);
    const store = createFsStore({ dir: '/proc/rkvs-none/data' });
    await expect(store.put('k', new Uint8Array([1]))).rejects.toMatchObject({ name: 'StoreError' });
  }, 10_000);
});
