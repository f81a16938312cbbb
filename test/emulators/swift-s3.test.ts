/**
 * OpenStack Swift s3api as a local S3 server: scripts/swift-s3api.sh itself, the launcher's
 * swift-s3 kind (no orphans when its parent dies), `rkvs emulators start --s3 swift`,
 * `rkvs probe` on the `swift-s3api` preset (a Swift the script started) and `rkvs bench` on the
 * `swift` preset (a Swift the harness starts). Swift must be installed
 * (`sudo scripts/swift-s3api.sh install`, done by .ci/run): without it these tests fail, saying so.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/adapters/s3.js';
import { pidAlive, startEmulator } from '../../src/emulators/index.js';
import { utf8 } from '../../src/store.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/swift-s3api.sh');
const RKVS = join(ROOT, 'bin/rkvs.js');
const LONG = 420_000;

type Outcome = { code: number; stdout: string; stderr: string };
async function outcome(p: Promise<{ stdout: string; stderr: string }>): Promise<Outcome> {
  try {
    const r = await p;
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const script = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  outcome(run('bash', [SCRIPT, ...args], { env, timeout: 300_000 }));

/** Live (not zombie) processes whose command line mentions `text`, as `pid args` lines. */
function processesMentioning(text: string): string[] {
  const out: string[] = [];
  for (const line of execPs()) {
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[2]!.startsWith('Z') || Number(m[1]) === process.pid) continue;
    if (m[3]!.includes(text)) out.push(`${m[1]} ${m[3]}`);
  }
  return out;
}
function execPs(): string[] {
  return execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' }).split('\n');
}

/** True when `pid` is a live process (a zombie waiting to be reaped is not). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `cond` holds (generous: a loaded machine). */
async function eventually(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) expect.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('scripts/swift-s3api.sh', () => {
  it(
    'start prints the exports, serves S3 with tempauth credentials; stop leaves no process and no directory',
    async () => {
      const started = await script(['start']);
      expect(started.code, started.stderr).toBe(0);
      const lines = started.stdout.trim().split('\n');
      const env: Record<string, string> = {};
      for (const l of lines) {
        const m = /^export (RKVS_SWIFT_S3_[A-Z_]+)=(.+)$/.exec(l);
        expect(m, `not an export line: ${l}`).not.toBeNull();
        env[m![1]!] = m![2]!;
      }
      expect(Object.keys(env).sort()).toEqual(
        ['RKVS_SWIFT_S3_ACCESS_KEY_ID', 'RKVS_SWIFT_S3_DIR', 'RKVS_SWIFT_S3_ENDPOINT', 'RKVS_SWIFT_S3_REGION', 'RKVS_SWIFT_S3_SECRET_ACCESS_KEY'].sort(),
      );
      const dir = env.RKVS_SWIFT_S3_DIR!;
      expect(env.RKVS_SWIFT_S3_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const pids = readFileSync(join(dir, 'pids'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => Number(l.split(' ')[0]));
      expect(pids).toHaveLength(5); // memcached and four Swift servers
      try {
        const s = createS3Store({
          bucket: 'script-check',
          endpoint: env.RKVS_SWIFT_S3_ENDPOINT,
          region: env.RKVS_SWIFT_S3_REGION,
          credentials: { accessKeyId: env.RKVS_SWIFT_S3_ACCESS_KEY_ID!, secretAccessKey: env.RKVS_SWIFT_S3_SECRET_ACCESS_KEY! },
          createBucketIfMissing: true,
        });
        try {
          await s.put('a/b c', utf8('v'));
          expect(Buffer.from((await s.get('a/b c'))!).toString()).toBe('v');
          expect(await s.list('a/')).toEqual(['a/b c']);
        } finally {
          await s.close();
        }
        // rkvs probe on the swift-s3api preset, which reads exactly the variables start printed
        const probeDir = join(dir, 'probe-report');
        const probe = await outcome(
          run(process.execPath, [RKVS, 'probe', '--config', 'swift-s3api', '--samples', '2', '--sizes', '1KiB', '--trials', '2', '--dir', probeDir], {
            env: { ...process.env, ...env },
            timeout: 300_000,
          }),
        );
        expect(probe.code, probe.stderr).toBe(0);
        for (const replica of ['swift-a', 'swift-b', 'swift-c']) expect(probe.stdout).toContain(replica);
        const status = await script(['status', dir]);
        expect(status.code).toBe(0);
        expect(status.stdout).toContain('running');
      } finally {
        const stopped = await script(['stop'], { ...process.env, RKVS_SWIFT_S3_DIR: dir });
        expect(stopped.code, stopped.stderr).toBe(0);
      }
      expect(existsSync(dir)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
      for (const pid of pids) expect(running(pid), `pid ${pid} of ${dir}`).toBe(false);
      // stopping again is a no-op
      expect((await script(['stop', dir])).code).toBe(0);
    },
    LONG,
  );

  it('refuses what it did not make, and says how to call it (exit 2)', async () => {
    const foreign = mkdtempSync(join(tmpdir(), 'rkvs-swift-foreign-'));
    try {
      writeFileSync(join(foreign, 'precious'), 'keep me');
      const stop = await script(['stop', foreign]);
      expect(stop.code).toBe(2);
      expect(stop.stderr).toContain('was not made by scripts/swift-s3api.sh start');
      expect(existsSync(join(foreign, 'precious'))).toBe(true);
      const start = await script(['start', '--dir', foreign, '--no-install']);
      expect(start.code).toBe(2);
      expect(start.stderr).toContain('is not empty');
      expect(existsSync(join(foreign, 'precious'))).toBe(true);
      const none = await script(['stop'], { ...process.env, RKVS_SWIFT_S3_DIR: '' });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('RKVS_SWIFT_S3_DIR');
      expect((await script(['restart'])).code).toBe(2);
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
  });

  it('without Swift on PATH, start --no-install and the launcher fail naming the install command', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rkvs-empty-path-'));
    const saved = process.env.PATH;
    try {
      const r = await outcome(run('/bin/bash', [SCRIPT, 'start', '--no-install'], { env: { PATH: empty, HOME: tmpdir() } }));
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('OpenStack Swift is not installed');
      expect(r.stderr).toContain('apt-get install -y --no-install-recommends swift swift-proxy swift-object swift-container swift-account python3-swift memcached');
      process.env.PATH = empty;
      await expect(startEmulator('swift-s3')).rejects.toThrow(/OpenStack Swift is not installed .*sudo scripts\/swift-s3api\.sh install/);
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the swift-s3 emulator kind', () => {
  it(
    'exits, stops Swift and removes its data when its parent is SIGKILLed',
    async () => {
      const parent = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/emulators/fixtures/start-and-wait.ts'), 'swift-s3'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const info = await new Promise<{ pid: number; dataDir: string; port: number }>((resolve, reject) => {
        let buf = '';
        parent.stdout!.on('data', (c: Buffer) => {
          buf += c.toString();
          const line = buf.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line));
        });
        parent.once('exit', (code) => reject(new Error(`fixture exited early with code ${code}`)));
      });
      expect(pidAlive(info.pid)).toBe(true);
      expect(processesMentioning(info.dataDir).length).toBeGreaterThanOrEqual(4); // the runner and the Swift servers
      parent.kill('SIGKILL');
      await eventually(() => !pidAlive(info.pid), `runner pid ${info.pid} exits after its parent died`);
      await eventually(() => processesMentioning(info.dataDir).length === 0, `no process of ${info.dataDir} left`);
      await eventually(() => !existsSync(info.dataDir), `data dir ${info.dataDir} removed`);
    },
    LONG,
  );

  it(
    'rkvs emulators start s3 --s3 swift: Swift serves the s3 kind in the background; stop leaves nothing',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rkvs-emu-swift-'));
      try {
        const started = await outcome(run(process.execPath, [RKVS, 'emulators', 'start', 's3', '--s3', 'swift', '--state-dir', dir, '--json'], { timeout: 300_000 }));
        expect(started.code, started.stderr).toBe(0);
        const state = JSON.parse(started.stdout) as { emulators: { kind: string; server: string; pid: number; dataDir: string; env: Record<string, string> }[] };
        const [e] = state.emulators;
        expect(e).toMatchObject({ kind: 's3', server: 'swift-s3api' });
        expect(e!.env).toMatchObject({ AWS_ACCESS_KEY_ID: 'test:tester', AWS_REGION: 'us-east-1' });
        const s = createS3Store({
          bucket: 'cli-check',
          endpoint: e!.env.RKVS_S3_ENDPOINT,
          credentials: { accessKeyId: e!.env.AWS_ACCESS_KEY_ID!, secretAccessKey: e!.env.AWS_SECRET_ACCESS_KEY! },
          createBucketIfMissing: true,
        });
        try {
          await s.put('k', utf8('v'));
          expect(await s.list('')).toEqual(['k']);
        } finally {
          await s.close();
        }
        const status = await run(process.execPath, [RKVS, 'emulators', 'status', '--state-dir', dir]);
        expect(status.stdout).toMatch(/s3 +swift-s3api .* running/);
        const bad = await outcome(run(process.execPath, [RKVS, 'emulators', 'start', 's3', '--s3', 'ceph', '--state-dir', join(dir, 'x')]));
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain('fauxqs, minio, swift');
        const stopped = await run(process.execPath, [RKVS, 'emulators', 'stop', '--state-dir', dir], { timeout: 120_000 });
        expect(stopped.stdout).toContain('s3: stopped');
        expect(pidAlive(e!.pid)).toBe(false);
        expect(existsSync(e!.dataDir)).toBe(false);
        expect(processesMentioning(e!.dataDir)).toEqual([]);
      } finally {
        await outcome(run(process.execPath, [RKVS, 'emulators', 'stop', '--state-dir', dir], { timeout: 120_000 }));
        rmSync(dir, { recursive: true, force: true });
      }
    },
    LONG,
  );
});

describe('rkvs bench on the swift preset (Swift started by the harness)', () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'rkvs-swift-bench-'));
  });
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it(
    'bench --config swift --configs swift-3 --suite quick --variants atomic (12 operations per cell) runs every cell without errors',
    async () => {
      const r = await outcome(
        run(process.execPath, [RKVS, 'bench', '--config', 'swift', '--configs', 'swift-3', '--suite', 'quick', '--variants', 'atomic', '--ops', '12', '--no-progress', '--out', out, '--run-id', 'swift-quick'], {
          timeout: 400_000,
        }),
      );
      expect(r.code, r.stderr).toBe(0);
      const latency = readFileSync(join(out, 'swift-quick', 'latency.csv'), 'utf8').trim().split('\n');
      const header = latency[0]!.split(',');
      const rows = latency.slice(1).map((l) => l.split(','));
      expect(rows.length).toBeGreaterThanOrEqual(4); // read and write, 1 and 2 clients
      const config = header.indexOf('config');
      const errors = header.indexOf('errors');
      for (const row of rows) {
        expect(row[config]).toBe('swift-3');
        expect(Number(row[errors])).toBe(0);
      }
    },
    LONG,
  );
});
