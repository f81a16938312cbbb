/**
 * A sharded run survives what the register survives: 3 `rkvs bench --shard i/3` processes on a
 * configuration whose replica 0 is down (an S3 endpoint nobody listens on), the two others shared
 * directories. The shards start, meet at every cell on the quorum of live replicas, finish, and
 * the merged history passes `rkvs check`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory, parseHistory } from '../../src/check/index.js';
import { parseCsv } from '../../src/bench/record/read.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

async function rkvs(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1', ...env }, timeout: 180_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** A port on 127.0.0.1 nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-quorum-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('a 3-shard run with replica 0 down', () => {
  it('starts, meets at every cell on the live replicas, finishes, and its merged history passes rkvs check', async () => {
    const port = await closedPort();
    for (const d of ['r1', 'r2']) await mkdir(path.join(tmp, d));
    const config = path.join(tmp, 'down0.yaml');
    await writeFile(
      config,
      [
        'configurations:',
        '  down0:',
        '    replicas:',
        `      - { provider: s3, name: s3-down, endpoint: "http://127.0.0.1:${port}", bucket: rkvs-down, forcePathStyle: true, credentials: { accessKeyIdEnv: RKVS_TEST_KEY, secretAccessKeyEnv: RKVS_TEST_SECRET } }`,
        '      - { provider: fs, name: dir-1, dir: r1 }',
        '      - { provider: fs, name: dir-2, dir: r2 }',
        '    t: 1',
        '',
      ].join('\n'),
    );
    const out = path.join(tmp, 'out');
    const env = { RKVS_TEST_KEY: 'test', RKVS_TEST_SECRET: 'test-secret' };
    const args = (i: number) => ['bench', '--suite', 'quick', '--config', config, '--variants', 'regular,atomic', '--out', out, '--shard', `${i}/3`, '--run-id', 'down0', '--no-checks', '--history', '--sync-timeout', '120'];
    const shards = await Promise.all([0, 1, 2].map((i) => rkvs(args(i), env)));
    for (const r of shards) {
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(r.stderr).toMatch(/warning: configuration down0: replica s3-down is unreachable .* at the start: the register runs on the other replicas \(t = 1\)/);
    }
    // every cell ran on every shard at the same time, and every operation succeeded on the live quorum
    const dirs = [0, 1, 2].map((i) => path.join(out, `down0-shard${i}`));
    for (const d of dirs) {
      const meta = JSON.parse(await readFile(path.join(d, 'meta.json'), 'utf8'));
      expect(meta.failures, d).toBeUndefined();
      expect(meta.notes.join(' ')).toMatch(/replica s3-down is unreachable/);
      // the dead replica's clock could not be read; the live ones' could
      expect(meta.clock_offsets.filter((c: { replica: string; error?: string }) => c.replica === 's3-down' && c.error)).toHaveLength(2);
      expect(meta.clock_offsets.filter((c: { replica: string; bound_ms?: number }) => c.replica !== 's3-down' && c.bound_ms !== undefined)).toHaveLength(4);
    }
    const m = await rkvs(['merge', ...dirs, '--out', path.join(tmp, 'merged')]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/shard 1: [+-][\d.]+ ms ± [\d.]+ ms \(via down0\/dir-[12]\)/);
    const merged = path.join(tmp, 'merged', 'down0');
    const lat = parseCsv(await readFile(path.join(merged, 'latency.csv'), 'utf8'), 'latency.csv');
    expect(lat.reduce((a, r) => a + Number(r.count), 0)).toBe(4 * 40);
    expect(lat.reduce((a, r) => a + Number(r.errors), 0)).toBe(0);
    const ops = parseHistory(await readFile(path.join(merged, 'history.jsonl'), 'utf8'), 'history.jsonl');
    expect(new Set(ops.map((o) => o.client.slice(0, 2)))).toEqual(new Set(['s0', 's1', 's2']));
    const check = await rkvs(['check', path.join(merged, 'history.jsonl'), '--model', 'regular']);
    expect(check.code, check.stdout).toBe(0);
    expect(checkHistory(ops.filter((o) => o.register.startsWith('down0/atomic/')), 'linearizable').result).toBe('ok');
  }, 240_000);
});
