/** The benchmark harness: suites, runner, histograms, storage overhead, request counts and reports. */
export { runBench, planCells, expectedRounds, replicaLabels, type BenchOptions, type BenchOutcome } from './run/orchestrate.js';
export { runCell, makeValue, valueId, type BenchClient, type CellOptions, type CellOutcome, type HistoryEvent } from './run/runner.js';
export { defineSuite, loadSuite, parseSuite, suiteSchema, type Suite, type SuiteInput } from './config/suite.js';
export {
  workloadSchema,
  zipfianCdf,
  sizeBucket,
  BENCH_VARIANTS,
  BENCH_SCHEDULES,
  LOGICAL_OPS,
  type Workload,
  type WorkloadInput,
  type BenchVariant,
  type BenchSchedule,
  type LogicalOp,
} from './run/workload.js';
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
export { ScopedStore, DelayedStore } from './config/stores.js';
export { memoryConfiguration, defaultEmulatorConfiguration, type MemoryConfigurationOptions } from './config/configurations.js';
export { BenchResults, type CellKey, type HistogramLine } from './record/results.js';
export { makeRunId, createRunDir, writeReport, hgrmName } from './record/run-dir.js';
export { baseMeta, redact, gitCommit, type RunMeta } from './record/meta.js';
export { createProgress, progressMode, type Progress } from './run/progress.js';
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
