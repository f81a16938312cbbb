/**
 * Load beyond one process: `rkvs bench --workers N`, a 3-shard run on this machine (3 real
 * `rkvs bench --shard i/3` processes contending on the same directory replicas) merged with
 * `rkvs merge`, Ctrl-C with workers, and the bucket guard (`--yes`).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/adapters/fs.js';
import { checkHistory, parseHistory } from '../../src/check/index.js';
import { expectReportKeyed } from '../support/report-keys.js';
import { CELL_KEY_COLUMNS } from '../../src/bench/config/cell.js';
import { parseCsv, type CsvRow } from '../../src/bench/record/read.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

async function rkvs(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1', ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** A CSV's rows keyed by its header, so no test depends on column positions. */
const rows = (t: string) => parseCsv(t, 'test');
const total = (lat: CsvRow[]) => lat.reduce((a, r) => a + Number(r.count) + Number(r.errors), 0);
const cellOf = (r: CsvRow) => CELL_KEY_COLUMNS.map((c) => r[c] ?? '').join(',');

/** Every file under `dir` (recursively). */
async function files(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-scale-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function fsConfig(name: string): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'fs3.yaml');
  await writeFile(file, ['configurations:', '  fs3:', '    replicas:', ...[0, 1, 2].map((i) => `      - { provider: fs, dir: r${i} }`), ''].join('\n'));
  return file;
}

describe('rkvs bench --workers 2', () => {
  it('spreads every cell over 2 processes contending on the same replicas, one report whose counts equal the total', async () => {
    // directory replicas: both workers and the parent reach the same objects
    const config = await fsConfig('workers');
    const out = path.join(tmp, 'workers', 'out');
    const r = await rkvs(['bench', '--suite', 'quick', '--config', config, '--workers', '2', '--out', out, '--history', '--no-checks']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[1\/5\] fs3 raw mixed 256B 2c \(2 workers\): 40 ok/);
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning/);
    const [name] = await readdir(out);
    const dir = path.join(out, name as string);
    const lat = rows(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    expect(lat).toHaveLength(10);
    expect(total(lat)).toBe(5 * 40);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.workers).toBe(2);
    // one history of the registers both workers wrote: client ids unique, still regular / linearizable
    const ops = parseHistory(await readFile(path.join(dir, 'history.jsonl'), 'utf8'), 'history.jsonl');
    expect(ops.length).toBe(5 * 48);
    const clients = new Set(ops.map((o) => o.client));
    expect([...clients].sort()).toEqual(['w0c0', 'w1c1']);
    for (const [variant, model] of [['regular', 'regular'], ['atomic', 'linearizable']] as const) {
      const mine = ops.filter((o) => o.register.startsWith(`fs3/${variant}/`));
      // both workers' clients operated on the same registers
      expect(new Set(mine.filter((o) => o.register.endsWith('/r000000')).map((o) => o.client)).size).toBe(2);
      const v = checkHistory(mine, model);
      expect(v.result, JSON.stringify(v).slice(0, 300)).toBe('ok');
    }
    const counters = JSON.parse(await readFile(path.join(dir, 'counters.json'), 'utf8'));
    expect(counters.series.reduce((a: number, s: { ok: number; errors: number }) => a + s.ok + s.errors, 0)).toBe(200);
    // the parent measured the storage the workers left: 2 copies per register at quiescence
    const ov = rows(await readFile(path.join(dir, 'overhead.csv'), 'utf8')).filter((x) => x.phase === 'quiescent' && x.variant !== 'raw');
    expect(ov.length).toBe(12); // 2 variants x 2 client counts x 3 replicas
    for (const x of ov) expect(Number(x.copies_per_register)).toBeGreaterThanOrEqual(2);
    // every row says its cell ran over 2 worker processes; the summary prints each storage line once
    const csv = await expectReportKeyed(dir);
    expect(new Set(csv.latency!.map((x) => x.workers))).toEqual(new Set(['2']));
    const storage = r.stdout.split('\n').filter((l) => l.startsWith('  fs3 '));
    expect(storage).toHaveLength(5);
    expect(new Set(storage).size).toBe(storage.length);
  }, 90_000);

  it('with memory replicas (one set per worker) the history keeps each worker\'s registers apart', async () => {
    const out = path.join(tmp, 'workers-mem');
    const r = await rkvs(['bench', '--suite', 'quick', '--workers', '2', '--out', out, '--history', '--no-checks', '--variants', 'atomic']);
    expect(r.code, r.stderr).toBe(0);
    const [name] = await readdir(out);
    const dir = path.join(out, name as string);
    expect(total(rows(await readFile(path.join(dir, 'latency.csv'), 'utf8')))).toBe(2 * 40);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.notes.join(' ')).toMatch(/memory replicas live in each worker process/);
    const ops = parseHistory(await readFile(path.join(dir, 'history.jsonl'), 'utf8'), 'history.jsonl');
    expect(ops.some((o) => o.register.includes('/w1/'))).toBe(true);
    expect(checkHistory(ops, 'linearizable').result).toBe('ok');
  }, 60_000);

  it('Ctrl-C: exits 130, writes what the workers measured, leaves no worker behind', async () => {
    const out = path.join(tmp, 'workers-int');
    const tag = `rkvs-test-${process.pid}-${Date.now()}`;
    const child = spawn(process.execPath, [BIN, 'bench', '--suite', 'quick', '--workers', '2', '--out', out, '--duration', '60', '--variants', 'raw'], {
      cwd: ROOT,
      env: { ...process.env, CI: '1', RKVS_TEST_TAG: tag },
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && stderr.includes('opening configuration')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 2500);
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(code, stderr).toBe(130);
    const [name] = await readdir(out);
    const lat = rows(await readFile(path.join(out, name as string, 'latency.csv'), 'utf8'));
    expect(total(lat)).toBeGreaterThan(0);
    // no process of this run is left (workers inherit the tag in their environment)
    await new Promise((r) => setTimeout(r, 500));
    const left: string[] = [];
    for (const pid of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(pid)) continue;
      const env = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
      if (env.includes(tag)) left.push(pid);
    }
    expect(left).toEqual([]);
  }, 90_000);
});

describe('a 3-shard run on this machine merges into one report', () => {
  let config: string;
  let shardDirs: string[] = [];
  const out = () => path.join(tmp, 'shards', 'out');

  beforeAll(async () => {
    config = await fsConfig('shards');
    // three processes at once, contending on the same directory replicas, meeting at each cell
    const results = await Promise.all(
      [0, 1, 2].map((i) => rkvs(['bench', '--suite', 'quick', '--config', config, '--out', out(), '--shard', `${i}/3`, '--run-id', 'shard-test', '--no-checks', '--history'])),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    shardDirs = [0, 1, 2].map((i) => path.join(out(), `shard-test-shard${i}`));
  }, 120_000);

  it('each shard ran its share; merged op counts equal the sum of the shards', async () => {
    const perShard = await Promise.all(shardDirs.map(async (d) => rows(await readFile(path.join(d, 'latency.csv'), 'utf8'))));
    const merged = path.join(tmp, 'shards', 'merged');
    const m = await rkvs(['merge', ...shardDirs, '--out', merged]);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/merged 3 shard\(s\) of run shard-test/);
    const dir = path.join(merged, 'shard-test');
    const lat = rows(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    expect(lat).toHaveLength(10);
    expect(total(lat)).toBe(5 * 40);
    expect(total(lat)).toBe(perShard.reduce((a, l) => a + total(l), 0));
    // row by row: merged count = sum of the shards' counts of that row
    for (const r of lat) {
      const key = cellOf(r);
      const sum = perShard.reduce((a, l) => a + l.filter((x) => cellOf(x) === key).reduce((b, x) => b + Number(x.count), 0), 0);
      expect(Number(r.count), key).toBe(sum);
    }
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.merged_from.map((x: { shard: number }) => x.shard)).toEqual([0, 1, 2]);
    expect(meta.shard).toBeUndefined();
    expect(meta.max_start_skew_ms).toBeLessThan(2000);
    for (const f of ['latency.csv', 'overhead.csv', 'requests.csv', 'errors.csv', 'histograms.jsonl', 'counters.json', 'meta.json', 'report.html', 'cost.csv'])
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    // the shards shared the replicas: the overhead was measured once, by shard 0, over every shard's registers
    const ov = rows(await readFile(path.join(dir, 'overhead.csv'), 'utf8')).filter((x) => x.phase === 'quiescent' && x.variant === 'regular');
    expect(ov.length).toBe(6); // 2 client counts x 3 replicas
    // and every key was removed at the end
    expect((await files(path.join(tmp, 'shards', 'r0'))).filter((f) => !f.includes('.tmp'))).toEqual([]);
    // every shard measured something: the small cells moved on from shard to shard
    for (const l of perShard) expect(total(l)).toBeGreaterThan(0);
    expect(m.stderr).not.toMatch(/measured nothing/);
    // clock offsets measured against the replicas, printed with their bound
    expect(m.stdout).toMatch(/clock offsets from shard 0's clock, measured against the replicas \(skew judged at offset ± bound against --max-skew 2 s\):\n  shard 1: [+-]\d+\.\d ms ± \d+\.\d ms \(via fs3\/fs-\d\)\n  shard 2: /);
    expect(meta.clock_offsets.map((c: { shard: number }) => c.shard)).toEqual([0, 1, 2]);
    for (const c of meta.clock_offsets.slice(1)) expect(Math.abs(c.offset_ms)).toBeLessThanOrEqual(c.bound_ms + 0.01); // one machine, one clock
    const shard1 = JSON.parse(await readFile(path.join(shardDirs[1] as string, 'meta.json'), 'utf8'));
    expect(shard1.clock_offsets.filter((c: { phase: string }) => c.phase === 'start')).toHaveLength(3);
    // one history of the three shards, on one clock: distinct client ids, and rkvs check passes
    const ops = parseHistory(await readFile(path.join(dir, 'history.jsonl'), 'utf8'), 'history.jsonl');
    const perShardOps = await Promise.all(shardDirs.map(async (d) => (await readFile(path.join(d, 'history.jsonl'), 'utf8')).trim().split('\n').length));
    expect(ops.length).toBe(perShardOps.reduce((a, b) => a + b, 0));
    expect(new Set(ops.map((o) => o.client.slice(0, 2)))).toEqual(new Set(['s0', 's1', 's2']));
    const check = await rkvs(['check', path.join(dir, 'history.jsonl'), '--model', 'regular']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const atomic = ops.filter((o) => o.register.startsWith('fs3/atomic/'));
    // the shards' clients operated on the same registers
    expect(new Set(atomic.filter((o) => o.register.endsWith('/r000000') && o.register.includes('/cell0005/')).map((o) => o.client)).size).toBe(2);
    expect(checkHistory(atomic, 'linearizable').result).toBe('ok');
    // merging again replaces the earlier merge whole: nothing of it stays beside the new files
    await writeFile(path.join(dir, 'stray.txt'), 'from before');
    const again = await rkvs(['merge', ...shardDirs, '--out', merged]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'stray.txt'))).toBe(false);
    expect(rows(await readFile(path.join(dir, 'latency.csv'), 'utf8'))).toEqual(lat);
    expect((await readdir(merged)).filter((f) => f.startsWith('.'))).toEqual([]);
    // a directory that is not an earlier merge is refused (exit 2), and replaced only with --overwrite
    const other = path.join(tmp, 'shards', 'other');
    await mkdir(path.join(other, 'shard-test'), { recursive: true });
    await writeFile(path.join(other, 'shard-test', 'notes.txt'), 'mine');
    const refused = await rkvs(['merge', ...shardDirs, '--out', other]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists and is not an earlier merge; choose another --out, or give --overwrite/);
    expect(await readdir(path.join(other, 'shard-test'))).toEqual(['notes.txt']);
    const replaced = await rkvs(['merge', ...shardDirs, '--out', other, '--overwrite']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(existsSync(path.join(other, 'shard-test', 'notes.txt'))).toBe(false);
  }, 120_000);

  it('rkvs merge warns when a shard measured nothing', async () => {
    const idle = path.join(tmp, 'shards', 'idle-shard2');
    await cp(shardDirs[2] as string, idle, { recursive: true });
    const f = path.join(idle, 'counters.json');
    const c = JSON.parse(await readFile(f, 'utf8'));
    for (const x of c.series) x.ok = x.errors = 0;
    await writeFile(f, JSON.stringify(c));
    const r = await rkvs(['merge', shardDirs[0] as string, shardDirs[1] as string, idle, '--out', path.join(tmp, 'shards', 'idle')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${idle} (shard 2) measured nothing: no operation in any cell`);
  }, 30_000);

  it('rkvs merge rejects a shard of another run with exit code 2, naming the directory and the field', async () => {
    const bad = path.join(tmp, 'shards', 'bad');
    await cp(shardDirs[2] as string, bad, { recursive: true });
    const f = path.join(bad, 'meta.json');
    const meta = JSON.parse(await readFile(f, 'utf8'));
    meta.configurations[0].replicas[0].dir = '/elsewhere';
    await writeFile(f, JSON.stringify(meta));
    const r = await rkvs(['merge', shardDirs[0] as string, shardDirs[1] as string, bad, '--out', path.join(tmp, 'shards', 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`rkvs: ${bad}: configurations differ from ${shardDirs[0]} (shard 0): configuration "fs3" field replicas`);
    const dup = await rkvs(['merge', shardDirs[0] as string, shardDirs[1] as string, shardDirs[1] as string, '--out', path.join(tmp, 'shards', 'x')]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/shard index 1 is also the index of/);
  }, 30_000);
});

describe('the bucket guard', () => {
  it('refuses replicas holding objects outside the prefix root unless --yes', async () => {
    const config = await fsConfig('guard');
    const foreign = createFsStore({ dir: path.join(tmp, 'guard', 'r1') });
    await foreign.put('someone-elses-file', new TextEncoder().encode('x'));
    const out = path.join(tmp, 'guard', 'out');
    const refused = await rkvs(['bench', '--suite', 'quick', '--config', config, '--variants', 'raw', '--out', out, '--no-checks']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--yes: configuration fs3: .* holds 1 object\(s\) outside "rkvs-" \(e\.g\. "someone-elses-file"\).*rerun with --yes/);
    expect(existsSync(out)).toBe(false);
    const ok = await rkvs(['bench', '--suite', 'quick', '--config', config, '--variants', 'raw', '--out', out, '--no-checks', '--yes']);
    expect(ok.code, ok.stderr).toBe(0);
    // the foreign object is untouched; what the run wrote is gone
    expect(new TextDecoder().decode((await foreign.get('someone-elses-file')) ?? new Uint8Array())).toBe('x');
    expect(await foreign.list('')).toEqual(['someone-elses-file']);
    await foreign.close();
    expect((await files(path.join(tmp, 'guard', 'r0'))).filter((f) => !f.includes('.tmp'))).toEqual([]);
  }, 60_000);
});
