/**
 * Compares two benchmark reports cell by cell, matching rows on the whole cell key (config, variant,
 * schedule, op, value_bytes, clients, registers, workers, workload, mode, open_rate), for a CI
 * performance-regression gate. Output: report/compare.ts and report/markdown.ts. (Model suite runs
 * carry exact metrics instead, compared at zero tolerance by exact.ts.)
 *
 * For each matched cell and metric (p50, p99, throughput), one test gives the interval, the p-value
 * and the significance together, at the same alpha, so they never disagree:
 * - p50/p99: a bootstrap of the relative change of the percentile on the HDR histograms (two-level
 *   over repetitions when both sides have several); the (1 - alpha) interval and the p-value come
 *   from the same replicates; significant when the interval excludes 0 (exactly when p <= alpha);
 * - throughput: Welch's t-test across repetitions (both sides need 2 or more) with the interval of
 *   the relative change from the same t distribution (it excludes 0 exactly when p < alpha);
 *   untested otherwise.
 * The verdict follows from the interval and the threshold:
 * - `regressed`: the interval is wholly on the worse side of 0, the change is worse than the
 *   threshold and the interval reaches beyond it;
 * - `improved`: the same on the better side;
 * - `within threshold`: significant, but the change (or all of the interval) is within the threshold;
 * - `no significant change`: the interval holds 0;
 * - `too few samples`: a side has fewer samples than needed to judge (warning, never fails the gate);
 * - `untested`: nothing to test with (no histograms.jsonl, or throughput with one repetition).
 * Definitions: stats.ts and bootstrap.ts.
 */
import { cellId, cellKeyString, CELL_KEY_COLUMNS, type CellKey } from '../config/cell.js';
import { cellKeyOf, readReportDir, type CellSamples, type CsvRow, type ReportData } from '../record/read.js';
import { bootstrapPercentileChange } from './bootstrap.js';
import { histogramBins, percentile, relativeChange, totalCount, welchChange, type Bin } from './stats.js';

export const METRICS = ['p50', 'p99', 'throughput'] as const;
export type Metric = (typeof METRICS)[number];

export type Verdict = 'regressed' | 'improved' | 'within threshold' | 'no significant change' | 'too few samples' | 'untested';

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
  /** Where the thresholds came from, carried into the result for the output. */
  thresholdsSource?: string;
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
  /** Which test gave the interval, the p-value and the significance. */
  test: 'bootstrap' | 'welch' | 'none';
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
  /** Where the thresholds came from (a file, the defaults, flags), as `rkvs compare` prints it. */
  thresholdsSource?: string;
  warnings: string[];
  /** Cells with at least one regressed metric. */
  regressions: number;
  improvements: number;
}

const VERDICT_ORDER: Verdict[] = ['regressed', 'too few samples', 'untested', 'improved', 'within threshold', 'no significant change'];

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
      m.set(cellId(key), { key, row });
    });
    return m;
  };
  const bRows = rowsOf(base, 'baseline');
  const cRows = rowsOf(cur, 'current');
  if (!base.hasHistograms) warnings.push(`baseline ${base.dir} has no histograms.jsonl: changes are shown but not tested for significance`);
  if (!cur.hasHistograms) warnings.push(`current ${cur.dir} has no histograms.jsonl: changes are shown but not tested for significance`);
  for (const [r, label] of [[base, 'baseline'], [cur, 'current']] as const)
    if (r.meta?.interrupted === true) warnings.push(`${label} ${r.dir} is from an interrupted run (meta.json "interrupted": true): its cells are partial and some may be missing`);

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
  if (cells.length === 0) warnings.push(`no cell matched between the two reports (same ${CELL_KEY_COLUMNS.join(', ')})`);
  const untestedThroughput = cells.filter((c) => c.metrics.some((m) => m.metric === 'throughput' && m.verdict === 'untested' && m.note.startsWith('needs 2'))).length;
  if (untestedThroughput)
    warnings.push(`throughput not tested in ${untestedThroughput} cell(s): it is tested across repetitions and needs 2 or more per side (rkvs bench --repeat N, or rkvs ab, whose rounds are repetitions)`);
  return {
    thresholdsSource: opts.thresholdsSource,
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
  const side = (row: CsvRow, cell: CellSamples | undefined, bins: Bin[] | null): Side => ({
    row,
    cell,
    bins,
    n: bins ? totalCount(bins) : num(row, 'count') - (num(row, 'errors') || 0),
  });
  const b = side(bRow, bCell, bBins);
  const c = side(cRow, cCell, cBins);
  const metrics = METRICS.map((metric) => compareMetric(metric, b, c, s));
  const label = cellKeyString(key);
  for (const m of metrics) if (m.verdict === 'too few samples') warnings.push(`${label} ${m.metric}: too few samples (${m.note})`);
  const errB = num(bRow, 'errors');
  const errC = num(cRow, 'errors');
  if (errC > 0 && errC > errB) warnings.push(`${label}: ${errC} failed operation(s) in the current run (baseline ${Number.isFinite(errB) ? errB : '?'}); see errors.csv`);
  return { key, baselineCount: b.n, currentCount: c.n, metrics, verdict: worst(metrics.map((m) => m.verdict)), warnings };
}

/** One side of a comparison: its latency.csv row, histograms and successful sample count. */
interface Side {
  row: CsvRow;
  cell: CellSamples | undefined;
  bins: Bin[] | null;
  n: number;
}

/** Baseline and current value of a metric: from the histograms when both sides have them. */
function metricValues(metric: Metric, b: Side, c: Side): [number, number] {
  if (metric === 'throughput') return [num(b.row, 'ops_per_s'), num(c.row, 'ops_per_s')];
  const p = metric === 'p50' ? 50 : 99;
  if (b.bins && c.bins && b.n > 0 && c.n > 0) return [percentile(b.bins, p) / 1000, percentile(c.bins, p) / 1000];
  return [num(b.row, `${metric}_ms`), num(c.row, `${metric}_ms`)];
}

function compareMetric(metric: Metric, b: Side, c: Side, s: CellSettings): MetricComparison {
  const threshold = s.thresholds[metric];
  const [baseline, current] = metricValues(metric, b, c);
  const change = relativeChange(baseline, current);
  const m: MetricComparison = { metric, baseline, current, change, ciLower: NaN, ciUpper: NaN, pValue: NaN, test: 'none', significant: false, threshold, verdict: 'no significant change', note: '' };
  if (!Number.isFinite(baseline) || !Number.isFinite(current)) return { ...m, verdict: 'untested', note: `${metric} missing in a report` };
  const p = metric === 'p50' ? 50 : 99;
  const needed = metric === 'throughput' ? s.minSamples : Math.max(s.minSamples, Math.ceil(s.minTail / (1 - p / 100)));
  if (b.n < needed || c.n < needed) return { ...m, verdict: 'too few samples', note: `needs ${needed} ok samples per side, has ${b.n} / ${c.n}` };
  if (metric === 'throughput') {
    const rb = repeatThroughputs(b.cell);
    const rc = repeatThroughputs(c.cell);
    if (rb.length < 2 || rc.length < 2) return { ...m, verdict: 'untested', note: `needs 2 or more repetitions per side to test throughput, has ${rb.length} / ${rc.length}` };
    // the values, the change and the interval all come from the per-repetition throughputs
    const w = welchChange(rb, rc, s.alpha);
    Object.assign(m, { baseline: w.meanA, current: w.meanB, change: w.change, test: 'welch', pValue: w.pValue, ciLower: w.lower, ciUpper: w.upper, significant: w.pValue < s.alpha });
    m.note = `mean of ${rb.length} / ${rc.length} repetitions`;
  } else if (b.bins && c.bins) {
    // one group per repetition (two-level bootstrap) when there are several
    const ci = bootstrapPercentileChange(repeatGroups(b.cell, b.bins), repeatGroups(c.cell, c.bins), p, { resamples: s.resamples, confidence: 1 - s.alpha, seed: s.seed });
    Object.assign(m, { test: 'bootstrap', ciLower: ci.lower, ciUpper: ci.upper, significant: ci.significant, pValue: ci.pValue });
  }
  if (m.test === 'none') return { ...m, verdict: 'untested', note: 'no histograms.jsonl on a side: significance not tested' };
  return decide(m, metric !== 'throughput');
}

/**
 * The verdict of a tested metric, from its interval and threshold (never against them): regressed
 * (improved) when the interval lies wholly on the worse (better) side of 0, the change is beyond the
 * threshold and the interval reaches beyond it too; within threshold when significant otherwise.
 */
export function decide(m: MetricComparison, lowerIsBetter: boolean): MetricComparison {
  const note = (extra: string) => (m.note ? `${m.note}; ${extra}` : extra);
  // oriented so that positive is worse
  const worse = lowerIsBetter ? m.change : -m.change;
  const lo = lowerIsBetter ? m.ciLower : -m.ciUpper;
  const hi = lowerIsBetter ? m.ciUpper : -m.ciLower;
  if (!m.significant) return worse > m.threshold || worse < -m.threshold ? { ...m, note: note('beyond the threshold but not significant') } : m;
  if (lo > 0 && worse > m.threshold && hi > m.threshold) return { ...m, verdict: 'regressed' };
  if (hi < 0 && worse < -m.threshold && lo < -m.threshold) return { ...m, verdict: 'improved' };
  return { ...m, verdict: 'within threshold', note: note(`significant, within the ${fmtPct(m.threshold).replace(/^\+/, '')} threshold`) };
}

/** A relative change as a signed percentage (`+12.5%`, `-3.0%`, `+150%`). */
export function fmtPct(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? '-' : x > 0 ? '+inf' : '-inf';
  const v = x * 100;
  return `${v > 0 ? '+' : ''}${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)}%`;
}

function repeatGroups(cell: CellSamples | undefined, merged: Bin[]): Bin[][] {
  const groups = (cell?.repeats ?? []).filter((r) => r.okHistogram.totalCount > 0).map((r) => histogramBins(r.okHistogram));
  return groups.length >= 2 ? groups : [merged];
}

/** Successful operations per second of each repetition (ok / measured window), as latency.csv's ops_per_s. */
function repeatThroughputs(cell: CellSamples | undefined): number[] {
  if (!cell) return [];
  return cell.repeats
    .filter((r) => Number.isFinite(r.start_ms) && Number.isFinite(r.end_ms) && r.end_ms > r.start_ms)
    .map((r) => (r.ok * 1000) / (r.end_ms - r.start_ms));
}

/** Reads both report directories and compares them. */
export async function compareDirs(baselineDir: string, currentDir: string, opts: CompareOptions = {}): Promise<CompareResult> {
  const [base, cur] = await Promise.all([readReportDir(baselineDir, 'BASELINE'), readReportDir(currentDir, 'CURRENT')]);
  return compareReports(base, cur, opts);
}
