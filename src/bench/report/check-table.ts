/**
 * The checks of a run as people read them: each check with its measured value, its bound, whether
 * it holds, and one sentence on what it means. The checks themselves are computed elsewhere
 * (analyze/checks.ts for a bench run, the scenario for a simulation) and kept in meta.json; this
 * file presents them on the console, in summary.md and at the top of report.html.
 */
import type { SummaryCheck } from '../record/results.js';

export type CheckStatus = 'holds' | 'MISSES' | 'info';

/** One check, ready to show. */
export interface CheckView {
  name: string;
  status: CheckStatus;
  measured: string;
  /** '' when the check is a figure for information, with no bound. */
  bound: string;
  meaning: string;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');

/** A bench run's summary check. */
export function viewOfSummaryCheck(c: SummaryCheck): CheckView {
  return { name: c.name, status: c.pass === null ? 'info' : c.pass ? 'holds' : 'MISSES', measured: c.measured ?? c.detail, bound: c.bound ?? '', meaning: c.meaning ?? '' };
}

/** The checks recorded in meta.json: `checks` of a bench run, `simulation.checks` of a simulation. */
export function checksOfMeta(meta: Record<string, unknown> | null): CheckView[] {
  if (!meta) return [];
  const out: CheckView[] = [];
  if (Array.isArray(meta.checks)) for (const c of meta.checks as SummaryCheck[]) if (c && typeof c.name === 'string') out.push(viewOfSummaryCheck(c));
  const sim = meta.simulation as { checks?: unknown } | undefined;
  if (sim && Array.isArray(sim.checks))
    for (const c of sim.checks as Record<string, unknown>[]) {
      if (!c || typeof c.name !== 'string') continue;
      out.push({ name: c.name, status: c.ok ? 'holds' : 'MISSES', measured: text(c.measured) || text(c.detail), bound: text(c.bound), meaning: text(c.meaning) });
    }
  return out;
}

/** `3 of 4 checks hold, 1 misses; 2 figures for information` */
export function checksHeadline(views: readonly CheckView[]): string {
  const held = views.filter((v) => v.status === 'holds').length;
  const missed = views.filter((v) => v.status === 'MISSES').length;
  const info = views.filter((v) => v.status === 'info').length;
  const bounded = held + missed;
  const parts: string[] = [];
  if (bounded) parts.push(`${held} of ${bounded} check${bounded === 1 ? '' : 's'} ${held === 1 && bounded === 1 ? 'holds' : 'hold'}${missed ? `, ${missed} ${missed === 1 ? 'misses' : 'miss'}` : ''}`);
  if (info) parts.push(`${info} figure${info === 1 ? '' : 's'} for information (no bound)`);
  return parts.join('; ');
}

/** What the bound cell says when a check has none: a figure for information, or a check recorded before bounds were. */
function noBound(v: CheckView): string {
  return v.status === 'info' ? 'no bound: for information' : 'not recorded (a report written before checks kept their bound)';
}

/** Console lines: the headline, then by kind what the checks mean and each check with its value and bound. */
export function checksText(views: readonly CheckView[]): string[] {
  if (!views.length) return [];
  const lines = [`checks: ${checksHeadline(views)}`];
  const tag: Record<CheckStatus, string> = { holds: 'holds ', MISSES: 'MISSES', info: 'info  ' };
  for (const { meaning, views: vs } of groupByMeaning(views)) {
    if (meaning) lines.push(`  ${meaning}`);
    for (const v of vs) lines.push(`    ${tag[v.status]} ${v.name}: ${v.measured}${v.bound ? `; bound ${v.bound}` : v.status === 'info' ? '; no bound' : ''}`);
  }
  return lines;
}

const esc = (x: unknown) => String(x ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The checks grouped by what they mean, in order of first appearance. */
export function groupByMeaning(views: readonly CheckView[]): { meaning: string; views: CheckView[] }[] {
  const groups = new Map<string, CheckView[]>();
  for (const v of views) groups.set(v.meaning, [...(groups.get(v.meaning) ?? []), v]);
  return [...groups].map(([meaning, vs]) => ({ meaning, views: vs }));
}

/** Larger groups whose checks all hold are folded (the reader opens them). */
const FOLD_GROUP = 6;

/**
 * The checks of report.html: a headline, then one table per kind of check, under the sentence
 * saying what that kind means; each row a check, its measured value, its bound and the result.
 */
export function checksHtml(views: readonly CheckView[]): string {
  const cls: Record<CheckStatus, string> = { holds: 'ok', MISSES: 'miss', info: 'info' };
  const word: Record<CheckStatus, string> = { holds: 'holds', MISSES: 'misses', info: 'info' };
  const groups = groupByMeaning(views).map(({ meaning, views: vs }) => {
    const rows = vs.map(
      (v) =>
        `<tr class="${cls[v.status]}"><td class="status">${word[v.status]}</td><td>${esc(v.name)}</td><td>${esc(v.measured)}</td><td>${v.bound ? esc(v.bound) : `<span class="muted">${noBound(v)}</span>`}</td></tr>`,
    );
    const table = `<div class="table-wrap"><table class="checks"><thead><tr><th>result</th><th>check</th><th>measured</th><th>bound</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
    const head = `<b>${esc(checksHeadline(vs))}.</b> ${esc(meaning)}`;
    const allHold = vs.every((v) => v.status !== 'MISSES');
    if (allHold && vs.length > FOLD_GROUP) return `<details class="check-group"><summary>${head}</summary>\n${table}\n</details>`;
    return `<div class="check-group"><p class="meaning">${head}</p>\n${table}</div>`;
  });
  return `<p class="headline">${esc(checksHeadline(views))}.</p>\n${groups.join('\n')}`;
}

/** The checks of report.md: the headline, then a table per kind under what the kind means. */
export function checksMarkdown(views: readonly CheckView[]): string {
  const cell = (x: string) => x.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out = [`${checksHeadline(views)}.`];
  for (const { meaning, views: vs } of groupByMeaning(views)) {
    out.push('', `**${checksHeadline(vs)}.** ${meaning}`, '', '| result | check | measured | bound |', '|---|---|---|---|');
    for (const v of vs) out.push(`| ${v.status === 'MISSES' ? '**misses**' : v.status} | ${cell(v.name)} | ${cell(v.measured)} | ${cell(v.bound || noBound(v))} |`);
  }
  return out.join('\n') + '\n';
}
