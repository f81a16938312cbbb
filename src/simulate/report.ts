/**
 * Writes a simulation's results in the report directory format of `rkvs bench`
 * (latency.csv, overhead.csv, requests.csv, errors.csv, histograms/, histograms.jsonl, meta.json),
 * plus `timeseries.csv` and `summary.csv` (the scenario's headline table), and the HTML report
 * when the report module is available.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Cell } from '../bench/config/cell.js';
import { hgrmName } from '../bench/record/run-dir.js';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, REPORT_FORMAT, REQUESTS_COLUMNS } from '../bench/record/schema.js';
import { createHistogram, encodeHistogram, percentileText, recordMs, summarize, type Histogram, type LatencySummary } from '../bench/run/histogram.js';
import type { ReplicaCounters } from './replica.js';
import { mkdirs } from '../util/fs.js';

// the same report schema as `rkvs bench`, so compare, report and merge read simulations too
export { LATENCY_COLUMNS, OVERHEAD_COLUMNS, REQUESTS_COLUMNS, ERRORS_COLUMNS };
export const TIMESERIES_COLUMNS = ['run_id', 'config', 'time_ms', 'replica', 'objects', 'stored_bytes', 'concurrent_writes', 'bound'] as const;

type Row = Record<string, string | number>;

/**
 * The cell key of a simulated cell (the bench's `Cell`, config/cell.ts): simulations run in one
 * process, closed loop; `registers` defaults to 1 and `workload` to the scenario's name.
 */
export interface SimCell {
  config: string;
  variant: string;
  schedule: string;
  valueBytes: number;
  clients: number;
  /** Registers the workload spread over. @default 1 */
  registers?: number;
  /** @default the scenario's name */
  workload?: string;
}

/** One latency cell. */
export interface LatencyCell extends SimCell {
  op: string;
  latenciesMs: number[];
  errors: number;
  /** Virtual (or real) duration of the cell, for ops_per_s. */
  durationMs: number;
}

/** Exact nearest-rank percentile of a sample (p in 0..100); 0 for an empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = values.slice().sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(s.length, rank) - 1];
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export class SimReport {
  readonly latency: Row[] = [];
  readonly overhead: Row[] = [];
  readonly requests: Row[] = [];
  readonly errors: Row[] = [];
  readonly timeseries: Row[] = [];
  /** The scenario's own headline table (columns chosen by the scenario). */
  readonly summary: Row[] = [];
  readonly notes: string[] = [];
  private readonly hists: { cell: LatencyCell; h: Histogram }[] = [];

  constructor(
    readonly runId: string,
    readonly suite: string,
  ) {}

  /** The bench cell key of a simulated cell. */
  cellOf(c: SimCell): Cell {
    return {
      config: c.config,
      variant: c.variant,
      schedule: c.schedule,
      value_bytes: c.valueBytes,
      clients: c.clients,
      registers: c.registers ?? 1,
      workers: 1,
      workload: c.workload ?? this.suite,
      mode: 'closed',
      open_rate: 0,
      fault: '',
    };
  }

  /** The key columns of a row, in the bench's column order. */
  private keyColumns(c: SimCell, op: string): Row {
    const k = this.cellOf(c);
    return { config: k.config, variant: k.variant, schedule: k.schedule, op, value_bytes: k.value_bytes, clients: k.clients, registers: k.registers, workers: k.workers, workload: k.workload, mode: k.mode, open_rate: k.open_rate, fault: k.fault };
  }

  /** Adds a latency cell; returns its summary (HDR percentiles, ms). */
  addLatency(cell: LatencyCell): LatencySummary {
    const h = createHistogram();
    for (const v of cell.latenciesMs) recordMs(h, v);
    const s = summarize(h);
    this.hists.push({ cell, h });
    this.latency.push({
      run_id: this.runId,
      suite: this.suite,
      ...this.keyColumns(cell, cell.op),
      count: s.count,
      errors: cell.errors,
      mean_ms: round(s.mean_ms),
      p50_ms: round(s.p50_ms),
      p90_ms: round(s.p90_ms),
      p99_ms: round(s.p99_ms),
      p999_ms: round(s.p999_ms),
      max_ms: round(s.max_ms),
      ops_per_s: cell.durationMs > 0 ? round((s.count * 1000) / cell.durationMs, 1) : 0,
    });
    return s;
  }

  /** Requests per logical operation of a cell, averaged over its `ops` operations. */
  addRequests(cell: SimCell & { op: string }, replicas: string[], counters: ReplicaCounters[], ops: number): void {
    const per = (x: number) => round(ops > 0 ? x / ops : 0, 4);
    counters.forEach((c, i) =>
      this.requests.push({
        run_id: this.runId,
        ...this.keyColumns(cell, cell.op),
        replica: replicas[i],
        ops,
        puts: per(c.puts),
        gets: per(c.gets),
        lists: per(c.lists),
        removes: per(c.removes),
        bytes_up: per(c.bytesUp),
        bytes_down: per(c.bytesDown),
      }),
    );
  }

  /** One storage row of a cell at one replica (`registersWritten`: registers holding a value). */
  addOverhead(row: SimCell & { replica: string; phase: 'peak' | 'quiescent'; registersWritten: number; objects: number; storedBytes: number }): void {
    const logical = row.registersWritten * row.valueBytes;
    const { op: _op, ...cell } = this.keyColumns(row, '');
    this.overhead.push({
      run_id: this.runId,
      ...cell,
      replica: row.replica,
      phase: row.phase,
      repeat: 0,
      registers_written: row.registersWritten,
      objects: row.objects,
      stored_bytes: row.storedBytes,
      logical_bytes: logical,
      copies_per_register: round(row.objects / Math.max(1, row.registersWritten), 3),
      overhead_ratio: logical > 0 ? round(row.storedBytes / logical, 3) : 0,
    });
  }

  /** Error counts (`op:kind`) of a cell. */
  addErrors(cell: SimCell, errors: Map<string, number>): void {
    for (const [key, count] of errors) {
      const [op, kind] = key.split(':');
      this.errors.push({ run_id: this.runId, ...this.keyColumns(cell, op), kind, count });
    }
  }

  /** Writes every file into `dir` (created). */
  async write(dir: string, meta: Record<string, unknown>): Promise<void> {
    await mkdirs(join(dir, 'histograms'));
    const csv = (rows: Row[], columns: readonly string[]) => stringify(rows, { header: true, columns: [...columns] });
    await writeFile(join(dir, 'latency.csv'), csv(this.latency, LATENCY_COLUMNS));
    await writeFile(join(dir, 'overhead.csv'), csv(this.overhead, OVERHEAD_COLUMNS));
    await writeFile(join(dir, 'requests.csv'), csv(this.requests, REQUESTS_COLUMNS));
    await writeFile(join(dir, 'errors.csv'), csv(this.errors, ERRORS_COLUMNS));
    if (this.timeseries.length > 0) await writeFile(join(dir, 'timeseries.csv'), csv(this.timeseries, TIMESERIES_COLUMNS));
    if (this.summary.length > 0) {
      // Rows of different cells may carry different columns: take their union, in order of appearance.
      const columns: string[] = [];
      for (const row of this.summary) for (const k of Object.keys(row)) if (!columns.includes(k)) columns.push(k);
      await writeFile(join(dir, 'summary.csv'), stringify(this.summary, { header: true, columns }));
    }
    const lines: string[] = [];
    for (const { cell, h } of this.hists) {
      const key = { ...this.cellOf(cell), op: cell.op };
      await writeFile(join(dir, 'histograms', hgrmName(key)), percentileText(h));
      lines.push(
        JSON.stringify({
          ...key,
          repeat: 0,
          outcome: 'ok',
          unit: 'us',
          start_ms: 0,
          end_ms: round(cell.durationMs),
          encoded: encodeHistogram(h),
        }),
      );
    }
    await writeFile(join(dir, 'histograms.jsonl'), lines.length ? `${lines.join('\n')}\n` : '');
    await writeFile(join(dir, 'meta.json'), `${JSON.stringify({ format: REPORT_FORMAT, run_id: this.runId, suite: this.suite, ...meta, notes: this.notes }, null, 2)}\n`);
  }
}

/**
 * Renders report.html with the HTML report module (src/bench/report/html.ts) when it is present;
 * returns the path written, or a reason it was not.
 */
export async function tryHtmlReport(dir: string): Promise<{ ok: boolean; detail: string }> {
  const specifier = '../bench/report/html.js';
  let mod: { writeHtmlReport?: (dir: string) => Promise<unknown> };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    return { ok: false, detail: `HTML report module not available (${(e as Error).message.split('\n')[0]})` };
  }
  if (typeof mod.writeHtmlReport !== 'function') return { ok: false, detail: 'src/bench/report/html.ts has no writeHtmlReport' };
  try {
    await mod.writeHtmlReport(dir);
    return { ok: true, detail: join(dir, 'report.html') };
  } catch (e) {
    return { ok: false, detail: `HTML report failed: ${(e as Error).message}` };
  }
}

/** Writes cost.csv with the cost module (src/bench/analyze/cost.ts) when it is present. */
export async function tryCostCsv(dir: string): Promise<{ ok: boolean; detail: string }> {
  const specifier = '../bench/analyze/cost.js';
  try {
    const mod = (await import(specifier)) as { writeCostCsv?: (dir: string) => Promise<{ file: string }> };
    if (typeof mod.writeCostCsv !== 'function') return { ok: false, detail: 'src/bench/analyze/cost.ts has no writeCostCsv' };
    const r = await mod.writeCostCsv(dir);
    return { ok: true, detail: r.file };
  } catch (e) {
    return { ok: false, detail: `cost.csv not written: ${(e as Error).message.split('\n')[0]}` };
  }
}
