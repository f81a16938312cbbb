/**
 * The building blocks of report.html: escaping, the CSV tables (key columns that never change are
 * said once above the table instead of in every row), chart figures, the files of the directory,
 * the run's metadata, and the page's style sheet (laid out for a 1280 px window).
 */
import type { CsvRow, ReportData } from '../record/read.js';
import type { ChartSpec } from './chart-kit.js';

export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function isNumeric(v: string | undefined): boolean {
  return v !== undefined && v !== '' && Number.isFinite(Number(v));
}

/** A CSV value as shown: integers as written, other numbers to a readable precision. */
export function fmtCell(v: string | undefined): string {
  if (!isNumeric(v)) return v ?? '';
  if (/^-?\d+(\.\d{1,3})?$/.test(v!)) return v!;
  const n = Number(v);
  if (Number.isInteger(n)) return v!;
  return Math.abs(n) >= 100 ? n.toFixed(1) : Math.abs(n) >= 1 ? n.toFixed(3) : Number(n.toPrecision(4)).toString();
}

export interface TableOptions {
  caption: string;
  /** Columns left out (run_id, suite: said in the page's header). */
  drop?: readonly string[];
  /** Column order (default: the file's). */
  columns?: readonly string[];
  /** Above this many rows the table is folded (a <details> the reader opens). @default 40 */
  fold?: number;
}

/**
 * A table of CSV rows. Columns with one value in every row are named once in a line above the
 * table (`in every row: workers 1, mode closed`), so the table fits the page.
 */
export function csvTable(rows: readonly CsvRow[], o: TableOptions): string {
  if (!rows.length) return '';
  const drop = new Set(o.drop ?? ['run_id', 'suite']);
  // a column empty in every row says nothing about these rows
  const all = (o.columns ?? Object.keys(rows[0]!)).filter((c) => !drop.has(c) && rows.some((r) => (r[c] ?? '') !== ''));
  const constant = rows.length > 1 ? all.filter((c) => rows.every((r) => r[c] === rows[0]![c])) : [];
  const cols = all.filter((c) => !constant.includes(c));
  const head = cols.map((c) => `<th${rows.some((r) => isNumeric(r[c])) ? ' class="n"' : ''}>${breakable(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td${isNumeric(r[c]) ? ' class="n"' : ''}>${escapeHtml(fmtCell(r[c]))}</td>`).join('')}</tr>`).join('\n');
  const same = constant.length ? `<p class="same">In every row: ${constant.map((c) => `${escapeHtml(c)} <b>${escapeHtml(rows[0]![c] === '' ? '(empty)' : rows[0]![c])}</b>`).join(', ')}.</p>` : '';
  // many columns: a smaller type so the table fits the page
  const cls = cols.length > 12 ? ' class="wide"' : '';
  const table = `${same}<div class="table-wrap"><table${cls}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
  const fold = o.fold ?? 40;
  if (rows.length > fold) return `<details class="table"><summary>${escapeHtml(o.caption)}: ${rows.length} rows (show)</summary>\n${table}\n</details>`;
  return `<div class="table"><p class="caption">${escapeHtml(o.caption)}</p>\n${table}</div>`;
}

/** A column name that may wrap after its underscores (`cost_per_<wbr>million_<wbr>ops`). */
function breakable(name: string): string {
  return escapeHtml(name).replace(/_/g, '_<wbr>');
}

/** A chart: its inline SVG, what it shows, and where its data and files are. */
export function figure(chart: ChartSpec, svg: string): string {
  const inline = svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure class="chart" id="chart-${escapeHtml(chart.name)}" data-chart="${escapeHtml(chart.name)}">
${inline}
<figcaption>${escapeHtml(chart.description)} <span class="files">Data: ${escapeHtml(chart.source)}; files: charts/${escapeHtml(chart.name)}.svg, .png.</span></figcaption>
</figure>`;
}

/** The report's files and how many rows each CSV has ("no rows": a header only). */
export function filesTable(data: ReportData): string {
  const count: Record<string, number> = {
    'latency.csv': data.latency.length,
    'overhead.csv': data.overhead.length,
    'requests.csv': data.requests.length,
    'errors.csv': data.errors.length,
    'cost.csv': data.cost.length,
    'per-second.csv': data.perSecond.length,
    'probe.csv': data.probe.length,
    'timeseries.csv': data.timeseries.length,
    'summary.csv': data.summary.length,
  };
  const rows = [...data.present].map((f) => `<tr><td><code>${escapeHtml(f)}</code></td><td class="n">${count[f] ? count[f] : 'no rows (header only)'}</td></tr>`);
  if (data.hasHistograms) rows.push(`<tr><td><code>histograms.jsonl</code></td><td class="n">${data.cells.size} cell keys</td></tr>`);
  return `<div class="table"><p class="caption">Files of this report</p><div class="table-wrap"><table class="filelist"><thead><tr><th>file</th><th class="n">rows</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></div>`;
}

/** meta.json as a table; objects and lists folded, so long ones do not widen the page. */
export function metaTable(meta: Record<string, unknown> | null): string {
  if (!meta) return '<p>This report has no meta.json.</p>';
  const rows = Object.entries(meta).map(([k, v]) => {
    let cell: string;
    const json = JSON.stringify(v);
    if (typeof v === 'object' && v !== null && json.length <= 100) cell = `<code>${escapeHtml(json)}</code>`;
    else if (typeof v === 'object' && v !== null) {
      const n = Array.isArray(v) ? `${v.length} entr${v.length === 1 ? 'y' : 'ies'}` : `${Object.keys(v).length} field${Object.keys(v).length === 1 ? '' : 's'}`;
      cell = `<details><summary>${n}</summary><pre>${escapeHtml(JSON.stringify(v, null, 2))}</pre></details>`;
    } else cell = escapeHtml(v);
    return `<tr><th>${escapeHtml(k)}</th><td>${cell}</td></tr>`;
  });
  return `<div class="table"><p class="caption">meta.json</p><div class="table-wrap"><table class="meta"><tbody>${rows.join('\n')}</tbody></table></div></div>`;
}

export const CSS = `
* { box-sizing: border-box; }
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; margin: 0 auto; max-width: 1240px; padding: 16px 20px 40px; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin: .3em 0; } h1 code { font-size: .8em; }
h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: .2em; }
nav { display: flex; flex-wrap: wrap; gap: .3em 1.2em; margin: .5em 0 1em; }
p.run { color: #444; margin: .2em 0; }
.headline-box { border-left: 4px solid #4c78a8; background: #f4f7fb; padding: .5em 1em; margin: 1em 0; }
.headline-box p { margin: .3em 0; }
figure.chart { margin: 1em 0 1.6em; max-width: 100%; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .88em; max-width: 1100px; }
.files { color: #888; }
p.note, p.same, p.caption { font-size: .88em; color: #555; margin: .3em 0; overflow-wrap: anywhere; }
p.caption { font-weight: bold; color: #333; }
p.headline { font-weight: bold; }
.table-wrap { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: .82em; margin: .3em 0 1em; }
th, td { border: 1px solid #ddd; padding: .2em .45em; text-align: left; vertical-align: top; overflow-wrap: break-word; }
td { white-space: normal; overflow-wrap: break-word; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
th.group { text-align: center; background: #f4f7fb; }
table.wide { font-size: .74em; } table.wide th, table.wide td { padding: .15em .3em; }
td.sig { font-weight: bold; }
table.checks { width: 100%; }
table.checks td { white-space: normal; }
table.checks td:nth-child(1) { width: 5em; }
table.checks td:nth-child(2) { width: 40%; }
.check-group { margin: .8em 0; }
.check-group p.meaning, .check-group summary { margin: .2em 0; font-size: .92em; color: #333; }
tr.ok td.status { color: #1a7f37; font-weight: bold; }
tr.miss td.status { color: #c62828; font-weight: bold; }
tr.info td.status { color: #666; }
.muted { color: #888; }
details.table { margin: .5em 0 1em; } details summary { cursor: pointer; color: #245; }
table.meta th { background: #f7f7f7; white-space: nowrap; }
table.meta td { max-width: 1000px; white-space: normal; }
pre { margin: 0; font-size: .95em; white-space: pre-wrap; overflow-wrap: anywhere; }
`;
