/**
 * Markdown output of `rkvs compare`, for a CI job summary ($GITHUB_STEP_SUMMARY) or a PR comment.
 */
import type { CompareResult, Verdict } from '../analyze/compare.js';
import { compareRows, NUMERIC_COLUMNS, summaryLine, TABLE_HEADER } from './compare.js';

const ICON: Record<Verdict, string> = {
  regressed: ':red_circle: regressed',
  improved: ':green_circle: improved',
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
  const notable = rows.filter((r) => r[r.length - 1] !== 'no significant change');
  const quiet = rows.filter((r) => r[r.length - 1] === 'no significant change');
  if (notable.length) lines.push(...markdownTable(notable));
  else lines.push('No metric changed significantly beyond its threshold.');
  if (quiet.length) {
    lines.push('', `<details><summary>${quiet.length} metric(s) with no significant change</summary>`, '');
    lines.push(...markdownTable(quiet));
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
    '_change = current / baseline - 1; CI = bootstrap confidence interval of the change (percentiles); p = Mann-Whitney U (latency) or Welch t (throughput across repetitions)._',
  );
  return lines.join('\n') + '\n';
}
