/** The summary printed on stdout at the end of a run: latency per cell key, storage per cell, checks. */
import { cellKeyString, loadLabel, type Cell } from '../config/cell.js';
import type { BenchResults } from '../record/results.js';

const HEAD = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'regs', 'workers', 'workload', 'load', 'count', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'ops/s'];
const TEXT = new Set(['config', 'variant', 'schedule', 'op', 'workload', 'load'].map((c) => HEAD.indexOf(c)));

function pad(cells: string[][]): string {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells
    .map((row) => row.map((c, i) => (TEXT.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** Latency table (one row per cell key), the summary checks, storage per cell and failures. */
export function summaryTable(r: BenchResults, dir: string): string {
  const lines: string[] = [];
  const rows = r.latencyRows();
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
    String(x.count),
    String(x.errors),
    Number(x.p50_ms).toFixed(2),
    Number(x.p99_ms).toFixed(2),
    Number(x.max_ms).toFixed(2),
    Number(x.ops_per_s).toFixed(1),
  ]);
  lines.push(`run ${r.runId}: ${rows.length} latency rows`);
  if (body.length) lines.push(pad([HEAD, ...body]));
  lines.push(...storageLines(r));
  if (r.checks.length) {
    lines.push('', 'checks:');
    for (const c of r.checks) lines.push(`  ${c.pass === null ? '-' : c.pass ? 'ok  ' : 'MISS'} ${c.name}: ${c.detail}`);
  }
  const errs = r.errorRows();
  if (errs.length) {
    lines.push('', 'errors (counted, not fatal):');
    for (const e of errs) lines.push(`  ${cellKeyString(e as unknown as Cell & { op: string })} ${e.kind}: ${e.count}`);
  }
  if (r.failures.length) {
    lines.push('', 'failures:');
    for (const f of r.failures) lines.push(`  ${f}`);
  }
  lines.push('', `report: ${dir}`);
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
