/**
 * Output of `rkvs compare`: the terminal table, the summary line and compare.csv, one row per cell
 * key and metric, every field of the key in its own column.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fmtPct, type CompareResult, type Metric, type MetricComparison } from '../analyze/compare.js';
import { CELL_KEY_COLUMNS, conditionLabel } from '../config/cell.js';

export { fmtPct };

function fmtNum(x: number, metric: Metric): string {
  if (!Number.isFinite(x)) return '-';
  if (metric === 'throughput') return x >= 100 ? x.toFixed(0) : x.toFixed(1);
  return x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

function fmtP(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return x < 0.001 ? '<0.001' : x.toFixed(3);
}

function fmtCi(m: MetricComparison): string {
  return Number.isFinite(m.ciLower) || Number.isFinite(m.ciUpper) ? `[${fmtPct(m.ciLower)}, ${fmtPct(m.ciUpper)}]` : '-';
}

const UNITS: Record<Metric, string> = { p50: 'ms', p99: 'ms', throughput: 'ops/s' };

/** One table row per cell key and metric: the key's fields, then the metric's figures. */
export function compareRows(result: CompareResult): string[][] {
  const rows: string[][] = [];
  for (const c of result.cells) {
    const k = c.key;
    const key = [k.config, k.variant, k.schedule, k.op, String(k.value_bytes), String(k.clients), String(k.registers), String(k.workers), k.workload, conditionLabel(k)];
    for (const m of c.metrics) {
      rows.push([...key, `${m.metric} (${UNITS[m.metric]})`, fmtNum(m.baseline, m.metric), fmtNum(m.current, m.metric), fmtPct(m.change), fmtCi(m), fmtP(m.pValue), m.verdict]);
    }
  }
  return rows;
}

export const TABLE_HEADER = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'regs', 'workers', 'workload', 'load', 'metric', 'baseline', 'current', 'change', 'CI', 'p', 'verdict'];

/** Columns of TABLE_HEADER holding numbers (right-aligned). */
export const NUMERIC_COLUMNS: ReadonlySet<number> = new Set(['bytes', 'clients', 'regs', 'workers', 'baseline', 'current', 'change', 'p'].map((c) => TABLE_HEADER.indexOf(c)));

/** Plain-text table for the terminal. */
export function formatCompareTable(result: CompareResult): string {
  const rows = [TABLE_HEADER, ...compareRows(result)];
  const widths = TABLE_HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((cell, i) => (NUMERIC_COLUMNS.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  out.push('', summaryLine(result));
  for (const w of result.warnings) out.push(`warning: ${w}`);
  for (const c of result.cells) for (const w of c.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

/** One line: how many cells regressed / improved, with thresholds. */
export function summaryLine(result: CompareResult): string {
  const t = result.thresholds;
  return (
    `${result.cells.length} cell(s) compared: ${result.regressions} regressed, ${result.improvements} improved ` +
    `(thresholds p50 ${fmtPct(t.p50)}, p99 ${fmtPct(t.p99)}, throughput ${fmtPct(t.throughput)}; alpha ${result.alpha})`
  );
}

/** compare.csv: one row per cell key and metric, raw numbers. */
export function compareCsv(result: CompareResult): string {
  const records = result.cells.flatMap((c) =>
    c.metrics.map((m) => ({
      ...Object.fromEntries(CELL_KEY_COLUMNS.map((f) => [f, c.key[f]])),
      metric: m.metric,
      unit: UNITS[m.metric],
      baseline: csvNum(m.baseline),
      current: csvNum(m.current),
      change: csvNum(m.change),
      ci_lower: csvNum(m.ciLower),
      ci_upper: csvNum(m.ciUpper),
      p_value: csvNum(m.pValue),
      test: m.test,
      threshold: m.threshold,
      baseline_samples: c.baselineCount,
      current_samples: c.currentCount,
      verdict: m.verdict,
      note: m.note,
    })),
  );
  return stringify(records, { header: true, columns: [...COMPARE_CSV_COLUMNS] });
}

export const COMPARE_CSV_COLUMNS = [
  ...CELL_KEY_COLUMNS,
  'metric',
  'unit',
  'baseline',
  'current',
  'change',
  'ci_lower',
  'ci_upper',
  'p_value',
  'test',
  'threshold',
  'baseline_samples',
  'current_samples',
  'verdict',
  'note',
] as const;

function csvNum(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : Number.isNaN(x) ? '' : x > 0 ? 'inf' : '-inf';
}

/** Writes compare.csv into `dir`; returns its path. */
export async function writeCompareCsv(result: CompareResult, dir: string): Promise<string> {
  const file = join(dir, 'compare.csv');
  await writeFile(file, compareCsv(result));
  return file;
}
