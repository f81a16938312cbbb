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
  it('an empty prefix is refused; a prefix outside the root needs yes and a trailing slash', () => {
    expect(() => checkCleanPrefix(undefined)).toThrow(/--prefix: required: the run prefix to remove, e\.g\. --prefix rkvs-bench\/<run-id>\//);
    expect(() => checkCleanPrefix('')).toThrow(ConfigError);
    expect(() => checkCleanPrefix('data/')).toThrow(/outside the prefix root "rkvs-".*--yes/);
    expect(checkCleanPrefix('data/', 'rkvs-', true)).toBe('data/');
    expect(() => checkCleanPrefix('data', 'rkvs-', true)).toThrow(/does not end in "\/"/);
  });

  it('only whole run prefixes ending in / under the root are taken', () => {
    expect(checkCleanPrefix('rkvs-bench/20260101-000000-quick-k3x9q2/')).toBe('rkvs-bench/20260101-000000-quick-k3x9q2/');
    expect(checkCleanPrefix('rkvs-probe-20260101-000000-probe-abc123/')).toBe('rkvs-probe-20260101-000000-probe-abc123/');
    expect(checkCleanPrefix('team/rkvs/bench/myrun/', 'team/rkvs/')).toBe('team/rkvs/bench/myrun/');
    // without the slash it would also take rkvs-bench/myrun-2/... and rkvs-bench/myrunX
    expect(() => checkCleanPrefix('rkvs-bench/myrun')).toThrow(/--prefix: "rkvs-bench\/myrun" does not end in "\/".*--prefix rkvs-bench\/myrun\//);
    for (const bad of ['rkvs-', 'rkvs-bench/', 'rkvs-bench', 'rkvs-bench/a/b/', 'rkvs-20260101-000000-x/', 'rkvs-bench/-x/'])
      expect(() => checkCleanPrefix(bad), bad).toThrow(/is not the prefix of one run; give a whole run prefix ending in "\/": rkvs-bench\/<run-id>\//);
    // --yes does not widen a prefix under the root
    expect(() => checkCleanPrefix('rkvs-', 'rkvs-', true)).toThrow(/is not the prefix of one run/);
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
    await writeRun(h, 'rkvs-bench/run-a/', ['x', 'y/z']);
    await writeRun(h, 'rkvs-bench/run-b/', ['x']);
    const opened = await h.open({ prefix: 'rkvs-bench/run-a/' });
    const res = await cleanupOpened(opened, { config: 'local' });
    await opened.close();
    expect(res.map((r) => [r.found, r.removed, r.errors])).toEqual([[2, 2, 0], [2, 2, 0], [2, 2, 0]]);
    expect(await rawKeys(h)).toEqual([['rkvs-bench/run-b/x'], ['rkvs-bench/run-b/x'], ['rkvs-bench/run-b/x']]);
    const dry = await cleanPrefix(h, 'rkvs-bench/run-b/', { dryRun: true });
    expect(dry.map((r) => [r.found, r.removed])).toEqual([[1, 0], [1, 0], [1, 0]]);
    const done = await cleanPrefix(h, 'rkvs-bench/run-b/', {});
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
      await writeRun(h, 'rkvs-bench/run-c/', ['k']);
      await cleanPrefix(h, 'rkvs-bench/run-c/', {});
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
      await writeRun(h, 'rkvs-bench/run-1/', ['a', 'b/c', 'd e']);
      await writeRun(h, 'rkvs-bench/run-2/', ['a']);
      const opened = await h.open({ prefix: 'rkvs-bench/run-1/' });
      const res = await cleanupOpened(opened);
      await opened.close();
      expect(res.every((r) => r.errors === 0 && r.removed === 3), preset).toBe(true);
      expect(await rawKeys(h)).toEqual([['rkvs-bench/run-2/a'], ['rkvs-bench/run-2/a'], ['rkvs-bench/run-2/a']]);
      const { stdout } = await run(process.execPath, [BIN, 'clean', '--config', preset, '--prefix', 'rkvs-bench/run-2/'], { env: process.env, timeout: 120_000 });
      expect(stdout).toContain(`removing every object under rkvs-bench/run-2/ from configuration ${preset}`);
      expect(stdout).toMatch(/removed 1 of 1 key\(s\) under rkvs-bench\/run-2\//);
      expect(await rawKeys(h)).toEqual([[], [], []]);
    }
  }, 180_000);

  it('rkvs clean refuses a prefix outside rkvs- (exit 2)', async () => {
    const e = (await run(process.execPath, [BIN, 'clean', '--config', 'minio', '--prefix', 'backups/'], { env: process.env }).catch((x: unknown) => x)) as {
      code: number;
      stderr: string;
    };
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--prefix: "backups\/" is outside the prefix root "rkvs-" of the configuration.*rkvs-bench\/<run-id>\/.*--yes/);
  });
});
