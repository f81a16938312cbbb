import { describe, expect, it } from 'vitest';
import { SimulationStalledError, VirtualClock } from '../../src/simulate/clock.js';
import { commonCaseRoundsOf, floorTolerance, idealLatency, latencyFloor } from '../../src/simulate/floor.js';
import type { LatencyModel } from '../../src/simulate/models.js';
import { SimReplica } from '../../src/simulate/replica.js';
import { Cluster, createClients, latencies, overlapContention, runWorkload, writeKey } from '../../src/simulate/run.js';
import { StoreError } from '../../src/errors.js';

const fixed = (ms: number): LatencyModel => ({ default: { kind: 'fixed', ms } });

describe('VirtualClock', () => {
  it('delivers events in time order, ties in insertion order, and skips cancelled ones', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.schedule(20, () => seen.push('b@20'));
    clock.schedule(10, () => seen.push('a@10'));
    clock.schedule(20, () => seen.push('c@20'));
    clock.schedule(15, () => seen.push('x')).cancel();
    const done = new Promise<number>((resolve) => clock.schedule(30, () => resolve(clock.now())));
    expect(await clock.drive(done)).toBe(30);
    expect(seen).toEqual(['a@10', 'b@20', 'c@20']);
  });

  it('lets promise continuations schedule more work between events', async () => {
    const clock = new VirtualClock();
    const sleep = (ms: number) => new Promise<void>((r) => clock.schedule(ms, r));
    const work = (async () => {
      await sleep(5);
      await sleep(7);
      await Promise.resolve();
      await sleep(1);
      return clock.now();
    })();
    expect(await clock.drive(work)).toBe(13);
  });

  it('reports a stall instead of hanging when nothing can happen', async () => {
    const clock = new VirtualClock();
    await expect(clock.drive(new Promise(() => undefined))).rejects.toBeInstanceOf(SimulationStalledError);
  });

  it('propagates the driven promise’s rejection', async () => {
    const clock = new VirtualClock();
    const p = new Promise((_, reject) => clock.schedule(3, () => reject(new Error('boom'))));
    await expect(clock.drive(p)).rejects.toThrow('boom');
  });
});

describe('SimReplica', () => {
  it('applies a call’s effect inside its latency and replies at the end', async () => {
    const clock = new VirtualClock();
    const r = new SimReplica({ name: 'r', clock, model: fixed(10), seed: 1 });
    const put = r.put('k', new Uint8Array([1, 2]));
    let listedAt5 = ['unset'];
    clock.schedule(6, () => void r.list('').then((l) => (listedAt5 = l)));
    await clock.drive(put);
    expect(clock.now()).toBe(10);
    await clock.drive(new Promise<void>((res) => clock.schedule(20, res)));
    // The list started at 6 ms took effect at 11 ms, after the put's effect at 5 ms.
    expect(listedAt5).toEqual(['k']);
    expect(r.counters).toMatchObject({ puts: 1, lists: 1, bytesUp: 2 });
    expect(await clock.drive(r.get('k'))).toEqual(new Uint8Array([1, 2]));
    expect(r.counters.bytesDown).toBe(2);
  });

  it('a crashed replica hangs until the call is aborted, and has no effect', async () => {
    const clock = new VirtualClock();
    const r = new SimReplica({ name: 'r', clock, model: fixed(10), seed: 1, faults: { crashed: true } });
    const ac = new AbortController();
    clock.schedule(50, () => ac.abort());
    const err = await clock.drive(r.put('k', new Uint8Array(1), { signal: ac.signal })).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).aborted).toBe(true);
    expect(clock.now()).toBe(50);
    expect(r.objects).toBe(0);
  });

  it('a flapping replica fails calls made while it is down', async () => {
    const clock = new VirtualClock();
    const r = new SimReplica({ name: 'r', clock, model: fixed(1), seed: 1, faults: { flap: { upMs: 10, downMs: 10 } } });
    await clock.drive(r.put('a', new Uint8Array(1)));
    await clock.drive(new Promise<void>((res) => clock.schedule(12, res)));
    expect(r.isDown(clock.now())).toBe(true);
    const err = await clock.drive(r.get('a')).catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).kind).toBe('Unavailable');
  });

  it('does not count out-of-order temporary keys in peakInOrder', async () => {
    const clock = new VirtualClock();
    const r = new SimReplica({ name: 'r', clock, model: fixed(2), seed: 1 });
    await clock.drive(r.put('R/e', new Uint8Array(1)));
    await clock.drive(r.put('R/t/0002-b', new Uint8Array(1)));
    await clock.drive(r.put('R/t/0001-a', new Uint8Array(1)));
    expect(r.objects).toBe(3);
    expect(r.objectsInOrder).toBe(2);
    expect(r.peakInOrder).toBe(2);
    await clock.drive(r.remove('R/t/0001-a'));
    expect(r.objectsInOrder).toBe(2);
  });
});

describe('floor', () => {
  it('counts the common-case rounds of SPEC §3-4', () => {
    expect(commonCaseRoundsOf('write', 'regular', 'fast')).toHaveLength(2);
    expect(commonCaseRoundsOf('write', 'atomic', 'classic')).toHaveLength(3);
    expect(commonCaseRoundsOf('read', 'regular', 'fast')).toHaveLength(1);
    expect(commonCaseRoundsOf('read', 'regular', 'classic')).toHaveLength(2);
    expect(commonCaseRoundsOf('read', 'atomic', 'classic')).toHaveLength(3);
  });

  it('takes the q-th fastest live replica per round', () => {
    const models = [fixed(10), fixed(20), fixed(40)];
    expect(latencyFloor({ models, q: 2, valueBytes: 0 }, 'write', 'regular', 'fast')).toBe(40);
    expect(latencyFloor({ models, q: 2, valueBytes: 0 }, 'read', 'regular', 'classic')).toBe(30); // list q-th + first get
    expect(latencyFloor({ models, faults: [{ crashed: true }], q: 2, valueBytes: 0 }, 'read', 'regular', 'fast')).toBe(40);
    expect(latencyFloor({ models, faults: [{ slowFactor: 10 }], q: 2, valueBytes: 0 }, 'read', 'regular', 'fast')).toBe(40);
    expect(idealLatency({ models, q: 2, valueBytes: 0 }, 'write', 'regular', 'classic')).toEqual({ p50: 60, p99: 60 });
    expect(floorTolerance(10_000)).toBe(0.03);
    expect(floorTolerance(4)).toBe(0.2);
  });

  it('helpers: writeKey and overlap contention', () => {
    expect(writeKey('0000000042-w0001.d')).toBe('42:w0001');
    const w = [
      { startMs: 0, endMs: 10 },
      { startMs: 5, endMs: 20 },
      { startMs: 30, endMs: 40 },
    ];
    expect(overlapContention(w, 15)).toBe(2); // the active write and the one it overlapped
    expect(overlapContention(w, 25)).toBe(0);
    expect(overlapContention(w, 35)).toBe(1);
  });
});

describe('the register on fixed latencies meets the floor exactly', () => {
  for (const schedule of ['fast', 'classic'] as const)
    for (const variant of ['regular', 'atomic'] as const)
      it(`${schedule}/${variant}: every operation takes exactly its floor`, async () => {
        const models = [fixed(10), fixed(20), fixed(40)];
        const cluster = new Cluster({ models, seed: 5 });
        const clients = await createClients(cluster, 1, { variant, schedule });
        // Prime the register, then measure sequential operations without concurrency.
        await runWorkload(cluster, clients, { opsPerClient: 1, writeFraction: 1, valueBytes: 64, seed: 1 });
        const res = await runWorkload(cluster, clients, { opsPerClient: 40, writeFraction: 0.5, valueBytes: 64, seed: 2 });
        for (const op of ['write', 'read'] as const) {
          const floor = latencyFloor({ models, q: 2, valueBytes: 64 }, op, variant, schedule);
          const lat = latencies(res.records, op);
          expect(lat.length).toBeGreaterThan(0);
          for (const l of lat) expect(l, `${op} latency vs floor ${floor}`).toBeCloseTo(floor, 6);
        }
        for (const r of cluster.replicas) expect(r.objects, `${r.name} after quiescence`).toBe(2);
      });
});
