/**
 * The summary checks of a run, computed from its record: the latency model (p50 vs rounds x d),
 * the harness's own overhead, copies per register at quiescence (keyed by clients), and throughput
 * scaling over worker counts. Each check names the cells it is about.
 */
import { cellId, cellOf, loadLabel, type Cell } from '../config/cell.js';
import type { BenchSchedule, LogicalOp } from '../config/workload.js';
import type { BenchResults, QuiescentEntry, SeriesRecord, SummaryCheck } from '../record/results.js';
import type { CheckRuns, HarnessTiming } from '../run/checks.js';
import { summarize } from '../run/histogram.js';

/** Expected rounds of an operation in the common case (no concurrency, all replicas up). */
export function expectedRounds(variant: 'regular' | 'atomic', schedule: BenchSchedule, op: LogicalOp): number {
  if (op === 'write' || op === 'remove') return schedule === 'fast' ? 2 : 3;
  if (schedule === 'fast') return 1;
  return variant === 'atomic' ? 3 : 2;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Every check of a run: latency model, harness overhead, quiescent copies, and scaling in a sweep. */
export function analyzeRun(results: BenchResults, runs: CheckRuns, counts: readonly number[]): SummaryCheck[] {
  const out: SummaryCheck[] = [];
  if (runs.latencyModel) out.push(...latencyModelChecks(results, runs.latencyModel.delayMs));
  if (runs.harness) out.push(harnessCheck(runs.harness));
  out.push(...quiescentChecks(results.quiescent));
  if (counts.length > 1) out.push(...scalingChecks(results.series, counts));
  return out;
}

/** p50 of each latency-model cell vs its rounds (reported by the register, else expected) x d. */
export function latencyModelChecks(results: BenchResults, d: number): SummaryCheck[] {
  const order = (k: { variant: string; schedule: string; op: string }) => [['regular', 'atomic'].indexOf(k.variant), ['fast', 'classic'].indexOf(k.schedule), ['write', 'read'].indexOf(k.op)];
  const cells = results
    .cellHistograms()
    .filter((c) => c.key.config === 'latency-model' && c.ok.totalCount > 0)
    .sort((a, b) => {
      const x = order(a.key);
      const y = order(b.key);
      return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
    });
  return cells.map(({ key, ok, rounds: measured }) => {
    const p50 = summarize(ok).p50_ms;
    const rounds = measured ?? expectedRounds(key.variant as 'regular' | 'atomic', key.schedule as BenchSchedule, key.op as LogicalOp);
    const expected = rounds * d;
    const dev = (p50 - expected) / expected;
    return {
      name: `latency model ${key.variant}/${key.schedule} ${key.op}`,
      detail: `p50 ${p50.toFixed(2)} ms vs ${rounds.toFixed(2)} rounds x ${d} ms = ${expected.toFixed(1)} ms (${dev >= 0 ? '+' : ''}${(dev * 100).toFixed(1)}%)`,
      pass: Math.abs(dev) <= 0.1,
      measured: `p50 ${p50.toFixed(2)} ms (${dev >= 0 ? '+' : ''}${(dev * 100).toFixed(1)}%)`,
      bound: `${rounds.toFixed(2)} rounds x ${d} ms = ${expected.toFixed(1)} ms, within 10%`,
      meaning: `A ${key.op} takes the rounds the protocol prescribes, each one replica call of ${d} ms: the register adds no hidden round trip.`,
    };
  });
}

/** Time per operation inside the store vs the whole cycle: what the harness adds. */
export function harnessCheck(h: HarnessTiming): SummaryCheck {
  const inStore = h.calls > 0 ? h.inStoreMs / h.calls : 0;
  const cycle = h.ops > 0 ? h.windowMs / h.ops : 0;
  const own = cycle - inStore;
  return {
    name: `harness overhead (raw memory, d = ${h.delayMs} ms)`,
    detail:
      `${cycle.toFixed(3)} ms per operation, ${inStore.toFixed(3)} ms of it inside the store: the harness adds ` +
      `${(own * 1000).toFixed(0)} us (${pct(own / inStore)}); recorded latency ${h.recordedMeanMs.toFixed(3)} ms (${pct((h.recordedMeanMs - inStore) / inStore)})`,
    pass: inStore > 0 && own / inStore < 0.05,
    measured: `${(own * 1000).toFixed(0)} us per operation (${pct(own / inStore)} of the ${inStore.toFixed(3)} ms inside the store)`,
    bound: 'under 5% of the time inside the store',
    meaning: 'What the harness itself adds to each operation is small next to what it measures, so the latencies shown are the store\'s.',
  };
}

/**
 * Copies per register at quiescence: exactly 2 in the common case (one client, so writes never
 * overlap, GC done); concurrent writers may leave a temporary key their GC never listed.
 */
export function quiescentChecks(quiescent: readonly QuiescentEntry[]): SummaryCheck[] {
  const out: SummaryCheck[] = [];
  const q = quiescent.filter((x) => x.variant !== 'raw');
  for (const [label, cells] of [
    ['one client', q.filter((x) => x.clients === 1)],
    ['concurrent clients', q.filter((x) => x.clients > 1)],
  ] as const) {
    const copies = cells.flatMap((x) => x.copies);
    if (!copies.length) continue;
    const min = Math.min(...copies);
    const max = Math.max(...copies);
    const measured = min === max ? `${min.toFixed(2)} at every replica` : `between ${min.toFixed(2)} and ${max.toFixed(2)}`;
    out.push({
      name: `copies per register at quiescence, ${label}`,
      detail: measured,
      pass: label === 'one client' ? min === 2 && max === 2 : null,
      measured,
      ...(label === 'one client'
        ? {
            bound: 'exactly 2.00',
            meaning: 'Once writes that never overlap have settled, each replica keeps the eternal key and the newest temporary key of a register, nothing more: garbage collection leaves no leak.',
          }
        : {
            meaning:
              'Overlapping writers may leave a temporary key that no writer\'s garbage collection listed; the next write to that register removes it, so this figure is shown, not held to a bound.',
          }),
    });
  }
  return out;
}

/** Throughput of each cell at every worker count of a sweep, relative to the smallest count. */
export function scalingChecks(series: readonly SeriesRecord[], counts: readonly number[]): SummaryCheck[] {
  // one cell measurement (cell_id) = its operations over its window
  const runs = new Map<string, { cell: Cell; ops: number; ms: number }>();
  for (const s of series) {
    const id = s.cell_id ?? cellId(cellOf(s));
    const r = runs.get(id) ?? { cell: cellOf(s), ops: 0, ms: s.elapsed_ms };
    r.ops += s.ok + s.errors;
    runs.set(id, r);
  }
  const byCell = new Map<string, { cell: Cell; byN: Map<number, { ops: number; ms: number }> }>();
  for (const { cell, ops, ms } of runs.values()) {
    const id = cellId({ ...cell, workers: 0 });
    const e = byCell.get(id) ?? { cell, byN: new Map() };
    const acc = e.byN.get(cell.workers) ?? { ops: 0, ms: 0 };
    acc.ops += ops;
    acc.ms += ms;
    e.byN.set(cell.workers, acc);
    byCell.set(id, e);
  }
  const base = counts[0] as number;
  const out: SummaryCheck[] = [];
  for (const { cell, byN } of byCell.values()) {
    const rate = (n: number) => {
      const x = byN.get(n);
      return x && x.ms > 0 ? (x.ops * 1000) / x.ms : undefined;
    };
    const b = rate(base);
    if (b === undefined) continue;
    const parts = counts.map((n) => {
      const r = rate(n);
      return r === undefined ? `${n}w -` : `${n}w ${r.toFixed(0)} ops/s${n === base ? '' : ` (x${(r / b).toFixed(2)})`}`;
    });
    const vs = cell.schedule === 'none' ? cell.variant : `${cell.variant}/${cell.schedule}`;
    out.push({
      name: `throughput scaling ${cell.config} ${vs} ${cell.workload} ${cell.value_bytes}B ${cell.clients}c ${cell.registers}r ${loadLabel(cell)}`,
      detail: parts.join(', '),
      pass: null,
      measured: parts.join(', '),
      meaning: 'Throughput of the same cell as worker processes are added: how far this machine scales the load.',
    });
  }
  return out;
}
