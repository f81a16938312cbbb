/**
 * exact.csv: the exact metrics of a model suite run (run/exact.ts), one row per (cell key, replica,
 * metric), in a stable order and a stable number format, with no run id, time or host: two runs of
 * the same suite and seed give the same bytes on any machine. Written with the record, read back by
 * `rkvs compare` (analyze/exact.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { ConfigError } from '../../errors.js';
import { CELL_KEY_COLUMNS, cellId, compareCells, NUMERIC_CELL_FIELDS, OPTIONAL_CELL_FIELDS, type CellKey } from '../config/cell.js';
import { ALL_REPLICAS, OP_METRICS, STORAGE_METRICS, type ExactMetric, type ExactMetricName } from '../run/exact.js';

export const EXACT_FILE = 'exact.csv';
export const EXACT_COLUMNS = [...CELL_KEY_COLUMNS, 'replica', 'metric', 'value'] as const;

const METRIC_ORDER: readonly string[] = [...OP_METRICS, ...STORAGE_METRICS];
const KNOWN: ReadonlySet<string> = new Set(METRIC_ORDER);

/** A number as exact.csv writes it: integers as they are, others to 12 significant digits. */
export function formatExact(x: number): string {
  if (!Number.isFinite(x)) return '0';
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(12)));
}

/** The identity of a row: cell key, replica, metric. */
export function exactId(m: Pick<ExactMetric, 'key' | 'replica' | 'metric'>): string {
  return `${cellId(m.key)}\u0000${m.replica}\u0000${m.metric}`;
}

function replicaOrder(a: string, b: string): number {
  if (a === b) return 0;
  if (a === ALL_REPLICAS) return -1;
  if (b === ALL_REPLICAS) return 1;
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Rows in the file's order: cell key (report order, storage rows after the ops), replica, metric. */
export function sortExact(rows: readonly ExactMetric[]): ExactMetric[] {
  return [...rows].sort((a, b) => compareCells(a.key, b.key) || replicaOrder(a.replica, b.replica) || METRIC_ORDER.indexOf(a.metric) - METRIC_ORDER.indexOf(b.metric));
}

/** The text of exact.csv. */
export function exactCsv(rows: readonly ExactMetric[]): string {
  const records = sortExact(rows).map((m) => [...CELL_KEY_COLUMNS.map((c) => String(m.key[c])), m.replica, m.metric, formatExact(m.value)]);
  return stringify(records, { header: true, columns: [...EXACT_COLUMNS], record_delimiter: 'unix' });
}

/** Reads DIR/exact.csv; null when the report has none (not a model suite run). */
export async function readExactCsv(dir: string): Promise<ExactMetric[] | null> {
  const file = join(dir, EXACT_FILE);
  if (!existsSync(file)) return null;
  let rows: Record<string, string>[];
  try {
    rows = parse(await readFile(file, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  } catch (e) {
    throw new ConfigError(file, `is not valid CSV (${(e as Error).message}); run rkvs bench --suite model again to rewrite it`);
  }
  return rows.map((r, i) => {
    const where = `${file} row ${i + 1}`;
    const key: Record<string, string | number> = {};
    for (const c of CELL_KEY_COLUMNS) {
      if (r[c] === undefined) {
        // a field added to the key later (fault): absent from files written before it, read as empty
        if (OPTIONAL_CELL_FIELDS.has(c)) {
          key[c] = '';
          continue;
        }
        throw new ConfigError(where, `missing column "${c}"; exact.csv has the columns ${EXACT_COLUMNS.join(', ')}`);
      }
      key[c] = NUMERIC_CELL_FIELDS.has(c) ? Number(r[c]) : String(r[c]);
    }
    const metric = r.metric ?? '';
    if (!KNOWN.has(metric)) throw new ConfigError(where, `unknown metric "${metric}"; known: ${METRIC_ORDER.join(', ')}`);
    const value = Number(r.value);
    if (r.value === undefined || r.value === '' || !Number.isFinite(value)) throw new ConfigError(where, `value "${r.value ?? ''}" is not a number`);
    return { key: key as unknown as CellKey, replica: r.replica ?? ALL_REPLICAS, metric: metric as ExactMetricName, value };
  });
}
