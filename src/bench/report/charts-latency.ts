/**
 * Latency and throughput charts: latency by percentile (HDR-style, one chart per configuration),
 * p50 and p99 of every cell, throughput against clients, and latency and throughput over time
 * (per second, warm-up included). Data: latency.csv, histograms.jsonl (the curve between the
 * percentiles latency.csv gives) and per-second.csv, each datum keyed by its cell.
 */
import type { TopLevelSpec } from 'vega-lite';
import { cellId, seriesLabel, type CellKey } from '../config/cell.js';
import { cellKeyOf, type CsvRow, type ReportData } from '../record/read.js';
import { histogramBins, percentile, totalCount } from '../analyze/stats.js';
import { axisWidth, bottomLegend, CONFIG, keyDatum, num, opsOf, panelWidth, SCHEMA, scheme, slug, unique, type ChartSpec } from './chart-kit.js';


/** Each row with its cell key. */
function keyed(rows: readonly CsvRow[], file: string): { row: CsvRow; key: CellKey }[] {
  return rows.map((row, i) => ({ row, key: cellKeyOf(row, `${file} row ${i + 1}`) }));
}

/** The percentiles latency.csv gives, with their columns: these points of a curve are the file's values. */
export const CSV_PERCENTILES = [
  [50, 'p50_ms'],
  [90, 'p90_ms'],
  [99, 'p99_ms'],
  [99.9, 'p999_ms'],
] as const;

/** Percentiles plotted between them for a cell with n samples: 10 per decade of 1/(1-p), up to 1/(1-p) = n. */
export function plotPercentiles(n: number): number[] {
  const out: number[] = [];
  const decades = Math.max(1, Math.log10(Math.max(n, 10)));
  for (let i = 0; i <= Math.floor(decades * 10); i++) out.push(100 * (1 - 1 / Math.pow(10, i / 10)));
  return out;
}


/** The points of one cell's curve: latency.csv's percentiles, and the histogram's in between. */
function curvePoints(data: ReportData, row: CsvRow, key: CellKey, series: string): Record<string, unknown>[] {
  const base = { ...keyDatum(key), series };
  const points: Record<string, unknown>[] = [];
  for (const [p, col] of CSV_PERCENTILES) {
    const v = num(row[col]);
    if (Number.isFinite(v)) points.push({ ...base, percentile: p, x: 1 / (1 - p / 100), latency_ms: v, source: 'latency.csv' });
  }
  const cell = data.cells.get(cellId(key));
  const bins = cell ? histogramBins(cell.ok) : [];
  const n = totalCount(bins);
  const onCsv = (x: number) => CSV_PERCENTILES.some(([p]) => Math.abs(x * (1 - p / 100) - 1) < 1e-6);
  for (const p of n > 0 ? plotPercentiles(n) : []) {
    const x = 1 / (1 - p / 100);
    if (!onCsv(x)) points.push({ ...base, percentile: p, x, latency_ms: percentile(bins, Math.max(p, 1e-9)) / 1000, source: 'histograms.jsonl' });
  }
  return points.sort((a, b) => (a.x as number) - (b.x as number));
}

/**
 * HDR-style latency-by-percentile plots, one chart per configuration, one panel per op, one line
 * per cell; one chart for all when every configuration has a single cell per op (a simulation's).
 */
export function percentileCharts(data: ReportData): ChartSpec[] {
  const all = keyed(data.latency, 'latency.csv');
  const configs = unique(all.map((r) => r.key.config));
  const single = configs.length > 1 && configs.every((c) => all.filter((r) => r.key.config === c).length === unique(all.filter((r) => r.key.config === c).map((r) => r.key.op)).length);
  return (single ? [null] : configs).flatMap((config) => {
    const mine = config === null ? all : all.filter((r) => r.key.config === config);
    const among = mine.map((r) => r.key);
    const values = mine.flatMap(({ row, key }) => curvePoints(data, row, key, seriesLabel(key, among, { withConfig: config === null })));
    if (!values.length) return [];
    const labels = unique(values.map((v) => v.series as string));
    const ops = opsOf(among);
    const maxX = Math.max(2, ...values.map((v) => v.x as number));
    const ticks = [2, 10, 100, 1000, 10000, 100000, 1000000].filter((t) => t <= maxX * 1.0001);
    const spec = {
      $schema: SCHEMA,
      config: CONFIG,
      title: { text: `Latency by percentile${config === null ? '' : ` — ${config}`}`, subtitle: 'one line per cell; the marked points at 50, 90, 99 and 99.9% are the values of latency.csv' },
      data: { values },
      facet: { column: { field: 'op', type: 'nominal', title: null, sort: ops, header: { labelExpr: "'operation: ' + datum.value" } } },
      spec: {
        width: panelWidth(ops.length, 56, 56, 380),
        height: 220,
        layer: [
          { mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 } },
          { mark: { type: 'point', filled: true, size: 28 }, transform: [{ filter: "datum.source == 'latency.csv'" }] },
        ],
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            scale: { type: 'log', domain: [1, maxX], nice: false },
            title: 'percentile (log scale of 1/(1-p))',
            axis: { values: ticks, labelExpr: "format(100 * (1 - 1 / datum.value), '.4~f') + '%'", labelOverlap: false },
          },
          y: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms)' },
          color: { field: 'series', type: 'nominal', sort: labels, scale: { scheme: scheme(labels.length) }, legend: bottomLegend(config === null ? 'configuration and cell' : 'cell', labels) },
        },
      },
      resolve: { scale: { y: 'independent' } },
    } as unknown as TopLevelSpec;
    return [
      {
        name: config === null ? 'latency-percentiles' : `latency-percentiles-${slug(config)}`,
        title: `Latency by percentile${config === null ? '' : `: ${config}`}`,
        description: `HDR-style plot${config === null ? '' : ` of ${config}`}: the x axis is 1/(1-p) on a log scale, so 50%, 90%, 99% and 99.9% are evenly spaced; one line per cell, labelled with its variant/schedule and every key field that differs. Dots: latency.csv; the steps between them: the merged HDR histograms.`,
        source: 'latency.csv',
        section: 'latency' as const,
        spec,
        labels,
      },
    ];
  });
}

/** Horizontal bars of p50 and p99 of every cell: one panel per operation, one pair of bars per cell. */
export function percentileBarsChart(data: ReportData): ChartSpec | null {
  const all = keyed(data.latency, 'latency.csv');
  const keys = all.map((r) => r.key);
  const withConfig = unique(keys.map((k) => k.config)).length > 1;
  const values = all
    .flatMap(({ row, key }) => (['p50', 'p99'] as const).map((m) => ({ ...keyDatum(key), series: seriesLabel(key, keys, { withConfig }), metric: m, latency_ms: num(row[`${m}_ms`]) })))
    .filter((v) => Number.isFinite(v.latency_ms));
  if (!values.length) return null;
  const labels = unique(values.map((v) => v.series));
  const ops = opsOf(keys);
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'p50 and p99 latency of every cell', subtitle: 'values of latency.csv' },
    data: { values },
    facet: { column: { field: 'op', type: 'nominal', title: null, sort: ops, header: { labelExpr: "'operation: ' + datum.value" } } },
    spec: {
      width: panelWidth(ops.length, axisWidth(labels), 0, 360),
      height: { step: 9, for: 'offset' },
      mark: 'bar',
      encoding: {
        y: { field: 'series', type: 'nominal', title: null, sort: labels },
        yOffset: { field: 'metric', type: 'nominal', sort: ['p50', 'p99'] },
        x: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms)', stack: null },
        color: { field: 'metric', type: 'nominal', sort: ['p50', 'p99'], title: 'percentile', legend: bottomLegend('percentile', ['p50', 'p99']) },
      },
    },
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
  return {
    name: 'latency-p50-p99',
    title: 'p50 and p99 latency of every cell',
    description: 'One pair of bars (p50, p99) per cell, one panel per operation; each bar is a value of latency.csv.',
    source: 'latency.csv',
    section: 'latency',
    spec,
    labels,
  };
}

/** Throughput of each operation against the number of clients: one line per cell with clients taken out of its key. */
export function throughputChart(data: ReportData): ChartSpec | null {
  const all = keyed(data.latency, 'latency.csv');
  const noClients = all.map((r) => ({ ...r.key, clients: 0 }));
  const withConfig = unique(all.map((r) => r.key.config)).length > 1;
  const values = all
    .map(({ row, key }, i) => ({ ...keyDatum(key), clients: key.clients, series: seriesLabel(noClients[i]!, noClients, { withConfig }), ops_per_s: num(row.ops_per_s) }))
    .filter((v) => Number.isFinite(v.ops_per_s));
  const bySeries = (s: string) => unique(values.filter((v) => v.series === s).map((v) => v.clients));
  const labels = unique(values.map((v) => v.series));
  if (!labels.some((s) => bySeries(s).length > 1)) return null;
  const clients = unique(values.map((v) => Number(v.clients))).sort((a, b) => a - b);
  const ops = opsOf(all.map((r) => r.key));
  const logScale = clients[clients.length - 1]! / clients[0]! >= 8;
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Throughput against clients', subtitle: 'successful operations of each kind per second (ops_per_s of latency.csv); one line per cell, clients aside' },
    data: { values },
    facet: { column: { field: 'op', type: 'nominal', title: null, sort: ops, header: { labelExpr: "'operation: ' + datum.value" } } },
    spec: {
      width: panelWidth(ops.length, 70, 0, 380),
      height: 220,
      mark: { type: 'line', point: { filled: true, size: 36 } },
      encoding: {
        x: { field: 'clients', type: 'quantitative', title: 'concurrent clients', scale: logScale ? { type: 'log', base: 2 } : { zero: false }, axis: { values: clients, format: 'd' } },
        y: { field: 'ops_per_s', type: 'quantitative', title: 'throughput (operations/s)' },
        color: { field: 'series', type: 'nominal', sort: labels, scale: { scheme: scheme(labels.length) }, legend: bottomLegend(withConfig ? 'configuration and cell' : 'cell', labels) },
      },
    },
  } as unknown as TopLevelSpec;
  return {
    name: 'throughput-vs-clients',
    title: 'Throughput against clients',
    description: 'ops_per_s of latency.csv against the number of concurrent clients, one panel per operation, one line per cell (clients aside).',
    source: 'latency.csv',
    section: 'latency',
    spec,
    labels,
  };
}

/** What each row of the over-time charts shows, and its column of per-second.csv. */
export const OVER_TIME_MEASURES = [
  ['p50_ms', 'p50 latency (ms)'],
  ['p99_ms', 'p99 latency (ms)'],
  ['ops_per_s', 'throughput (operations/s)'],
] as const;

/** Fewest seconds a cell must last for its over-time chart to show more than a dot. */
export const MIN_SECONDS = 3;

/** The most seconds any one series (cell key and repetition) of per-second rows spans. */
export function longestSeconds(rows: readonly { series?: unknown; op?: unknown; repeat?: unknown; second?: unknown }[]): number {
  const spans = new Map<string, Set<number>>();
  for (const r of rows) {
    const id = `${String(r.series)}|${String(r.op)}|${String(r.repeat)}`;
    spans.set(id, (spans.get(id) ?? new Set()).add(Number(r.second)));
  }
  return Math.max(0, ...[...spans.values()].map((s) => s.size));
}

/** Latency and throughput second by second, one chart per configuration, warm-up dashed. */
export function overTimeCharts(data: ReportData): ChartSpec[] {
  const all = keyed(data.perSecond, 'per-second.csv');
  return unique(all.map((r) => r.key.config)).flatMap((config) => {
    const mine = all.filter((r) => r.key.config === config);
    const among = mine.map((r) => r.key);
    const values = mine.flatMap(({ row, key }) =>
      OVER_TIME_MEASURES.filter(([col]) => col === 'ops_per_s' || num(row.count) > 0).map(([col, measure]) => ({
        ...keyDatum(key),
        series: seriesLabel(key, among),
        repeat: num(row.repeat),
        second: num(row.second),
        phase: row.phase,
        column: col,
        measure,
        value: num(row[col]),
      })),
    );
    if (longestSeconds(values) < MIN_SECONDS) return [];
    const labels = unique(values.map((v) => v.series));
    const ops = opsOf(among);
    const spec = {
      $schema: SCHEMA,
      config: CONFIG,
      title: { text: `Latency and throughput over time — ${config}`, subtitle: 'each second of each cell (per-second.csv); dashed: warm-up operations, not in latency.csv' },
      data: { values },
      facet: {
        row: { field: 'measure', type: 'nominal', title: null, sort: OVER_TIME_MEASURES.map((m) => m[1]), header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } },
        column: { field: 'op', type: 'nominal', title: null, sort: ops, header: { labelExpr: "'operation: ' + datum.value" } },
      },
      spec: {
        width: panelWidth(ops.length, 60, 60, 380),
        height: 110,
        encoding: {
          x: { field: 'second', type: 'quantitative', title: 'second of the cell (0: its first operation)', axis: { tickMinStep: 1, format: 'd' } },
          y: { field: 'value', type: 'quantitative', title: null },
          color: { field: 'series', type: 'nominal', sort: labels, scale: { scheme: scheme(labels.length) }, legend: bottomLegend('cell', labels) },
          detail: { field: 'repeat', type: 'nominal' },
        },
        layer: [
          {
            mark: { type: 'line', strokeWidth: 1.5 },
            encoding: {
              strokeDash: { field: 'phase', type: 'nominal', sort: ['measured', 'warmup'], scale: { domain: ['measured', 'warmup'], range: [[1, 0], [4, 3]] }, legend: bottomLegend('phase', ['measured', 'warmup']) },
            },
          },
          { mark: { type: 'point', filled: true, size: 18 } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as unknown as TopLevelSpec;
    return [
      {
        name: `over-time-${slug(config)}`,
        title: `Latency and throughput over time: ${config}`,
        description: `Each second of each cell of ${config}, counted from its first operation: p50 and p99 of the operations that ended in that second, and how many ended per second of it. Warm-up (dashed) and drift show here; repetitions are drawn apart.`,
        source: 'per-second.csv',
        section: 'over-time' as const,
        spec,
        labels,
      },
    ];
  });
}
