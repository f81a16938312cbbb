/**
 * The HTML report of a run: one self-contained report.html (inline SVG charts, inline CSS, no
 * scripts, no network) plus charts/<name>.svg and charts/<name>.png for papers and slides.
 * `rkvs bench` calls `writeHtmlReport(dir)` at the end of every run; `rkvs report DIR` re-renders it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { costColumns, renderPng, renderSvg, reportCharts, type ChartSpec } from './charts.js';
import { ConfigError } from '../../errors.js';
import { readReportDir, type CsvRow, type ReportData } from '../record/read.js';
import { LATENCY_COLUMNS } from '../record/schema.js';

export interface HtmlReportOptions {
  /** Also write charts/<name>.svg. @default true */
  svgFiles?: boolean;
  /** Also write charts/<name>.png (rendered by resvg). @default true */
  pngFiles?: boolean;
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
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function table(rows: CsvRow[], columns?: string[], caption?: string): string {
  if (rows.length === 0) return '';
  const cols = columns ?? Object.keys(rows[0]!);
  const head = cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => `<td${isNumeric(r[c]) ? ' class="n"' : ''}>${escapeHtml(fmtCell(r[c]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table>${caption ? `<caption>${escapeHtml(caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function isNumeric(v: string | undefined): boolean {
  return v !== undefined && v !== '' && Number.isFinite(Number(v));
}

function fmtCell(v: string | undefined): string {
  if (!isNumeric(v)) return v ?? '';
  const n = Number(v);
  if (Number.isInteger(n)) return v!;
  return Math.abs(n) >= 100 ? n.toFixed(1) : Math.abs(n) >= 1 ? n.toFixed(3) : Number(n.toPrecision(4)).toString();
}

function metaSection(meta: Record<string, unknown> | null): string {
  if (!meta) return '<p>No meta.json in this report.</p>';
  const rows = Object.entries(meta).map(([k, v]) => {
    const text = typeof v === 'object' && v !== null ? `<pre>${escapeHtml(JSON.stringify(v, null, 2))}</pre>` : escapeHtml(v);
    return `<tr><th>${escapeHtml(k)}</th><td>${text}</td></tr>`;
  });
  return `<table class="meta"><tbody>${rows.join('\n')}</tbody></table>`;
}

function figure(chart: ChartSpec, svg: string): string {
  // strip the XML prolog if any; the SVG is inlined in the page
  const inline = svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure class="chart" id="chart-${escapeHtml(chart.name)}" data-chart="${escapeHtml(chart.name)}">
${inline}
<figcaption>${escapeHtml(chart.description)} <span class="files">(charts/${escapeHtml(chart.name)}.svg, .png)</span></figcaption>
</figure>`;
}

const CSS = `
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
nav a { margin-right: 1em; }
figure.chart { margin: 1em 0; overflow-x: auto; }
figcaption { color: #555; font-size: .9em; }
.files { color: #999; }
table { border-collapse: collapse; font-size: .85em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: bold; padding: .3em 0; }
table.meta th { background: #f7f7f7; } pre { margin: 0; font-size: .95em; }
`;

/** Builds the report page from loaded data and rendered charts. */
export function buildHtml(data: ReportData, rendered: { chart: ChartSpec; svg: string }[]): string {
  const meta = data.meta ?? {};
  const runId = String(meta.run_id ?? data.latency[0]?.run_id ?? data.dir);
  const byPrefix = (p: string) => rendered.filter((r) => r.chart.name.startsWith(p));
  const section = (id: string, title: string, body: string) => `<section id="${id}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
  const latencyCols: string[] = LATENCY_COLUMNS.filter((c) => c !== 'run_id' && c !== 'suite');
  const parts: string[] = [];
  parts.push(
    section(
      'latency',
      'Latency',
      [...byPrefix('latency-percentiles-'), ...byPrefix('latency-p50-p99')].map((r) => figure(r.chart, r.svg)).join('\n') +
        table(data.latency, latencyCols.filter((c) => data.latency[0] && c in data.latency[0]), 'latency.csv'),
    ),
  );
  parts.push(
    section(
      'overhead',
      'Storage overhead',
      byPrefix('storage-overhead').map((r) => figure(r.chart, r.svg)).join('\n') + (table(data.overhead, undefined, 'overhead.csv') || '<p>No overhead.csv in this report.</p>'),
    ),
  );
  const costCols = costColumns(data.cost);
  parts.push(
    section(
      'requests',
      'Requests and cost per operation',
      [...byPrefix('requests-per-op'), ...byPrefix('cost-per-op')].map((r) => figure(r.chart, r.svg)).join('\n') +
        (table(data.requests, undefined, 'requests.csv (requests per operation of each cell key and replica)') || '<p>No requests.csv in this report.</p>') +
        (data.cost.length ? table(data.cost, undefined, `cost.csv${costCols.length ? '' : ''}`) : '<p>No cost.csv in this report (run <code>rkvs cost</code> to add one).</p>'),
    ),
  );
  if (data.errors.length) parts.push(section('errors', 'Errors', table(data.errors, undefined, 'errors.csv')));
  parts.push(section('meta', 'Run metadata', metaSection(data.meta)));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rkvs report ${escapeHtml(runId)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>robust-kvs benchmark report <code>${escapeHtml(runId)}</code></h1>
<p>Suite <b>${escapeHtml(meta.suite ?? data.latency[0]?.suite ?? '')}</b>${meta.start ? `, ${escapeHtml(meta.start)} to ${escapeHtml(meta.end ?? '')}` : ''}${meta.git_commit ? `, commit <code>${escapeHtml(meta.git_commit)}</code>` : ''}.
Percentiles follow HdrHistogram's definition; latencies in milliseconds.</p>
<nav><a href="#latency">Latency</a><a href="#overhead">Storage overhead</a><a href="#requests">Requests and cost</a>${data.errors.length ? '<a href="#errors">Errors</a>' : ''}<a href="#meta">Metadata</a></nav>
${parts.join('\n')}
</body>
</html>
`;
}

/**
 * Writes `<dir>/report.html` and `<dir>/charts/*.svg|png` from the report files in `dir`.
 * Throws ConfigError when `dir` is not a report directory.
 */
export async function writeHtmlReport(dir: string, opts: HtmlReportOptions = {}): Promise<HtmlReportResult> {
  const data = await readReportDir(dir);
  const charts = reportCharts(data);
  const rendered: { chart: ChartSpec; svg: string }[] = [];
  for (const chart of charts) rendered.push({ chart, svg: await renderSvg(chart.spec) });
  try {
    return await writeFiles(dir, data, rendered, opts);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(opts.out ? '--out' : 'report directory', `cannot write the report (${(e as Error).message}); check that the directory is writable`);
  }
}

async function writeFiles(
  dir: string,
  data: ReportData,
  rendered: { chart: ChartSpec; svg: string }[],
  opts: HtmlReportOptions,
): Promise<HtmlReportResult> {
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
  return { file, charts: rendered.map((r) => r.chart.name), chartFiles };
}
