/**
 * Output of the exact gate (`rkvs compare` on two model suite runs): one line per regressed or
 * improved family of metrics of a cell key, a summary line, Markdown for a job summary, and
 * compare-exact.csv with every matched (cell key, replica, metric).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { fmtExact, type ExactCompareResult } from '../analyze/exact.js';
import { CELL_KEY_COLUMNS } from '../config/cell.js';

/** `N exact metrics of M cell keys compared: R regressed, I improved (zero tolerance)`. */
export function exactSummaryLine(r: ExactCompareResult): string {
  const keys = new Set(r.changes.map((c) => JSON.stringify(c.key))).size;
  return `${r.changes.length} exact metrics of ${keys} cell key(s) compared at zero tolerance: ${r.regressions} cell key(s) regressed, ${r.improvements} improved`;
}

/** The terminal text: the findings, the summary, the warnings. */
export function formatExactCompare(r: ExactCompareResult, o: { quiet?: boolean } = {}): string {
  const out: string[] = [];
  if (!o.quiet) out.push(`exact metrics: ${r.baselineDir} (suite ${r.baselineSuite}) vs ${r.currentDir} (suite ${r.currentSuite})`, '');
  for (const f of r.findings) if (!o.quiet || f.verdict === 'regressed') out.push(`${f.verdict === 'regressed' ? 'REGRESSED' : 'improved '}  ${f.message}`);
  if (r.findings.length === 0 && !o.quiet) out.push('no exact metric changed');
  out.push('', exactSummaryLine(r));
  if (r.improvements > 0 && r.regressions === 0) out.push(`note: the baseline is stale (${r.improvements} cell key(s) improved); copy this run over it to keep the gain (docs/compare-and-report.md)`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n') + '\n';
}

/** Markdown for a job summary or a pull-request comment. */
export function exactMarkdown(r: ExactCompareResult): string {
  const head = r.regressions > 0 ? `### :red_circle: exact metrics: ${r.regressions} cell key(s) regressed` : `### :white_check_mark: exact metrics: no regression`;
  const lines = [head, '', exactSummaryLine(r), ''];
  for (const f of r.findings) lines.push(`- ${f.verdict === 'regressed' ? '**regressed**' : 'improved'}: ${f.message}`);
  for (const w of r.warnings) lines.push(`- warning: ${w}`);
  return lines.join('\n') + '\n';
}

export const EXACT_COMPARE_COLUMNS = [...CELL_KEY_COLUMNS, 'replica', 'metric', 'baseline', 'current', 'difference', 'verdict'] as const;

/** Writes compare-exact.csv (every matched metric) into `dir`; returns its path. */
export async function writeExactCompareCsv(r: ExactCompareResult, dir: string): Promise<string> {
  const rows = r.changes.map((c) => [...CELL_KEY_COLUMNS.map((f) => String(c.key[f])), c.replica, c.metric, fmtExact(c.baseline), fmtExact(c.current), fmtExact(c.difference), c.verdict]);
  const file = join(dir, 'compare-exact.csv');
  await writeFile(file, stringify(rows, { header: true, columns: [...EXACT_COMPARE_COLUMNS], record_delimiter: 'unix' }));
  return file;
}
