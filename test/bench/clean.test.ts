import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { utf8 } from '../../src/store.js';
import { emulatorConfiguration, loadConfigurations, type ProviderConfiguration } from '../../src/bench/config/file.js';
import { checkCleanPrefix, cleanPrefix, cleanupOpened, guardConfiguration } from '../../src/bench/config/clean.js';
import { startUserRunServers, type UserRunServers } from '../config/user-run-env.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/rkvs.js');

async function rawKeys(h: ProviderConfiguration): Promise<string[][]> {
  const raw = await h.openRaw();
  try {
    return await Promise.all(raw.replicas.map((r) => r.store.list('')));
  } finally {
    await raw.close();
  }
}

async function writeRun(h: ProviderConfiguration, prefix: string, keys: string[]): Promise<void> {
  const opened = await h.open({ prefix });
  try {
    for (const r of opened.replicas) for (const k of keys) await r.put(k, utf8(k));
  } finally {
    await opened.close();
  }
}

describe('--prefix checks', () => {
  it('an empty prefix is refused; a prefix outside the root needs yes', () => {
    expect(() => checkCleanPrefix(undefined)).toThrow(/--prefix: required and non-empty/);
    expect(() => checkCleanPrefix('')).toThrow(ConfigError);
    expect(() => checkCleanPrefix('data/')).toThrow(/outside the rkvs prefix root "rkvs-".*--yes/);
    expect(checkCleanPrefix('data/', 'rkvs-', true)).toBe('data/');
    expect(checkCleanPrefix('rkvs-20260101-000000-x/')).toBe('rkvs-20260101-000000-x/');
  });
});

describe('cleanup and guard on a persistent local store (fs)', () => {
  let dir: string;
  let h: ProviderConfiguration;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rkvs-clean-'));
    const f = path.join(dir, 'fs.yaml');
    await writeFile(f, 'configurations:\n  local:\n    replicas:\n      - { provider: fs, dir: r0 }\n      - { provider: fs, dir: r1 }\n      - { provider: fs, dir: r2 }\n');
    [h] = await loadConfigurations(f);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cleanupOpened removes exactly the run prefix; cleanPrefix removes leftovers; buckets end empty', async () => {
    await writeRun(h, 'rkvs-run-a/', ['x', 'y/z']);
    await writeRun(h, 'rkvs-run-b/', ['x']);
    const opened = await h.open({ prefix: 'rkvs-run-a/' });
    const res = await cleanupOpened(opened, { config: 'local' });
    await opened.close();
    expect(res.map((r) => [r.found, r.removed, r.errors])).toEqual([[2, 2, 0], [2, 2, 0], [2, 2, 0]]);
    expect(await rawKeys(h)).toEqual([['rkvs-run-b/x'], ['rkvs-run-b/x'], ['rkvs-run-b/x']]);
    const dry = await cleanPrefix(h, 'rkvs-run-b/', { dryRun: true });
    expect(dry.map((r) => [r.found, r.removed])).toEqual([[1, 0], [1, 0], [1, 0]]);
    const done = await cleanPrefix(h, 'rkvs-', {});
    expect(done.map((r) => r.removed)).toEqual([1, 1, 1]);
    expect(await rawKeys(h)).toEqual([[], [], []]);
  });

  it('the guard refuses a bucket with foreign objects unless yes, and passes once they are gone', async () => {
    expect(await guardConfiguration(h)).toHaveLength(3);
    const raw = await h.openRaw();
    await raw.replicas[1].store.put('payroll/2026.csv', utf8('x'));
    try {
      const e = await guardConfiguration(h).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).path).toBe('--yes');
      expect((e as Error).message).toMatch(/fs-1 holds 1 object\(s\) outside "rkvs-" \(e\.g\. "payroll\/2026\.csv"\).*--yes/);
      expect(await guardConfiguration(h, { yes: true })).toEqual([]);
      // Cleaning never touches the foreign object.
      await cleanPrefix(h, 'rkvs-', {});
      expect(await raw.replicas[1].store.list('')).toEqual(['payroll/2026.csv']);
    } finally {
      await raw.replicas[1].store.remove('payroll/2026.csv');
      await raw.close();
    }
    expect(await guardConfiguration(h)).toHaveLength(3);
  });

  it('ephemeral configurations are not inspected (nothing started)', async () => {
    expect(await guardConfiguration(emulatorConfiguration())).toEqual([]);
  });
});

describe('cleanup on the emulators', () => {
  let servers: UserRunServers | undefined;
  beforeAll(async () => {
    servers = await startUserRunServers();
  }, 180_000);
  afterAll(async () => {
    await servers?.stop();
  });

  it('after-run cleanup and rkvs clean leave every bucket and container empty', async () => {
    for (const preset of ['minio', 'azurite']) {
      const [h] = await loadConfigurations(preset);
      await writeRun(h, 'rkvs-run-1/', ['a', 'b/c', 'd e']);
      await writeRun(h, 'rkvs-run-2/', ['a']);
      const opened = await h.open({ prefix: 'rkvs-run-1/' });
      const res = await cleanupOpened(opened);
      await opened.close();
      expect(res.every((r) => r.errors === 0 && r.removed === 3), preset).toBe(true);
      expect(await rawKeys(h)).toEqual([['rkvs-run-2/a'], ['rkvs-run-2/a'], ['rkvs-run-2/a']]);
      const { stdout } = await run(process.execPath, [BIN, 'clean', '--config', preset, '--prefix', 'rkvs-run-2/'], { env: process.env, timeout: 120_000 });
      expect(stdout).toMatch(/removed 1 of 1 key/);
      expect(await rawKeys(h)).toEqual([[], [], []]);
    }
  }, 180_000);

  it('rkvs clean refuses a prefix outside rkvs- (exit 2)', async () => {
    const e = (await run(process.execPath, [BIN, 'clean', '--config', 'minio', '--prefix', 'backups/'], { env: process.env }).catch((x: unknown) => x)) as {
      code: number;
      stderr: string;
    };
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--prefix: "backups\/" is outside the rkvs prefix root/);
  });
});
