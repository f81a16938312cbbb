/**
 * Synthetic report directories in the agreed format (docs/report-format.md), built from known
 * latency samples. Used by the compare/report tests and to try `rkvs compare` / `rkvs report`
 * without running a benchmark.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { Random } from '../../util/random.js';
import type { CellKey } from '../config/cell.js';
import { hgrmName } from '../record/run-dir.js';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, REPORT_FORMAT, REQUESTS_COLUMNS } from '../record/schema.js';
import { createHistogram, encodeHistogram, mergeHistograms, percentileText, recordMs, summarize, type Histogram } from '../run/histogram.js';

export interface SyntheticRepeat {
  /** Latencies of successful operations, in milliseconds. */
  samplesMs: number[];
  /** Latencies of failed operations, in milliseconds. @default [] */
  errorSamplesMs?: number[];
  /** Wall time of the repetition. @default sum(samples) / clients */
  durationMs?: number;
}

/** The fields of the cell key a synthetic cell may leave out, and what they default to. */
export const SYNTHETIC_DEFAULTS = { registers: 1, workers: 1, workload: 'synthetic', mode: 'closed', open_rate: 0, fault: '' } as const;

type Defaulted = keyof typeof SYNTHETIC_DEFAULTS;

/** A cell of a synthetic report: its key (the fields of SYNTHETIC_DEFAULTS optional) and its samples. */
export interface SyntheticCell extends Omit<CellKey, Defaulted>, Partial<Pick<CellKey, Defaulted>> {
  repeats: SyntheticRepeat[];
}

export interface SyntheticReport {
  runId?: string;
  suite?: string;
  cells: SyntheticCell[];
  /** Rows of overhead.csv (run_id and the fields of SYNTHETIC_DEFAULTS are filled in when missing). */
  overhead?: Record<string, string | number>[];
  /** Rows of requests.csv (run_id and the fields of SYNTHETIC_DEFAULTS are filled in when missing). */
  requests?: Record<string, string | number>[];
  /** Rows of cost.csv, written as given. */
  cost?: Record<string, string | number>[];
  /** Write histograms.jsonl. @default true */
  histograms?: boolean;
}

/** `n` latencies (ms) from a log-normal distribution with the given median and spread (sigma of the log). */
export function lognormalSamples(rng: Random, n: number, medianMs: number, sigma = 0.25): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(medianMs * Math.exp(rng.normal(0, sigma)));
  return out;
}

function histOf(samples: number[]): Histogram {
  const h = createHistogram();
  for (const s of samples) recordMs(h, s);
  return h;
}

/** Writes a report directory; returns its path. */
export async function writeSyntheticReport(dir: string, spec: SyntheticReport): Promise<string> {
  const runId = spec.runId ?? '20260101-000000-synthetic';
  const suite = spec.suite ?? 'synthetic';
  await mkdir(join(dir, 'histograms'), { recursive: true });
  const latency: Record<string, unknown>[] = [];
  const lines: string[] = [];
  let t = Date.parse('2026-01-01T00:00:00Z');
  for (const given of spec.cells) {
    const cell = { ...SYNTHETIC_DEFAULTS, ...given };
    const okParts: Histogram[] = [];
    let errors = 0;
    let totalMs = 0;
    cell.repeats.forEach((rep, repeat) => {
      const ok = histOf(rep.samplesMs);
      const err = histOf(rep.errorSamplesMs ?? []);
      const duration = rep.durationMs ?? rep.samplesMs.reduce((a, b) => a + b, 0) / cell.clients;
      const { repeats: _r, ...key } = cell;
      const base = { ...key, repeat, unit: 'us', start_ms: t, end_ms: t + duration };
      lines.push(JSON.stringify({ ...base, outcome: 'ok', encoded: encodeHistogram(ok) }));
      if (err.totalCount > 0) lines.push(JSON.stringify({ ...base, outcome: 'error', encoded: encodeHistogram(err) }));
      t += duration + 1000;
      totalMs += duration;
      errors += err.totalCount;
      okParts.push(ok);
    });
    const merged = mergeHistograms(okParts);
    const s = summarize(merged);
    latency.push({
      run_id: runId,
      suite,
      ...cell,
      count: s.count + errors,
      errors,
      mean_ms: s.mean_ms,
      p50_ms: s.p50_ms,
      p90_ms: s.p90_ms,
      p99_ms: s.p99_ms,
      p999_ms: s.p999_ms,
      max_ms: s.max_ms,
      ops_per_s: totalMs > 0 ? ((s.count + errors) * 1000) / totalMs : 0,
    });
    await writeFile(join(dir, 'histograms', hgrmName(cell)), percentileText(merged));
  }
  await writeFile(join(dir, 'latency.csv'), stringify(latency, { header: true, columns: [...LATENCY_COLUMNS] }));
  if (spec.histograms !== false) await writeFile(join(dir, 'histograms.jsonl'), lines.join('\n') + '\n');
  if (spec.overhead) {
    const rows = spec.overhead.map((r) => ({ run_id: runId, ...SYNTHETIC_DEFAULTS, ...r }));
    await writeFile(join(dir, 'overhead.csv'), stringify(rows, { header: true, columns: [...OVERHEAD_COLUMNS] }));
  }
  if (spec.requests) {
    const rows = spec.requests.map((r) => ({ run_id: runId, ...SYNTHETIC_DEFAULTS, ...r }));
    await writeFile(join(dir, 'requests.csv'), stringify(rows, { header: true, columns: [...REQUESTS_COLUMNS] }));
  }
  if (spec.cost?.length) await writeFile(join(dir, 'cost.csv'), stringify(spec.cost, { header: true }));
  await writeFile(join(dir, 'errors.csv'), stringify([], { header: true, columns: [...ERRORS_COLUMNS] }));
  await writeFile(
    join(dir, 'meta.json'),
    JSON.stringify(
      {
        format: REPORT_FORMAT,
        run_id: runId,
        suite,
        tool_version: '0.1.0',
        git_commit: 'synthetic',
        node: process.version,
        os: process.platform,
        cpu: 'synthetic',
        start: '2026-01-01T00:00:00Z',
        end: '2026-01-01T00:01:00Z',
        seeds: { run: 1 },
        configurations: [...new Set(spec.cells.map((c) => c.config))].map((name) => ({ name })),
        options: {},
      },
      null,
      2,
    ) + '\n',
  );
  return dir;
}

/**
 * A small complete report: configs x variants x ops with log-normal latencies, overhead and
 * request rows. `scale` multiplies every latency (1.5 = a 50% regression).
 */
export function demoReport(opts: { seed?: number; samples?: number; repeats?: number; scale?: number; configs?: string[] } = {}): SyntheticReport {
  const rng = new Random(opts.seed ?? 1);
  const n = opts.samples ?? 2000;
  const scale = opts.scale ?? 1;
  const configs = opts.configs ?? ['emulators', 'latency-model'];
  const cells: SyntheticCell[] = [];
  const overhead: Record<string, string | number>[] = [];
  const requests: Record<string, string | number>[] = [];
  const variants: [string, string, number][] = [
    ['raw', 'none', 1],
    ['regular', 'fast', 2],
    ['atomic', 'fast', 3],
  ];
  for (const config of configs) {
    const base = config === 'latency-model' ? 20 : 4;
    for (const [variant, schedule, rounds] of variants) {
      for (const op of ['put', 'get']) {
        const median = base * (op === 'put' ? rounds : Math.max(1, rounds - 1)) * scale;
        cells.push({
          config,
          variant,
          schedule,
          op,
          value_bytes: 1024,
          clients: 4,
          registers: 100,
          repeats: Array.from({ length: opts.repeats ?? 2 }, () => ({ samplesMs: lognormalSamples(rng, Math.ceil(n / (opts.repeats ?? 2)), median) })),
        });
        for (const replica of variant === 'raw' ? ['r0'] : ['r0', 'r1', 'r2']) {
          requests.push({ config, variant, schedule, op, value_bytes: 1024, clients: 4, registers: 100, replica, ops: Math.ceil(n / (opts.repeats ?? 2)) * (opts.repeats ?? 2), puts: op === 'put' ? rounds - 1 || 1 : variant === 'atomic' ? 1 : 0, gets: op === 'get' ? 1 : 0, lists: variant === 'raw' ? 0 : 1, removes: op === 'put' && variant !== 'raw' ? 1 : 0, bytes_up: op === 'put' ? 1100 : 0, bytes_down: op === 'get' ? 1100 : 0 });
        }
      }
      for (const replica of variant === 'raw' ? ['r0'] : ['r0', 'r1', 'r2']) {
        for (const phase of ['peak', 'quiescent']) {
          const copies = variant === 'raw' ? 1 : phase === 'peak' ? 3 : 2;
          overhead.push({ config, variant, schedule, value_bytes: 1024, clients: 4, registers: 100, replica, phase, repeat: 0, registers_written: 100, objects: 100 * copies, stored_bytes: 100 * copies * 1100, logical_bytes: 102400, copies_per_register: copies.toFixed(2), overhead_ratio: ((copies * 1100) / 1024).toFixed(3) });
        }
      }
    }
  }
  return { cells, overhead, requests };
}
