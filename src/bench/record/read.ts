/**
 * Reads a report directory written by `rkvs bench` (format: docs/report-format.md) for `compare`
 * and `report`: the CSV files as rows of strings, and histograms.jsonl merged per cell.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ConfigError } from '../../errors.js';
import { decodeHistogram, mergeHistograms, type Histogram } from '../run/histogram.js';
import type { CellKey } from './results.js';
import type { Bin } from '../analyze/stats.js';

/** A CSV row: column name to cell text. */
export type CsvRow = Record<string, string>;

/** The columns that identify one measured cell in every report. */
export const CELL_KEY_COLUMNS = ['config', 'variant', 'schedule', 'op', 'value_bytes', 'clients'] as const;

export type { CellKey };

/** A stable string for a cell key (used to match rows across reports). */
export function cellKeyString(k: CellKey): string {
  return [k.config, k.variant, k.schedule, k.op, `${k.value_bytes}B`, `${k.clients}c`].join('/');
}

/** One line of histograms.jsonl. */
export interface HistogramLine extends CellKey {
  repeat: number;
  outcome: 'ok' | 'error';
  unit: string;
  start_ms: number;
  end_ms: number;
  encoded: string;
}

/** One repetition of a cell (all its histogram lines merged). */
export interface RepeatSamples {
  repeat: number;
  ok: number;
  errors: number;
  start_ms: number;
  end_ms: number;
  /** Successful operations' latencies of this repetition (microseconds). */
  okHistogram: Histogram;
}

/** The merged histograms and per-repetition numbers of one cell. */
export interface CellSamples {
  key: CellKey;
  /** Successful operations' latencies, all repetitions merged (microseconds). */
  ok: Histogram;
  /** Per repetition: operations (ok + error) and wall time, for throughput across repetitions. */
  repeats: RepeatSamples[];
}

/** Everything read from a report directory. */
export interface ReportData {
  dir: string;
  latency: CsvRow[];
  overhead: CsvRow[];
  requests: CsvRow[];
  errors: CsvRow[];
  cost: CsvRow[];
  meta: Record<string, unknown> | null;
  /** Cells from histograms.jsonl, by `cellKeyString`; empty when the file is missing. */
  cells: Map<string, CellSamples>;
  hasHistograms: boolean;
}

/** Parses CSV text with a header line into rows. `file` names the source in errors. */
export function parseCsv(text: string, file: string): CsvRow[] {
  try {
    return parse(text, { columns: true, skip_empty_lines: true, trim: true }) as CsvRow[];
  } catch (e) {
    throw new ConfigError(file, `is not valid CSV (${(e as Error).message}); re-run rkvs bench to rewrite it`);
  }
}

async function readCsvIfExists(dir: string, name: string): Promise<CsvRow[]> {
  const file = join(dir, name);
  if (!existsSync(file)) return [];
  return parseCsv(await readFile(file, 'utf8'), file);
}

/** Cell key of a CSV row or JSON object; `where` names the source in errors. */
export function cellKeyOf(row: Record<string, unknown>, where: string): CellKey {
  for (const c of CELL_KEY_COLUMNS) {
    if (row[c] === undefined || row[c] === '') throw new ConfigError(where, `missing "${c}" (every row needs ${CELL_KEY_COLUMNS.join(', ')})`);
  }
  const value_bytes = Number(row.value_bytes);
  const clients = Number(row.clients);
  if (!Number.isFinite(value_bytes) || !Number.isFinite(clients)) {
    throw new ConfigError(where, `value_bytes and clients must be numbers, got ${String(row.value_bytes)} and ${String(row.clients)}`);
  }
  return {
    config: String(row.config),
    variant: String(row.variant),
    schedule: String(row.schedule),
    op: String(row.op),
    value_bytes,
    clients,
  };
}

/** Reads and merges histograms.jsonl (one line per cell, repetition and outcome). */
export function parseHistogramsJsonl(text: string, file: string): Map<string, CellSamples> {
  const cells = new Map<string, CellSamples>();
  const parts = new Map<string, Histogram[]>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${file}:${i + 1}`;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(where, `is not valid JSON (${(e as Error).message})`);
    }
    const key = cellKeyOf(obj, where);
    if (typeof obj.encoded !== 'string') throw new ConfigError(where, 'missing "encoded" (the compressed base64 histogram)');
    if (obj.unit !== undefined && obj.unit !== 'us') throw new ConfigError(where, `unit "${String(obj.unit)}" is not supported; histograms are in microseconds ("us")`);
    let h: Histogram;
    try {
      h = decodeHistogram(obj.encoded);
    } catch (e) {
      throw new ConfigError(where, `"encoded" is not an hdr-histogram-js compressed base64 histogram (${(e as Error).message})`);
    }
    const ks = cellKeyString(key);
    let cell = cells.get(ks);
    if (!cell) {
      cell = { key, ok: mergeHistograms([]), repeats: [] };
      cells.set(ks, cell);
      parts.set(ks, []);
    }
    const repeat = Number(obj.repeat ?? 0);
    let rep = cell.repeats.find((r) => r.repeat === repeat);
    if (!rep) {
      rep = { repeat, ok: 0, errors: 0, start_ms: Number(obj.start_ms ?? NaN), end_ms: Number(obj.end_ms ?? NaN), okHistogram: mergeHistograms([]) };
      cell.repeats.push(rep);
    } else {
      rep.start_ms = Math.min(rep.start_ms, Number(obj.start_ms ?? NaN));
      rep.end_ms = Math.max(rep.end_ms, Number(obj.end_ms ?? NaN));
    }
    if (obj.outcome === 'error') rep.errors += h.totalCount;
    else {
      rep.ok += h.totalCount;
      rep.okHistogram.add(h);
      parts.get(ks)!.push(h);
    }
  });
  for (const [ks, hs] of parts) {
    const cell = cells.get(ks)!;
    cell.ok = mergeHistograms(hs);
    cell.repeats.sort((x, y) => x.repeat - y.repeat);
  }
  return cells;
}

interface RecordedValuesIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAddedInThisIterationStep: number };
}

/** Distinct recorded values of a histogram with their counts (HdrHistogram's highest equivalent values). */
export function histogramBins(h: Histogram): Bin[] {
  const out: Bin[] = [];
  if (h.totalCount === 0) return out;
  // The pure-JS histogram (the build used by src/bench/histogram.ts) exposes HdrHistogram's iterator.
  const it = (h as unknown as { recordedValuesIterator?: RecordedValuesIterator }).recordedValuesIterator;
  if (!it) throw new Error('histogramBins needs a pure-JS hdr-histogram-js histogram (useWebAssembly: false)');
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    if (v.countAddedInThisIterationStep > 0) out.push({ value: v.valueIteratedTo, count: v.countAddedInThisIterationStep });
  }
  return out;
}

/**
 * Reads a report directory. Throws ConfigError naming the directory when it is not one
 * (no latency.csv), so the CLI exits with code 2.
 */
export async function readReportDir(dir: string, what = 'report directory'): Promise<ReportData> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new ConfigError(what, `${dir} does not exist; pass a directory written by rkvs bench (reports/<run-id>/)`);
  }
  if (!st.isDirectory()) throw new ConfigError(what, `${dir} is not a directory; pass a directory written by rkvs bench (reports/<run-id>/)`);
  if (!existsSync(join(dir, 'latency.csv'))) {
    throw new ConfigError(what, `${dir} has no latency.csv; pass a directory written by rkvs bench (reports/<run-id>/)`);
  }
  const [latency, overhead, requests, errors, cost] = await Promise.all(
    ['latency.csv', 'overhead.csv', 'requests.csv', 'errors.csv', 'cost.csv'].map((f) => readCsvIfExists(dir, f)),
  );
  latency!.forEach((r, i) => cellKeyOf(r, `${join(dir, 'latency.csv')} row ${i + 1}`));
  let meta: Record<string, unknown> | null = null;
  const metaFile = join(dir, 'meta.json');
  if (existsSync(metaFile)) {
    try {
      meta = JSON.parse(await readFile(metaFile, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(metaFile, `is not valid JSON (${(e as Error).message})`);
    }
  }
  const hFile = join(dir, 'histograms.jsonl');
  const hasHistograms = existsSync(hFile);
  const cells = hasHistograms ? parseHistogramsJsonl(await readFile(hFile, 'utf8'), hFile) : new Map<string, CellSamples>();
  return {
    dir,
    latency: latency!,
    overhead: overhead!,
    requests: requests!,
    errors: errors!,
    cost: cost!,
    meta,
    cells,
    hasHistograms,
  };
}
