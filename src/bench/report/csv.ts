/**
 * The CSV files of a report directory (latency, overhead, requests, errors, per-second), written with
 * csv-stringify: one header row each, the columns of record/schema.ts in order, `\n` line ends.
 */
import { stringify } from 'csv-stringify/sync';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, PER_SECOND_COLUMNS, REQUESTS_COLUMNS, type Row } from '../record/schema.js';
import type { BenchResults } from '../record/results.js';

export { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, PER_SECOND_COLUMNS, REQUESTS_COLUMNS };
export type { ErrorsRow, LatencyRow, OverheadRow, PerSecondRow, RequestsRow } from '../record/schema.js';

/** CSV text with exactly one header row and the given columns, in order. */
export function toCsv<C extends readonly string[]>(columns: C, rows: readonly Row<C>[]): string {
  return stringify(
    rows.map((r) => columns.map((c) => r[c as C[number]])),
    { header: true, columns: columns as unknown as string[], record_delimiter: 'unix' },
  );
}

/** The CSV files of a run's results: file name to text. */
export function csvFiles(results: BenchResults): [string, string][] {
  return [
    ['latency.csv', toCsv(LATENCY_COLUMNS, results.latencyRows())],
    ['overhead.csv', toCsv(OVERHEAD_COLUMNS, results.overheadRows())],
    ['requests.csv', toCsv(REQUESTS_COLUMNS, results.requestRows())],
    ['errors.csv', toCsv(ERRORS_COLUMNS, results.errorRows())],
    ['per-second.csv', toCsv(PER_SECOND_COLUMNS, results.perSecondRows())],
  ];
}
