/**
 * The record of a run: every measurement the run stage hands over (and every shard's, when
 * merging), kept under its full cell key as it is taken, so partial results can always be written
 * (interrupt, failing configuration). Repetitions of a cell add up; different cells never do.
 */
import { cellId, cellKeyString, cellOf, type Cell, type CellKey } from '../config/cell.js';
import { addCounts, emptyCounts, type RequestCounts } from '../run/counting.js';
import { encodeHistogram, mergeHistograms, type Histogram } from '../run/histogram.js';
import type { CellMeasurement, MeasuredWindow, StorageMeasurement } from '../run/measurement.js';
import { REPORT_FORMAT, type ErrorsRow, type LatencyRow, type OverheadRow, type PerSecondRow, type RequestsRow } from './schema.js';
import { errorRows, latencyRows, overheadRows, perSecondRows, requestRows, sortedCells } from './rows.js';
import { exactId, formatExact } from './exact.js';
import type { ExactMetric } from '../run/exact.js';

export type { CellKey };

/** Every series of one cell key, added up over repetitions (and shards). */
export interface LatencyCell {
  key: CellKey;
  ok: Histogram[];
  failed: Histogram[];
  errors: number;
  /** Sum of measured windows, ms (for ops_per_s). */
  elapsedMs: number;
  roundsSum: number;
  roundsN: number;
}

/** One line of histograms.jsonl: one series of one repetition of one cell, ok or failed operations. */
export interface HistogramLine extends CellKey {
  repeat: number;
  /** The measured cell (its key namespace, e.g. `cell0003`): the same on every shard of a run. */
  cell_id?: string;
  outcome: 'ok' | 'error';
  unit: 'us';
  start_ms: number;
  end_ms: number;
  encoded: string;
}

/** One series of one repetition of one cell, with its measured window (wall clock, ms). */
export interface SeriesRecord extends CellKey {
  repeat: number;
  cell_id?: string;
  start_ms: number;
  end_ms: number;
  elapsed_ms: number;
  ok: number;
  errors: number;
  rounds_sum: number;
  rounds_n: number;
}

/** The storage pair (peak, quiescent) of one replica for one cell, from one repetition. */
export interface StorageEntry extends Cell, StorageMeasurement {
  cell_id: string;
  repeat: number;
}

/** Copies per register at quiescence of one repetition of a cell, at each replica. */
export interface QuiescentEntry extends Cell {
  cell_id?: string;
  copies: number[];
}

export interface RequestsEntry extends CellKey, RequestCounts {
  replica: string;
}

export interface ErrorsEntry extends CellKey {
  kind: string;
  count: number;
}

/** One second of one operation of one repetition of a cell (per-second.csv, counters.json). */
export interface SecondEntry extends CellKey {
  repeat: number;
  cell_id?: string;
  second: number;
  phase: 'warmup' | 'measured';
  /** Wall clock of the start of the second (ms since the epoch). */
  start_ms: number;
  span_ms: number;
  ok: Histogram;
  errors: number;
}

/** A `SecondEntry` as kept in counters.json: its histogram encoded (microseconds). */
export interface SecondRecord extends Omit<SecondEntry, 'ok'> {
  encoded: string;
}

/**
 * A figure of the run checked against what it should be: the summary's checks, shown at the top
 * of the report. `pass` null: a figure for information, with no bound to hold.
 */
export interface SummaryCheck {
  name: string;
  detail: string;
  pass: boolean | null;
  /** The measured value, in words and units (`p50 2.04 ms`). */
  measured?: string;
  /** What it is held against (`2 rounds x 1 ms = 2.0 ms, within 10%`); absent for information. */
  bound?: string;
  /** One sentence on what it means for the reader. */
  meaning?: string;
}

/** counters.json: the exact counters behind the CSV files, what `rkvs merge` adds up. */
export interface CountersFile {
  format: number;
  series: SeriesRecord[];
  requests: RequestsEntry[];
  errors: ErrorsEntry[];
  storage: StorageEntry[];
  quiescent: QuiescentEntry[];
  cells_measured: number;
  /** The per-second series (absent in reports written before they were recorded). */
  per_second?: SecondRecord[];
}

const copiesPerRegister = (e: StorageEntry) => (e.registers_written > 0 ? e.quiescent.objects / e.registers_written : 0);

export class BenchResults {
  private readonly cells = new Map<string, LatencyCell>();
  readonly histogramLines: HistogramLine[] = [];
  /** Every series as added (one per cell, op, size and repetition): counters.json, for rkvs merge. */
  readonly series: SeriesRecord[] = [];
  private readonly requests = new Map<string, RequestsEntry>();
  /** Measured operations per cell key (ok + failed): the denominator of requests.csv. */
  private readonly ops = new Map<string, number>();
  private readonly errors = new Map<string, ErrorsEntry>();
  private readonly storage = new Map<string, StorageEntry>();
  readonly checks: SummaryCheck[] = [];
  /** Failures that stopped part of the run (configuration could not open, ...), one line each. */
  readonly failures: string[] = [];
  /** Copies per register at quiescence of each repetition of each cell (for the summary checks). */
  readonly quiescent: QuiescentEntry[] = [];
  /** Cells measured, for the summary. */
  cellsMeasured = 0;
  /** History lines (`--history`), in the order the cells ran. */
  readonly history: string[] = [];
  private readonly seconds = new Map<string, SecondEntry>();
  /** Exact metrics of a model suite (exact.csv), one per (cell key, replica, metric). */
  private readonly exactRows = new Map<string, ExactMetric>();

  constructor(
    readonly runId: string,
    readonly suite: string,
  ) {}

  /** Records everything one repetition of one cell measured. */
  add(m: CellMeasurement): void {
    for (const s of m.series) {
      const errors = [...s.errors.values()].reduce((a, b) => a + b, 0);
      this.addSeries(s.key, m.repeat, s.ok, s.failed, errors, m.window, s.rounds, m.cellId);
      for (const [kind, n] of s.errors) this.addError(s.key, kind, n);
    }
    for (const r of m.requests) this.addRequests(r.key, r.replica, r.counts);
    for (const s of m.storage) this.addStorage({ ...cellOf(m.cell), cell_id: m.cellId, repeat: m.repeat, ...s });
    if (m.storage.length) {
      const copies = m.storage.map((s) => (s.registers_written > 0 ? s.quiescent.objects / s.registers_written : 0));
      this.quiescent.push({ ...cellOf(m.cell), cell_id: m.cellId, copies });
    }
    this.history.push(...m.history);
    for (const x of m.perSecond ?? [])
      this.addSecond({ ...x.key, repeat: m.repeat, cell_id: m.cellId, second: x.second, phase: x.phase, start_ms: x.startEpochMs, span_ms: x.spanMs, ok: x.ok, errors: x.errors });
    if (m.ran) this.cellsMeasured++;
    for (const e of m.exact ?? []) this.addExact(e);
  }

  /** Keeps the first value of each exact metric; a repetition that differs means the model is not deterministic. */
  private addExact(e: ExactMetric): void {
    const id = exactId(e);
    const prev = this.exactRows.get(id);
    if (!prev) this.exactRows.set(id, e);
    else if (formatExact(prev.value) !== formatExact(e.value))
      this.failures.push(`exact metric ${e.metric} of ${cellKeyString(e.key)} at ${e.replica} differs between repetitions (${formatExact(prev.value)} vs ${formatExact(e.value)}): the model run is not deterministic`);
  }

  /** The exact metrics (model suites), empty otherwise. */
  exact(): ExactMetric[] {
    return [...this.exactRows.values()];
  }

  /**
   * Adds one second of one series; the same second of the same repetition of a cell from another
   * shard adds up (histograms added, errors summed, the longer span kept).
   */
  addSecond(e: SecondEntry): void {
    const id = [e.cell_id ?? '', cellId(e), e.repeat, e.second, e.phase].join('\u0000');
    const cur = this.seconds.get(id);
    if (!cur) this.seconds.set(id, { ...e, ok: mergeHistograms([e.ok]) });
    else {
      cur.ok.add(e.ok);
      cur.errors += e.errors;
      cur.span_ms = Math.max(cur.span_ms, e.span_ms);
      cur.start_ms = Math.min(cur.start_ms, e.start_ms);
    }
  }

  /** per-second.csv: one row per (cell key, repetition, second, phase). */
  perSecondRows(): PerSecondRow[] {
    return perSecondRows(this.runId, this.seconds.values());
  }

  /** Adds one repetition of one series. */
  addSeries(
    key: CellKey,
    repeat: number,
    ok: Histogram | undefined,
    failed: Histogram | undefined,
    errors: number,
    window: MeasuredWindow,
    rounds?: { sum: number; n: number },
    cell?: string,
  ): void {
    const id = cellId(key);
    const start_ms = Math.round(window.startEpochMs);
    const end_ms = Math.round(window.endEpochMs);
    const okCount = ok?.totalCount ?? 0;
    this.series.push({ ...key, repeat, ...(cell ? { cell_id: cell } : {}), start_ms, end_ms, elapsed_ms: window.elapsedMs, ok: okCount, errors, rounds_sum: rounds?.sum ?? 0, rounds_n: rounds?.n ?? 0 });
    this.ops.set(id, (this.ops.get(id) ?? 0) + okCount + errors);
    let c = this.cells.get(id);
    if (!c) this.cells.set(id, (c = { key: { ...key }, ok: [], failed: [], errors: 0, elapsedMs: 0, roundsSum: 0, roundsN: 0 }));
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
      this.histogramLines.push({ ...key, repeat, ...(cell ? { cell_id: cell } : {}), outcome, unit: 'us', start_ms, end_ms, encoded: encodeHistogram(h) });
    }
  }

  addError(key: CellKey, kind: string, count: number): void {
    const id = `${cellId(key)}\u0000${kind}`;
    const e = this.errors.get(id);
    if (e) e.count += count;
    else this.errors.set(id, { ...key, kind, count });
  }

  /** Adds request totals (not per operation: requests.csv divides by the key's measured operations). */
  addRequests(key: CellKey, replica: string, counts: RequestCounts): void {
    const id = `${cellId(key)}\u0000${replica}`;
    let r = this.requests.get(id);
    if (!r) this.requests.set(id, (r = { ...key, replica, ...emptyCounts() }));
    addCounts(r, counts);
  }

  /**
   * One storage pair (peak, quiescent) per cell and replica: of the repetitions (and shards with
   * replicas of their own) measured, the one that left the most copies per register at quiescence.
   */
  addStorage(e: StorageEntry): void {
    const id = `${cellId(e)}\u0000${e.replica}`;
    const prev = this.storage.get(id);
    const better = !prev || copiesPerRegister(e) > copiesPerRegister(prev) || (copiesPerRegister(e) === copiesPerRegister(prev) && e.registers_written > prev.registers_written);
    if (better) this.storage.set(id, { ...e });
  }

  latencyRows(): LatencyRow[] {
    return latencyRows(this.runId, this.suite, this.cells.values());
  }

  /**
   * Merged successful-latency histogram of each cell key (for .hgrm files and the summary), and
   * the histograms it was merged from (one per repetition).
   */
  cellHistograms(): { key: CellKey; ok: Histogram; rounds: number | null; repeats: Histogram[] }[] {
    return sortedCells(this.cells.values()).map((c) => ({
      key: { ...c.key },
      ok: mergeHistograms(c.ok),
      rounds: c.roundsN > 0 ? c.roundsSum / c.roundsN : null,
      repeats: c.ok,
    }));
  }

  overheadRows(): OverheadRow[] {
    return overheadRows(this.runId, this.storage.values());
  }

  requestRows(): RequestsRow[] {
    return requestRows(this.runId, this.requests.values(), (k) => this.ops.get(cellId(k)) ?? 0);
  }

  errorRows(): ErrorsRow[] {
    return errorRows(this.runId, this.errors.values());
  }

  /**
   * The exact counters behind the report (counters.json): raw request totals (requests.csv holds
   * averages), every series with its measured window, errors, storage pairs and quiescent copies.
   * With histograms.jsonl, this is what `rkvs merge` adds up.
   */
  counters(): CountersFile {
    return {
      format: REPORT_FORMAT,
      series: this.series,
      requests: [...this.requests.values()],
      errors: [...this.errors.values()],
      storage: [...this.storage.values()],
      quiescent: this.quiescent,
      cells_measured: this.cellsMeasured,
      per_second: [...this.seconds.values()].map(({ ok, ...rest }) => ({ ...rest, encoded: encodeHistogram(ok) })),
    };
  }
}
