/**
 * The floor of a register operation on real replicas under a fault (src/bench/analyze/fault-floor.ts),
 * as `npm run bench:faults` computes it from the probe: rounds × the q-th fastest replica still
 * answering; and the rows of faults.csv built from latency.csv.
 */
import { describe, expect, it } from 'vitest';
import {
  averageCalls,
  callsFromProbe,
  faultFloorRows,
  idealFloors,
  idealKey,
  meetsWaitFreeTarget,
  operationFloor,
  typicalCallMs,
  type FaultCase,
  type ReplicaCalls,
} from '../../src/bench/analyze/fault-floor.js';
import { CELL_KEY_COLUMNS } from '../../src/bench/config/cell.js';

const calls: ReplicaCalls[] = [
  { replica: 'a', ms: { put: 2, get: 1, list: 3 } },
  { replica: 'b', ms: { put: 4, get: 2, list: 5 } },
  { replica: 'c', ms: { put: 8, get: 6, list: 9 } },
];

describe('operationFloor', () => {
  it('sums, over the rounds, the q-th fastest replica of each call (healthy, q = 2)', () => {
    // fast write: list at q, then the two puts at q
    const w = operationFloor('write', 'regular', 'fast', calls, 2);
    expect(w.rounds).toBe(2);
    expect(w.floorMs).toBe(5 + 4);
    expect(w.detail).toBe('list: 2nd of a 3.00, b 5.00, c 9.00 + put: 2nd of a 2.00, b 4.00, c 8.00');
    // fast read: list and get together, the slower of the two
    expect(operationFloor('read', 'regular', 'fast', calls, 2).floorMs).toBe(5);
    // classic atomic read: list at q, get from the first, write-back put at q
    expect(operationFloor('read', 'atomic', 'classic', calls, 2)).toMatchObject({ floorMs: 5 + 1 + 4, rounds: 3 });
  });

  it('leaves a silent replica out and adds a delay to a slow one', () => {
    // the fastest replica blackholed: the slowest now completes every quorum
    expect(operationFloor('write', 'regular', 'fast', calls, 2, [{ replica: 'a', silent: true }]).floorMs).toBe(9 + 8);
    // the slowest blackholed: nothing changes
    expect(operationFloor('write', 'regular', 'fast', calls, 2, [{ replica: 'c', silent: true }]).floorMs).toBe(9);
    // the fastest 10 ms late: it falls behind b, and c (list 9) now completes the list round
    const d = operationFloor('write', 'regular', 'fast', calls, 2, [{ replica: 'a', addMs: 10 }]);
    expect(d.floorMs).toBe(9 + 8);
    expect(d.detail).toContain('a 13.00');
    // more than t silent: no quorum, no finite floor
    expect(operationFloor('read', 'regular', 'fast', calls, 2, [{ replica: 'a', silent: true }, { replica: 'b', silent: true }]).floorMs).toBe(Infinity);
  });
});

describe('callsFromProbe, averageCalls, typicalCallMs', () => {
  const probe = [
    { replica: 'a', check: 'put', value_bytes: '1024', p50_ms: '2' },
    { replica: 'a', check: 'get', value_bytes: '1024', p50_ms: '1' },
    { replica: 'a', check: 'list', value_bytes: '1024', p50_ms: '3' },
    { replica: 'a', check: 'put', value_bytes: '65536', p50_ms: '20' },
    { replica: 'b', check: 'put', value_bytes: 1024, p50_ms: 4 },
    { replica: 'b', check: 'get', value_bytes: 1024, p50_ms: '' },
    { replica: 'b', check: 'list', value_bytes: 1024, p50_ms: 5 },
  ];
  it('reads each replica\'s p50 at the value size', () => {
    expect(callsFromProbe(probe, ['a'], 1024)).toEqual([{ replica: 'a', ms: { put: 2, get: 1, list: 3 } }]);
  });
  it('names the replica and the call the probe has no latency for', () => {
    expect(() => callsFromProbe(probe, ['a', 'b'], 1024)).toThrow(/no get latency of replica b at 1024 B/);
    expect(() => callsFromProbe(probe, ['c'], 1024)).toThrow(/no put latency of replica c/);
  });
  it('averages probes call by call, and takes the median call as the typical one', () => {
    const later = calls.map((c) => ({ replica: c.replica, ms: { put: c.ms.put * 3, get: c.ms.get * 3, list: c.ms.list * 3 } }));
    expect(averageCalls([calls, later])[1]).toEqual({ replica: 'b', ms: { put: 8, get: 4, list: 10 } });
    expect(() => averageCalls([calls, later.slice(1)])).toThrow(/replica a is missing/);
    expect(typicalCallMs(calls[0]!)).toBe(2);
    expect(typicalCallMs(calls[2]!)).toBe(8);
  });
});

describe('faultFloorRows', () => {
  const key = (fault: string, op: string, variant = 'regular') => ({
    run_id: 'r1',
    suite: 'faults',
    config: 'emulators',
    variant,
    schedule: 'fast',
    op,
    value_bytes: '1024',
    clients: '1',
    registers: '32',
    workers: '1',
    workload: 'mixed',
    mode: 'closed',
    open_rate: '0',
    fault,
  });
  const BH = 'replica=a,blackhole,at=0s';
  const DL = 'replica=a,delay=10ms,at=0s';
  const latency = [
    { ...key('', 'write', 'raw'), count: '100', errors: '0', p50_ms: '1', p99_ms: '2' },
    { ...key('', 'write'), count: '100', errors: '0', p50_ms: '10', p99_ms: '20' },
    { ...key('', 'read'), count: '100', errors: '0', p50_ms: '6', p99_ms: '12' },
    { ...key(BH, 'write'), count: '100', errors: '0', p50_ms: '18', p99_ms: '30' },
    { ...key(DL, 'write'), count: '90', errors: '1', p50_ms: '25', p99_ms: '60' },
    { ...key('replica=b,reset,at=0s', 'write'), count: '100', errors: '0', p50_ms: '9', p99_ms: '9' },
  ];
  const cases: FaultCase[] = [
    { kind: 'healthy', fault: '', conditions: [], label: 'healthy' },
    { kind: 'blackhole', replica: 'a', fault: BH, conditions: [{ replica: 'a', silent: true }], label: 'a blackholed' },
    { kind: 'delay', replica: 'a', fault: DL, conditions: [{ replica: 'a', addMs: 10 }], label: 'a delayed' },
  ];
  const keyColumns = ['run_id', 'suite', ...CELL_KEY_COLUMNS];
  const rows = faultFloorRows(latency, cases, calls, 2, keyColumns);

  it('keeps register cells of the given cases, each with its whole cell key', () => {
    expect(rows.map((r) => `${r.op} ${r.case}`)).toEqual(['write healthy', 'read healthy', 'write blackhole', 'write delay']);
    for (const r of rows) for (const k of keyColumns) expect(r[k], k).toBeDefined();
    expect(rows[2]).toMatchObject({ fault: BH, faulty_replica: 'a', variant: 'regular', schedule: 'fast', registers: '32' });
  });

  it('puts each next to the floor of its case and to the healthy cell of the same key', () => {
    expect(rows[0]).toMatchObject({ floor_ms: 9, rounds: 2, p50_over_floor: 1.111, p50_over_healthy: '', p99_over_healthy: '' });
    expect(rows[1]).toMatchObject({ floor_ms: 5, p50_over_floor: 1.2 });
    expect(rows[2]).toMatchObject({ floor_ms: 17, p50_over_floor: 1.059, p50_over_healthy: 1.8, p99_over_healthy: 1.5 });
    expect(rows[3]).toMatchObject({ count: 90, errors: 1, floor_ms: 17, p50_over_floor: 1.471, p50_over_healthy: 2.5, p99_over_healthy: 3 });
  });

  it('judges the wait-freedom target on blackhole rows only: p50 within 10% of the floor', () => {
    expect(meetsWaitFreeTarget(rows[2]!)).toBe(true);
    expect(meetsWaitFreeTarget({ ...rows[2]!, p50_over_floor: 1.11 })).toBe(false);
    expect(meetsWaitFreeTarget({ ...rows[2]!, p50_over_floor: 0.85 })).toBe(false);
    expect(meetsWaitFreeTarget(rows[0]!)).toBeUndefined();
    expect(meetsWaitFreeTarget(rows[3]!)).toBeUndefined();
  });

  // the measured floor: ideal operations as floor.csv holds them (strings, as read back)
  const ideal = (fault: string, op: string, ms: number[]) =>
    ms.map((m, i) => ({ ...key(fault, op), rep: '1', sample: String(i + 1), ms: String(m), rounds_ms: op === 'write' ? `${m / 4};${(3 * m) / 4}` : String(m) }));
  const floorCsv = [...ideal('', 'write', [8, 9, 10, 30]), ...ideal('', 'read', [5, 6, 4]), ...ideal(BH, 'write', [16, 17, 18]), ...ideal(DL, 'write', [20, 24, 22])];

  it('measured floors: the p50 (nearest rank) of each cell key\'s ideal operations, and of each round', () => {
    const floors = idealFloors(floorCsv);
    expect(floors.size).toBe(4);
    expect(floors.get(idealKey(key('', 'write')))).toEqual({ floorMs: 9, samples: 4, roundsP50Ms: [2.25, 6.75] });
    expect(floors.get(idealKey(key('', 'read')))).toEqual({ floorMs: 5, samples: 3, roundsP50Ms: [5] });
    // the key is the whole cell key: another fault, another floor
    expect(floors.get(idealKey(key(BH, 'write')))?.floorMs).toBe(17);
    expect(floors.get(idealKey(key(BH, 'read')))).toBeUndefined();
  });

  it('with measured floors, floor_ms is the measured one and the sequential sum stays beside it', () => {
    const measured = faultFloorRows(latency, cases, calls, 2, keyColumns, idealFloors(floorCsv));
    expect(measured.map((r) => r.floor_ms)).toEqual([9, 5, 17, 22]);
    expect(measured[0]).toMatchObject({ floor_samples: 4, p50_over_floor: 1.111, call_floor_ms: 9, p50_over_call_floor: 1.111, floor_detail: 'p50 of 4 ideal writes (round p50s: 2.25 + 6.75 ms)' });
    expect(measured[2]).toMatchObject({ floor_ms: 17, p50_over_floor: 1.059, call_floor_ms: 17 });
    expect(measured[3]).toMatchObject({ floor_ms: 22, p50_over_floor: 1.136, call_floor_ms: 17, p50_over_call_floor: 1.471 });
    expect(measured[3]!.call_floor_detail).toBe(rows[3]!.floor_detail);
    // a cell without measured floor is an error naming it, never a floor taken from elsewhere
    expect(() => faultFloorRows(latency, cases, calls, 2, keyColumns, idealFloors(floorCsv.filter((r) => r.fault !== DL)))).toThrow(
      /no ideal operations measured for regular\/fast write under a delayed: no floor for its cell/,
    );
  });
});
