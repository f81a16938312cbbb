/**
 * The benchmark harness (`robust-kvs/bench`), in rooms by stage: config/ (what to run, on what),
 * run/ (running cells and taking measurements), record/ (keeping them under their cell key),
 * analyze/ (statistics, compare, cost, merge, checks) and report/ (CSV, tables, HTML, charts).
 * docs/architecture.md draws the map.
 */
export { runBench, type BenchOptions, type BenchOutcome } from './pipeline.js';
export { planCells, makeRunId, type PlannedCell } from './run/plan.js';
export { expectedRounds } from './analyze/checks.js';
export { replicaLabels } from './run/cell-part.js';
export { runCell, makeValue, valueId, type BenchClient, type CellOptions, type CellOutcome, type HistoryEvent } from './run/runner.js';
export { defineSuite, loadSuite, parseSuite, suiteSchema, type Suite, type SuiteInput } from './config/suite.js';
export {
  workloadSchema,
  BENCH_VARIANTS,
  BENCH_SCHEDULES,
  LOGICAL_OPS,
  type Workload,
  type WorkloadInput,
  type BenchVariant,
  type BenchSchedule,
  type LogicalOp,
} from './config/workload.js';
export { zipfianCdf, sizeBucket } from './run/workload.js';
export {
  CELL_COLUMNS,
  CELL_KEY_COLUMNS,
  cellId,
  cellKeyString,
  cellOf,
  keyOf,
  type Cell,
  type CellKey,
  type LoadMode,
} from './config/cell.js';
export {
  createHistogram,
  recordMs,
  summarize,
  encodeHistogram,
  decodeHistogram,
  mergeHistograms,
  percentileText,
  type Histogram,
  type LatencySummary,
} from './run/histogram.js';
export { measureReplica, overheadFigures, PeakSampler, type ReplicaUsage } from './run/storage.js';
export { CountingStore, RequestCounter, withOp, type RequestCounts } from './run/counting.js';
export type { CellMeasurement, MeasurementSink } from './run/measurement.js';
export { ScopedStore, DelayedStore } from './config/stores.js';
export { memoryConfiguration, defaultEmulatorConfiguration, type MemoryConfigurationOptions } from './config/configurations.js';
export { BenchResults, type HistogramLine, type CountersFile } from './record/results.js';
export { createRunDir, hgrmName } from './record/run-dir.js';
export { writeReport } from './report/files.js';
export { baseMeta, redact, gitCommit, type RunMeta } from './record/meta.js';
export { createProgress, progressMode, type Progress } from './run/progress.js';
export { REPORT_FORMAT } from './record/schema.js';
export {
  LATENCY_COLUMNS,
  OVERHEAD_COLUMNS,
  REQUESTS_COLUMNS,
  ERRORS_COLUMNS,
  toCsv,
  type LatencyRow,
  type OverheadRow,
  type RequestsRow,
  type ErrorsRow,
} from './report/csv.js';
export { summaryTable } from './report/table.js';
