import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, chmod, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHistory, parseHistory, partitionByRegister } from '../../src/check/index.js';
import { CELL_KEY_COLUMNS } from '../../src/bench/config/cell.js';
import { parseCsv } from '../../src/bench/record/read.js';
import { LATENCY_COLUMNS, OVERHEAD_COLUMNS, PER_SECOND_COLUMNS, REQUESTS_COLUMNS, ERRORS_COLUMNS } from '../../src/bench/report/csv.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

async function rkvs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'bin/rkvs.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const header = (text: string) => text.split('\n')[0];
const rows = (text: string) => text.trimEnd().split('\n').slice(1).map((l) => l.split(','));
/** The rows of a CSV as records keyed by its header, so a test never depends on column positions. */
const records = (text: string) => parseCsv(text, 'test');
/** A cell's key in a CSV row: every field of the cell key (the columns between run_id/suite and the measures). */
const cellOf = (r: Record<string, string>) => CELL_KEY_COLUMNS.map((c) => r[c] ?? '').join(',');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-bench-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('rkvs bench --suite quick (memory replicas) end to end', () => {
  let dir: string;
  let out: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    out = await rkvs(['bench', '--suite', 'quick', '--out', tmp, '--history', '--seed', '11']);
    const runs = await readdir(tmp);
    expect(runs, out.stderr).toHaveLength(1);
    dir = path.join(tmp, runs[0] as string);
  });

  it('exits 0, prints the summary and plain progress lines (not a TTY)', () => {
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/config\s+variant\s+schedule\s+op/);
    expect(out.stdout).toMatch(/holds +copies per register at quiescence, one client: 2\.00 at every replica; bound exactly 2\.00/);
    expect(out.stdout).toMatch(/^checks: \d+ of \d+ checks? holds?/m);
    expect(out.stderr).toMatch(/\[1\/5\] memory raw mixed 256B 2c: \d+ ok, .* \(run: cells 1\/\d+, \d+ s elapsed, about \d+ s left\)/);
    // --history: the summary says where the history is and how to check it
    expect(out.stdout).toContain(`history: ${path.join(dir, 'history.jsonl')} (`);
    expect(out.stdout).toContain(`rkvs check ${path.join(dir, 'history.jsonl')}`);
  });

  it('writes per-second.csv whose measured seconds add up to latency.csv', async () => {
    const ps = await readFile(path.join(dir, 'per-second.csv'), 'utf8');
    expect(header(ps)).toBe(PER_SECOND_COLUMNS.join(','));
    const psRows = records(ps);
    expect(psRows.length).toBeGreaterThan(0);
    const sums = new Map<string, number>();
    for (const r of psRows) if (r.phase === 'measured') sums.set(cellOf(r), (sums.get(cellOf(r)) ?? 0) + Number(r.count) + Number(r.errors));
    const lr = records(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    expect(lr.length).toBeGreaterThan(0);
    for (const r of lr) expect(sums.get(cellOf(r)), JSON.stringify(r)).toBe(Number(r.count) + Number(r.errors));
    expect(existsSync(path.join(dir, 'report.md'))).toBe(true);
  });

  it('writes report.html with its charts and a cost.csv whose memory replicas cost nothing', async () => {
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<title>robust-kvs benchmark report \d{8}-\d{6}-quick-[a-z0-9]{6}<\/title>/);
    expect(html).toContain('cost.csv');
    const charts = await readdir(path.join(dir, 'charts'));
    expect(charts.some((f) => f.endsWith('.svg'))).toBe(true);
    const cost = records(await readFile(path.join(dir, 'cost.csv'), 'utf8'));
    expect(cost.length).toBeGreaterThan(0);
    const priced = cost.filter((r) => r.requests_per_op !== '');
    expect(priced.length).toBeGreaterThan(0);
    for (const r of priced) expect(Number(r.cost_per_million_ops), JSON.stringify(r)).toBe(0);
    expect(out.stderr).not.toMatch(/cost: no price/);
    expect(out.stderr).not.toMatch(/MaxListenersExceededWarning/);
  });

  it('names the run directory <YYYYMMDD-HHMMSS>-<suite>-<random>', () => {
    expect(path.basename(dir)).toMatch(/^\d{8}-\d{6}-quick-[a-z0-9]{6}$/);
  });

  it('writes every report file with its exact header', async () => {
    const files = await readdir(dir);
    for (const f of ['latency.csv', 'overhead.csv', 'requests.csv', 'errors.csv', 'histograms.jsonl', 'counters.json', 'meta.json', 'history.jsonl', 'histograms', 'cost.csv', 'report.html', 'charts'])
      expect(files).toContain(f);
    const latency = await readFile(path.join(dir, 'latency.csv'), 'utf8');
    expect(header(latency)).toBe(LATENCY_COLUMNS.join(','));
    expect(header(await readFile(path.join(dir, 'overhead.csv'), 'utf8'))).toBe(OVERHEAD_COLUMNS.join(','));
    expect(header(await readFile(path.join(dir, 'requests.csv'), 'utf8'))).toBe(REQUESTS_COLUMNS.join(','));
    expect(header(await readFile(path.join(dir, 'errors.csv'), 'utf8'))).toBe(ERRORS_COLUMNS.join(','));
    const lr = records(latency);
    // raw (2 clients), regular and atomic (1 and 2 clients) x write, read
    expect(lr).toHaveLength(10);
    const variants = new Set(lr.map((r) => r.variant));
    expect([...variants].sort()).toEqual(['atomic', 'raw', 'regular']);
    for (const r of lr) {
      expect(r.schedule).toBe(r.variant === 'raw' ? 'none' : 'fast');
      expect(r.fault).toBe(''); // healthy cells
      expect(Number(r.count)).toBeGreaterThan(0);
      expect(Number(r.p50_ms)).toBeGreaterThan(0);
    }
    const total = lr.reduce((a, r) => a + Number(r.count) + Number(r.errors), 0);
    expect(total).toBe(5 * 40);
  });

  it('writes quiescent overhead of at least 2 copies per register for both register variants', async () => {
    const o = records(await readFile(path.join(dir, 'overhead.csv'), 'utf8'));
    const q = o.filter((r) => r.phase === 'quiescent' && r.variant !== 'raw');
    expect(q.length).toBe(12); // 2 variants x 2 client counts x 3 replicas: one row per cell and replica
    for (const r of q) expect(Number(r.copies_per_register)).toBeGreaterThanOrEqual(2);
  });

  it('writes one .hgrm per latency row and mergeable encoded histograms', async () => {
    const hgrm = await readdir(path.join(dir, 'histograms'));
    expect(hgrm).toHaveLength(10);
    expect(hgrm).toContain('memory_regular_fast_write_256B_2c_mixed_8r_1w.hgrm');
    const lines = (await readFile(path.join(dir, 'histograms.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(10);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(
        ['cell_id', 'clients', 'config', 'encoded', 'end_ms', 'fault', 'mode', 'op', 'open_rate', 'outcome', 'registers', 'repeat', 'schedule', 'start_ms', 'unit', 'value_bytes', 'variant', 'workers', 'workload'].sort(),
      );
      expect(l.unit).toBe('us');
      expect(l.encoded).toMatch(/^HIST/);
    }
  });

  it('writes meta.json with versions, seeds and times', async () => {
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    for (const k of ['run_id', 'suite', 'tool_version', 'git_commit', 'node', 'os', 'cpu', 'start', 'end', 'seeds', 'configurations', 'options'])
      expect(meta).toHaveProperty(k);
    expect(meta.suite).toBe('quick');
    expect(meta.seeds.suite).toBe(11);
    expect(meta.node).toBe(process.version);
  });

  it('writes a history that the regularity and linearizability checkers accept', async () => {
    const ops = parseHistory(await readFile(path.join(dir, 'history.jsonl'), 'utf8'), 'history.jsonl');
    // every operation of every cell, warm-up included: 5 cells x (40 + 8)
    expect(ops.length).toBe(5 * 48);
    for (const [variant, model] of [['regular', 'regular'], ['atomic', 'linearizable'], ['raw', 'linearizable']] as const) {
      const mine = ops.filter((o) => o.register.startsWith(`memory/${variant}/`));
      expect(mine.length).toBeGreaterThan(0);
      expect(partitionByRegister(mine).size).toBeGreaterThan(1);
      const v = checkHistory(mine, model);
      expect(v.result, JSON.stringify(v).slice(0, 500)).toBe('ok');
    }
  });
});

describe('rkvs bench: bad input', () => {
  it('unknown suite: one line, exit 2', async () => {
    const r = await rkvs(['bench', '--suite', 'no-such-suite', '--out', tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown suite "no-such-suite".*quick/);
  });

  it('unknown variant: one line, exit 2', async () => {
    const r = await rkvs(['bench', '--suite', 'quick', '--variants', 'raw,fancy', '--out', tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--variants: unknown value "fancy"; expected raw, regular, atomic');
  });

  it('unknown option: exit 2', async () => {
    const r = await rkvs(['bench', '--fast-please']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--fast-please'");
  });

  it('invalid suite file: names the field, exit 2', async () => {
    const f = path.join(tmp, 'bad-suite.json');
    await writeFile(f, JSON.stringify({ name: 'bad', workloads: [{ name: 'w', mix: { write: 1 }, valueBytes: [1], registers: 0, ops: 1 }] }));
    const r = await rkvs(['bench', '--suite', f, '--out', tmp]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/workloads\.0\.registers/);
  });

  it('report directory not writable: one line, exit 2', async () => {
    const ro = path.join(tmp, 'read-only');
    await mkdir(ro);
    await chmod(ro, 0o500);
    const blocker = path.join(tmp, 'a-file');
    await writeFile(blocker, 'x');
    const r = await rkvs(['bench', '--suite', 'quick', '--out', path.join(blocker, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--out: cannot write reports to .*choose a writable directory/);
  });
});
