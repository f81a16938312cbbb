/**
 * Every chart of report.html holds the values of its CSV file: each test reads the rendered spec's
 * data, finds the CSV row each datum names (by its key fields) and checks the drawn value is the
 * file's; and no two data share a mark (every varying key field is encoded, nothing stacked).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, type TopLevelSpec } from 'vega-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReportDir, type CsvRow, type ReportData } from '../../src/bench/record/read.js';
import { renderSvg, specValues, type ChartSpec } from '../../src/bench/report/chart-kit.js';
import { reportCharts } from '../../src/bench/report/charts.js';
import { CSV_PERCENTILES } from '../../src/bench/report/charts-latency.js';
import { loadReport } from '../../src/bench/report/html.js';
import { SimReport } from '../../src/simulate/report.js';
import { LONG_REPLICAS, QUIESCENT_COPIES, writeRichReport } from './report-fixture.js';

const SEED = Number(process.env.TEST_SEED ?? 5);
let root: string;
let data: ReportData;
let charts: ChartSpec[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rkvs-charts-'));
  data = await loadReport(await writeRichReport(join(root, 'run'), SEED));
  charts = reportCharts(data);
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const chart = (name: string) => {
  const c = charts.find((x) => x.name === name);
  if (!c) throw new Error(`no chart ${name} among ${charts.map((x) => x.name).join(', ')} (seed ${SEED})`);
  return c;
};

/** The CSV rows a datum names: equal on every field the datum and the file share, the value fields aside. */
function rowsOf(datum: Record<string, unknown>, rows: readonly CsvRow[], skip: readonly string[]): CsvRow[] {
  const cols = Object.keys(rows[0] ?? {});
  const fields = Object.keys(datum).filter((f) => cols.includes(f) && !skip.includes(f));
  const same = (a: unknown, b: string | undefined) => (typeof a === 'number' ? Number(b) === a : String(a) === b);
  return rows.filter((r) => fields.every((f) => same(datum[f], r[f])));
}

/** Each datum's value equals the value of its row of the CSV file (column `column(datum)`). */
function expectValuesFromCsv(c: ChartSpec, rows: readonly CsvRow[], valueField: string, column: (d: Record<string, unknown>) => string): void {
  const values = specValues(c.spec);
  expect(values.length, c.name).toBeGreaterThan(0);
  for (const d of values) {
    const col = column(d);
    const found = rowsOf(d, rows, [valueField, col, 'count']);
    expect(found.length, `${c.name}: datum ${JSON.stringify(d)} names ${found.length} rows (seed ${SEED})`).toBe(1);
    expect(d[valueField], `${c.name}: ${JSON.stringify(d)} (seed ${SEED})`).toBe(Number(found[0]![col]));
  }
}

/** The fields that place a datum: facets and every encoded field but the drawn value. */
function placingFields(spec: TopLevelSpec, valueField: string): string[] {
  const s = spec as unknown as Record<string, unknown>;
  const fields = new Set<string>();
  const facet = s.facet as Record<string, { field?: string }> | { field?: string } | undefined;
  if (facet && 'field' in facet && typeof facet.field === 'string') fields.add(facet.field);
  else if (facet) for (const f of Object.values(facet as Record<string, { field?: string }>)) if (f?.field) fields.add(f.field);
  const visit = (x: Record<string, unknown> | undefined) => {
    if (!x) return;
    for (const e of Object.values((x.encoding ?? {}) as Record<string, { field?: string }>)) if (e?.field && e.field !== valueField) fields.add(e.field);
    for (const l of (x.layer ?? []) as Record<string, unknown>[]) visit(l);
  };
  visit(s);
  visit(s.spec as Record<string, unknown> | undefined);
  return [...fields];
}

/** No two data are drawn at one place: no mark hides or stacks on another. */
function expectOneDatumPerMark(c: ChartSpec, valueField: string): void {
  const fields = placingFields(c.spec, valueField);
  const seen = new Map<string, unknown>();
  for (const d of specValues(c.spec)) {
    const id = JSON.stringify(fields.map((f) => d[f]));
    expect(seen.has(id), `${c.name}: ${JSON.stringify(d)} and ${JSON.stringify(seen.get(id))} share the mark at ${fields.join(', ')} (seed ${SEED})`).toBe(false);
    seen.set(id, d);
  }
  // nothing stacked or summed by Vega either
  const vg = JSON.stringify(compile(c.spec).spec);
  expect(vg, c.name).not.toContain('"type":"stack"');
}

describe('every chart is drawn from the rows of its CSV file', () => {
  it('draws the charts a benchmark user expects', () => {
    expect(charts.map((c) => c.name)).toEqual([
      'latency-percentiles-emulators',
      'latency-percentiles-cloud-3',
      'latency-p50-p99',
      'throughput-vs-clients',
      'over-time-emulators',
      'storage',
      'requests-per-op',
      'cost-per-op',
      'cost-storage',
      'probe-latency',
    ]);
    for (const c of charts) expect(c.source, c.name).toMatch(/\.csv$/);
  });

  it('storage: 2.02 copies are drawn as 2.02, value sizes apart (no stacked bars)', () => {
    const c = chart('storage');
    expectValuesFromCsv(c, data.overhead, 'value', (d) => String(d.column));
    expectOneDatumPerMark(c, 'value');
    const copies = specValues(c.spec).filter((d) => d.column === 'copies_per_register' && d.phase === 'quiescent');
    expect(new Set(copies.filter((d) => d.variant === 'regular').map((d) => d.value))).toEqual(new Set([QUIESCENT_COPIES.regular]));
    expect(new Set(copies.filter((d) => d.variant === 'raw').map((d) => d.value))).toEqual(new Set([1]));
    // both value sizes are drawn, each its own bar
    expect(new Set(copies.map((d) => d.value_bytes))).toEqual(new Set([1024, 65536]));
  });

  it('latency by percentile: the dots are the percentiles of latency.csv', () => {
    for (const name of ['latency-percentiles-emulators', 'latency-percentiles-cloud-3']) {
      const c = chart(name);
      const dots = specValues(c.spec).filter((d) => d.source === 'latency.csv');
      expect(dots.length, name).toBe(data.latency.filter((r) => name.endsWith(r.config!)).length * CSV_PERCENTILES.length);
      const col = (d: Record<string, unknown>) => CSV_PERCENTILES.find(([p]) => p === d.percentile)![1];
      for (const d of dots) {
        const [row] = rowsOf(d, data.latency, ['latency_ms', 'count']);
        expect(d.latency_ms, `${name} ${JSON.stringify(d)}`).toBe(Number(row![col(d)]));
      }
      expectOneDatumPerMark(c, 'latency_ms');
    }
  });

  it('p50 and p99 bars: each bar is a value of latency.csv', () => {
    const c = chart('latency-p50-p99');
    expectValuesFromCsv(c, data.latency, 'latency_ms', (d) => `${String(d.metric)}_ms`);
    expectOneDatumPerMark(c, 'latency_ms');
    expect(specValues(c.spec)).toHaveLength(data.latency.length * 2);
  });

  it('throughput against clients: ops_per_s of latency.csv, one line per cell with clients aside', () => {
    const c = chart('throughput-vs-clients');
    expectValuesFromCsv(c, data.latency, 'ops_per_s', () => 'ops_per_s');
    expectOneDatumPerMark(c, 'ops_per_s');
    const series = new Set(specValues(c.spec).map((d) => d.series));
    expect(series.size * 2).toBe(data.latency.length / 2); // every line has its two client counts, one panel per op
  });

  it('over time: each second of per-second.csv, warm-up included', () => {
    const c = chart('over-time-emulators');
    expectValuesFromCsv(c, data.perSecond, 'value', (d) => String(d.column));
    expectOneDatumPerMark(c, 'value');
    expect(specValues(c.spec).filter((d) => d.phase === 'warmup').length).toBe(2 * 2 * 3);
  });

  it('requests: one bar per row of requests.csv and kind of request', () => {
    const c = chart('requests-per-op');
    expectValuesFromCsv(c, data.requests, 'value', (d) => String(d.column));
    expectOneDatumPerMark(c, 'value');
  });

  it('cost: cost.csv in its currency, requests and storage apart', () => {
    for (const name of ['cost-per-op', 'cost-storage']) {
      const c = chart(name);
      expectValuesFromCsv(c, data.cost, 'value', (d) => String(d.column));
      expectOneDatumPerMark(c, 'value');
      expect(JSON.stringify(c.spec), name).toContain('USD');
    }
    // no empty panel: the request chart has no storage panel, the storage chart no operation panel
    expect(specValues(chart('cost-per-op').spec).some((d) => d.op === 'storage')).toBe(false);
    expect(new Set(specValues(chart('cost-storage').spec).map((d) => d.phase))).toEqual(new Set(['peak', 'quiescent']));
  });

  it('probe: p50 and p99 of probe.csv per replica, call and value size', () => {
    const c = chart('probe-latency');
    expectValuesFromCsv(c, data.probe, 'value', (d) => String(d.column));
    expectOneDatumPerMark(c, 'value');
    expect(new Set(specValues(c.spec).map((d) => d.check))).toEqual(new Set(['put', 'get', 'list', 'remove']));
  });

  it('long replica names are cut in the SVG with the full name as a hover title', async () => {
    const svg = await renderSvg(chart('storage').spec, chart('storage').labels);
    for (const name of LONG_REPLICAS) expect(svg).toContain(`<title>${name}</title>`);
  });
});

describe('a simulation report', () => {
  let sim: ReportData;
  let simCharts: ChartSpec[];
  beforeAll(async () => {
    // what space-vs-contention writes: no overhead rows (a header only), timeseries.csv and summary.csv
    const r = new SimReport('20260101-000000-sim', 'space-vs-contention');
    const cell = { config: 'c4', variant: 'regular', schedule: 'fast', valueBytes: 1024, clients: 4 };
    r.addLatency({ ...cell, op: 'write', latenciesMs: [2, 3, 4, 5, 6], errors: 0, durationMs: 100 });
    for (const [t, objects, writes] of [[0, 2, 0], [1, 3, 1], [2, 5, 3], [4, 7, 4], [6, 2, 0]] as const)
      for (const replica of ['r0', 'r1']) r.timeseries.push({ run_id: r.runId, config: 'c4', time_ms: t, replica, objects: objects - (replica === 'r1' ? 1 : 0), stored_bytes: objects * 1024, concurrent_writes: writes, bound: writes + 2 });
    for (const writers of [1, 2, 4, 8]) r.summary.push({ config: `c${writers}`, writers, point_contention: writers, peak_copies_in_order: writers + 1, peak_copies_all: writers + 2, bound: writers + 2, quiescent_copies: 2 });
    const dir = join(root, 'sim');
    await r.write(dir, { simulation: { scenario: 'space-vs-contention', headline: ['peak copies ...'], checks: [{ name: 'c4 r0 quiescent = 2', ok: true, detail: '2 copies', measured: '2 copies', bound: 'exactly 2', meaning: 'no leak' }] } });
    sim = await readReportDir(dir);
    simCharts = reportCharts(sim);
  });

  it('knows a header-only overhead.csv is there, with no rows, and draws no storage chart', () => {
    expect(sim.present.has('overhead.csv')).toBe(true);
    expect(sim.overhead).toEqual([]);
    expect(simCharts.map((c) => c.name)).not.toContain('storage');
  });

  it('draws copies over time from timeseries.csv and the headline from summary.csv', () => {
    const overTime = simCharts.find((c) => c.name === 'copies-over-time')!;
    expect(overTime, simCharts.map((c) => c.name).join()).toBeDefined();
    expectValuesFromCsv(overTime, sim.timeseries, 'objects', () => 'objects');
    expectOneDatumPerMark(overTime, 'objects');
    for (const d of specValues(overTime.spec)) expect(d.bound).toBe(Number(rowsOf(d, sim.timeseries, ['objects', 'bound'])[0]!.bound));
    const headline = simCharts.find((c) => c.name === 'copies-headline')!;
    expect(headline).toBeDefined();
    expectValuesFromCsv(headline, sim.summary, 'value', (d) => String(d.column));
    expectOneDatumPerMark(headline, 'value');
  });
});
