/**
 * The CSV report schema (one header row each, stable column order) and its writer (csv-stringify).
 * docs/report-format.md documents every column.
 */
import { stringify } from 'csv-stringify/sync';

export const LATENCY_COLUMNS = [
  'run_id', 'suite', 'config', 'variant', 'schedule', 'op', 'value_bytes', 'clients', 'count', 'errors',
  'mean_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'p999_ms', 'max_ms', 'ops_per_s',
] as const;

export const OVERHEAD_COLUMNS = [
  'run_id', 'config', 'variant', 'replica', 'phase', 'registers', 'value_bytes', 'objects', 'stored_bytes',
  'logical_bytes', 'copies_per_register', 'overhead_ratio',
] as const;

export const REQUESTS_COLUMNS = [
  'run_id', 'config', 'variant', 'op', 'replica', 'puts', 'gets', 'lists', 'removes', 'bytes_up', 'bytes_down',
] as const;

export const ERRORS_COLUMNS = ['run_id', 'config', 'variant', 'schedule', 'op', 'kind', 'count'] as const;

export type Row<C extends readonly string[]> = { [K in C[number]]: string | number };
export type LatencyRow = Row<typeof LATENCY_COLUMNS>;
export type OverheadRow = Row<typeof OVERHEAD_COLUMNS>;
export type RequestsRow = Row<typeof REQUESTS_COLUMNS>;
export type ErrorsRow = Row<typeof ERRORS_COLUMNS>;

/** Rounds to a fixed number of decimals for stable, readable CSV (no exponent notation). */
export function fixed(x: number, decimals = 3): number {
  if (!Number.isFinite(x)) return 0;
  return Number(x.toFixed(decimals));
}

/** CSV text with exactly one header row and the given columns, in order. */
export function toCsv<C extends readonly string[]>(columns: C, rows: readonly Row<C>[]): string {
  return stringify(
    rows.map((r) => columns.map((c) => r[c as C[number]])),
    { header: true, columns: columns as unknown as string[], record_delimiter: 'unix' },
  );
}
