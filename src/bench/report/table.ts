/** The summary printed on stdout at the end of a run. */
import type { BenchResults } from '../record/results.js';

function pad(cells: string[][]): string {
  const widths: number[] = [];
  for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return cells
    .map((row) => row.map((c, i) => (i < 2 || i === 3 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** Latency table (one row per cell), the summary checks, storage and failures. */
export function summaryTable(r: BenchResults, dir: string): string {
  const lines: string[] = [];
  const rows = r.latencyRows();
  const head = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'count', 'errors', 'p50 ms', 'p99 ms', 'max ms', 'ops/s'];
  const body = rows.map((x) => [
    String(x.config),
    String(x.variant),
    String(x.schedule),
    String(x.op),
    String(x.value_bytes),
    String(x.clients),
    String(x.count),
    String(x.errors),
    Number(x.p50_ms).toFixed(2),
    Number(x.p99_ms).toFixed(2),
    Number(x.max_ms).toFixed(2),
    Number(x.ops_per_s).toFixed(1),
  ]);
  lines.push(`run ${r.runId}: ${rows.length} latency rows`);
  if (body.length) lines.push(pad([head, ...body]));
  const q = r.overheadRows().filter((x) => x.phase === 'quiescent');
  if (q.length) {
    lines.push('', 'storage at quiescence (objects per register, per replica):');
    const byCfg = new Map<string, string[]>();
    for (const x of q) {
      const k = `${x.config} ${x.variant} ${x.value_bytes}B`;
      const list = byCfg.get(k) ?? [];
      list.push(`${x.replica} ${Number(x.copies_per_register).toFixed(2)} (x${Number(x.overhead_ratio).toFixed(2)} bytes)`);
      byCfg.set(k, list);
    }
    for (const [k, v] of byCfg) lines.push(`  ${k}: ${v.join(', ')}`);
  }
  if (r.checks.length) {
    lines.push('', 'checks:');
    for (const c of r.checks) lines.push(`  ${c.pass === null ? '-' : c.pass ? 'ok  ' : 'MISS'} ${c.name}: ${c.detail}`);
  }
  const errs = r.errorRows();
  if (errs.length) {
    lines.push('', 'errors (counted, not fatal):');
    for (const e of errs) lines.push(`  ${e.config} ${e.variant}/${e.schedule} ${e.op} ${e.kind}: ${e.count}`);
  }
  if (r.failures.length) {
    lines.push('', 'failures:');
    for (const f of r.failures) lines.push(`  ${f}`);
  }
  lines.push('', `report: ${dir}`);
  return lines.join('\n') + '\n';
}
