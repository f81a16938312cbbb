/**
 * The report directory format: its version and the columns of every CSV file, each starting with
 * the full cell key (config/cell.ts). docs/report-format.md documents every column.
 */
import { CELL_COLUMNS, CELL_KEY_COLUMNS } from '../config/cell.js';

/**
 * Version of the report directory format, written as `format` in meta.json and counters.json.
 * 1 (no `format` field): rows keyed by (config, variant, schedule, op, value_bytes, clients) only,
 * overhead.csv and requests.csv merged across cells. 2: every row keyed by the whole cell.
 */
export const REPORT_FORMAT = 2;

export const LATENCY_COLUMNS = [
  'run_id', 'suite', ...CELL_KEY_COLUMNS, 'count', 'errors',
  'mean_ms', 'p50_ms', 'p90_ms', 'p99_ms', 'p999_ms', 'max_ms', 'ops_per_s',
] as const;

export const OVERHEAD_COLUMNS = [
  'run_id', ...CELL_COLUMNS, 'replica', 'phase', 'repeat', 'registers_written', 'objects', 'stored_bytes',
  'logical_bytes', 'copies_per_register', 'overhead_ratio',
] as const;

export const REQUESTS_COLUMNS = [
  'run_id', ...CELL_KEY_COLUMNS, 'replica', 'ops', 'puts', 'gets', 'lists', 'removes', 'bytes_up', 'bytes_down',
] as const;

export const ERRORS_COLUMNS = ['run_id', ...CELL_KEY_COLUMNS, 'kind', 'count'] as const;

export const PER_SECOND_COLUMNS = [
  'run_id', ...CELL_KEY_COLUMNS, 'repeat', 'second', 'phase', 'start_ms', 'span_s',
  'count', 'errors', 'ops_per_s', 'mean_ms', 'p50_ms', 'p99_ms', 'max_ms',
] as const;

/** What identifies one row of each file (the cell key, plus what the file splits a cell by). */
export const ROW_KEYS = {
  latency: CELL_KEY_COLUMNS,
  overhead: [...CELL_COLUMNS, 'replica', 'phase'],
  requests: [...CELL_KEY_COLUMNS, 'replica'],
  errors: [...CELL_KEY_COLUMNS, 'kind'],
  perSecond: [...CELL_KEY_COLUMNS, 'repeat', 'second', 'phase'],
} as const;

export type Row<C extends readonly string[]> = { [K in C[number]]: string | number };
export type LatencyRow = Row<typeof LATENCY_COLUMNS>;
export type OverheadRow = Row<typeof OVERHEAD_COLUMNS>;
export type RequestsRow = Row<typeof REQUESTS_COLUMNS>;
export type ErrorsRow = Row<typeof ERRORS_COLUMNS>;
export type PerSecondRow = Row<typeof PER_SECOND_COLUMNS>;
