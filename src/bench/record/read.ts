/**
 * Reads a report directory written by `rkvs bench` (format: docs/report-format.md) for `compare`,
 * `report`, `cost` and `merge`: the CSV files as rows of strings, histograms.jsonl merged per cell
 * key, and the format check that refuses a report of another format version with what to do.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ConfigError } from '../../errors.js';
import { CELL_COLUMNS, CELL_KEY_COLUMNS, cellId, NUMERIC_CELL_FIELDS, OPTIONAL_CELL_FIELDS, type Cell, type CellKey } from '../config/cell.js';
import { decodeHistogram, mergeHistograms, type Histogram } from '../run/histogram.js';
import { REPORT_FORMAT } from './schema.js';

/** A CSV row: column name to cell text. */
export type CsvRow = Record<string, string>;

export { CELL_KEY_COLUMNS, type CellKey };
export { cellKeyString } from '../config/cell.js';

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
  /** per-second.csv: latency and throughput of every second of every cell (empty when absent). */
  perSecond: CsvRow[];
  /** probe.csv (`rkvs probe --dir`): raw call latency of each replica (empty when absent). */
  probe: CsvRow[];
  /** A simulation's timeseries.csv (replica objects over time) and summary.csv (its headline table). */
  timeseries: CsvRow[];
  summary: CsvRow[];
  /** The CSV files the directory holds (a file with a header and no row is present, with no rows). */
  present: ReadonlySet<string>;
  meta: Record<string, unknown> | null;
  /** Cells from histograms.jsonl, by `cellId` of their key; empty when the file is missing. */
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

/** The rows of `dir/name`, none when the file does not exist. */
export async function readCsvIfExists(dir: string, name: string): Promise<CsvRow[]> {
  const file = join(dir, name);
  if (!existsSync(file)) return [];
  return parseCsv(await readFile(file, 'utf8'), file);
}

/** The cell of a CSV row or JSON object (every cell field, no op); `where` names the source in errors. */
export function cellFromRow(row: Record<string, unknown>, where: string): Cell {
  return fieldsOf(row, CELL_COLUMNS, where) as unknown as Cell;
}

/** Cell key of a CSV row or JSON object; `where` names the source in errors. */
export function cellKeyOf(row: Record<string, unknown>, where: string): CellKey {
  return fieldsOf(row, CELL_KEY_COLUMNS, where) as unknown as CellKey;
}

/** Optional fields (a healthy cell's empty `fault`) may be empty or absent: read as empty. */
function fieldsOf(row: Record<string, unknown>, columns: readonly string[], where: string): Record<string, string | number> {
  const required = columns.filter((c) => !OPTIONAL_CELL_FIELDS.has(c));
  for (const c of required) {
    if (row[c] === undefined || row[c] === '') throw new ConfigError(where, `missing "${c}" (every row needs ${required.join(', ')})`);
  }
  const key: Record<string, string | number> = {};
  for (const c of columns) {
    if (OPTIONAL_CELL_FIELDS.has(c)) key[c] = row[c] === undefined || row[c] === null ? '' : String(row[c]);
    else if (!NUMERIC_CELL_FIELDS.has(c)) key[c] = String(row[c]);
    else {
      const n = Number(row[c]);
      if (!Number.isFinite(n)) throw new ConfigError(where, `${c} must be a number, got ${String(row[c])}`);
      key[c] = n;
    }
  }
  return key;
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
    const ks = cellId(key);
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

/**
 * Refuses a report directory of another format version, saying which version it is and what to
 * do. The version is meta.json's `format` (absent: 1); without meta.json, latency.csv's header
 * decides (format 1 lacks the registers, workers, workload, mode and open_rate columns; a format 2
 * file written before the `fault` column existed lacks that one too, and its cells are healthy).
 */
export function checkReportFormat(dir: string, meta: Record<string, unknown> | null, header: readonly string[] | null, what = 'report directory'): void {
  let found: number;
  if (meta) found = typeof meta.format === 'number' ? meta.format : 1;
  else if (header) found = CELL_KEY_COLUMNS.every((c) => OPTIONAL_CELL_FIELDS.has(c) || header.includes(c)) ? REPORT_FORMAT : 1;
  else return;
  if (found === REPORT_FORMAT) return;
  const commit = typeof meta?.git_commit === 'string' ? ` (commit ${meta.git_commit.slice(0, 12)})` : '';
  if (found > REPORT_FORMAT)
    throw new ConfigError(what, `${dir} is a report in format ${found}, written by a newer rkvs${commit}; this rkvs reads format ${REPORT_FORMAT}: update rkvs to read it`);
  throw new ConfigError(
    what,
    `${dir} is a report in format ${found}, written by an earlier rkvs${commit} before every row carried its whole cell key ` +
      `(its overhead and request rows mix cells); this rkvs reads format ${REPORT_FORMAT}: run rkvs bench again to get a format ${REPORT_FORMAT} report ` +
      `(for a baseline, copy the new report over the old one), or read this one with the rkvs that wrote it`,
  );
}

/** meta.json of a report directory, or null when there is none. */
export async function readMeta(dir: string): Promise<Record<string, unknown> | null> {
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) return null;
  try {
    return JSON.parse(await readFile(metaFile, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(metaFile, `is not valid JSON (${(e as Error).message})`);
  }
}

/** The header row of a CSV file, or null when the file is missing. */
export async function csvHeader(file: string): Promise<string[] | null> {
  if (!existsSync(file)) return null;
  const first = (await readFile(file, 'utf8')).split('\n', 1)[0] ?? '';
  return first.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
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
  const meta = await readMeta(dir);
  checkReportFormat(dir, meta, await csvHeader(join(dir, 'latency.csv')), what);
  const names = ['latency.csv', 'overhead.csv', 'requests.csv', 'errors.csv', 'cost.csv', 'per-second.csv', 'probe.csv', 'timeseries.csv', 'summary.csv'];
  const [latency, overhead, requests, errors, cost, perSecond, probe, timeseries, summary] = await Promise.all(names.map((f) => readCsvIfExists(dir, f)));
  latency!.forEach((r, i) => cellKeyOf(r, `${join(dir, 'latency.csv')} row ${i + 1}`));
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
    perSecond: perSecond!,
    probe: probe!,
    timeseries: timeseries!,
    summary: summary!,
    present: new Set(names.filter((f) => existsSync(join(dir, f)))),
    meta,
    cells,
    hasHistograms,
  };
}
