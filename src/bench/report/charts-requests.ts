/**
 * Request, cost and probe charts: store requests per logical operation of every cell at every
 * replica (requests.csv), the cost of those requests and of the storage (cost.csv, with its
 * currency on the axis), and the raw call latency of every replica measured by `rkvs probe`
 * (probe.csv). One bar per row of the file and measure: never stacked, never summed.
 */
import type { TopLevelSpec } from 'vega-lite';
import { seriesLabel, type CellKey } from '../config/cell.js';
import { cellKeyOf, type CsvRow, type ReportData } from '../record/read.js';
import { axisWidth, bottomLegend, byOp, CONFIG, keyDatum, num, opsOf, panelWidth, replicaSlots, SCHEMA, scheme, sizeLabel, unique, type ChartSpec } from './chart-kit.js';

const opHeader = { labelExpr: "'operation: ' + datum.value" };

/** requests.csv's request kinds: column and name. */
export const REQUEST_KINDS = [
  ['puts', 'put'],
  ['gets', 'get'],
  ['lists', 'list'],
  ['removes', 'remove'],
] as const;

/** Requests per logical operation: a row of panels per request kind, a column per op, a bar per (cell, replica). */
export function requestsChart(data: ReportData): ChartSpec | null {
  const keys = data.requests.map((r, i) => cellKeyOf(r, `requests.csv row ${i + 1}`));
  const withConfig = unique(keys.map((k) => k.config)).length > 1;
  const kinds = REQUEST_KINDS.filter(([col]) => data.requests.some((r) => num(r[col]) > 0));
  const slot = replicaSlots(data.requests);
  const values = data.requests.flatMap((row, i) =>
    kinds.map(([col, kind]) => ({
      ...keyDatum(keys[i]!),
      series: seriesLabel(keys[i]!, keys, { withConfig }),
      replica: row.replica ?? '',
      slot: slot(row),
      request: `${kind} requests`,
      column: col,
      value: num(row[col]),
    })),
  ).filter((v) => Number.isFinite(v.value));
  if (!values.length) return null;
  const labels = unique(values.map((v) => v.series));
  const replicas = unique(values.map((v) => v.replica));
  const ops = opsOf(keys);
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Store requests per logical operation', subtitle: 'each bar is one row of requests.csv: requests a replica received per operation of the cell' },
    data: { values },
    facet: {
      row: { field: 'request', type: 'nominal', title: null, sort: kinds.map((k) => `${k[1]} requests`), header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } },
      column: { field: 'op', type: 'nominal', title: null, sort: ops, header: opHeader },
    },
    spec: {
      width: panelWidth(ops.length, axisWidth(labels), 0, 360),
      height: { step: 6, for: 'offset' },
      mark: 'bar',
      encoding: {
        y: { field: 'series', type: 'nominal', title: null, sort: labels },
        yOffset: { field: 'slot', type: 'ordinal' },
        x: { field: 'value', type: 'quantitative', title: 'requests per operation', stack: null },
        color: { field: 'replica', type: 'nominal', sort: replicas, scale: { scheme: scheme(replicas.length) }, legend: bottomLegend('replica', replicas) },
      },
    },
  } as unknown as TopLevelSpec;
  return {
    name: 'requests-per-op',
    title: 'Requests per operation',
    description: 'Store requests each replica received per logical operation of each cell (background GC and lingering calls included), by kind: one bar per row of requests.csv.',
    source: 'requests.csv',
    section: 'requests',
    spec,
    labels: [...labels, ...replicas],
  };
}

/** The currency of cost.csv's rows (`USD`), `MIXED` when they differ. */
export function costCurrency(rows: readonly CsvRow[]): string {
  const c = unique(rows.map((r) => r.currency ?? '').filter(Boolean));
  return c.length === 1 ? c[0]! : c.length ? 'MIXED' : '';
}

/** Rows of cost.csv with a request cost (one per cell key), and with a storage cost (one per cell and phase). */
export function costParts(data: ReportData): { requests: CsvRow[]; storage: CsvRow[] } {
  const rows = data.cost.filter((r) => r.op !== undefined);
  return {
    requests: rows.filter((r) => r.op !== 'storage' && Number.isFinite(num(r.cost_per_million_ops))),
    storage: rows.filter((r) => r.op === 'storage' && Number.isFinite(num(r.storage_per_logical_gb_month))),
  };
}

/** Cost charts from cost.csv: requests (and egress) per million operations, and storage per logical GB-month; none when all are zero. */
export function costCharts(data: ReportData): ChartSpec[] {
  const { requests, storage } = costParts(data);
  const currency = costCurrency(data.cost) || 'currency units';
  const out: ChartSpec[] = [];
  const reqCols = [['cost_per_million_ops', 'requests'], ['egress_per_million_ops', 'egress']].filter(([col]) => requests.some((r) => num(r[col!]) > 0));
  if (reqCols.length) out.push(costChart(requests, reqCols as [string, string][], currency, 'op'));
  if (storage.some((r) => num(r.storage_per_logical_gb_month) > 0)) out.push(costChart(storage, [['storage_per_logical_gb_month', 'storage']], currency, 'phase'));
  return out;
}

function costChart(rows: CsvRow[], cols: [string, string][], currency: string, panel: 'op' | 'phase'): ChartSpec {
  const keys: CellKey[] = rows.map((r, i) => cellKeyOf(r, `cost.csv row ${i + 1}`));
  const withConfig = unique(keys.map((k) => k.config)).length > 1;
  const values = rows.flatMap((row, i) =>
    cols.map(([col, component]) => ({ ...keyDatum(keys[i]!), phase: row.phase ?? '', series: seriesLabel(keys[i]!, keys, { withConfig }), column: col, component, value: num(row[col]) })),
  );
  const labels = unique(values.map((v) => v.series));
  const panels = unique(values.map((v) => String((v as Record<string, unknown>)[panel]))).sort(byOp);
  const storage = panel === 'phase';
  const unit = storage ? `${currency} per GB-month of logical data` : `${currency} per million operations`;
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: storage ? 'Storage cost' : 'Request cost per operation', subtitle: `cost.csv, in ${currency}${storage ? ': stored bytes at every replica, priced, per GB of data written' : ''}` },
    data: { values },
    facet: { column: { field: panel, type: 'nominal', title: null, sort: panels, header: storage ? { labelExpr: "datum.value == 'peak' ? 'at the peak' : 'after quiescence'" } : opHeader } },
    spec: {
      width: panelWidth(panels.length, axisWidth(labels), 0, 380),
      height: { step: 12, for: 'offset' },
      mark: 'bar',
      encoding: {
        y: { field: 'series', type: 'nominal', title: null, sort: labels },
        yOffset: { field: 'component', type: 'nominal', sort: cols.map((c) => c[1]) },
        x: { field: 'value', type: 'quantitative', title: unit, stack: null },
        color: { field: 'component', type: 'nominal', sort: cols.map((c) => c[1]), legend: bottomLegend('', cols.map((c) => c[1])) },
      },
    },
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
  return {
    name: storage ? 'cost-storage' : 'cost-per-op',
    title: storage ? 'Storage cost' : 'Request cost per operation',
    description: storage
      ? `What keeping the data costs, in ${unit}: the stored bytes of every replica at the peak and after quiescence, priced (storage_per_logical_gb_month of cost.csv).`
      : `What the store requests of one million operations cost, in ${currency} (cost_per_million_ops and egress_per_million_ops of cost.csv).`,
    source: 'cost.csv',
    section: 'requests',
    spec,
    labels,
  };
}

const CALLS = ['put', 'get', 'list', 'remove'];

/** Raw call latency of every replica by call and value size, from probe.csv (p50 and p99). */
export function probeChart(data: ReportData): ChartSpec | null {
  const rows = data.probe.filter((r) => CALLS.includes(r.check ?? '') && num(r.count) > 0);
  const withConfig = unique(rows.map((r) => r.config)).length > 1;
  const values = rows
    .flatMap((r) =>
      (['p50', 'p99'] as const).map((m) => ({
        config: r.config ?? '',
        replica: r.replica ?? '',
        check: r.check!,
        value_bytes: num(r.value_bytes),
        who: withConfig ? `${r.config} / ${r.replica}` : (r.replica ?? ''),
        size: sizeLabel(num(r.value_bytes)),
        metric: `${m} latency (ms)`,
        column: `${m}_ms`,
        value: num(r[`${m}_ms`]),
      })),
    )
    .filter((v) => Number.isFinite(v.value));
  if (!values.length) return null;
  const who = unique(values.map((v) => v.who));
  const sizes = unique(values.map((v) => v.value_bytes)).sort((a, b) => a - b).map(sizeLabel);
  const calls = CALLS.filter((c) => values.some((v) => v.check === c));
  const spec = {
    $schema: SCHEMA,
    config: CONFIG,
    title: { text: 'Raw call latency of every replica', subtitle: 'probe.csv (rkvs probe): each call straight to the replica, by value size' },
    data: { values },
    facet: {
      row: { field: 'metric', type: 'nominal', title: null, sort: ['p50 latency (ms)', 'p99 latency (ms)'], header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start' } },
      column: { field: 'check', type: 'nominal', title: null, sort: calls, header: { labelExpr: "'call: ' + datum.value" } },
    },
    spec: {
      width: panelWidth(calls.length, axisWidth(who), 0, 300),
      height: { step: 9, for: 'offset' },
      mark: 'bar',
      encoding: {
        y: { field: 'who', type: 'nominal', title: null, sort: who },
        yOffset: { field: 'size', type: 'nominal', sort: sizes },
        x: { field: 'value', type: 'quantitative', title: 'ms', stack: null },
        color: { field: 'size', type: 'nominal', sort: sizes, scale: { scheme: 'tableau10' }, legend: bottomLegend('value size', sizes) },
      },
    },
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
  return {
    name: 'probe-latency',
    title: 'Raw call latency of every replica',
    description: 'p50 and p99 latency of put, get, list and remove calls made straight to each replica by rkvs probe, by value size (probe.csv).',
    source: 'probe.csv',
    section: 'probe',
    spec,
    labels: who,
  };
}
