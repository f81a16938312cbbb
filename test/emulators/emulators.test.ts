import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  EMULATOR_KINDS,
  emulatorServerFor,
  pidAlive,
  startEmulator,
  startEmulators,
  storeForEmulator,
  type EmulatorKind,
} from '../../src/emulators/index.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RKVS = join(ROOT, 'bin/rkvs.js');

/** Polls until `cond` holds; generous bound, for a loaded machine. */
async function eventually(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) expect.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('startEmulators', () => {
  it('starts all three in parallel on loopback, each serving its adapter; stop kills them and removes their data', async () => {
    const emus = await startEmulators();
    try {
      expect(emus.all.map((e) => e.kind).sort()).toEqual([...EMULATOR_KINDS].sort());
      const ports = new Set(emus.all.map((e) => e.port));
      expect(ports.size).toBe(3);
      for (const e of emus.all) {
        expect(e.host).toBe('127.0.0.1');
        expect(e.endpoint.startsWith(`http://127.0.0.1:${e.port}`)).toBe(true);
        expect(pidAlive(e.pid)).toBe(true);
        expect(existsSync(e.dataDir)).toBe(true);
        expect(Object.keys(e.env).length).toBeGreaterThan(0);
        const s = await storeForEmulator(e, { bucket: 'lifecycle' });
        await s.put('k', new Uint8Array([e.port & 0xff]));
        expect(Array.from((await s.get('k')) ?? [])).toEqual([e.port & 0xff]);
        await s.close();
      }
      expect(emus.azure.connectionString).toContain(`BlobEndpoint=${emus.azure.endpoint}`);
      expect(emus.s3.server).toBe(emulatorServerFor('s3'));
    } finally {
      await emus.stop();
    }
    for (const e of emus.all) {
      expect(pidAlive(e.pid)).toBe(false);
      expect(existsSync(e.dataDir)).toBe(false);
    }
    await emus.stop(); // idempotent
  });

  it('a kind that was not started throws a clear error when used', async () => {
    const emus = await startEmulators(['s3']);
    try {
      expect(() => emus.gcs.endpoint).toThrow(/gcs emulator was not started/);
    } finally {
      await emus.stop();
    }
  });

  it('rejects unknown kinds and unknown RKVS_S3_EMULATOR values with ConfigError', async () => {
    await expect(startEmulator('ftp' as EmulatorKind)).rejects.toThrow(ConfigError);
    await expect(startEmulators(['s3', 'nope' as EmulatorKind])).rejects.toThrow(/unknown emulator kind "nope"/);
    const saved = process.env.RKVS_S3_EMULATOR;
    process.env.RKVS_S3_EMULATOR = 'bogus';
    try {
      expect(() => emulatorServerFor('s3')).toThrow(/RKVS_S3_EMULATOR/);
    } finally {
      if (saved === undefined) delete process.env.RKVS_S3_EMULATOR;
      else process.env.RKVS_S3_EMULATOR = saved;
    }
  });
});

describe('no orphans', () => {
  for (const kind of ['s3', 'gcs'] as const) {
    it(`the ${kind} emulator exits and removes its data when its parent is SIGKILLed`, async () => {
      const parent = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/emulators/fixtures/start-and-wait.ts'), kind], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const info = await new Promise<{ pid: number; dataDir: string }>((resolve, reject) => {
        let buf = '';
        parent.stdout!.on('data', (c: Buffer) => {
          buf += c.toString();
          const line = buf.split('\n').find((l) => l.startsWith('{'));
          if (line) resolve(JSON.parse(line));
        });
        parent.once('exit', (code) => reject(new Error(`fixture exited early with code ${code}`)));
      });
      expect(pidAlive(info.pid)).toBe(true);
      parent.kill('SIGKILL');
      await eventually(() => !pidAlive(info.pid), `emulator pid ${info.pid} exits after its parent died`);
      await eventually(() => !existsSync(info.dataDir), `data dir ${info.dataDir} removed`);
    });
  }
});

describe('rkvs emulators start|status|stop', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rkvs-emu-cli-'));
  afterAll(async () => {
    await run(process.execPath, [RKVS, 'emulators', 'stop', '--state-dir', dir]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts in the background, reports status, refuses a second start, and stops', async () => {
    const started = await run(process.execPath, [RKVS, 'emulators', 'start', 's3', 'azure', '--state-dir', dir, '--json']);
    const state = JSON.parse(started.stdout) as { emulators: { kind: string; pid: number; endpoint: string; env: Record<string, string> }[] };
    expect(state.emulators.map((e) => e.kind)).toEqual(['s3', 'azure']);
    expect(state.emulators[1]!.env.AZURE_STORAGE_CONNECTION_STRING).toContain('127.0.0.1');
    for (const e of state.emulators) expect(pidAlive(e.pid)).toBe(true);

    const status = await run(process.execPath, [RKVS, 'emulators', 'status', '--state-dir', dir]);
    expect(status.stdout).toMatch(/s3 .* running/);
    expect(status.stdout).toContain('export AZURE_STORAGE_CONNECTION_STRING=');

    const again = await run(process.execPath, [RKVS, 'emulators', 'start', '--state-dir', dir]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already running');

    const stopped = await run(process.execPath, [RKVS, 'emulators', 'stop', '--state-dir', dir]);
    expect(stopped.stdout).toContain('s3: stopped');
    for (const e of state.emulators) expect(pidAlive(e.pid)).toBe(false);
    const after = await run(process.execPath, [RKVS, 'emulators', 'status', '--state-dir', dir]);
    expect(after.stdout).toContain('no emulators running');
  });

  it('an unknown kind is a usage error (exit 2) naming the valid kinds', async () => {
    const res = await run(process.execPath, [RKVS, 'emulators', 'start', 'blob', '--state-dir', dir]).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('s3, azure, gcs');
  });
});
