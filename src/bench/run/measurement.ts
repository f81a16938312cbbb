/**
 * What the run stage hands to the record: everything measured in one repetition of one cell,
 * each part keyed by the cell (and the op) from the moment it is taken.
 */
import type { Cell, CellKey } from '../config/cell.js';
import type { RequestCounts } from './counting.js';
import type { ExactMetric } from './exact.js';
import type { Histogram } from './histogram.js';
import type { ReplicaUsage } from './storage.js';

/** The measured window of a cell (wall clock, ms since the epoch) and its length. */
export interface MeasuredWindow {
  startEpochMs: number;
  endEpochMs: number;
  elapsedMs: number;
}

/** One operation of a cell at one value size: its latencies, errors and rounds. */
export interface SeriesMeasurement {
  key: CellKey;
  /** Latencies of successful operations (microseconds). */
  ok?: Histogram;
  /** Latencies of failed operations (microseconds). */
  failed?: Histogram;
  /** Failed operations per error kind (`StoreError` kind, `Unexpected` otherwise). */
  errors: Map<string, number>;
  /** Rounds reported by the register (reads), summed. */
  rounds?: { sum: number; n: number };
}

/** Requests one replica received for one operation of a cell (totals, not per operation). */
export interface RequestsMeasurement {
  key: CellKey;
  replica: string;
  counts: RequestCounts;
}

/** Storage one replica held for the cell: the peak while it ran and the listing at quiescence. */
export interface StorageMeasurement {
  replica: string;
  /** Registers holding a value at the end (removed registers do not count). */
  registers_written: number;
  /** Sum of the last value written to each of those registers. */
  logical_bytes: number;
  /** Largest object count sampled while the cell ran, and the largest byte total; never below quiescence. */
  peak: ReplicaUsage;
  quiescent: ReplicaUsage;
}

/**
 * One second of one operation of a cell (warm-up included): the operations that ended in it,
 * counted from the cell's first operation. Drawn as latency and throughput over time.
 */
export interface SecondMeasurement {
  key: CellKey;
  /** 0-based second since the cell's loop started. */
  second: number;
  /** `warmup` (before the measured operations) or `measured`. */
  phase: 'warmup' | 'measured';
  /** Wall clock of the start of that second (ms since the epoch). */
  startEpochMs: number;
  /** How much of that second the cell ran (1000, less for its last second), ms. */
  spanMs: number;
  /** Successful operations' latencies (microseconds). */
  ok: Histogram;
  errors: number;
}

/** Everything measured in one repetition of one cell. */
export interface CellMeasurement {
  cell: Cell;
  /** The cell's key namespace (`cell0004`): the same on every shard of a run. */
  cellId: string;
  repeat: number;
  window: MeasuredWindow;
  series: SeriesMeasurement[];
  requests: RequestsMeasurement[];
  /** One entry per replica whose storage was measured (none when this process cannot see it). */
  storage: StorageMeasurement[];
  /** History lines (`--history`), each carrying the cell key. */
  history: string[];
  /** The per-second series of every operation of the cell (none when nothing ran here). */
  perSecond?: SecondMeasurement[];
  /** False when no client of the cell ran in this process (a shard with fewer clients than shards). */
  ran: boolean;
  interrupted: boolean;
  /** Exact metrics (model suites only, run/model.ts): the figures exact.csv holds. */
  exact?: ExactMetric[];
}

/** Where the run stage puts each measurement as soon as it is taken. */
export type MeasurementSink = (m: CellMeasurement) => void;
