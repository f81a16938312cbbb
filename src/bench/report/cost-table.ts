/** The table `rkvs cost` prints: one row per cost.csv row, the whole cell key first. */
import type { CostRow } from '../analyze/cost.js';
import { conditionLabel } from '../config/cell.js';

const COLUMNS = ['config', 'variant', 'schedule', 'op', 'bytes', 'clients', 'regs', 'workers', 'workload', 'load', 'phase', 'requests_per_op', 'cost_per_million_ops', 'egress_per_million_ops', 'storage_per_logical_gb_month', 'currency'] as const;

/** Plain-text cost table (`-` for an empty field). */
export function costTable(rows: readonly CostRow[]): string {
  const cell = (r: CostRow, c: (typeof COLUMNS)[number]): string => {
    const v =
      c === 'bytes' ? r.value_bytes : c === 'regs' ? r.registers : c === 'load' ? conditionLabel({ mode: String(r.mode), open_rate: Number(r.open_rate), fault: String(r.fault ?? '') }) : r[c];
    return String(v === '' ? '-' : v);
  };
  const body = rows.map((r) => COLUMNS.map((c) => cell(r, c)));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(COLUMNS), ...body.map(fmt)].join('\n');
}
