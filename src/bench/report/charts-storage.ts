/**
 * Storage charts: objects per register and stored / logical bytes of every cell at every replica,
 * at the peak and at quiescence (overhead.csv, one bar per row: never stacked, never summed), and
 * a simulation's copies of one register over time against its bound (timeseries.csv) with the
 * scenario's headline figures (summary.csv).
 */
import type { TopLevelSpec } from 'vega-lite';
import { seriesLabel } from '../config/cell.js';
import { cellFromRow, type ReportData } from '../record/read.js';
import { axisWidth, bottomLegend, CONFIG, keyDatum, num, panelWidth, replicaSlots, SCHEMA, scheme, unique, type ChartSpec } from './chart-kit.js';


/** What each row of the storage chart shows, and its column of overhead.csv. */
export const STORAGE_MEASURES = [
  ['copies_per_register', 'objects per register written'],
  ['overhead_ratio', 'stored bytes / logical bytes'],
] as const;

/** Storage of every cell at every replica: one bar per row of overhead.csv and measure. */
export function storageChart(data: ReportData): ChartSpec | null {
  const cells = data.overhead.map((r, i) => cellFromRow(r, `overhead.csv row ${i + 1}`));
  const withConfig = unique(cells.map((c) => c.config)).length > 1;
  const slot = replicaSlots(data.overhead);
  const values = data.overhead.flatMap((row, i) =>
    STORAGE_MEASURES.map(([col, measure]) => ({
      ...keyDatum(cells[i]!),
      series: seriesLabel(cells[i]!, cells, { withConfig }),
      replica: row.replica ?? '',
      slot: slot(row),
      phase: row.phase ?? '',
      column: col,
      measure,
      value: num(row[col]),
    })),
  ).filter((v) => Number.isFinite(v.value));
  if (!values.length) return null;
  const labels = unique(values.map((v) => v.series));
  const replicas = unique(values.map((v) => v.replica));
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Storage per cell and replica', subtitle: 'each bar is one row of overhead.csv: peak while the cell ran, and after quiescence' },
    data: { values },
    facet: {
      row: { field: 'measure', type: 'nominal', title: null, sort: STORAGE_MEASURES.map((m) => m[1]), header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } },
      column: { field: 'phase', type: 'nominal', title: null, sort: ['peak', 'quiescent'], header: { labelExpr: "datum.value == 'peak' ? 'peak (while the cell ran)' : 'after quiescence'" } },
    },
    spec: {
      width: panelWidth(2, axisWidth(labels), 0, 380),
      height: { step: 8, for: 'offset' },
      mark: 'bar',
      encoding: {
        y: { field: 'series', type: 'nominal', title: null, sort: labels },
        yOffset: { field: 'slot', type: 'ordinal' },
        x: { field: 'value', type: 'quantitative', title: null, stack: null },
        color: { field: 'replica', type: 'nominal', sort: replicas, scale: { scheme: scheme(replicas.length) }, legend: bottomLegend('replica', replicas) },
      },
    },
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
  return {
    name: 'storage',
    title: 'Storage per cell and replica',
    description:
      'Objects per register written, and stored / logical bytes, of each cell at each replica: the peak seen while the cell ran and the listing after every client settled. One bar per row of overhead.csv.',
    source: 'overhead.csv',
    section: 'storage',
    spec,
    labels: [...labels, ...replicas],
  };
}

/** A simulation's charts: copies over time (timeseries.csv) and its headline figures (summary.csv). */
export function simulationCharts(data: ReportData): ChartSpec[] {
  return [copiesOverTimeChart(data), copiesHeadlineChart(data)].filter((c): c is ChartSpec => c !== null);
}

/** Copies of the register at each replica over (virtual) time, with the point-contention bound: one panel per cell. */
function copiesOverTimeChart(data: ReportData): ChartSpec | null {
  const rows = data.timeseries.filter((r) => r.config !== undefined && r.time_ms !== undefined && r.objects !== undefined);
  if (!rows.length) return null;
  const values = rows.map((r) => ({ config: r.config!, replica: r.replica ?? '', time_ms: num(r.time_ms), objects: num(r.objects), concurrent_writes: num(r.concurrent_writes), bound: num(r.bound) }));
  const configs = unique(values.map((v) => v.config));
  const replicas = unique(values.map((v) => v.replica));
  const columns = Math.min(3, configs.length);
  const width = panelWidth(columns, 50, 50, 360);
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Copies of the register at each replica over time', subtitle: 'timeseries.csv: one panel per cell; black: point contention + 2 at that moment' },
    data: { values },
    facet: { field: 'config', type: 'nominal', title: null, sort: configs },
    columns,
    spec: {
      width,
      height: 150,
      layer: [
        {
          mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.3 },
          encoding: {
            x: { field: 'time_ms', type: 'quantitative', title: 'simulated time (ms)' },
            y: { field: 'objects', type: 'quantitative', title: 'copies (objects)' },
            color: { field: 'replica', type: 'nominal', sort: replicas, scale: { scheme: scheme(replicas.length) }, legend: bottomLegend('replica', replicas) },
          },
        },
        {
          mark: { type: 'line', interpolate: 'step-after', color: 'black', strokeDash: [4, 3], strokeWidth: 1 },
          encoding: { x: { field: 'time_ms', type: 'quantitative' }, y: { field: 'bound', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as unknown as TopLevelSpec;
  return {
    name: 'copies-over-time',
    title: 'Copies of the register over time',
    description:
      'Objects the register holds at each replica, at every change (timeseries.csv), against point contention + 2 (dashed). Above that line is allowed while writes overlap; the checked bound is overlap contention + 2 (see the checks).',
    source: 'timeseries.csv',
    section: 'simulation',
    spec,
    labels: replicas,
  };
}

/** The headline columns of space-vs-contention's summary.csv, drawn against the number of writers. */
export const HEADLINE_MEASURES = [
  ['peak_copies_in_order', 'peak copies, lingering puts aside'],
  ['peak_copies_all', 'peak copies, lingering puts included'],
  ['bound', 'point contention + 2'],
  ['quiescent_copies', 'after one more write (quiescence)'],
] as const;

/** Peak and quiescent copies against the number of writers (space-vs-contention's headline). */
function copiesHeadlineChart(data: ReportData): ChartSpec | null {
  const rows = data.summary.filter((r) => r.writers !== undefined && r.peak_copies_in_order !== undefined && r.bound !== undefined);
  if (!rows.length) return null;
  const measures = HEADLINE_MEASURES.filter(([col]) => rows.every((r) => r[col] !== undefined && r[col] !== ''));
  const values = rows.flatMap((r) => measures.map(([col, measure]) => ({ config: r.config ?? '', writers: num(r.writers), column: col, measure, value: num(r[col]) })));
  const writers = unique(values.map((v) => v.writers)).sort((a, b) => a - b);
  const labels = measures.map((m) => m[1] as string);
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Peak copies against concurrent writers', subtitle: 'summary.csv: the largest number of copies any replica held, per number of writers' },
    data: { values },
    width: 560,
    height: 240,
    mark: { type: 'line', point: { filled: true, size: 40 } },
    encoding: {
      x: { field: 'writers', type: 'quantitative', title: 'concurrent writers on one register (c)', scale: { type: 'log', base: 2 }, axis: { values: writers, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: 'copies at a replica' },
      color: { field: 'measure', type: 'nominal', sort: labels, scale: { scheme: 'tableau10' }, legend: bottomLegend('', labels) },
      strokeDash: { field: 'measure', type: 'nominal', sort: labels, legend: null },
    },
  } as unknown as TopLevelSpec;
  return {
    name: 'copies-headline',
    title: 'Peak copies against concurrent writers',
    description: 'The headline of the scenario: peak copies per replica (without and with lingering puts), point contention + 2, and the copies left after one more write, for each number of concurrent writers (summary.csv).',
    source: 'summary.csv',
    section: 'simulation',
    spec,
    labels,
  };
}
