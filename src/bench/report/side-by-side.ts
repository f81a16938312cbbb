/**
 * The side-by-side table (analyze/side-by-side.ts) as people read it: plain text for the console,
 * Markdown for summary.md and `rkvs compare --markdown`, and HTML for report.html. One row per cell
 * key without its configuration; per configuration p50, p99 and throughput; from the second one on,
 * each as a ratio to the first with its confidence interval.
 */
import { loadLabel, type CellKey } from '../config/cell.js';
import type { CompareResult, Metric } from '../analyze/compare.js';
import { sideBySideOfCompare, type RatioCI, type SideBySide, type SideRow } from '../analyze/side-by-side.js';

const FIELD_HEAD: Partial<Record<keyof CellKey, string>> = { value_bytes: 'bytes', registers: 'regs', open_rate: 'load' };

/** A number of milliseconds or operations per second, as in the other tables. */
function fmt(x: number | undefined, decimals = 2): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 1000 ? x.toFixed(0) : x >= 100 ? x.toFixed(1) : x.toFixed(decimals);
}

/** `1.23x [1.10, 1.40]`, or `1.23x` without an interval. */
export function fmtRatio(r: RatioCI | undefined): string {
  if (!r || !Number.isFinite(r.ratio)) return '-';
  const x = (v: number) => v.toFixed(v >= 10 ? 1 : 2);
  return Number.isFinite(r.lower) && Number.isFinite(r.upper) ? `${x(r.ratio)}x [${x(r.lower)}, ${x(r.upper)}]` : `${x(r.ratio)}x`;
}

function keyCells(s: SideBySide, row: SideRow): string[] {
  return s.keyFields.filter((f) => f !== 'mode').map((f) => (f === 'open_rate' ? loadLabel(row.key) : String(row.key[f])));
}

function keyHeads(s: SideBySide): string[] {
  return s.keyFields.filter((f) => f !== 'mode').map((f) => FIELD_HEAD[f] ?? f);
}

const METRIC_HEAD: Record<Metric, string> = { p50: 'p50 ms', p99: 'p99 ms', throughput: 'ops/s' };
const METRICS: Metric[] = ['p50', 'p99', 'throughput'];

/** The columns of group i: its three figures, then (after the first) the three ratios. */
function groupHeads(s: SideBySide, i: number): string[] {
  const pct = Math.round(s.confidence * 100);
  const base = METRICS.map((m) => METRIC_HEAD[m]);
  return i === 0 ? base : [...base, `p50 ratio [${pct}% CI]`, `p99 ratio [${pct}% CI]`, 'ops/s ratio'];
}

function groupCells(row: SideRow, i: number): string[] {
  const side = row.sides[i];
  const values = [fmt(side?.p50), fmt(side?.p99), fmt(side?.opsPerS, 1)];
  if (i === 0) return values;
  const r = row.ratios[i];
  return [...values, ...METRICS.map((m) => fmtRatio(r?.[m]))];
}

/** One sentence under every rendering: what the ratios and intervals are. */
export function sideBySideNote(s: SideBySide): string {
  const first = s.groupKind === 'run' ? 'the baseline' : `the first configuration (${s.groups[0]})`;
  const pct = Math.round(s.confidence * 100);
  return (
    `Ratio = this ${s.groupKind === 'run' ? 'run' : 'configuration'} / ${first}: above 1 is slower for p50 and p99, faster for ops/s. ` +
    `[${pct}% CI]: bootstrap confidence interval of the percentile ratio, resampled from the HDR histograms (an interval needs 10 samples per side for p50, 500 for p99); ` +
    'an interval that excludes 1 is a significant difference. Throughput is one number per run, so its ratio has no interval.' +
    (s.alone ? ` ${s.alone} cell${s.alone === 1 ? '' : 's'} measured in one configuration only (or in a configuration sharing no cell with another, such as a check's) ${s.alone === 1 ? 'is' : 'are'} not shown here.` : '')
  );
}

/** Plain-text table: a line naming the column groups above the column heads. */
export function sideBySideText(s: SideBySide): string {
  const heads = [...keyHeads(s), ...s.groups.flatMap((_, i) => groupHeads(s, i))];
  const body = s.rows.map((r) => [...keyCells(s, r), ...s.groups.flatMap((_, i) => groupCells(r, i))]);
  const widths = heads.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const nKey = keyHeads(s).length;
  const line = (cells: string[]) => cells.map((c, i) => (i < nKey ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  // the group names, each over its first column, with a rule over its columns
  let col = nKey;
  const groupLine: string[] = widths.slice(0, nKey).map((w) => ' '.repeat(w));
  s.groups.forEach((g, i) => {
    const n = groupHeads(s, i).length;
    const span = widths.slice(col, col + n).reduce((a, w) => a + w, 0) + 2 * (n - 1);
    const label = ` ${g} `;
    groupLine.push(label.length >= span ? label.slice(0, span) : `${'-'.repeat(Math.floor((span - label.length) / 2))}${label}${'-'.repeat(Math.ceil((span - label.length) / 2))}`);
    col += n;
  });
  return [groupLine.join('  ').trimEnd(), line(heads), ...body.map(line)].join('\n');
}

const mdEscape = (x: string) => x.replace(/\|/g, '\\|');

/** Markdown table: group names in the column heads (`mixed-3 p50 ms`). */
export function sideBySideMarkdown(s: SideBySide): string {
  const heads = [...keyHeads(s), ...s.groups.flatMap((g, i) => groupHeads(s, i).map((h) => `${g} ${h}`))];
  const nKey = keyHeads(s).length;
  const out = [`| ${heads.map(mdEscape).join(' | ')} |`, `|${heads.map((_, i) => (i < nKey ? '---' : '---:')).join('|')}|`];
  for (const r of s.rows) out.push(`| ${[...keyCells(s, r), ...s.groups.flatMap((_, i) => groupCells(r, i))].map(mdEscape).join(' | ')} |`);
  out.push('', `_${sideBySideNote(s)}_`);
  return out.join('\n') + '\n';
}

const esc = (x: unknown) => String(x ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A ratio cell: the interval's reason for being absent in a title (hover). */
function ratioTd(r: RatioCI | undefined): string {
  const cls = r && Number.isFinite(r.lower) && (r.lower > 1 || r.upper < 1) ? ' sig' : '';
  return `<td class="n${cls}"${r?.why ? ` title="${esc(r.why)}"` : ''}>${esc(fmtRatio(r))}</td>`;
}

/** HTML table with one header cell spanning each group's columns. */
export function sideBySideHtml(s: SideBySide): string {
  const kh = keyHeads(s);
  const top = `<tr>${kh.map(() => '<th></th>').join('')}${s.groups.map((g, i) => `<th class="group" colspan="${groupHeads(s, i).length}">${esc(g)}</th>`).join('')}</tr>`;
  const heads = `<tr>${kh.map((h) => `<th>${esc(h)}</th>`).join('')}${s.groups.flatMap((_, i) => groupHeads(s, i).map((h) => `<th class="n">${esc(h)}</th>`)).join('')}</tr>`;
  const body = s.rows.map((r) => {
    const key = keyCells(s, r).map((c) => `<td>${esc(c)}</td>`).join('');
    const groups = s.groups
      .map((_, i) => {
        const v = groupCells(r, i).slice(0, 3).map((c) => `<td class="n">${esc(c)}</td>`).join('');
        return i === 0 ? v : v + METRICS.map((m) => ratioTd(r.ratios[i]?.[m])).join('');
      })
      .join('');
    return `<tr>${key}${groups}</tr>`;
  });
  return `<div class="table-wrap"><table class="side-by-side"><thead>${top}${heads}</thead><tbody>\n${body.join('\n')}\n</tbody></table></div>\n<p class="note">${esc(sideBySideNote(s))}</p>`;
}

/** `rkvs compare`'s side-by-side block for the console: baseline and current, the ratios and their intervals. */
export function compareSideBySideText(result: CompareResult): string {
  if (!result.cells.length) return '';
  const s = sideBySideOfCompare(result);
  return `side by side (ratio current / baseline):\n${sideBySideText(s)}\n${sideBySideNote(s)}\n`;
}
