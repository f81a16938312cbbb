/**
 * The rows of the CSV files, built from the record: one latency row per cell key, one peak and one
 * quiescent overhead row per (cell, replica), one requests row per (cell key, replica), one errors
 * row per (cell key, error kind). Keys are copied whole; nothing is merged across cells.
 */
import { cellOf, compareCells, keyOf, type CellKey } from '../config/cell.js';
import { mergeHistograms, summarize } from '../run/histogram.js';
import type { ErrorsEntry, LatencyCell, RequestsEntry, SecondEntry, StorageEntry } from './results.js';
import type { ErrorsRow, LatencyRow, OverheadRow, PerSecondRow, RequestsRow } from './schema.js';

/** Rounds to a fixed number of decimals for stable, readable CSV (no exponent notation). */
export function fixed(x: number, decimals = 3): number {
  if (!Number.isFinite(x)) return 0;
  return Number(x.toFixed(decimals));
}

/** Cells in the stable report order (config, variant, schedule, workload, op, size, clients, ...). */
export function sortedCells(cells: Iterable<LatencyCell>): LatencyCell[] {
  return [...cells].sort((a, b) => compareCells(a.key, b.key));
}

/** The key columns of a row, in column order (the cell key, nothing else of the entry). */
function keyColumns(k: CellKey): CellKey {
  return keyOf(k, k.op);
}

export function latencyRows(runId: string, suite: string, cells: Iterable<LatencyCell>): LatencyRow[] {
  return sortedCells(cells).map((c) => {
    const s = summarize(mergeHistograms(c.ok));
    return {
      run_id: runId,
      suite,
      ...keyColumns(c.key),
      count: s.count,
      errors: c.errors,
      mean_ms: fixed(s.mean_ms),
      p50_ms: fixed(s.p50_ms),
      p90_ms: fixed(s.p90_ms),
      p99_ms: fixed(s.p99_ms),
      p999_ms: fixed(s.p999_ms),
      max_ms: fixed(s.max_ms),
      ops_per_s: c.elapsedMs > 0 ? fixed((s.count * 1000) / c.elapsedMs, 2) : 0,
    };
  });
}

/** Two rows per storage entry, peak then quiescent, cells in report order. */
export function overheadRows(runId: string, entries: Iterable<StorageEntry>): OverheadRow[] {
  const sorted = [...entries].sort((a, b) => compareCells(a, b));
  return sorted.flatMap((e) =>
    (['peak', 'quiescent'] as const).map((phase) => {
      const usage = e[phase];
      const cell = cellOf(e);
      return {
        run_id: runId,
        ...cell,
        replica: e.replica,
        phase,
        repeat: e.repeat,
        registers_written: e.registers_written,
        objects: usage.objects,
        stored_bytes: usage.stored_bytes,
        logical_bytes: e.logical_bytes,
        copies_per_register: fixed(e.registers_written > 0 ? usage.objects / e.registers_written : 0, 2),
        overhead_ratio: fixed(e.logical_bytes > 0 ? usage.stored_bytes / e.logical_bytes : 0, 3),
      };
    }),
  );
}

/** Requests per measured operation of the key (`opsOf`), per replica. */
export function requestRows(runId: string, entries: Iterable<RequestsEntry>, opsOf: (k: CellKey) => number): RequestsRow[] {
  return [...entries]
    .sort((a, b) => compareCells(a, b))
    .map((r) => {
      const n = opsOf(r);
      const per = (x: number) => (n > 0 ? fixed(x / n, 3) : 0);
      return {
        run_id: runId,
        ...keyColumns(r),
        replica: r.replica,
        ops: n,
        puts: per(r.puts),
        gets: per(r.gets),
        lists: per(r.lists),
        removes: per(r.removes),
        bytes_up: per(r.bytes_up),
        bytes_down: per(r.bytes_down),
      };
    });
}

export function errorRows(runId: string, entries: Iterable<ErrorsEntry>): ErrorsRow[] {
  return [...entries].sort((a, b) => compareCells(a, b)).map((e) => ({ run_id: runId, ...keyColumns(e), kind: e.kind, count: e.count }));
}

/**
 * One row per (cell key, repetition, second, phase), in report order then time: the operations
 * that ended in that second, their rate over the part of the second the cell ran, and latencies.
 */
export function perSecondRows(runId: string, entries: Iterable<SecondEntry>): PerSecondRow[] {
  const phase = (p: string) => (p === 'warmup' ? 0 : 1);
  return [...entries]
    .sort((a, b) => compareCells(a, b) || a.repeat - b.repeat || a.second - b.second || phase(a.phase) - phase(b.phase))
    .map((e) => {
      const s = summarize(e.ok);
      return {
        run_id: runId,
        ...keyColumns(e),
        repeat: e.repeat,
        second: e.second,
        phase: e.phase,
        start_ms: e.start_ms,
        span_s: fixed(e.span_ms / 1000, 3),
        count: s.count,
        errors: e.errors,
        ops_per_s: e.span_ms > 0 ? fixed((s.count * 1000) / e.span_ms, 2) : 0,
        mean_ms: fixed(s.mean_ms),
        p50_ms: fixed(s.p50_ms),
        p99_ms: fixed(s.p99_ms),
        max_ms: fixed(s.max_ms),
      };
    });
}
