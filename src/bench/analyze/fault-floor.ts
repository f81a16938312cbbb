/**
 * The latency floor of a register operation on real replicas, from their probed call latencies:
 * the sum, over the rounds of the operation's common case (SPEC §3-§4), of the call latency of the
 * replica whose answer completes the round — the q-th fastest of the replicas still answering. A
 * silent replica (blackholed) never answers and is left out; a delayed one answers `addMs` later.
 * With one replica of three blackholed, a wait-free register's p50 stays near this floor
 * (`npm run bench:faults`, reports/faults/).
 */
import { commonCaseRoundsOf, kthSmallest } from '../../simulate/floor.js';
import type { Schedule, Variant } from '../../simulate/register.js';

/** The calls the floor needs. */
export type FloorCall = 'put' | 'get' | 'list';

/** A replica's call latencies (ms, e.g. the probe's p50 of each call type). */
export interface ReplicaCalls {
  replica: string;
  ms: Record<FloorCall, number>;
}

/** What a fault does to one replica, for the floor. */
export interface ReplicaCondition {
  replica: string;
  /** Never answers (blackhole, refuse, reset). */
  silent?: boolean;
  /** Answers this much later (a delay). */
  addMs?: number;
}

export interface OperationFloor {
  floorMs: number;
  rounds: number;
  /** How the floor was made, e.g. `list: 2nd of gcs 3.10, azure 4.02 + put: 2nd of ...`. */
  detail: string;
}

const ordinal = (k: number) => (k === 1 ? '1st' : k === 2 ? '2nd' : k === 3 ? '3rd' : `${k}th`);

/** The floor of `op` over `calls` with quorum `q`, under `conditions` (absent replicas: healthy). */
export function operationFloor(
  op: 'read' | 'write',
  variant: Variant,
  schedule: Schedule,
  calls: readonly ReplicaCalls[],
  q: number,
  conditions: readonly ReplicaCondition[] = [],
): OperationFloor {
  const cond = new Map(conditions.map((c) => [c.replica, c]));
  const rounds = commonCaseRoundsOf(op, variant, schedule);
  let floorMs = 0;
  const parts: string[] = [];
  for (const round of rounds) {
    const k = round.k === 'q' ? q : 1;
    let roundMs = 0;
    const texts: string[] = [];
    for (const call of new Set(round.ops)) {
      if (call !== 'put' && call !== 'get' && call !== 'list') throw new Error(`no probed latency for ${call}`);
      const live = calls.flatMap((c) => {
        const x = cond.get(c.replica);
        return x?.silent ? [] : [{ replica: c.replica, ms: c.ms[call] + (x?.addMs ?? 0) }];
      });
      const ms = kthSmallest(live.map((l) => l.ms), k);
      roundMs = Math.max(roundMs, ms);
      texts.push(`${call}: ${ordinal(k)} of ${live.map((l) => `${l.replica} ${l.ms.toFixed(2)}`).join(', ')}`);
    }
    floorMs += roundMs;
    parts.push(texts.join(' | '));
  }
  return { floorMs, rounds: rounds.length, detail: parts.join(' + ') };
}

/** A probe row as fault floors need it (probe.csv, `ProbeRow`). */
export interface ProbeLatency {
  replica: string;
  check: string;
  value_bytes: number | string;
  p50_ms: number | string;
}

/**
 * Each replica's call latencies at `valueBytes` from probe rows (their p50). A replica without a
 * probed p50 for put, get or list (its probe failed) is an Error naming it: no floor without it.
 */
export function callsFromProbe(rows: readonly ProbeLatency[], replicas: readonly string[], valueBytes: number): ReplicaCalls[] {
  return replicas.map((replica) => {
    const ms = {} as Record<FloorCall, number>;
    for (const call of ['put', 'get', 'list'] as const) {
      const row = rows.find((r) => r.replica === replica && r.check === call && Number(r.value_bytes) === valueBytes);
      const v = row && row.p50_ms !== '' ? Number(row.p50_ms) : NaN;
      if (!Number.isFinite(v)) throw new Error(`the probe has no ${call} latency of replica ${replica} at ${valueBytes} B (did its probe fail? see probe.csv)`);
      ms[call] = v;
    }
    return { replica, ms };
  });
}

/** Probed call latencies averaged call by call over several probes of the same replicas. */
export function averageCalls(probes: readonly (readonly ReplicaCalls[])[]): ReplicaCalls[] {
  const first = probes[0];
  if (!first) throw new Error('no probe to average');
  return first.map((c) => {
    const all = probes.map((p) => p.find((x) => x.replica === c.replica));
    if (all.some((x) => !x)) throw new Error(`replica ${c.replica} is missing from a probe`);
    const mean = (call: FloorCall) => all.reduce((a, x) => a + (x as ReplicaCalls).ms[call], 0) / all.length;
    return { replica: c.replica, ms: { put: mean('put'), get: mean('get'), list: mean('list') } };
  });
}

/** The median of a replica's put, get and list latencies: its "call latency" for a slow-down factor. */
export function typicalCallMs(c: ReplicaCalls): number {
  const v = [c.ms.put, c.ms.get, c.ms.list].sort((a, b) => a - b);
  return v[1] as number;
}

/** One case of the faults benchmark: healthy, or one fault on one replica. */
export interface FaultCase {
  /** `healthy`, `blackhole` or `delay` (what is done to `replica`). */
  kind: 'healthy' | 'blackhole' | 'delay';
  /** The faulty replica; absent when healthy. */
  replica?: string;
  /** The cell key's `fault` field of the case's cells (`''`: healthy). */
  fault: string;
  /** What the fault does, for the floor. */
  conditions: ReplicaCondition[];
  /** Words for the report, e.g. `s3-emulator delayed 10x (+27 ms)`. */
  label: string;
}

/** Wait-freedom in numbers: with one replica of three blackholed, p50 within this fraction of the floor. */
export const WAIT_FREE_TOLERANCE = 0.1;

/** A latency row as faults.csv needs it (latency.csv, every field a string). */
export type LatencyCsvRow = Record<string, string>;

/** The columns of faults.csv after the cell key. */
export const FAULT_FLOOR_COLUMNS = [
  'case',
  'faulty_replica',
  'count',
  'errors',
  'p50_ms',
  'p99_ms',
  'floor_ms',
  'rounds',
  'p50_over_floor',
  'p50_over_healthy',
  'p99_over_healthy',
  'floor_detail',
] as const;

/** One row of faults.csv: a cell key (from latency.csv), its case, its figures and its floor. */
export type FaultFloorRow = Record<string, string | number>;

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? Math.round((a / b) * 1000) / 1000 : '');
const ms3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Rows of faults.csv: each register row of latency.csv whose fault is one of `cases`, with the
 * floor of its case (from `calls` and quorum `q`), its p50 over that floor, and its p50 and p99
 * over those of the healthy cell with the same key (measured in the same run; empty on healthy
 * rows). `keyColumns` are
 * the cell key's columns, copied as they are.
 */
export function faultFloorRows(latency: readonly LatencyCsvRow[], cases: readonly FaultCase[], calls: readonly ReplicaCalls[], q: number, keyColumns: readonly string[]): FaultFloorRow[] {
  const byFault = new Map(cases.map((c) => [c.fault, c]));
  const sameCell = (a: LatencyCsvRow, b: LatencyCsvRow) => keyColumns.every((k) => k === 'fault' || a[k] === b[k]);
  const out: FaultFloorRow[] = [];
  for (const row of latency) {
    if (row.variant !== 'regular' && row.variant !== 'atomic') continue;
    if (row.op !== 'read' && row.op !== 'write') continue;
    const c = byFault.get(row.fault ?? '');
    if (!c) continue;
    const floor = operationFloor(row.op, row.variant, (row.schedule ?? 'fast') as Schedule, calls, q, c.conditions);
    // a healthy row has no ratio to itself
    const healthy = row.fault ? latency.find((h) => (h.fault ?? '') === '' && sameCell(h, row)) : undefined;
    const p50 = Number(row.p50_ms);
    const p99 = Number(row.p99_ms);
    const r: FaultFloorRow = {};
    for (const k of keyColumns) r[k] = row[k] ?? '';
    Object.assign(r, {
      case: c.kind,
      faulty_replica: c.replica ?? '',
      count: Number(row.count),
      errors: Number(row.errors),
      p50_ms: row.p50_ms ?? '',
      p99_ms: row.p99_ms ?? '',
      floor_ms: Number.isFinite(floor.floorMs) ? ms3(floor.floorMs) : '',
      rounds: floor.rounds,
      p50_over_floor: ratio(p50, floor.floorMs),
      p50_over_healthy: healthy ? ratio(p50, Number(healthy.p50_ms)) : '',
      p99_over_healthy: healthy ? ratio(p99, Number(healthy.p99_ms)) : '',
      floor_detail: floor.detail,
    });
    out.push(r);
  }
  return out;
}

/** Whether a blackhole row meets the wait-freedom target: p50 within `WAIT_FREE_TOLERANCE` of its floor. */
export function meetsWaitFreeTarget(r: FaultFloorRow): boolean | undefined {
  if (r.case !== 'blackhole' || r.p50_over_floor === '') return undefined;
  return Math.abs(Number(r.p50_over_floor) - 1) <= WAIT_FREE_TOLERANCE;
}
