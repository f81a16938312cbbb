/**
 * The latency floor of a register operation on real replicas, two ways:
 *
 * - measured (`floor_ms`): the p50 of *ideal operations* (src/bench/run/ideal-op.ts) — the
 *   operation's rounds issued to every replica at once, each round ending at the q-th answer of the
 *   replicas still answering, nothing else done — taken under the same fault, through the same
 *   proxies, on the same machine as the cell (`idealFloors`);
 * - summed from the sequential probe (`call_floor_ms`, `operationFloor`): the sum, over the rounds
 *   of the operation's common case (SPEC §3-§4), of the probed call latency of the replica whose
 *   answer completes the round — the q-th fastest of the replicas still answering. A silent replica
 *   (blackholed) never answers and is left out; a delayed one answers `addMs` later. Calls probed
 *   one at a time, on the probe's own keys: it leaves out what parallel calls cost on the client
 *   and the replicas, and lists more keys than a register's prefix holds.
 *
 * With one replica of three blackholed, a wait-free register's p50 stays near the measured floor
 * (`npm run bench:faults`, reports/faults/).
 */
import { cellId, type CellKey } from '../config/cell.js';
import { percentile } from '../run/probe.js';
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
  'floor_samples',
  'rounds',
  'p50_over_floor',
  'p50_over_healthy',
  'p99_over_healthy',
  'floor_detail',
  'call_floor_ms',
  'p50_over_call_floor',
  'call_floor_detail',
] as const;

/** A measured floor: the p50 of the ideal operations of one case, variant, schedule and operation. */
export interface IdealFloor {
  floorMs: number;
  samples: number;
  /** Each round's p50, ms. */
  roundsP50Ms: number[];
}

/** An ideal operation as floor.csv holds it (read back: every field a string): its cell key, `ms`, `rounds_ms`. */
export interface IdealSampleRow {
  readonly ms: number | string;
  readonly rounds_ms: string;
}

/** The key of a measured floor: the identity of the cell key (op included) of a floor.csv or latency.csv row. */
export const idealKey = (row: object) => cellId(row as CellKey);

/**
 * Measured floors from ideal operations (floor.csv rows): the p50 of each cell key's ideal
 * operations, its repetitions pooled as latency.csv pools the cell's.
 */
export function idealFloors(rows: readonly IdealSampleRow[]): Map<string, IdealFloor> {
  const groups = new Map<string, IdealSampleRow[]>();
  for (const r of rows) {
    const k = idealKey(r);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out = new Map<string, IdealFloor>();
  for (const [k, g] of groups) {
    const ms = g.map((r) => Number(r.ms)).sort((a, b) => a - b);
    const rounds = g.map((r) => String(r.rounds_ms).split(';').map(Number));
    const nRounds = Math.max(...rounds.map((x) => x.length));
    const roundsP50Ms = Array.from({ length: nRounds }, (_, j) => percentile(rounds.map((x) => x[j] ?? 0).sort((a, b) => a - b), 50));
    out.set(k, { floorMs: percentile(ms, 50), samples: g.length, roundsP50Ms });
  }
  return out;
}

/** One row of faults.csv: a cell key (from latency.csv), its case, its figures and its floor. */
export type FaultFloorRow = Record<string, string | number>;

const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) && Number.isFinite(b) ? Math.round((a / b) * 1000) / 1000 : '');
const ms3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Rows of faults.csv: each register row of latency.csv whose fault is one of `cases`, with the
 * floor of its case — measured (`ideal`, from `idealFloors`) when given, and summed from the
 * sequential probe's `calls` with quorum `q` (`call_floor_ms`) — its p50 over each, and its p50
 * and p99 over those of the healthy cell with the same key (measured in the same run; empty on
 * healthy rows). `keyColumns` are the cell key's columns, copied as they are. With `ideal`, a cell
 * whose case has no measured floor is an Error naming it.
 */
export function faultFloorRows(
  latency: readonly LatencyCsvRow[],
  cases: readonly FaultCase[],
  calls: readonly ReplicaCalls[],
  q: number,
  keyColumns: readonly string[],
  ideal?: ReadonlyMap<string, IdealFloor>,
): FaultFloorRow[] {
  const byFault = new Map(cases.map((c) => [c.fault, c]));
  const sameCell = (a: LatencyCsvRow, b: LatencyCsvRow) => keyColumns.every((k) => k === 'fault' || a[k] === b[k]);
  const out: FaultFloorRow[] = [];
  for (const row of latency) {
    if (row.variant !== 'regular' && row.variant !== 'atomic') continue;
    if (row.op !== 'read' && row.op !== 'write') continue;
    const c = byFault.get(row.fault ?? '');
    if (!c) continue;
    const schedule = (row.schedule ?? 'fast') as Schedule;
    const callFloor = operationFloor(row.op, row.variant, schedule, calls, q, c.conditions);
    const measured = ideal?.get(idealKey(row));
    if (ideal && !measured) throw new Error(`no ideal operations measured for ${row.variant}/${schedule} ${row.op} under ${c.label}: no floor for its cell (see floor.csv and the log)`);
    const floorMs = measured ? measured.floorMs : callFloor.floorMs;
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
      floor_ms: Number.isFinite(floorMs) ? ms3(floorMs) : '',
      floor_samples: measured ? measured.samples : '',
      rounds: callFloor.rounds,
      p50_over_floor: ratio(p50, floorMs),
      p50_over_healthy: healthy ? ratio(p50, Number(healthy.p50_ms)) : '',
      p99_over_healthy: healthy ? ratio(p99, Number(healthy.p99_ms)) : '',
      floor_detail: measured
        ? `p50 of ${measured.samples} ideal ${row.op}s (round p50s: ${measured.roundsP50Ms.map((x) => x.toFixed(2)).join(' + ')} ms)`
        : callFloor.detail,
      call_floor_ms: Number.isFinite(callFloor.floorMs) ? ms3(callFloor.floorMs) : '',
      p50_over_call_floor: ratio(p50, callFloor.floorMs),
      call_floor_detail: callFloor.detail,
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
