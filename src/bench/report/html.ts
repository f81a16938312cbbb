/**
 * The HTML report of a run: one self-contained report.html (inline SVG charts, inline CSS, no
 * scripts, no network), laid out for a 1280 px window, plus charts/<name>.svg and .png for papers
 * and slides and report.md (the checks, the side-by-side table and the latency table in Markdown).
 * `rkvs bench` calls `writeHtmlReport(dir)` at the end of every run; `rkvs report DIR` re-renders it.
 *
 * The page, top to bottom: the run; the checks; the configurations side by side; latency and
 * throughput; over time; storage; a simulation's copies over time; requests and cost; the probe;
 * errors; the files and metadata. A section appears when it has a chart or a table to show.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { readCsvIfExists, readMeta, readReportDir, type ReportData } from '../record/read.js';
import { LATENCY_COLUMNS } from '../record/schema.js';
import { configOrder, sideBySide, sideCellsOfReport } from '../analyze/side-by-side.js';
import { renderPng, renderSvg, type ChartSpec } from './chart-kit.js';
import { reportCharts } from './charts.js';
import { costParts } from './charts-requests.js';
import { longestSeconds, MIN_SECONDS } from './charts-latency.js';
import { CELL_KEY_COLUMNS } from '../config/cell.js';
import { checksHtml, checksOfMeta } from './check-table.js';
import { CSS, csvTable, escapeHtml, figure, filesTable, metaTable } from './html-parts.js';
import { reportMarkdown } from './markdown.js';
import { sideBySideHtml } from './side-by-side.js';

export { escapeHtml };

export interface HtmlReportOptions {
  /** Also write charts/<name>.svg. @default true */
  svgFiles?: boolean;
  /** Also write charts/<name>.png (rendered by resvg). @default true */
  pngFiles?: boolean;
  /** Also write <dir>/report.md. @default true, unless `out` puts the page elsewhere */
  markdown?: boolean;
  /** Output file. @default <dir>/report.html */
  out?: string;
}

export interface HtmlReportResult {
  /** Path of report.html. */
  file: string;
  /** Names of the charts drawn. */
  charts: string[];
  /** Paths of the chart files written (svg and png). */
  chartFiles: string[];
  /** Path of report.md, when written. */
  markdown?: string;
}

interface Rendered {
  chart: ChartSpec;
  svg: string;
}

/** The run in one line: suite, configurations, times, commit, machine. */
function runLine(data: ReportData): string {
  const m = data.meta ?? {};
  // the run's configurations in its order; the suite checks' own (latency-model, ...) named apart
  const measured = [...new Set(data.latency.map((r) => r.config!))];
  const ordered = configOrder(data.meta).filter((c) => measured.includes(c));
  const configs = ordered.length ? ordered : measured;
  const others = measured.filter((c) => !configs.includes(c));
  const secs = m.start && m.end ? (Date.parse(String(m.end)) - Date.parse(String(m.start))) / 1000 : NaN;
  const parts = [
    `suite <b>${escapeHtml(m.suite ?? data.latency[0]?.suite ?? '?')}</b>`,
    configs.length
      ? `${configs.length} configuration${configs.length === 1 ? '' : 's'}: ${configs.map((c) => `<b>${escapeHtml(c)}</b>`).join(', ')}` +
        (others.length ? ` (and the checks' ${others.map((c) => `<b>${escapeHtml(c)}</b>`).join(', ')})` : '')
      : '',
    m.start ? `${escapeHtml(m.start)}${Number.isFinite(secs) ? ` (${secs.toFixed(0)} s)` : ''}` : '',
    m.git_commit ? `commit <code>${escapeHtml(String(m.git_commit).slice(0, 12))}</code>` : '',
    m.node ? `node ${escapeHtml(m.node)}${m.host ? ` on ${escapeHtml(m.host)}` : ''}` : '',
  ].filter(Boolean);
  return `<p class="run">${parts.join(' · ')}. Latencies in milliseconds; percentiles follow HdrHistogram's definition.</p>`;
}

/** A simulation's headline (meta.json `simulation.headline`), or nothing. */
function headlineBox(data: ReportData): string {
  const sim = data.meta?.simulation as { headline?: unknown } | undefined;
  const lines = Array.isArray(sim?.headline) ? (sim.headline as unknown[]).map(String) : [];
  return lines.length ? `<div class="headline-box">${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}</div>` : '';
}

interface Section {
  id: string;
  title: string;
  body: string;
}

function figures(rendered: readonly Rendered[], section: ChartSpec['section']): string {
  return rendered.filter((r) => r.chart.section === section).map((r) => figure(r.chart, r.svg)).join('\n');
}

/** The sections of the page that have something to show, in order. */
function sections(data: ReportData, rendered: readonly Rendered[]): Section[] {
  const out: Section[] = [];
  const add = (id: string, title: string, ...parts: string[]) => {
    const body = parts.filter(Boolean).join('\n');
    if (body.trim()) out.push({ id, title, body });
  };
  const checks = checksOfMeta(data.meta);
  if (checks.length) add('checks', 'Checks', checksHtml(checks));
  const sbs = sideBySide(sideCellsOfReport(data), { order: configOrder(data.meta) });
  if (sbs) add('side-by-side', 'Configurations side by side', sideBySideHtml(sbs));
  const latencyCols = LATENCY_COLUMNS.filter((c) => data.latency[0] && c in data.latency[0]);
  add('latency', 'Latency and throughput', figures(rendered, 'latency'), csvTable(data.latency, { caption: 'latency.csv', columns: latencyCols }));
  if (data.perSecond.length) add('over-time', 'Over time', ...overTime(data, rendered));
  add('storage', 'Storage', figures(rendered, 'storage'), csvTable(data.overhead, { caption: 'overhead.csv' }));
  add('simulation', 'Simulation', figures(rendered, 'simulation'), csvTable(data.summary, { caption: "summary.csv (the scenario's table)", drop: [] }));
  const cost = costParts(data);
  add(
    'requests',
    'Requests and cost',
    figures(rendered, 'requests'),
    costNote(data),
    csvTable(data.requests, { caption: 'requests.csv (requests per operation of each cell key and replica)' }),
    csvTable(cost.requests, { caption: 'cost.csv: requests, per cell key' }),
    csvTable(cost.storage, { caption: 'cost.csv: storage, per cell and phase' }),
  );
  add('probe', 'Replica probe', figures(rendered, 'probe'), csvTable(data.probe, { caption: 'probe.csv (rkvs probe)' }));
  add('errors', 'Errors', csvTable(data.errors, { caption: 'errors.csv' }));
  add('meta', 'Files and metadata', filesTable(data), metaTable(data.meta));
  return out;
}

/** The over-time charts; for cells too short to draw over time, per-second.csv's rows and why. */
function overTime(data: ReportData, rendered: readonly Rendered[]): string[] {
  const charts = figures(rendered, 'over-time');
  if (charts) return [charts, `<p class="note">per-second.csv: ${data.perSecond.length} rows, one per cell, operation, repetition and second.</p>`];
  const longest = longestSeconds(data.perSecond.map((r) => ({ series: CELL_KEY_COLUMNS.map((c) => r[c]).join('|'), op: r.op, repeat: r.repeat, second: r.second })));
  return [
    `<p class="note">No cell of this run lasted ${MIN_SECONDS} seconds (the longest: ${longest} s), too short to show warm-up or drift over time: run cells longer (<code>rkvs bench --duration 30</code>) to see them. The seconds measured:</p>`,
    csvTable(data.perSecond, { caption: 'per-second.csv', drop: ['run_id', 'start_ms'] }),
  ];
}

/** Why there is no cost chart when cost.csv says every cost is zero (local or unpriced replicas). */
function costNote(data: ReportData): string {
  if (!data.cost.length) return '';
  const { requests, storage } = costParts(data);
  const zero = (rows: typeof requests, col: string) => rows.length > 0 && rows.every((r) => Number(r[col]) === 0);
  if (zero(requests, 'cost_per_million_ops') && zero(storage, 'storage_per_logical_gb_month'))
    return `<p class="note">cost.csv prices every request and every stored byte of this run at 0 (${escapeHtml([...new Set(data.cost.map((r) => r.price_keys))].join(', '))}): there is no cost to chart.</p>`;
  return '';
}

/** Builds the report page from loaded data and rendered charts. */
export function buildHtml(data: ReportData, rendered: readonly Rendered[]): string {
  const meta = data.meta ?? {};
  const runId = String(meta.run_id ?? data.latency[0]?.run_id ?? data.probe[0]?.run_id ?? data.dir);
  const sim = meta.simulation !== undefined;
  const parts = sections(data, rendered);
  const title = sim ? `robust-kvs simulation report` : data.latency.length ? 'robust-kvs benchmark report' : 'robust-kvs probe report';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} ${escapeHtml(runId)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)} <code>${escapeHtml(runId)}</code></h1>
${runLine(data)}
${headlineBox(data)}
<nav>${parts.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('')}</nav>
${parts.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>\n${s.body}\n</section>`).join('\n')}
</body>
</html>
`;
}

/**
 * Reads a report directory: what `rkvs bench`, `rkvs merge` or `rkvs simulate` wrote, or a
 * directory holding only the probe.csv of `rkvs probe`.
 */
export async function loadReport(dir: string): Promise<ReportData> {
  if (!existsSync(join(dir, 'latency.csv')) && existsSync(join(dir, 'probe.csv'))) {
    const probe = await readCsvIfExists(dir, 'probe.csv');
    return { dir, latency: [], overhead: [], requests: [], errors: [], cost: [], perSecond: [], probe, timeseries: [], summary: [], present: new Set(['probe.csv']), meta: await readMeta(dir), cells: new Map(), hasHistograms: false };
  }
  return readReportDir(dir);
}

/**
 * Writes `<dir>/report.html`, `<dir>/report.md` and `<dir>/charts/*.svg|png` from the report files
 * in `dir`. Throws ConfigError when `dir` is not a report directory.
 */
export async function writeHtmlReport(dir: string, opts: HtmlReportOptions = {}): Promise<HtmlReportResult> {
  const data = await loadReport(dir);
  const rendered: Rendered[] = [];
  for (const chart of reportCharts(data)) rendered.push({ chart, svg: await renderSvg(chart.spec, chart.labels) });
  try {
    return await writeFiles(dir, data, rendered, opts);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(opts.out ? '--out' : 'report directory', `cannot write the report (${(e as Error).message}); check that the directory is writable`);
  }
}

async function writeFiles(dir: string, data: ReportData, rendered: readonly Rendered[], opts: HtmlReportOptions): Promise<HtmlReportResult> {
  const chartFiles: string[] = [];
  if (opts.svgFiles !== false || opts.pngFiles !== false) {
    const chartsDir = join(dir, 'charts');
    await mkdir(chartsDir, { recursive: true });
    for (const { chart, svg } of rendered) {
      if (opts.svgFiles !== false) {
        const f = join(chartsDir, `${chart.name}.svg`);
        await writeFile(f, svg);
        chartFiles.push(f);
      }
      if (opts.pngFiles !== false) {
        const f = join(chartsDir, `${chart.name}.png`);
        await writeFile(f, renderPng(svg));
        chartFiles.push(f);
      }
    }
  }
  const file = opts.out ?? join(dir, 'report.html');
  await writeFile(file, buildHtml(data, rendered));
  let markdown: string | undefined;
  if (opts.markdown ?? opts.out === undefined) {
    markdown = join(dir, 'report.md');
    await writeFile(markdown, reportMarkdown(data));
  }
  return { file, charts: rendered.map((r) => r.chart.name), chartFiles, ...(markdown ? { markdown } : {}) };
}
