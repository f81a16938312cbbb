/**
 * Report directories of another format version: compare, report, cost and merge refuse them with
 * one message naming the directory, the version found and what to do (exit 2 from the CLI).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { writeCostCsv } from '../../src/bench/analyze/cost.js';
import { readShardDir } from '../../src/bench/analyze/merge.js';
import { readReportDir } from '../../src/bench/record/read.js';
import { REPORT_FORMAT } from '../../src/bench/record/schema.js';
import { writeSyntheticReport } from '../../src/bench/report/synthetic.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/rkvs.js');

let tmp: string;
let v1: string;
let v1NoMeta: string;
let v3: string;
let current: string;

/** A report directory as rkvs wrote it before format 2: no `format` in meta.json, the old columns. */
async function formatOne(dir: string, meta: boolean): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'latency.csv'),
    'run_id,suite,config,variant,schedule,op,value_bytes,clients,count,errors,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,ops_per_s\n' +
      'r,default,emulators,raw,none,write,1024,1,280,0,2.6,1.5,3.9,25,62,62,191\n',
  );
  await writeFile(path.join(dir, 'requests.csv'), 'run_id,config,variant,op,replica,puts,gets,lists,removes,bytes_up,bytes_down\nr,emulators,raw,write,s3,1,0,0,0,10716.9,0\n');
  await writeFile(path.join(dir, 'counters.json'), JSON.stringify({ format: 1, series: [], requests: [], logical_ops: [], errors: [], overhead: [], quiescent: [], cells_measured: 0 }));
  await writeFile(path.join(dir, 'histograms.jsonl'), '');
  if (meta) await writeFile(path.join(dir, 'meta.json'), JSON.stringify({ run_id: 'r', suite: 'default', git_commit: '8f7b2cf5769219e682e0c2b16a9d2aa9f806c6be', shard: { index: 0, count: 1 } }));
  return dir;
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-format-'));
  v1 = await formatOne(path.join(tmp, 'v1'), true);
  v1NoMeta = await formatOne(path.join(tmp, 'v1-no-meta'), false);
  v3 = await formatOne(path.join(tmp, 'v3'), false);
  await writeFile(path.join(v3, 'meta.json'), JSON.stringify({ format: REPORT_FORMAT + 1, run_id: 'r', suite: 'default' }));
  current = await writeSyntheticReport(path.join(tmp, 'current'), { cells: [{ config: 'c', variant: 'raw', schedule: 'none', op: 'write', value_bytes: 8, clients: 1, repeats: [{ samplesMs: [1, 2, 3] }] }] });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return e as ConfigError;
}

describe('a report of another format version is refused with what to do', () => {
  it('compare and report (readReportDir): names the directory, format 1, and the commit that wrote it', async () => {
    const e = await refusal(readReportDir(v1, 'BASELINE'));
    expect(e.message).toContain(`BASELINE: ${v1} is a report in format 1`);
    expect(e.message).toContain('commit 8f7b2cf57692');
    expect(e.message).toMatch(/this rkvs reads format 2: run rkvs bench again to get a format 2 report/);
    // without meta.json, the columns tell the version
    expect((await refusal(readReportDir(v1NoMeta))).message).toContain(`${v1NoMeta} is a report in format 1`);
    // a newer format: update rkvs
    expect((await refusal(readReportDir(v3))).message).toMatch(/is a report in format 3, written by a newer rkvs; this rkvs reads format 2: update rkvs/);
    // the current format is read
    expect((await readReportDir(current)).latency).toHaveLength(1);
  });

  it('cost and merge refuse it the same way', async () => {
    expect((await refusal(writeCostCsv(v1))).message).toContain(`${v1} is a report in format 1`);
    expect((await refusal(writeCostCsv(v1NoMeta))).message).toContain(`${v1NoMeta} is a report in format 1`);
    expect((await refusal(readShardDir(v1))).message).toContain(`is a report in format 1`);
  });

  it('rkvs compare, report and cost exit 2 with one line', async () => {
    for (const args of [['compare', v1, current], ['report', v1], ['cost', v1], ['merge', v1]]) {
      const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, CI: '1' } }).then(
        () => ({ code: 0, stderr: '' }),
        (x: { code?: number; stderr?: string }) => ({ code: x.code, stderr: x.stderr ?? '' }),
      );
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr, args.join(' ')).toContain('is a report in format 1');
    }
  }, 60_000);
});

describe('a format 2 report written before the fault column', () => {
  it('is read as healthy cells, and compare matches them against a report that has the column', async () => {
    const { cp } = await import('node:fs/promises');
    const { compareDirs } = await import('../../src/bench/analyze/compare.js');
    const { cellKeyOf } = await import('../../src/bench/record/read.js');
    const old = path.join(tmp, 'before-fault');
    await cp(path.resolve(import.meta.dirname, '../../reports/baseline'), old, { recursive: true });
    // make it a report of before the column: drop `fault` from every CSV (the baseline has no quoted fields)
    for (const f of (await readdir(old)).filter((x) => x.endsWith('.csv'))) {
      const lines = (await readFile(path.join(old, f), 'utf8')).trimEnd().split('\n');
      expect(lines.join('\n'), f).not.toContain('"');
      const at = lines[0]!.split(',').indexOf('fault');
      if (at < 0) continue;
      await writeFile(path.join(old, f), `${lines.map((l) => l.split(',').filter((_, i) => i !== at).join(',')).join('\n')}\n`);
    }
    const data = await readReportDir(old);
    expect(data.latency.length).toBeGreaterThan(0);
    expect(Object.keys(data.latency[0]!)).not.toContain('fault');
    for (const [i, r] of data.latency.entries()) expect(cellKeyOf(r, `row ${i}`).fault).toBe('');
    for (const c of data.cells.values()) expect(c.key.fault).toBe('');
    // the same cell, written with the fault column (empty: healthy)
    const row = data.latency.find((r) => r.variant === 'regular' && r.op === 'write')!;
    const key = cellKeyOf(row, 'baseline');
    const withColumn = await writeSyntheticReport(path.join(tmp, 'with-fault-column'), {
      cells: [{ ...key, repeats: [{ samplesMs: Array.from({ length: 200 }, (_, i) => Number(row.p50_ms) * (0.9 + (i % 20) / 100)) }] }],
    });
    const cmp = await compareDirs(old, withColumn, { resamples: 50 });
    expect(cmp.cells).toHaveLength(1);
    expect(cmp.cells[0]!.key).toMatchObject({ variant: 'regular', op: 'write', fault: '' });
    // a faulty cell of the same key is another cell: nothing matches it
    const faulty = await writeSyntheticReport(path.join(tmp, 'faulty'), {
      cells: [{ ...key, fault: 'replica=s3-emulator,blackhole,at=0s', repeats: [{ samplesMs: [1, 2, 3] }] }],
    });
    expect((await compareDirs(old, faulty, { resamples: 50 })).cells).toHaveLength(0);
    // exact.csv written before the column: its cells are healthy too (the exact gate reads the baseline's)
    const { readExactCsv } = await import('../../src/bench/record/exact.js');
    const exact = await readExactCsv(old);
    expect(exact?.length).toBeGreaterThan(0);
    for (const m of exact!) expect(m.key.fault).toBe('');
    // cost reads it too
    await writeCostCsv(old);
  });
});
