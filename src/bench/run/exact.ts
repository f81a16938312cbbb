/**
 * Exact metrics: the figures of a cell that do not depend on the machine, taken by the model suite
 * (run/model.ts) on the deterministic simulator. Each is a number under its full cell key, a replica
 * (`all` for the sum over the replicas) and a metric name; exact.csv (record/exact.ts) holds them and
 * `rkvs compare` gates them at zero tolerance (analyze/exact.ts).
 */
import type { CellKey } from '../config/cell.js';
import type { RequestCounts } from './counting.js';

/** Per-operation metrics (one row per cell key, replica `all` and, for requests and bytes, each replica). */
export const OP_METRICS = ['ops', 'errors', 'requests', 'lists', 'gets', 'puts', 'removes', 'bytes_up', 'bytes_down', 'rounds', 'latency_mean_ms', 'latency_p50_ms', 'latency_p99_ms', 'latency_max_ms'] as const;
/** Per-cell storage metrics (op empty, one row per replica). */
export const STORAGE_METRICS = ['copies_peak', 'copies_quiescent'] as const;
export type ExactMetricName = (typeof OP_METRICS)[number] | (typeof STORAGE_METRICS)[number];

/** Metrics also written per replica (the others only for `all`). */
export const PER_REPLICA_METRICS: ReadonlySet<ExactMetricName> = new Set(['requests', 'lists', 'gets', 'puts', 'removes', 'bytes_up', 'bytes_down', 'copies_peak', 'copies_quiescent']);

/** How each metric reads in a message (`requests/op`, `copies per register at peak`). */
export const METRIC_LABELS: Readonly<Record<ExactMetricName, string>> = {
  ops: 'measured operations',
  errors: 'failed operations',
  requests: 'requests/op',
  lists: 'lists/op',
  gets: 'gets/op',
  puts: 'puts/op',
  removes: 'removes/op',
  bytes_up: 'bytes sent/op',
  bytes_down: 'bytes received/op',
  rounds: 'rounds/op',
  latency_mean_ms: 'virtual latency mean (ms)',
  latency_p50_ms: 'virtual latency p50 (ms)',
  latency_p99_ms: 'virtual latency p99 (ms)',
  latency_max_ms: 'virtual latency max (ms)',
  copies_peak: 'copies per register at peak',
  copies_quiescent: 'copies per register at quiescence',
};

/** The replica name of the sum over replicas. */
export const ALL_REPLICAS = 'all';

/** One exact figure. Storage metrics carry the cell with an empty op. */
export interface ExactMetric {
  key: CellKey;
  replica: string;
  metric: ExactMetricName;
  value: number;
}

/** Exact nearest-rank percentile (the smallest value with at least ceil(p/100 n) values at or below it). */
export function exactPercentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const k = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)));
  return sorted[k - 1] as number;
}

/** What the model measured for one operation of a cell. */
export interface ExactSeriesInput {
  key: CellKey;
  /** Latencies of successful operations, virtual ms. */
  latenciesMs: number[];
  errors: number;
  /** The per-call delay d: rounds = latency / d. */
  delayMs: number;
  /** Requests per replica label, totals over the series' operations. */
  requests: Map<string, RequestCounts>;
  /** Replica labels in configuration order. */
  replicas: readonly string[];
}

/** The per-operation rows of one series. */
export function seriesMetrics(s: ExactSeriesInput): ExactMetric[] {
  const ops = s.latenciesMs.length + s.errors;
  const sorted = s.latenciesMs.slice().sort((a, b) => a - b);
  const per = (x: number) => (ops > 0 ? x / ops : 0);
  const ok = sorted.length;
  const out: ExactMetric[] = [];
  const add = (replica: string, metric: ExactMetricName, value: number) => out.push({ key: s.key, replica, metric, value });
  add(ALL_REPLICAS, 'ops', ops);
  add(ALL_REPLICAS, 'errors', s.errors);
  const total: RequestCounts = { puts: 0, gets: 0, lists: 0, removes: 0, bytes_up: 0, bytes_down: 0 };
  const rows: [string, RequestCounts][] = s.replicas.map((r) => [r, s.requests.get(r) ?? { puts: 0, gets: 0, lists: 0, removes: 0, bytes_up: 0, bytes_down: 0 }]);
  for (const [, c] of rows) for (const f of Object.keys(total) as (keyof RequestCounts)[]) total[f] += c[f];
  for (const [replica, c] of [[ALL_REPLICAS, total] as [string, RequestCounts], ...rows]) {
    add(replica, 'requests', per(c.lists + c.gets + c.puts + c.removes));
    add(replica, 'lists', per(c.lists));
    add(replica, 'gets', per(c.gets));
    add(replica, 'puts', per(c.puts));
    add(replica, 'removes', per(c.removes));
    add(replica, 'bytes_up', per(c.bytes_up));
    add(replica, 'bytes_down', per(c.bytes_down));
  }
  let sum = 0;
  for (const v of sorted) sum += v;
  add(ALL_REPLICAS, 'rounds', ok > 0 ? sum / s.delayMs / ok : 0);
  add(ALL_REPLICAS, 'latency_mean_ms', ok > 0 ? sum / ok : 0);
  add(ALL_REPLICAS, 'latency_p50_ms', exactPercentile(sorted, 50));
  add(ALL_REPLICAS, 'latency_p99_ms', exactPercentile(sorted, 99));
  add(ALL_REPLICAS, 'latency_max_ms', ok > 0 ? (sorted[ok - 1] as number) : 0);
  return out;
}

/** The storage rows of one cell: copies per register at the peak and at quiescence, per replica. */
export function storageMetrics(key: CellKey, storage: readonly { replica: string; registers_written: number; peak: { objects: number }; quiescent: { objects: number } }[]): ExactMetric[] {
  const out: ExactMetric[] = [];
  for (const s of storage) {
    const per = (objects: number) => (s.registers_written > 0 ? objects / s.registers_written : 0);
    out.push({ key, replica: s.replica, metric: 'copies_peak', value: per(s.peak.objects) });
    out.push({ key, replica: s.replica, metric: 'copies_quiescent', value: per(s.quiescent.objects) });
  }
  return out;
}
