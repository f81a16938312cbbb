/**
 * Compares two benchmark reports cell by cell (config, variant, schedule, op, value_bytes, clients)
 * for a CI performance-regression gate.
 *
 * For each matched cell and metric (p50, p99, throughput) the relative change current/baseline - 1
 * gets a verdict:
 * - `regressed`: worse by more than the metric's threshold AND the change is significant;
 * - `improved`: better by more than the threshold AND significant;
 * - `no significant change`: otherwise;
 * - `too few samples`: a side has fewer samples than needed to judge (warning, never fails the gate);
 * - `untested`: no histograms.jsonl on a side, so no significance test is possible (warning).
 *
 * Significance: p50/p99 use a bootstrap confidence interval of the relative change of the
 * percentile, computed on the HDR histograms (two-level over repetitions when there are several;
 * significant when the interval excludes 0). Throughput uses Welch's t-test on per-repetition throughput when both sides have at
 * least 2 repetitions; otherwise the Mann-Whitney U test of the latency distributions (in a closed
 * loop, throughput is clients / mean latency). Definitions: src/bench/stats.ts.
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join, extname } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import YAML from 'yaml';
import { ConfigError } from '../../errors.js';
import { bootstrapPercentileChange, mannWhitneyU, percentile, relativeChange, totalCount, welchTTest, type Bin } from './stats.js';
import { cellKeyOf, cellKeyString, histogramBins, readReportDir, type CellKey, type CellSamples, type CsvRow, type ReportData } from '../record/read.js';

export const METRICS = ['p50', 'p99', 'throughput'] as const;
export type Metric = (typeof METRICS)[number];

export type Verdict = 'regressed' | 'improved' | 'no significant change' | 'too few samples' | 'untested';

/** Relative thresholds per metric, as fractions (0.1 = 10%). */
export type Thresholds = Record<Metric, number>;

/** Defaults: p50 10%, p99 20% (tails are noisier), throughput 10%. */
export const DEFAULT_THRESHOLDS: Thresholds = { p50: 0.1, p99: 0.2, throughput: 0.1 };

export interface CompareOptions {
  /** Relative thresholds per metric. @default DEFAULT_THRESHOLDS */
  thresholds?: Partial<Thresholds>;
  /** Significance level. @default 0.05 */
  alpha?: number;
  /** Fewest successful samples per side to judge a cell at all. @default 30 */
  minSamples?: number;
  /** Fewest samples per side beyond a percentile to judge it (p99 needs 100 x this). @default 5 */
  minTailSamples?: number;
  /** Bootstrap replicates per percentile. @default 2000 */
  resamples?: number;
  /** Seed of the bootstrap. @default 1 */
  seed?: number;
  /** Per-cell thresholds: every override whose `match` fits a cell applies, later ones win. */
  overrides?: ThresholdOverride[];
}

/** Thresholds for the cells whose key has every field of `match`. */
export interface ThresholdOverride {
  match: Partial<CellKey>;
  thresholds: Partial<Thresholds>;
}

/** The thresholds of one cell: the defaults, then `thresholds`, then every matching override. */
export function thresholdsFor(key: CellKey, base: Thresholds, overrides: readonly ThresholdOverride[] = []): Thresholds {
  let t = base;
  for (const o of overrides) {
    const fits = (Object.keys(o.match) as (keyof CellKey)[]).every((k) => String(o.match[k]) === String(key[k]));
    if (fits) t = { ...t, ...o.thresholds };
  }
  return t;
}

export interface MetricComparison {
  metric: Metric;
  baseline: number;
  current: number;
  /** current / baseline - 1. */
  change: number;
  /** Confidence interval of the change (percentiles only), NaN when not computed. */
  ciLower: number;
  ciUpper: number;
  /** p-value of the test used (NaN when not computed). */
  pValue: number;
  /** Which test decided significance. */
  test: 'bootstrap' | 'welch' | 'mann-whitney' | 'none';
  significant: boolean;
  threshold: number;
  verdict: Verdict;
  note: string;
}

export interface CellComparison {
  key: CellKey;
  baselineCount: number;
  currentCount: number;
  metrics: MetricComparison[];
  /** Worst verdict of the metrics. */
  verdict: Verdict;
  warnings: string[];
}

export interface CompareResult {
  baselineDir: string;
  currentDir: string;
  cells: CellComparison[];
  onlyInBaseline: CellKey[];
  onlyInCurrent: CellKey[];
  thresholds: Thresholds;
  alpha: number;
  warnings: string[];
  /** Cells with at least one regressed metric. */
  regressions: number;
  improvements: number;
}

/** Parses a threshold such as `10%`, `10 %` or `0.1` into a fraction; `where` names the flag or field. */
export function parseThreshold(text: unknown, where: string): number {
  const s = String(text).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(s);
  if (!m) throw new ConfigError(where, `"${s}" is not a threshold; write a percentage like 10% or a fraction like 0.1`);
  const v = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (!m[2] && v > 1) throw new ConfigError(where, `"${s}" is more than 1 without a % sign; write ${s}% if you mean a percentage`);
  return v;
}

/** Settings file for `rkvs compare --thresholds FILE` (JSON or YAML). */
export interface ThresholdsFile {
  p50?: string | number;
  p99?: string | number;
  throughput?: string | number;
  alpha?: number;
  minSamples?: number;
  /** Per-cell thresholds, e.g. [{match: {config: "s3-only-3", clients: 4}, p99: "50%"}]. */
  overrides?: ({ match: Partial<Record<keyof CellKey, string | number>> } & Partial<Record<Metric, string | number>>)[];
}

const FILE_KEYS = new Set(['p50', 'p99', 'throughput', 'alpha', 'minSamples', 'overrides']);
const MATCH_KEYS = new Set(['config', 'variant', 'schedule', 'op', 'value_bytes', 'clients']);

/** Reads a JSON or YAML thresholds file into compare options. */
export async function loadThresholdsFile(file: string): Promise<CompareOptions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('--thresholds', `cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(file, `is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, 'must be an object like {"p50": "10%", "p99": "20%", "throughput": "10%"}');
  }
  const obj = data as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FILE_KEYS.has(k)) throw new ConfigError(`${file}: ${k}`, `unknown setting; allowed: ${[...FILE_KEYS].join(', ')}`);
  }
  const thresholds: Partial<Thresholds> = {};
  for (const m of METRICS) if (obj[m] !== undefined) thresholds[m] = parseThreshold(obj[m], `${file}: ${m}`);
  const out: CompareOptions = { thresholds };
  if (obj.alpha !== undefined) out.alpha = checkAlpha(obj.alpha, `${file}: alpha`);
  if (obj.minSamples !== undefined) out.minSamples = checkPositiveInt(obj.minSamples, `${file}: minSamples`);
  if (obj.overrides !== undefined) out.overrides = parseOverrides(obj.overrides, `${file}: overrides`);
  return out;
}

function parseOverrides(v: unknown, where: string): ThresholdOverride[] {
  const example = 'a list like [{match: {config: "s3-only-3", clients: 4}, p99: "50%"}]';
  if (!Array.isArray(v)) throw new ConfigError(where, `must be ${example}`);
  return v.map((item: unknown, i) => {
    const w = `${where}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ConfigError(w, `must be an object; overrides are ${example}`);
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'match' && !(METRICS as readonly string[]).includes(k)) throw new ConfigError(`${w}.${k}`, `unknown setting; allowed: match, ${METRICS.join(', ')}`);
    }
    const match = o.match;
    if (match === null || typeof match !== 'object' || Array.isArray(match)) throw new ConfigError(`${w}.match`, `required: the cell fields to match, e.g. {config: "s3-only-3", op: "write"}`);
    for (const k of Object.keys(match)) {
      if (!MATCH_KEYS.has(k)) throw new ConfigError(`${w}.match.${k}`, `unknown field; match on ${[...MATCH_KEYS].join(', ')}`);
    }
    const thresholds: Partial<Thresholds> = {};
    for (const m of METRICS) if (o[m] !== undefined) thresholds[m] = parseThreshold(o[m], `${w}.${m}`);
    return { match: match as Partial<CellKey>, thresholds };
  });
}

export function checkAlpha(v: unknown, where: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new ConfigError(where, `"${String(v)}" must be a number between 0 and 1, e.g. 0.05`);
  return n;
}

export function checkPositiveInt(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(where, `"${String(v)}" must be a positive whole number`);
  return n;
}

const VERDICT_ORDER: Verdict[] = ['regressed', 'too few samples', 'untested', 'improved', 'no significant change'];

function worst(vs: Verdict[]): Verdict {
  for (const v of VERDICT_ORDER) if (vs.includes(v)) return v;
  return 'no significant change';
}

function num(row: CsvRow | undefined, col: string): number {
  if (!row) return NaN;
  const v = row[col];
  return v === undefined || v === '' ? NaN : Number(v);
}

/** Compares two loaded reports. */
export function compareReports(base: ReportData, cur: ReportData, opts: CompareOptions = {}): CompareResult {
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const alpha = opts.alpha ?? 0.05;
  const minSamples = opts.minSamples ?? 30;
  const minTail = opts.minTailSamples ?? 5;
  const resamples = opts.resamples ?? 2000;
  const seed = opts.seed ?? 1;
  const warnings: string[] = [];

  const rowsOf = (r: ReportData, label: string) => {
    const m = new Map<string, { key: CellKey; row: CsvRow }>();
    r.latency.forEach((row, i) => {
      const key = cellKeyOf(row, `${label} latency.csv row ${i + 1}`);
      m.set(cellKeyString(key), { key, row });
    });
    return m;
  };
  const bRows = rowsOf(base, 'baseline');
  const cRows = rowsOf(cur, 'current');
  if (!base.hasHistograms) warnings.push(`baseline ${base.dir} has no histograms.jsonl: changes are shown but not tested for significance`);
  if (!cur.hasHistograms) warnings.push(`current ${cur.dir} has no histograms.jsonl: changes are shown but not tested for significance`);

  const cells: CellComparison[] = [];
  const onlyInBaseline: CellKey[] = [];
  const onlyInCurrent: CellKey[] = [];
  for (const [ks, b] of bRows) {
    const c = cRows.get(ks);
    if (!c) {
      onlyInBaseline.push(b.key);
      continue;
    }
    cells.push(
      compareCell(b.key, b.row, c.row, base.cells.get(ks), cur.cells.get(ks), {
        thresholds: thresholdsFor(b.key, thresholds, opts.overrides),
        alpha,
        minSamples,
        minTail,
        resamples,
        seed,
      }),
    );
  }
  for (const [ks, c] of cRows) if (!bRows.has(ks)) onlyInCurrent.push(c.key);
  if (onlyInBaseline.length) warnings.push(`${onlyInBaseline.length} cell(s) only in the baseline (not compared): ${onlyInBaseline.map(cellKeyString).join(', ')}`);
  if (onlyInCurrent.length) warnings.push(`${onlyInCurrent.length} cell(s) only in the current run (not compared): ${onlyInCurrent.map(cellKeyString).join(', ')}`);
  if (cells.length === 0) warnings.push('no cell matched between the two reports (same config, variant, schedule, op, value_bytes, clients)');
  return {
    baselineDir: base.dir,
    currentDir: cur.dir,
    cells,
    onlyInBaseline,
    onlyInCurrent,
    thresholds,
    alpha,
    warnings,
    regressions: cells.filter((c) => c.metrics.some((m) => m.verdict === 'regressed')).length,
    improvements: cells.filter((c) => c.metrics.some((m) => m.verdict === 'improved')).length,
  };
}

interface CellSettings {
  thresholds: Thresholds;
  alpha: number;
  minSamples: number;
  minTail: number;
  resamples: number;
  seed: number;
}

function compareCell(
  key: CellKey,
  bRow: CsvRow,
  cRow: CsvRow,
  bCell: CellSamples | undefined,
  cCell: CellSamples | undefined,
  s: CellSettings,
): CellComparison {
  const warnings: string[] = [];
  const bBins: Bin[] | null = bCell ? histogramBins(bCell.ok) : null;
  const cBins: Bin[] | null = cCell ? histogramBins(cCell.ok) : null;
  const nB = bBins ? totalCount(bBins) : num(bRow, 'count') - (num(bRow, 'errors') || 0);
  const nC = cBins ? totalCount(cBins) : num(cRow, 'count') - (num(cRow, 'errors') || 0);
  const label = cellKeyString(key);
  const metrics: MetricComparison[] = [];
  const mw = bBins && cBins ? mannWhitneyU(bBins, cBins) : null;

  for (const metric of METRICS) {
    const threshold = s.thresholds[metric];
    const lowerIsBetter = metric !== 'throughput';
    const p = metric === 'p50' ? 50 : 99;
    let baseline: number;
    let current: number;
    if (metric === 'throughput') {
      baseline = num(bRow, 'ops_per_s');
      current = num(cRow, 'ops_per_s');
    } else if (bBins && cBins && nB > 0 && nC > 0) {
      baseline = percentile(bBins, p) / 1000;
      current = percentile(cBins, p) / 1000;
    } else {
      baseline = num(bRow, `${metric}_ms`);
      current = num(cRow, `${metric}_ms`);
    }
    const change = relativeChange(baseline, current);
    const m: MetricComparison = {
      metric,
      baseline,
      current,
      change,
      ciLower: NaN,
      ciUpper: NaN,
      pValue: NaN,
      test: 'none',
      significant: false,
      threshold,
      verdict: 'no significant change',
      note: '',
    };
    metrics.push(m);
    if (!Number.isFinite(baseline) || !Number.isFinite(current)) {
      m.verdict = 'untested';
      m.note = `${metric} missing in a report`;
      continue;
    }
    const needed = metric === 'throughput' ? s.minSamples : Math.max(s.minSamples, Math.ceil(s.minTail / (1 - p / 100)));
    if (nB < needed || nC < needed) {
      m.verdict = 'too few samples';
      m.note = `needs ${needed} ok samples per side, has ${nB} / ${nC}`;
      continue;
    }
    if (metric === 'throughput') {
      const rb = repeatThroughputs(bCell);
      const rc = repeatThroughputs(cCell);
      if (rb.length >= 2 && rc.length >= 2) {
        const w = welchTTest(rb, rc);
        m.test = 'welch';
        m.pValue = w.pValue;
        m.significant = w.pValue < s.alpha;
      } else if (mw) {
        m.test = 'mann-whitney';
        m.pValue = mw.pValue;
        m.significant = mw.pValue < s.alpha;
        m.note = 'fewer than 2 repetitions per side: tested on the latency distribution';
      }
    } else if (bBins && cBins) {
      // one group per repetition (two-level bootstrap) when there are several
      const ci = bootstrapPercentileChange(repeatGroups(bCell, bBins), repeatGroups(cCell, cBins), p, {
        resamples: s.resamples,
        confidence: 1 - s.alpha,
        seed: s.seed,
      });
      m.test = 'bootstrap';
      m.ciLower = ci.lower;
      m.ciUpper = ci.upper;
      m.significant = ci.lower > 0 || ci.upper < 0;
      m.pValue = mw ? mw.pValue : NaN;
    }
    if (m.test === 'none') {
      m.verdict = 'untested';
      m.note = 'no histograms.jsonl on a side: significance not tested';
      continue;
    }
    const worse = lowerIsBetter ? change > threshold : change < -threshold;
    const better = lowerIsBetter ? change < -threshold : change > threshold;
    if (m.significant && worse) m.verdict = 'regressed';
    else if (m.significant && better) m.verdict = 'improved';
    else {
      m.verdict = 'no significant change';
      if (m.significant) m.note = `significant but within the ${fmtPct(threshold)} threshold`;
      else if (worse || better) m.note = `beyond the threshold but not significant`;
    }
  }
  for (const m of metrics) if (m.verdict === 'too few samples') warnings.push(`${label} ${m.metric}: too few samples (${m.note})`);
  const errB = num(bRow, 'errors');
  const errC = num(cRow, 'errors');
  if (errC > 0 && errC > errB) warnings.push(`${label}: ${errC} failed operation(s) in the current run (baseline ${Number.isFinite(errB) ? errB : '?'}); see errors.csv`);
  return { key, baselineCount: nB, currentCount: nC, metrics, verdict: worst(metrics.map((m) => m.verdict)), warnings };
}

function repeatGroups(cell: CellSamples | undefined, merged: Bin[]): Bin[][] {
  const groups = (cell?.repeats ?? []).filter((r) => r.okHistogram.totalCount > 0).map((r) => histogramBins(r.okHistogram));
  return groups.length >= 2 ? groups : [merged];
}

function repeatThroughputs(cell: CellSamples | undefined): number[] {
  if (!cell) return [];
  return cell.repeats
    .filter((r) => Number.isFinite(r.start_ms) && Number.isFinite(r.end_ms) && r.end_ms > r.start_ms)
    .map((r) => ((r.ok + r.errors) * 1000) / (r.end_ms - r.start_ms));
}

/** Reads both report directories and compares them. */
export async function compareDirs(baselineDir: string, currentDir: string, opts: CompareOptions = {}): Promise<CompareResult> {
  const [base, cur] = await Promise.all([readReportDir(baselineDir, 'BASELINE'), readReportDir(currentDir, 'CURRENT')]);
  return compareReports(base, cur, opts);
}

// ---------------------------------------------------------------------------------------------
// Output

export function fmtPct(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '-' : x > 0 ? '+inf' : '-inf';
  const v = x * 100;
  return `${v > 0 ? '+' : ''}${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)}%`;
}

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

/** One table row per cell and metric. */
export function compareRows(result: CompareResult): string[][] {
  const rows: string[][] = [];
  for (const c of result.cells) {
    for (const m of c.metrics) {
      rows.push([
        c.key.config,
        c.key.variant,
        c.key.schedule,
        c.key.op,
        String(c.key.value_bytes),
        String(c.key.clients),
        `${m.metric} (${UNITS[m.metric]})`,
        fmtNum(m.baseline, m.metric),
        fmtNum(m.current, m.metric),
        fmtPct(m.change),
        fmtCi(m),
        fmtP(m.pValue),
        m.verdict,
      ]);
    }
  }
  return rows;
}

export const TABLE_HEADER = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'metric', 'baseline', 'current', 'change', 'CI', 'p', 'verdict'];

/** Plain-text table for the terminal. */
export function formatCompareTable(result: CompareResult): string {
  const rows = [TABLE_HEADER, ...compareRows(result)];
  const widths = TABLE_HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = new Set([4, 5, 7, 8, 9, 11]);
  const line = (r: string[]) => r.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd();
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

/** compare.csv: one row per cell and metric, raw numbers. */
export function compareCsv(result: CompareResult): string {
  const records = result.cells.flatMap((c) =>
    c.metrics.map((m) => ({
      config: c.key.config,
      variant: c.key.variant,
      schedule: c.key.schedule,
      op: c.key.op,
      value_bytes: c.key.value_bytes,
      clients: c.key.clients,
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
  return stringify(records, { header: true, columns: COMPARE_CSV_COLUMNS });
}

export const COMPARE_CSV_COLUMNS = [
  'config',
  'variant',
  'schedule',
  'op',
  'value_bytes',
  'clients',
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
];

function csvNum(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : Number.isNaN(x) ? '' : x > 0 ? 'inf' : '-inf';
}

/** Writes compare.csv into `dir`; returns its path. */
export async function writeCompareCsv(result: CompareResult, dir: string): Promise<string> {
  const file = join(dir, 'compare.csv');
  await writeFile(file, compareCsv(result));
  return file;
}
