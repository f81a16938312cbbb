/**
 * Collects everything a run measures (across configurations, variants, cells and repetitions) and
 * turns it into the report rows. Kept in memory as it is measured, so partial results can always
 * be written (interrupt, failing configuration).
 */
import { encodeHistogram, mergeHistograms, summarize, type Histogram } from '../run/histogram.js';
import { fixed, type ErrorsRow, type LatencyRow, type OverheadRow, type RequestsRow } from '../report/csv.js';
import { addCounts, emptyCounts, type RequestCounts } from '../run/counting.js';
import type { ReplicaUsage } from '../run/storage.js';

export interface CellKey {
  config: string;
  variant: string;
  schedule: string;
  op: string;
  value_bytes: number;
  clients: number;
}

interface LatencyCell extends CellKey {
  ok: Histogram[];
  failed: Histogram[];
  errors: number;
  /** Sum of measured windows, ms (for ops_per_s). */
  elapsedMs: number;
  roundsSum: number;
  roundsN: number;
}

export interface HistogramLine extends CellKey {
  repeat: number;
  /** The measured cell (its key namespace, e.g. `cell0003`): the same on every shard of a run. */
  cell?: string;
  outcome: 'ok' | 'error';
  unit: 'us';
  start_ms: number;
  end_ms: number;
  encoded: string;
}

export interface OverheadEntry {
  config: string;
  variant: string;
  replica: string;
  phase: 'peak' | 'quiescent';
  registers: number;
  value_bytes: number;
  usage: ReplicaUsage;
  logical_bytes: number;
}

/** Extra figures printed in the summary. */
export interface SummaryCheck {
  name: string;
  detail: string;
  pass: boolean | null;
}

const cellId = (k: CellKey) => [k.config, k.variant, k.schedule, k.op, k.value_bytes, k.clients].join('\u0000');

export class BenchResults {
  private readonly cells = new Map<string, LatencyCell>();
  readonly histogramLines: HistogramLine[] = [];
  private readonly overhead = new Map<string, OverheadEntry>();
  private readonly requests = new Map<string, { config: string; variant: string; op: string; replica: string; counts: RequestCounts; ops: number }>();
  private readonly logicalOps = new Map<string, number>();
  private readonly errors = new Map<string, ErrorsRow>();
  readonly checks: SummaryCheck[] = [];
  /** Failures that stopped part of the run (configuration could not open, ...), one line each. */
  readonly failures: string[] = [];
  /** Copies per register at quiescence of each cell, per replica (for the summary checks). */
  readonly quiescent: { config: string; variant: string; schedule: string; clients: number; copies: number[] }[] = [];
  /** Cells measured, for the summary. */
  cellsMeasured = 0;
  /** Every series as added (one per cell, op, size and repetition): counters.json, for rkvs merge. */
  readonly series: SeriesRecord[] = [];

  constructor(
    readonly runId: string,
    readonly suite: string,
  ) {}

  /** Adds one repetition of one series. */
  addSeries(
    key: CellKey,
    repeat: number,
    ok: Histogram | undefined,
    failed: Histogram | undefined,
    errors: number,
    window: { startEpochMs: number; endEpochMs: number; elapsedMs: number },
    rounds?: { sum: number; n: number },
    cell?: string,
  ): void {
    const id = cellId(key);
    this.series.push({
      ...key,
      repeat,
      ...(cell ? { cell } : {}),
      start_ms: Math.round(window.startEpochMs),
      end_ms: Math.round(window.endEpochMs),
      elapsed_ms: window.elapsedMs,
      ok: ok?.totalCount ?? 0,
      errors,
      rounds_sum: rounds?.sum ?? 0,
      rounds_n: rounds?.n ?? 0,
    });
    let c = this.cells.get(id);
    if (!c) this.cells.set(id, (c = { ...key, ok: [], failed: [], errors: 0, elapsedMs: 0, roundsSum: 0, roundsN: 0 }));
    if (ok) c.ok.push(ok);
    if (failed) c.failed.push(failed);
    c.errors += errors;
    c.elapsedMs += window.elapsedMs;
    if (rounds) {
      c.roundsSum += rounds.sum;
      c.roundsN += rounds.n;
    }
    for (const [outcome, h] of [['ok', ok], ['error', failed]] as const) {
      if (!h || h.totalCount === 0) continue;
      this.histogramLines.push({
        ...key,
        repeat,
        ...(cell ? { cell } : {}),
        outcome,
        unit: 'us',
        start_ms: Math.round(window.startEpochMs),
        end_ms: Math.round(window.endEpochMs),
        encoded: encodeHistogram(h),
      });
    }
  }

  addError(config: string, variant: string, schedule: string, op: string, kind: string, count: number): void {
    const id = [config, variant, schedule, op, kind].join('\u0000');
    const r = this.errors.get(id);
    if (r) r.count = Number(r.count) + count;
    else this.errors.set(id, { run_id: this.runId, config, variant, schedule, op, kind, count });
  }

  /** Peak keeps the largest object count seen; quiescent keeps the largest copies per register seen. */
  addOverhead(e: OverheadEntry): void {
    const id = [e.config, e.variant, e.replica, e.phase, e.value_bytes].join('\u0000');
    const prev = this.overhead.get(id);
    const ratio = (x: OverheadEntry) => (x.registers > 0 ? x.usage.objects / x.registers : 0);
    if (!prev || ratio(e) > ratio(prev) || (ratio(e) === ratio(prev) && e.registers > prev.registers)) this.overhead.set(id, e);
  }

  addRequests(config: string, variant: string, op: string, replica: string, counts: RequestCounts): void {
    const id = [config, variant, op, replica].join('\u0000');
    let r = this.requests.get(id);
    if (!r) this.requests.set(id, (r = { config, variant, op, replica, counts: emptyCounts(), ops: 0 }));
    addCounts(r.counts, counts);
  }

  /** Logical operations measured per (config, variant, op): the denominator of requests.csv. */
  addLogicalOps(config: string, variant: string, op: string, n: number): void {
    const id = [config, variant, op].join('\u0000');
    this.logicalOps.set(id, (this.logicalOps.get(id) ?? 0) + n);
  }

  /** Cells in a stable order: config, variant, schedule, op, value size, clients. */
  private sortedCells(): LatencyCell[] {
    const order = (v: string, list: readonly string[]) => (list.includes(v) ? list.indexOf(v) : list.length);
    return [...this.cells.values()].sort(
      (a, b) =>
        (a.config < b.config ? -1 : a.config > b.config ? 1 : 0) ||
        order(a.variant, ['raw', 'regular', 'atomic']) - order(b.variant, ['raw', 'regular', 'atomic']) ||
        order(a.schedule, ['none', 'fast', 'classic']) - order(b.schedule, ['none', 'fast', 'classic']) ||
        order(a.op, ['write', 'read', 'remove']) - order(b.op, ['write', 'read', 'remove']) ||
        a.value_bytes - b.value_bytes ||
        a.clients - b.clients,
    );
  }

  latencyRows(): LatencyRow[] {
    return this.sortedCells().map((c) => {
      const s = summarize(mergeHistograms(c.ok));
      return {
        run_id: this.runId,
        suite: this.suite,
        config: c.config,
        variant: c.variant,
        schedule: c.schedule,
        op: c.op,
        value_bytes: c.value_bytes,
        clients: c.clients,
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

  /** Merged successful-latency histogram of each cell (for .hgrm files and the summary). */
  cellHistograms(): { key: CellKey; ok: Histogram; rounds: number | null }[] {
    return this.sortedCells().map((c) => ({
      key: { config: c.config, variant: c.variant, schedule: c.schedule, op: c.op, value_bytes: c.value_bytes, clients: c.clients },
      ok: mergeHistograms(c.ok),
      rounds: c.roundsN > 0 ? c.roundsSum / c.roundsN : null,
    }));
  }

  overheadRows(): OverheadRow[] {
    return [...this.overhead.values()].map((e) => ({
      run_id: this.runId,
      config: e.config,
      variant: e.variant,
      replica: e.replica,
      phase: e.phase,
      registers: e.registers,
      value_bytes: e.value_bytes,
      objects: e.usage.objects,
      stored_bytes: e.usage.stored_bytes,
      logical_bytes: e.logical_bytes,
      copies_per_register: fixed(e.registers > 0 ? e.usage.objects / e.registers : 0, 2),
      overhead_ratio: fixed(e.logical_bytes > 0 ? e.usage.stored_bytes / e.logical_bytes : 0, 3),
    }));
  }

  requestRows(): RequestsRow[] {
    return [...this.requests.values()].map((r) => {
      const n = this.logicalOps.get([r.config, r.variant, r.op].join('\u0000')) ?? 0;
      const per = (x: number) => (n > 0 ? fixed(x / n, 3) : 0);
      return {
        run_id: this.runId,
        config: r.config,
        variant: r.variant,
        op: r.op,
        replica: r.replica,
        puts: per(r.counts.puts),
        gets: per(r.counts.gets),
        lists: per(r.counts.lists),
        removes: per(r.counts.removes),
        bytes_up: per(r.counts.bytes_up),
        bytes_down: per(r.counts.bytes_down),
      };
    });
  }

  errorRows(): ErrorsRow[] {
    return [...this.errors.values()];
  }

  /**
   * The exact counters behind the report (counters.json): raw request totals (requests.csv holds
   * averages), logical operation counts, every series with its measured window, overhead entries
   * and quiescent copies. With histograms.jsonl, this is what `rkvs merge` adds up.
   */
  counters(): CountersFile {
    return {
      format: 1,
      series: this.series,
      requests: [...this.requests.values()].map((r) => ({ config: r.config, variant: r.variant, op: r.op, replica: r.replica, ...r.counts })),
      logical_ops: [...this.logicalOps].map(([k, n]) => {
        const [config, variant, op] = k.split('\u0000') as [string, string, string];
        return { config, variant, op, n };
      }),
      errors: this.errorRows().map((e) => ({ config: String(e.config), variant: String(e.variant), schedule: String(e.schedule), op: String(e.op), kind: String(e.kind), count: Number(e.count) })),
      overhead: [...this.overhead.values()],
      quiescent: this.quiescent,
      cells_measured: this.cellsMeasured,
    };
  }
}

/** One series of one repetition of one cell, with its measured window (wall clock, ms). */
export interface SeriesRecord extends CellKey {
  repeat: number;
  cell?: string;
  start_ms: number;
  end_ms: number;
  elapsed_ms: number;
  ok: number;
  errors: number;
  rounds_sum: number;
  rounds_n: number;
}

/** counters.json. */
export interface CountersFile {
  format: 1;
  series: SeriesRecord[];
  requests: ({ config: string; variant: string; op: string; replica: string } & RequestCounts)[];
  logical_ops: { config: string; variant: string; op: string; n: number }[];
  errors: { config: string; variant: string; schedule: string; op: string; kind: string; count: number }[];
  overhead: OverheadEntry[];
  quiescent: BenchResults['quiescent'];
  cells_measured: number;
}
