/**
 * The summary printed on stdout at the end of a run: latency per cell key, the configurations side
 * by side, storage per cell, the checks with their bounds, and where the report files are.
 */
import path from 'node:path';
import { cellKeyString, loadLabel, type Cell } from '../config/cell.js';
import type { BenchResults } from '../record/results.js';
import { sideBySide, sideCellsOfResults } from '../analyze/side-by-side.js';
import { checksText, viewOfSummaryCheck } from './check-table.js';
import { sideBySideNote, sideBySideText } from './side-by-side.js';

export { configOrder } from '../analyze/side-by-side.js';

export interface SummaryOptions {
  /** history.jsonl was written (`--history`): say where, and how to check it. */
  history?: boolean;
  /** The run's configurations in the order it ran them: the first is the side-by-side reference. */
  configs?: readonly string[];
  /** report.html and report.md were written (false with `rkvs bench --no-html`). @default true */
  html?: boolean;
}

const HEAD = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'regs', 'workers', 'workload', 'load', 'count', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'ops/s'];
const TEXT = new Set(['config', 'variant', 'schedule', 'op', 'workload', 'load'].map((c) => HEAD.indexOf(c)));

function pad(cells: string[][], withFault = false): string {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  // the fault column comes right after load
  const text = (i: number) => (withFault && i > HEAD.indexOf('load') ? i === HEAD.indexOf('load') + 1 : TEXT.has(i));
  return cells
    .map((row) => row.map((c, i) => (text(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** Latency table (one row per cell key; a fault column when a cell ran under a fault), side by side, storage per cell, the checks, failures, files. */
export function summaryTable(r: BenchResults, dir: string, o: SummaryOptions = {}): string {
  const lines: string[] = [];
  const rows = r.latencyRows();
  const faulty = rows.some((x) => x.fault !== '');
  const body = rows.map((x) => [
    String(x.config),
    String(x.variant),
    String(x.schedule),
    String(x.op),
    String(x.value_bytes),
    String(x.clients),
    String(x.registers),
    String(x.workers),
    String(x.workload),
    loadLabel({ mode: String(x.mode), open_rate: Number(x.open_rate) }),
    ...(faulty ? [String(x.fault) || 'healthy'] : []),
    String(x.count),
    String(x.errors),
    Number(x.p50_ms).toFixed(2),
    Number(x.p99_ms).toFixed(2),
    Number(x.max_ms).toFixed(2),
    Number(x.ops_per_s).toFixed(1),
  ]);
  lines.push(`run ${r.runId}: ${rows.length} latency rows`);
  if (body.length) lines.push(pad(faulty ? [HEAD.flatMap((h) => (h === 'load' ? [h, 'fault'] : [h])), ...body] : [HEAD, ...body], faulty));
  const sbs = sideBySide(sideCellsOfResults(r), { order: o.configs ?? [] });
  if (sbs) lines.push('', `configurations side by side (ratio to ${sbs.groups[0]}):`, sideBySideText(sbs), sideBySideNote(sbs));
  lines.push(...storageLines(r));
  if (r.checks.length) lines.push('', ...checksText(r.checks.map(viewOfSummaryCheck)));
  const errs = r.errorRows();
  if (errs.length) {
    lines.push('', 'errors (counted, not fatal):');
    for (const e of errs) lines.push(`  ${cellKeyString(e as unknown as Cell & { op: string })} ${e.kind}: ${e.count}`);
  }
  if (r.failures.length) {
    lines.push('', 'failures:');
    for (const f of r.failures) lines.push(`  ${f}`);
  }
  lines.push('', o.html === false ? `report: ${dir} (the CSV files; rkvs report ${dir} writes report.html and report.md)` : `report: ${dir} (report.html, report.md, the CSV files)`);
  if (o.history) lines.push(`history: ${path.join(dir, 'history.jsonl')} (${r.history.length} operations; check it with: rkvs check ${path.join(dir, 'history.jsonl')})`);
  return lines.join('\n') + '\n';
}

/** One line per cell: copies per register (and bytes ratio) at quiescence at each replica. */
function storageLines(r: BenchResults): string[] {
  const q = r.overheadRows().filter((x) => x.phase === 'quiescent');
  if (!q.length) return [];
  const byCell = new Map<string, string[]>();
  for (const x of q) {
    const k = cellKeyString(x as unknown as Cell);
    const list = byCell.get(k) ?? [];
    list.push(`${x.replica} ${Number(x.copies_per_register).toFixed(2)} (x${Number(x.overhead_ratio).toFixed(2)} bytes)`);
    byCell.set(k, list);
  }
  return ['', 'storage at quiescence (objects per register, per replica):', ...[...byCell].map(([k, v]) => `  ${k}: ${v.join(', ')}`)];
}
