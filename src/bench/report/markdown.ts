/**
 * Markdown: the output of `rkvs compare` for a CI job summary ($GITHUB_STEP_SUMMARY) or a PR
 * comment, and report.md of a report directory.
 */
import type { CompareResult, Verdict } from '../analyze/compare.js';
import { configOrder, sideBySide, sideBySideOfCompare, sideCellsOfReport } from '../analyze/side-by-side.js';
import type { ReportData } from '../record/read.js';
import { checksMarkdown, checksOfMeta } from './check-table.js';
import { compareRows, NUMERIC_COLUMNS, summaryLine, TABLE_HEADER } from './compare.js';
import { sideBySideMarkdown } from './side-by-side.js';

const ICON: Record<Verdict, string> = {
  regressed: ':red_circle: regressed',
  improved: ':green_circle: improved',
  'within threshold': 'within threshold',
  'no significant change': 'no significant change',
  'too few samples': ':warning: too few samples',
  untested: ':warning: untested',
};

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdownTable(rows: string[][]): string[] {
  const out = [`| ${TABLE_HEADER.join(' | ')} |`, `|${TABLE_HEADER.map((_, i) => (NUMERIC_COLUMNS.has(i) ? '---:' : '---')).join('|')}|`];
  for (const r of rows) {
    const verdict = r[r.length - 1] as Verdict;
    out.push(`| ${r.slice(0, -1).map(escapeCell).join(' | ')} | ${ICON[verdict] ?? verdict} |`);
  }
  return out;
}

/**
 * Markdown of a comparison: a headline, the metrics that regressed, improved or could not be judged,
 * the unchanged ones folded in a <details> block, and the warnings.
 */
export function compareMarkdown(result: CompareResult): string {
  const lines: string[] = [];
  const failed = result.regressions > 0;
  lines.push(`### Performance comparison: ${failed ? `:red_circle: ${result.regressions} regression(s)` : ':white_check_mark: no regression'}`);
  lines.push('');
  lines.push(`Baseline \`${result.baselineDir}\`, current \`${result.currentDir}\`. ${escapeCell(summaryLine(result))}.`);
  lines.push('');
  const rows = compareRows(result);
  const calm = (r: string[]) => r[r.length - 1] === 'no significant change' || r[r.length - 1] === 'within threshold';
  const notable = rows.filter((r) => !calm(r));
  const quiet = rows.filter(calm);
  if (notable.length) lines.push(...markdownTable(notable));
  else lines.push('No metric changed significantly beyond its threshold.');
  if (quiet.length) {
    lines.push('', `<details><summary>${quiet.length} metric(s) with no significant change or within their threshold</summary>`, '');
    lines.push(...markdownTable(quiet));
    lines.push('', '</details>');
  }
  if (result.cells.length) {
    lines.push('', `<details><summary>Side by side: baseline and current, ratios with their intervals</summary>`, '');
    lines.push(sideBySideMarkdown(sideBySideOfCompare(result)).trimEnd());
    lines.push('', '</details>');
  }
  const warnings = [...result.warnings, ...result.cells.flatMap((c) => c.warnings)];
  if (warnings.length) {
    lines.push('');
    lines.push('**Warnings**');
    lines.push('');
    for (const w of warnings) lines.push(`- ${escapeCell(w)}`);
  }
  lines.push('');
  lines.push(
    `_change = current / baseline - 1; CI = ${Math.round((1 - result.alpha) * 1000) / 10}% confidence interval of the change and p = its p-value, from one test: a bootstrap of the percentile (latency) or Welch's t across repetitions (throughput)._`,
  );
  return lines.join('\n') + '\n';
}

/**
 * report.md of a report directory: the run, its checks, the configurations side by side and the
 * latency table, in Markdown (for a job summary, a pull request or a notebook).
 */
export function reportMarkdown(data: ReportData): string {
  const meta = data.meta ?? {};
  const runId = String(meta.run_id ?? data.latency[0]?.run_id ?? data.dir);
  const lines: string[] = [`## robust-kvs report \`${runId}\``, ''];
  const configs = [...new Set(data.latency.map((r) => r.config))];
  lines.push(`Suite **${String(meta.suite ?? data.latency[0]?.suite ?? '?')}**${configs.length ? `, configurations ${configs.map((c) => `\`${c}\``).join(', ')}` : ''}${meta.start ? `, ${String(meta.start)}` : ''}. Latencies in ms; charts in report.html.`, '');
  const sim = meta.simulation as { headline?: unknown } | undefined;
  if (Array.isArray(sim?.headline)) lines.push(...(sim.headline as unknown[]).map((h) => `> ${String(h)}`), '');
  const checks = checksOfMeta(data.meta);
  if (checks.length) lines.push('### Checks', '', checksMarkdown(checks));
  const sbs = sideBySide(sideCellsOfReport(data), { order: configOrder(data.meta) });
  if (sbs) lines.push('### Configurations side by side', '', sideBySideMarkdown(sbs));
  if (data.latency.length) {
    const cols = ['config', 'variant', 'schedule', 'op', 'value_bytes', 'clients', 'registers', 'workers', 'workload', 'mode', 'open_rate', 'count', 'errors', 'p50_ms', 'p99_ms', 'max_ms', 'ops_per_s'];
    const shown = cols.filter((c) => c in data.latency[0]! && (/_ms$|ops_per_s|count|errors|^op$|variant|schedule/.test(c) || new Set(data.latency.map((r) => r[c])).size > 1));
    lines.push('### Latency (latency.csv)', '', `| ${shown.join(' | ')} |`, `|${shown.map((c) => (/_ms$|ops_per_s|count|errors|bytes|clients|registers|workers|rate/.test(c) ? '---:' : '---')).join('|')}|`);
    for (const r of data.latency) lines.push(`| ${shown.map((c) => escapeCell(r[c] ?? '')).join(' | ')} |`);
    lines.push('');
  }
  return lines.join('\n') + '\n';
}
