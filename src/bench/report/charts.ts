/**
 * Charts of a report, as Vega-Lite specifications rendered to SVG at report time by Vega's
 * server-side renderer (no browser, no network), and to PNG by resvg for papers and slides.
 * Every cell key has a series (or bar) of its own: labels name each field that differs among the
 * chart's cells, and nothing is summed across cells (only across a cell's replicas).
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CELL_KEY_COLUMNS, cellId, NUMERIC_CELL_FIELDS, seriesLabel, type Cell, type CellKey } from '../config/cell.js';
import { cellFromRow, cellKeyOf, type CsvRow, type ReportData } from '../record/read.js';
import { histogramBins, percentile, totalCount } from '../analyze/stats.js';

/** A chart of the report: a name (file stem), a title, and its Vega-Lite spec. */
export interface ChartSpec {
  name: string;
  title: string;
  description: string;
  spec: TopLevelSpec;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, titleLimit: 400 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14 },
};

/** The x axis of a chart with one bar (or pair) per cell: slanted labels, long enough for a cell label. */
const CELL_AXIS = { labelAngle: -35, labelLimit: 320 };

/** Renders a Vega-Lite spec to a standalone SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders an SVG document to PNG at `zoom` times its size. */
export function renderPng(svg: string, zoom = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** The cell key fields a row has (the others empty or 0), for labels. */
function lenientKey(r: CsvRow): CellKey {
  return Object.fromEntries(CELL_KEY_COLUMNS.map((c) => [c, NUMERIC_CELL_FIELDS.has(c) ? Number(r[c] ?? 0) : (r[c] ?? '')])) as unknown as CellKey;
}

/** Each row with its cell key (CSV files of a report directory in the current format). */
function keyed(rows: readonly CsvRow[], file: string): { row: CsvRow; key: CellKey }[] {
  return rows.map((row, i) => ({ row, key: cellKeyOf(row, `${file} row ${i + 1}`) }));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** Percentiles plotted for a cell with n samples: 10 per decade of 1/(1-p), up to 1/(1-p) = n. */
export function plotPercentiles(n: number): number[] {
  const out: number[] = [];
  const decades = Math.max(1, Math.log10(Math.max(n, 10)));
  for (let i = 0; i <= Math.floor(decades * 10); i++) {
    const x = Math.pow(10, i / 10);
    out.push(100 * (1 - 1 / x));
  }
  return out;
}

/** File-name-safe form of a label. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** HDR-style latency-by-percentile plots, one chart per configuration, one panel per op, one line per cell. */
export function percentileCharts(data: ReportData): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const all = keyed(data.latency, 'latency.csv');
  for (const config of unique(all.map((r) => r.key.config))) {
    const mine = all.filter((r) => r.key.config === config);
    const points: Record<string, unknown>[] = [];
    for (const { row, key } of mine) {
      const name = seriesLabel(key, mine.map((r) => r.key));
      const cell = data.cells.get(cellId(key));
      const bins = cell ? histogramBins(cell.ok) : [];
      const n = totalCount(bins);
      if (n > 0) {
        for (const p of plotPercentiles(n)) {
          const x = p === 0 ? 1 : 1 / (1 - p / 100);
          points.push({ series: name, op: key.op, x, percentile: p, latency_ms: percentile(bins, Math.max(p, 1e-9)) / 1000 });
        }
      } else {
        // no histograms: the percentiles of latency.csv
        for (const [p, col] of [[50, 'p50_ms'], [90, 'p90_ms'], [99, 'p99_ms'], [99.9, 'p999_ms']] as const) {
          const v = Number(row[col]);
          if (Number.isFinite(v)) points.push({ series: name, op: key.op, x: 1 / (1 - p / 100), percentile: p, latency_ms: v });
        }
      }
    }
    if (points.length === 0) continue;
    charts.push({
      name: `latency-percentiles-${slug(config)}`,
      title: `Latency by percentile: ${config}`,
      description: 'HDR-style plot: x is 1/(1-p) on a log scale (50%, 90%, 99%, 99.9% ... evenly spaced); one line per cell (variant/schedule and every field that differs).',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        config: CONFIG,
        title: `Latency by percentile — ${config}`,
        data: { values: points },
        facet: { column: { field: 'op', type: 'nominal', title: 'operation' } },
        spec: {
          width: 300,
          height: 220,
          mark: { type: 'line', point: { size: 12 }, interpolate: 'step-after' },
          encoding: {
            x: {
              field: 'x',
              type: 'quantitative',
              scale: { type: 'log' },
              title: 'percentile (axis 1/(1-p), log)',
              axis: { values: [2, 10, 100, 1000, 10000, 100000, 1000000], labelExpr: "format(100 * (1 - 1 / datum.value), '.4~f') + '%'" },
            },
            y: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms)' },
            color: { field: 'series', type: 'nominal', title: 'cell', scale: { scheme: 'category20' } },
          },
        },
        resolve: { scale: { y: 'independent' } },
      } as TopLevelSpec,
    });
  }
  return charts;
}

/** Bars of p50 and p99 of every cell: one row of panels per configuration, one panel per op. */
export function percentileBarsChart(data: ReportData): ChartSpec | null {
  const all = keyed(data.latency, 'latency.csv');
  const keys = all.map((r) => r.key);
  const values = all
    .flatMap(({ row, key }) => (['p50', 'p99'] as const).map((m) => ({ config: key.config, cell: seriesLabel(key, keys), op: key.op, metric: m, latency_ms: Number(row[`${m}_ms`]) })))
    .filter((v) => Number.isFinite(v.latency_ms));
  if (values.length === 0) return null;
  return {
    name: 'latency-p50-p99',
    title: 'p50 and p99 latency of every cell',
    description: 'One pair of bars (p50, p99) per cell; rows: configurations, panels: operations.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CONFIG,
      title: 'p50 and p99 latency of every cell',
      data: { values },
      facet: { row: { field: 'config', type: 'nominal', title: 'configuration' }, column: { field: 'op', type: 'nominal', title: 'operation' } },
      spec: {
        width: { step: 22 },
        height: 160,
        mark: 'bar',
        encoding: {
          x: { field: 'cell', type: 'nominal', title: 'cell', axis: CELL_AXIS },
          xOffset: { field: 'metric', type: 'nominal', sort: ['p50', 'p99'] },
          y: { field: 'latency_ms', type: 'quantitative', title: 'latency (ms)' },
          color: { field: 'metric', type: 'nominal', title: 'percentile', sort: ['p50', 'p99'] },
        },
      },
      resolve: { scale: { x: 'independent', y: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Storage overhead per cell and replica, peak and quiescent. */
export function overheadChart(data: ReportData): ChartSpec | null {
  const cells: Cell[] = data.overhead.map((r, i) => cellFromRow(r, `overhead.csv row ${i + 1}`));
  const values = data.overhead
    .map((r, i) => ({
      where: `${r.config} / ${r.replica}`,
      cell: seriesLabel(cells[i]!, cells),
      replica: r.replica,
      phase: r.phase,
      overhead_ratio: Number(r.overhead_ratio),
      stored_bytes: Number(r.stored_bytes),
    }))
    .filter((v) => Number.isFinite(v.overhead_ratio));
  if (values.length === 0) return null;
  return {
    name: 'storage-overhead',
    title: 'Storage overhead per replica',
    description: 'Stored bytes / logical bytes of each cell on each replica, at the peak during the run and after quiescence.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CONFIG,
      title: 'Storage overhead per cell and replica (stored / logical bytes)',
      data: { values },
      facet: { row: { field: 'where', type: 'nominal', title: 'configuration / replica' } },
      spec: {
        width: { step: 22 },
        height: 110,
        mark: 'bar',
        encoding: {
          x: { field: 'cell', type: 'nominal', title: 'cell', axis: CELL_AXIS },
          xOffset: { field: 'phase', type: 'nominal', sort: ['peak', 'quiescent'] },
          y: { field: 'overhead_ratio', type: 'quantitative', title: 'overhead ratio' },
          color: { field: 'phase', type: 'nominal', title: 'phase', sort: ['peak', 'quiescent'] },
        },
      },
      resolve: { scale: { x: 'independent' } },
    } as TopLevelSpec,
  };
}

const REQUEST_KINDS = ['puts', 'gets', 'lists', 'removes'] as const;

/** Requests per logical operation of each cell, summed over its replicas, by request kind. */
export function requestsChart(data: ReportData): ChartSpec | null {
  const all = keyed(data.requests, 'requests.csv');
  const keys = all.map((r) => r.key);
  const values = all
    .flatMap(({ row, key }) => REQUEST_KINDS.map((k) => ({ config: key.config, cell: seriesLabel(key, keys), op: key.op, replica: row.replica, request: k.slice(0, -1), count: Number(row[k]) })))
    .filter((v) => Number.isFinite(v.count));
  if (values.length === 0) return null;
  return {
    name: 'requests-per-op',
    title: 'Requests per operation',
    description: 'Store requests per logical operation of each cell, summed over its replicas, by kind.',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CONFIG,
      title: "Store requests per logical operation (summed over each cell's replicas)",
      data: { values },
      facet: { row: { field: 'config', type: 'nominal', title: 'configuration' }, column: { field: 'op', type: 'nominal', title: 'operation' } },
      spec: {
        width: { step: 24 },
        height: 140,
        mark: 'bar',
        encoding: {
          x: { field: 'cell', type: 'nominal', title: 'cell', axis: CELL_AXIS },
          y: { aggregate: 'sum', field: 'count', type: 'quantitative', title: 'requests / op' },
          color: { field: 'request', type: 'nominal', title: 'request', sort: ['put', 'get', 'list', 'remove'] },
        },
      },
      resolve: { scale: { x: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Columns of cost.csv that hold a cost per operation (named *cost*, *usd* or *price*, numeric). */
export function costColumns(rows: CsvRow[]): string[] {
  if (rows.length === 0) return [];
  return Object.keys(rows[0]!).filter((c) => /cost|usd|price/i.test(c) && rows.some((r) => r[c] !== '' && Number.isFinite(Number(r[c]))));
}

/** Cost per operation from cost.csv, one bar per cell key, when it has an `op` column and a cost column. */
export function costChart(data: ReportData): ChartSpec | null {
  const rows = data.cost;
  if (rows.length === 0 || !('op' in rows[0]!)) return null;
  const cols = costColumns(rows);
  const col = cols.find((c) => /op/i.test(c) && !/gb/i.test(c)) ?? cols[0];
  if (!col) return null;
  const priced = rows.filter((r) => r[col] !== '' && Number.isFinite(Number(r[col])));
  // cost.csv may come from elsewhere (rkvs cost with other tools' rows): label by the key fields it has
  const keys = priced.map((r) => lenientKey(r));
  const values = priced.map((r, i) => ({ cell: seriesLabel(keys[i]!, keys, { withConfig: true }), variant: r.variant ?? '', op: r.op, value: Number(r[col]) }));
  if (values.length === 0) return null;
  return {
    name: 'cost-per-op',
    title: `Cost per operation (${col})`,
    description: `The ${col} column of cost.csv.`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
      config: CONFIG,
      title: `Cost per operation (${col})`,
      data: { values },
      facet: { column: { field: 'op', type: 'nominal', title: 'operation' } },
      spec: {
        width: { step: 20 },
        height: 160,
        mark: 'bar',
        encoding: {
          x: { field: 'cell', type: 'nominal', title: 'cell', axis: CELL_AXIS },
          y: { field: 'value', type: 'quantitative', title: col },
          color: { field: 'variant', type: 'nominal', title: 'variant' },
        },
      },
      resolve: { scale: { x: 'independent' } },
    } as TopLevelSpec,
  };
}

/** Every chart of a report, in display order. */
export function reportCharts(data: ReportData): ChartSpec[] {
  return [
    ...percentileCharts(data),
    percentileBarsChart(data),
    overheadChart(data),
    requestsChart(data),
    costChart(data),
  ].filter((c): c is ChartSpec => c !== null);
}
