/**
 * Configurations side by side: the numbers behind the side-by-side tables of a run with several
 * configurations (and of `rkvs compare`, baseline vs current). One row per cell key without its
 * configuration, one group of columns per configuration; every later configuration's p50, p99 and
 * throughput as a ratio to the first's, the percentile ratios with a bootstrap confidence interval
 * computed on the HDR histograms (bootstrap.ts: two-level over repetitions when there are several).
 * Values are those of latency.csv, so the table and the file agree.
 */
import { CELL_KEY_COLUMNS, compareCells, type CellKey } from '../config/cell.js';
import { cellKeyOf, type ReportData } from '../record/read.js';
import type { BenchResults } from '../record/results.js';
import { bootstrapPercentileChange } from './bootstrap.js';
import type { CompareResult, Metric } from './compare.js';
import { histogramBins, totalCount, type Bin } from './stats.js';

/** What one configuration measured for one row. */
export interface SideMetrics {
  p50: number;
  p99: number;
  opsPerS: number;
  /** Successful operations. */
  count: number;
}

/** A ratio to the first configuration and its confidence interval (NaN bounds: not computed, see `why`). */
export interface RatioCI {
  ratio: number;
  lower: number;
  upper: number;
  /** Why there is no interval, when there is none. */
  why?: string;
}

export interface SideRow {
  /** The row's cell key; `config` is '' when the groups are configurations. */
  key: CellKey;
  /** One entry per group, null when that group has no such cell. */
  sides: (SideMetrics | null)[];
  /** One entry per group: null for the first group and where either side is missing. */
  ratios: (Record<Metric, RatioCI> | null)[];
}

export interface SideBySide {
  /** Column groups: configuration names, or `baseline` and `current`. */
  groups: string[];
  /** What a group is. */
  groupKind: 'configuration' | 'run';
  /** The key fields shown as the row's columns, in column order. */
  keyFields: (keyof CellKey)[];
  rows: SideRow[];
  /** Level of the intervals (0.95). */
  confidence: number;
  /** Cells left out: measured in one configuration only, or in a configuration sharing no cell with another. */
  alone?: number;
}

/** A cell as the side-by-side table needs it: its latency.csv figures and its samples by repetition. */
export interface SideCell {
  key: CellKey;
  metrics: SideMetrics;
  /** Successful latencies (microsecond bins), one group per repetition. */
  repeats: Bin[][];
}

export interface SideOptions {
  /** Confidence level of the intervals. @default 0.95 */
  confidence?: number;
  /** Bootstrap replicates per interval. @default 2000 */
  resamples?: number;
  seed?: number;
  /** The run's configurations in the order it ran them (the first is the reference); others follow by name. */
  order?: readonly string[];
}

/** The names of meta.json's `configurations` (a list, or a map of `describe()` outputs), in order. */
export function configOrder(meta: unknown): string[] {
  const confs = (meta as { configurations?: unknown } | null)?.configurations;
  const list: unknown[] = Array.isArray(confs) ? confs : confs && typeof confs === 'object' ? Object.values(confs) : [];
  return list.flatMap((c) => (c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string' ? [(c as { name: string }).name] : []));
}

/** Fields that are always columns; the others are when they vary. */
const ALWAYS: (keyof CellKey)[] = ['variant', 'schedule', 'op', 'value_bytes', 'clients'];

/** Fewest samples per side for an interval of percentile p: 5 beyond it (10 for p50, 500 for p99). */
export function samplesForInterval(p: number): number {
  return Math.ceil(5 / (1 - p / 100));
}

/** The key fields shown: the usual five, then every other field that differs among the keys. */
export function shownKeyFields(keys: readonly CellKey[], omit: readonly (keyof CellKey)[]): (keyof CellKey)[] {
  const varies = (f: keyof CellKey) => new Set(keys.map((k) => String(k[f]))).size > 1;
  return CELL_KEY_COLUMNS.filter((f) => !omit.includes(f) && (ALWAYS.includes(f) || varies(f)));
}

/** The ratio of a percentile between two sides with its bootstrap interval, when both have enough samples. */
function percentileRatio(a: SideCell, b: SideCell, p: 50 | 99, o: Required<SideOptions>): RatioCI {
  const metric = p === 50 ? 'p50' : 'p99';
  const ratio = b.metrics[metric] / a.metrics[metric];
  const need = samplesForInterval(p);
  const na = totalCount(a.repeats.flat());
  const nb = totalCount(b.repeats.flat());
  if (na < need || nb < need) return { ratio, lower: NaN, upper: NaN, why: `an interval of p${p} needs ${need} samples per side (${na} / ${nb})` };
  const ci = bootstrapPercentileChange(a.repeats, b.repeats, p, { resamples: o.resamples, confidence: o.confidence, seed: o.seed });
  return { ratio, lower: 1 + ci.lower, upper: 1 + ci.upper };
}

function ratiosOf(a: SideCell, b: SideCell, o: Required<SideOptions>): Record<Metric, RatioCI> {
  return {
    p50: percentileRatio(a, b, 50, o),
    p99: percentileRatio(a, b, 99, o),
    throughput: { ratio: b.metrics.opsPerS / a.metrics.opsPerS, lower: NaN, upper: NaN, why: 'one throughput per run: no interval (compare repetitions with rkvs compare)' },
  };
}

/**
 * The configurations of one run side by side; null when fewer than two share a cell. Groups are in
 * the run's order (`order`, else latency.csv's), so the first configuration is the reference.
 * Only cells measured in at least two configurations are rows; configurations that share no cell
 * with another (the suite checks' own `latency-model` and `harness-overhead`) are left out.
 */
export function sideBySide(cells: readonly SideCell[], opts: SideOptions = {}): SideBySide | null {
  const o: Required<SideOptions> = { confidence: opts.confidence ?? 0.95, resamples: opts.resamples ?? 2000, seed: opts.seed ?? 1, order: opts.order ?? [] };
  const rank = (g: string) => (o.order.includes(g) ? o.order.indexOf(g) : o.order.length);
  const groups = [...new Set(cells.map((c) => c.key.config))].sort((a, b) => rank(a) - rank(b));
  if (groups.length < 2) return null;
  const rows = new Map<string, { key: CellKey; by: Map<string, SideCell> }>();
  for (const c of cells) {
    const key = { ...c.key, config: '' };
    const id = CELL_KEY_COLUMNS.map((f) => key[f]).join('\u0000');
    const r = rows.get(id) ?? { key, by: new Map<string, SideCell>() };
    r.by.set(c.key.config, c);
    rows.set(id, r);
  }
  // a configuration that shares no cell with another (a suite check's own configuration) is not
  // compared, nor is a cell measured in one configuration only
  const shared = [...rows.values()].filter((r) => r.by.size > 1);
  const kept = groups.filter((g) => shared.some((r) => r.by.has(g)));
  if (kept.length < 2) return null;
  const sorted = shared.filter((r) => kept.filter((g) => r.by.has(g)).length > 1).sort((x, y) => compareCells(x.key, y.key));
  const alone = cells.filter((c) => !sorted.some((r) => r.by.get(c.key.config) === c)).length;
  return {
    groups: kept,
    groupKind: 'configuration',
    alone,
    keyFields: shownKeyFields(sorted.map((r) => r.key), ['config']),
    confidence: o.confidence,
    rows: sorted.map(({ key, by }) => {
      const first = by.get(kept[0]!);
      return {
        key,
        sides: kept.map((g) => by.get(g)?.metrics ?? null),
        ratios: kept.map((g, i) => {
          const c = by.get(g);
          return i === 0 || !first || !c ? null : ratiosOf(first, c, o);
        }),
      };
    }),
  };
}

const num = (v: string | undefined) => (v === undefined || v === '' ? NaN : Number(v));

/** The cells of a report directory: latency.csv's figures, histograms.jsonl's samples. */
export function sideCellsOfReport(data: ReportData): SideCell[] {
  return data.latency.map((row, i) => {
    const key = cellKeyOf(row, `latency.csv row ${i + 1}`);
    const samples = [...data.cells.values()].find((c) => CELL_KEY_COLUMNS.every((f) => String(c.key[f]) === String(key[f])));
    const repeats = (samples?.repeats ?? []).filter((r) => r.okHistogram.totalCount > 0).map((r) => histogramBins(r.okHistogram));
    return {
      key,
      metrics: { p50: num(row.p50_ms), p99: num(row.p99_ms), opsPerS: num(row.ops_per_s), count: num(row.count) },
      repeats: repeats.length ? repeats : samples && samples.ok.totalCount > 0 ? [histogramBins(samples.ok)] : [],
    };
  });
}

/** The cells of a run's results, as written to latency.csv. */
export function sideCellsOfResults(results: BenchResults): SideCell[] {
  const hists = results.cellHistograms();
  return results.latencyRows().map((row, i) => {
    const key = cellKeyOf(row, `latency row ${i + 1}`);
    const h = hists.find((c) => CELL_KEY_COLUMNS.every((f) => String(c.key[f]) === String(key[f])));
    return {
      key,
      metrics: { p50: Number(row.p50_ms), p99: Number(row.p99_ms), opsPerS: Number(row.ops_per_s), count: Number(row.count) },
      repeats: (h?.repeats ?? []).filter((x) => x.totalCount > 0).map(histogramBins),
    };
  });
}

/** `rkvs compare` side by side: baseline and current as the two groups, its intervals as they are. */
export function sideBySideOfCompare(result: CompareResult): SideBySide {
  const keys = result.cells.map((c) => c.key);
  const confidence = 1 - result.alpha;
  return {
    groups: ['baseline', 'current'],
    groupKind: 'run',
    keyFields: shownKeyFields(keys, []).filter((f) => f !== 'config' || new Set(keys.map((k) => k.config)).size > 1),
    confidence,
    rows: result.cells.map((c) => {
      const m = Object.fromEntries(c.metrics.map((x) => [x.metric, x])) as Record<Metric, (typeof c.metrics)[number]>;
      const side = (which: 'baseline' | 'current', count: number): SideMetrics => ({ p50: m.p50[which], p99: m.p99[which], opsPerS: m.throughput[which], count });
      const ratio = (x: (typeof c.metrics)[number]): RatioCI => ({
        ratio: x.current / x.baseline,
        lower: 1 + x.ciLower,
        upper: 1 + x.ciUpper,
        ...(Number.isFinite(x.ciLower) ? {} : { why: x.note || `no interval (${x.test === 'none' ? x.verdict : `tested with ${x.test}`})` }),
      });
      return {
        key: c.key,
        sides: [side('baseline', c.baselineCount), side('current', c.currentCount)],
        ratios: [null, { p50: ratio(m.p50), p99: ratio(m.p99), throughput: ratio(m.throughput) }],
      };
    }),
  };
}
