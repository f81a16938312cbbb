/**
 * The main job on the three local emulators (S3, Azure, GCS; n = 3, t = 1) at a reduced size,
 * the micro suite, and an interrupted run that still writes what it measured.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/bench/record/read.js';
import { expectReportKeyed } from '../support/report-keys.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-main-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function onlyRun(base: string): Promise<string> {
  const runs = await readdir(base);
  expect(runs).toHaveLength(1);
  return path.join(base, runs[0] as string);
}

/** A CSV's rows keyed by its header, so no test depends on column positions. */
const csvRows = (t: string) => parseCsv(t, 'test');

describe('main job on the emulators (reduced size)', () => {
  it('runs raw, regular and atomic on S3, Azure and GCS emulators and writes every report file', async () => {
    const out = path.join(tmp, 'emu');
    // the suite's own client counts (1 and 4): the cells with one client must leave exactly 2 copies per register
    const { stdout, stderr } = await run(process.execPath, [BIN, 'bench', '--out', out, '--ops', '12', '--schedules', 'fast', '--no-checks'], {
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
      timeout: 240_000,
    });
    const dir = await onlyRun(out);
    expect(path.basename(dir)).toMatch(/^\d{8}-\d{6}-default-[a-z0-9]{6}$/);
    for (const f of ['latency.csv', 'overhead.csv', 'requests.csv', 'errors.csv', 'histograms.jsonl', 'counters.json', 'meta.json', 'cost.csv', 'report.html'])
      expect((await readdir(dir)).includes(f), f).toBe(true);
    // the emulators are priced as the providers they stand for
    const cost = csvRows(await readFile(path.join(dir, 'cost.csv'), 'utf8'));
    expect(cost.some((r) => r.variant === 'regular' && Number(r.cost_per_million_ops) > 0)).toBe(true);
    // no listener leak warnings from the run's signals
    expect(stderr).not.toMatch(/MaxListenersExceededWarning/);
    // cells remove their keys, and the run prefix is cleaned at the end of the configuration
    expect(stderr).not.toMatch(/could not be removed/);
    const lat = csvRows(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    const variants = new Set(lat.map((r) => r.variant));
    expect([...variants].sort()).toEqual(['atomic', 'raw', 'regular']);
    for (const r of lat) {
      expect(r.config).toBe('emulators');
      expect(r.errors).toBe('0');
    }
    const req = csvRows(await readFile(path.join(dir, 'requests.csv'), 'utf8'));
    const replicas = new Set(req.filter((r) => r.variant === 'regular').map((r) => r.replica));
    expect(replicas.size).toBe(3);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.configurations[0].name).toBe('emulators');
    expect(JSON.stringify(meta)).not.toMatch(/Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/);
    expect(stdout).toMatch(/copies per register at quiescence/);
    // every CSV keyed by the whole cell, one peak and one quiescent row per (cell, replica), peak >= quiescent
    const csv = await expectReportKeyed(dir);
    const one = csv.overhead!.filter((r) => r.variant !== 'raw' && r.phase === 'quiescent' && r.clients === '1');
    // mixed 1 KiB and large 64 KiB, regular and atomic, on S3, Azure and GCS
    expect(one).toHaveLength(2 * 2 * 3);
    for (const r of one) expect(r.copies_per_register, `${r.variant} ${r.workload} ${r.value_bytes}B ${r.replica}`).toBe('2');
    expect(new Set(one.map((r) => r.replica))).toEqual(new Set(['s3-emulator', 'azure-emulator', 'gcs-emulator']));
  }, 300_000);
});

describe('micro suite', () => {
  it('writes tinybench CPU costs in the latency.csv schema', async () => {
    const out = path.join(tmp, 'micro');
    await run(process.execPath, [BIN, 'bench', '--suite', 'micro', '--out', out, '--variants', 'raw,regular', '--schedules', 'fast'], {
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
      timeout: 120_000,
    });
    const dir = await onlyRun(out);
    const lat = csvRows(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    expect(lat.map((r) => `${r.variant}/${r.schedule}/${r.op}`).sort()).toEqual(['raw/none/read', 'raw/none/write', 'regular/fast/read', 'regular/fast/write']);
    for (const r of lat) {
      expect(r.config).toBe('memory-cpu');
      expect(Number(r.count)).toBeGreaterThan(10);
      expect(Number(r.ops_per_s)).toBeGreaterThan(0);
    }
  }, 180_000);
});

describe('interrupted run', () => {
  it('stops on SIGINT, exits 130 and still writes the results measured so far', async () => {
    const out = path.join(tmp, 'int');
    const child = spawn(process.execPath, [BIN, 'bench', '--suite', 'quick', '--out', out, '--duration', '60'], {
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // the first cell is running (it would take 60 s): interrupt it once, after a few seconds of measurement
      if (!sent && stderr.includes('opening configuration')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 3000);
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted; the results measured so far are in .* \(meta\.json: "interrupted": true\)/);
    const dir = await onlyRun(out);
    const lat = csvRows(await readFile(path.join(dir, 'latency.csv'), 'utf8'));
    expect(lat.length).toBeGreaterThan(0);
    expect(Number(lat[0]!.count)).toBeGreaterThan(0);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8'));
    expect(meta.interrupted).toBe(true);
  }, 180_000);
});
