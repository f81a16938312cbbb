/**
 * Refusals say everything at once and mean the same in every command: `probe --yes` probes a bucket
 * holding foreign objects (and says so) instead of measuring it and calling it unusable; without
 * --yes probe exits 2 like bench; bench and probe both exit 2 naming every unset variable of every
 * replica; an unreachable endpoint is reported for every replica it affects; `clean --prefix`
 * without the trailing slash is refused with the fix, and its help shows the real layout.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFsStore } from '../../src/adapters/fs.js';
import { main } from '../../src/cli.js';
import { tempDir } from '../support/tmp.js';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

async function rkvs(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1', ...env }, timeout: 240_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** Three fs replicas under `dir`; the second holds an object outside the prefix root. */
async function foreignConfig(dir: string): Promise<string> {
  const file = path.join(dir, 'dirs.yaml');
  await writeFile(file, 'configurations:\n  dirs:\n    replicas:\n' + [0, 1, 2].map((i) => `      - { provider: fs, dir: r${i}, name: dir-${i} }\n`).join(''));
  const r1 = createFsStore({ dir: path.join(dir, 'r1') });
  await r1.put('payroll/2026.csv', new TextEncoder().encode('x'));
  await r1.close();
  return file;
}

describe('probe and foreign objects: --yes is honoured', () => {
  it('probe --yes probes every replica, says what it found, leaves the foreign object, and exits 0', async () => {
    const dir = tempDir('rkvs-refuse-yes-');
    const config = await foreignConfig(dir);
    const r = await rkvs(['probe', '--config', config, '--dir', path.join(dir, 'p'), '--sizes', '1KiB', '--samples', '1', '--trials', '1', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dirs\/dir-1: bucket holds 1 object\(s\) outside "rkvs-"; probing anyway under rkvs-probe-.*\(--yes\)/);
    expect(r.stdout).toMatch(/dir-1\s+fs\s+read-after-write\s+0\s+1\s+0\s+0/);
    expect(r.stderr).not.toMatch(/not usable/);
    const r1 = createFsStore({ dir: path.join(dir, 'r1') });
    expect(await r1.list('')).toEqual(['payroll/2026.csv']);
    await r1.close();
  }, 120_000);

  it('without --yes, probe skips that replica and exits 2 naming --yes, as bench does', async () => {
    const dir = tempDir('rkvs-refuse-noyes-');
    const config = await foreignConfig(dir);
    const p = await rkvs(['probe', '--config', config, '--dir', path.join(dir, 'p'), '--sizes', '1KiB', '--samples', '1', '--trials', '1']);
    expect(p.code, p.stderr).toBe(2);
    expect(p.stderr).toMatch(/probe: --yes: dirs\/dir-1 holds objects outside the prefix root and was not probed; use a dedicated bucket, or rerun with --yes/);
    const b = await rkvs(['bench', '--suite', 'quick', '--config', config, '--out', path.join(dir, 'b')]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--yes: configuration dirs: dir-1 holds 1 object\(s\) outside "rkvs-"/);
  }, 120_000);
});

describe('unset variables: every one named at once, exit 2 in bench and probe', () => {
  let err = '';
  beforeEach(() => {
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it('names the three unset variables of two replicas and the fields that name them', async () => {
    const dir = tempDir('rkvs-refuse-vars-');
    const file = path.join(dir, 'vars.yaml');
    await writeFile(
      file,
      'configurations:\n  c:\n    replicas:\n' +
        '      - { provider: s3, bucket: b, credentials: { accessKeyIdEnv: RKVS_T_NOPE_ID, secretAccessKeyEnv: RKVS_T_NOPE_SECRET } }\n' +
        '      - { provider: azure, container: c, credentials: { connectionStringEnv: RKVS_T_NOPE_CONN } }\n' +
        '      - { provider: memory }\n',
    );
    for (const v of ['RKVS_T_NOPE_ID', 'RKVS_T_NOPE_SECRET', 'RKVS_T_NOPE_CONN']) delete process.env[v];
    const all =
      /3 environment variables are not set: RKVS_T_NOPE_ID \(configurations\.c\.replicas\[0\]\.credentials\.accessKeyIdEnv\), RKVS_T_NOPE_SECRET \(configurations\.c\.replicas\[0\]\.credentials\.secretAccessKeyEnv\), RKVS_T_NOPE_CONN \(configurations\.c\.replicas\[1\]\.credentials\.connectionStringEnv\) — export them/;
    const out = path.join(dir, 'reports');
    expect(await main(['node', 'rkvs', 'bench', '--suite', 'quick', '--config', file, '--out', out, '--yes'])).toBe(2);
    expect(err).toMatch(all);
    expect(await readdir(dir)).toEqual(['vars.yaml']);
    err = '';
    expect(await main(['node', 'rkvs', 'probe', '--config', file, '--dir', path.join(dir, 'p'), '--sizes', '1KiB', '--samples', '1', '--trials', '1'])).toBe(2);
    expect(err).toMatch(all);
  });
});

describe('an unreachable endpoint is reported for every replica it affects', () => {
  let server: Server;
  let port: number;
  beforeEach(async () => {
    // a port that accepts and closes at once: every call to it fails fast
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('bench (with and without --yes) and probe name all three replicas', async () => {
    const dir = tempDir('rkvs-refuse-down-');
    const file = path.join(dir, 'down.yaml');
    await writeFile(
      file,
      'configurations:\n  down:\n    replicas:\n' +
        [0, 1, 2].map((i) => `      - { provider: s3, name: s3-${i}, bucket: b${i}, endpoint: "http://127.0.0.1:${port}", forcePathStyle: true, credentials: { accessKeyIdEnv: RKVS_T_ID, secretAccessKeyEnv: RKVS_T_SECRET } }\n`).join(''),
    );
    const env = { RKVS_T_ID: 'id', RKVS_T_SECRET: 'secret-value-1234', RKVS_CONNECT_TIMEOUT_MS: '2000', RKVS_REQUEST_TIMEOUT_MS: '2000' };
    // the bucket guard leaves unreachable replicas to the preflight, which names every one of them
    for (const [out, extra] of [['a', []], ['b', ['--yes', '--variants', 'raw']]] as const) {
      const r = await rkvs(['bench', '--suite', 'quick', '--config', file, '--out', path.join(dir, out), ...extra], env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/configuration down: replica s3-0 is unreachable .*; replica s3-1 is unreachable .*; replica s3-2 is unreachable .*\(3 down, the configuration tolerates t = 1\)/);
    }
    const probe = await rkvs(['probe', '--config', file, '--dir', path.join(dir, 'p'), '--sizes', '1KiB', '--samples', '1', '--trials', '1', '--yes'], env);
    expect(probe.code).toBe(1);
    for (const r of ['s3-0', 's3-1', 's3-2']) expect(probe.stderr).toMatch(new RegExp(`probe: down/${r}: access`));
    expect(probe.stderr).toMatch(/3 replica\(s\) not usable: down\/s3-0 \(access.*\), down\/s3-1 \(access.*\), down\/s3-2 \(access/);
  }, 240_000);
});

describe('rkvs clean --prefix', () => {
  it('refuses a prefix without the trailing slash, naming the fix; its help shows the real layout', async () => {
    const dir = tempDir('rkvs-refuse-clean-');
    await mkdir(path.join(dir, 'r0'));
    const file = path.join(dir, 'c.yaml');
    await writeFile(file, 'configurations:\n  c:\n    replicas:\n      - { provider: fs, dir: r0 }\n');
    const r = await rkvs(['clean', '--config', file, '--prefix', 'rkvs-bench/myrun']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--prefix: "rkvs-bench\/myrun" does not end in "\/", so it would also remove other runs whose id starts the same way \(rkvs-bench\/myrun-2\/\.\.\., rkvs-bench\/myrunX\/\.\.\.\); give the whole run prefix: --prefix rkvs-bench\/myrun\//);
    const help = await rkvs(['clean', '--help']);
    expect(help.stdout).toContain('rkvs-bench/20250101-120000-default-k3x9q2/');
    expect(help.stdout).not.toMatch(/rkvs-20250101/);
  }, 60_000);
});
