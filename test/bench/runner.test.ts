import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { StoreError } from '../../src/errors.js';
import { ForwardingStore } from '../../src/layers/forwarding.js';
import type { CallOptions, Store } from '../../src/store.js';
import { sleep } from '../../src/util/abort.js';
import { Random } from '../../src/util/random.js';
import { summarize, type Histogram } from '../../src/bench/run/histogram.js';
import { makeValue, runCell, valueId, type BenchClient, type HistoryEvent } from '../../src/bench/run/runner.js';
import { workloadSchema, type WorkloadInput } from '../../src/bench/config/workload.js';
import { registerSampler } from '../../src/bench/run/workload.js';

function rawClient(id: string, s: Store): BenchClient {
  return {
    id,
    write: (k, v, o) => s.put(k, v, o),
    read: async (k, o) => ({ value: await s.get(k, o) }),
    remove: (k, o) => s.remove(k, o),
  };
}

/** A store whose `stallAt`-th put (0-based) takes `stallMs`; every other call is immediate. */
class StallingStore extends ForwardingStore {
  private puts = 0;
  constructor(
    inner: Store,
    private readonly stallAt: number,
    private readonly stallMs: number,
  ) {
    super(inner, 'stalling');
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    if (this.puts++ === this.stallAt) await sleep(this.stallMs, opts?.signal);
    return this.inner.put(key, value, opts);
  }
}

const wl = (w: Partial<WorkloadInput>) =>
  workloadSchema.parse({ name: 't', mix: { write: 1 }, valueBytes: [64], registers: 4, ops: 50, ...w });

/** The r-th smallest recorded latency (1-based), in ms, at the histogram's resolution. */
const rank = (h: Histogram, r: number) => h.getValueAtPercentile((100 * r) / h.totalCount) / 1000;

describe('runCell', () => {
  it('open loop measures from the intended start: a stall delays every operation queued behind it', async () => {
    const rate = 100; // one operation every 10 ms
    const stallMs = 400;
    const store = new StallingStore(createMemoryStore(), 10, stallMs);
    const open = await runCell({ clients: [rawClient('c0', store)], workload: wl({ ops: 80, mode: { openRate: rate } }), valueBytes: 64, seed: 1 });
    const h = open.ok.get('write|64');
    expect(h?.totalCount).toBe(80);
    // ~40 operations fell due during the stall; each waited (stall - its offset) from its intended start
    // at least 20 of the 80 samples exceed 100 ms (the 61st smallest does)
    expect(rank(h!, 61)).toBeGreaterThan(100);
    expect(summarize(h!).p90_ms).toBeGreaterThan(100);
    expect(summarize(h!).max_ms).toBeGreaterThan(stallMs * 0.9);
  });

  it('closed loop records the stall once (what coordinated omission looks like)', async () => {
    const store = new StallingStore(createMemoryStore(), 10, 400);
    const closed = await runCell({ clients: [rawClient('c0', store)], workload: wl({ ops: 80 }), valueBytes: 64, seed: 1 });
    const h = closed.ok.get('write|64');
    expect(h?.totalCount).toBe(80);
    // exactly one sample exceeds 300 ms: the largest does, the second largest does not
    expect(rank(h!, 80)).toBeGreaterThan(300);
    expect(rank(h!, 79)).toBeLessThan(300);
    expect(summarize(h!).p90_ms).toBeLessThan(100);
  });

  it('open loop at a rate the store sustains keeps latency near the service time', async () => {
    const res = await runCell({
      clients: [rawClient('c0', createMemoryStore())],
      workload: wl({ ops: 30, mode: { openRate: 200 } }),
      valueBytes: 64,
      seed: 2,
    });
    const h = res.ok.get('write|64')!;
    expect(h.totalCount).toBe(30);
    // 30 operations at 200/s take about 150 ms; the run is paced, not a burst
    expect(res.endMs - res.startMs).toBeGreaterThan(100);
  });

  it('counts errors per op and kind, keeps failed latencies apart and never aborts the run', async () => {
    let calls = 0;
    const failing: Store = Object.assign(Object.create(createMemoryStore()) as Store, {
      name: 'failing',
      put: async (key: string) => {
        calls++;
        if (calls % 3 === 0) throw new StoreError({ kind: 'RateLimited', store: 'failing', op: 'put', key });
      },
      get: async (key: string) => {
        calls++;
        if (calls % 5 === 0) throw new Error('socket hang up');
        return null;
      },
    });
    const res = await runCell({
      clients: [rawClient('c0', failing), rawClient('c1', failing)],
      workload: wl({ mix: { write: 1, read: 1 }, ops: 120, warmupOps: 10 }),
      valueBytes: 64,
      seed: 3,
    });
    const measured = (res.measured.get('write') ?? 0) + (res.measured.get('read') ?? 0);
    expect(measured).toBe(120);
    const okCount = [...res.ok.values()].reduce((a, h) => a + h.totalCount, 0);
    const failedCount = [...res.failed.values()].reduce((a, h) => a + h.totalCount, 0);
    expect(okCount + failedCount).toBe(120);
    const errors = Object.fromEntries(res.errors);
    expect(Object.keys(errors).sort()).toEqual(['read|Unexpected', 'write|RateLimited']);
    expect((errors['read|Unexpected'] ?? 0) + (errors['write|RateLimited'] ?? 0)).toBe(failedCount);
    expect(failedCount).toBeGreaterThan(10);
  });

  it('excludes warm-up operations from every result but records them in the history', async () => {
    const history: HistoryEvent[] = [];
    const res = await runCell({
      clients: [rawClient('c0', createMemoryStore())],
      workload: wl({ mix: { write: 1, read: 1 }, ops: 25, warmupOps: 15 }),
      valueBytes: 64,
      seed: 4,
      history: (e) => history.push(e),
    });
    const okCount = [...res.ok.values()].reduce((a, h) => a + h.totalCount, 0);
    expect(okCount).toBe(25);
    expect(history).toHaveLength(40);
    for (const e of history) {
      expect(['write', 'read']).toContain(e.op);
      expect(e.return).not.toBeNull();
      if (e.op === 'write') expect(e.input).toMatch(/^c0:\d+$/);
    }
    // a read returns the id of the write it saw
    const written = new Set(history.filter((e) => e.op === 'write').map((e) => e.input));
    for (const e of history.filter((x) => x.op === 'read' && x.output !== null)) expect(written.has(e.output)).toBe(true);
  });

  it('stops after a duration when asked', async () => {
    const res = await runCell({
      clients: [rawClient('c0', createMemoryStore())],
      workload: wl({ ops: undefined, durationS: 0.2, mode: { openRate: 100 } }),
      valueBytes: 64,
      seed: 5,
    });
    const n = res.ok.get('write|64')?.totalCount ?? 0;
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThanOrEqual(22);
  });

  it('stops early and reports it when the signal fires', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const res = await runCell({
      clients: [rawClient('c0', createMemoryStore())],
      workload: wl({ ops: 1_000_000, mode: { openRate: 100 } }),
      valueBytes: 64,
      seed: 6,
      signal: ac.signal,
    });
    expect(res.interrupted).toBe(true);
    expect(res.ok.get('write|64')?.totalCount ?? 0).toBeLessThan(100);
  });
});

describe('workload generators', () => {
  it('around: awaited right before and after each operation of a closed loop (warm-up flagged), never in an open loop, outside its latency', async () => {
    const seen: string[] = [];
    const around = {
      beforeOp: async (op: string, measured: boolean, register: string) => {
        seen.push(`before ${op} ${register} ${measured}`);
        await sleep(20);
      },
      afterOp: async (op: string, measured: boolean, register: string) => {
        seen.push(`after ${op} ${register} ${measured}`);
        await sleep(20);
      },
    };
    const store = createMemoryStore();
    const closed = await runCell({ clients: [rawClient('c0', store)], workload: wl({ ops: 6, warmupOps: 2, mix: { write: 1, read: 1 } }), valueBytes: 64, seed: 3, around });
    expect(seen).toHaveLength(2 * 8);
    for (let i = 0; i < 8; i++) {
      const [b, a] = [seen[2 * i]!, seen[2 * i + 1]!];
      expect(b.replace('before', 'after')).toBe(a); // the same operation, register and phase
      expect(b.endsWith(i < 2 ? ' false' : ' true'), b).toBe(true);
      expect(b).toMatch(/^before (write|read) r\d{6} /);
    }
    // the 40 ms around each operation is not in its latency: counted, no operation could take less
    for (const h of closed.ok.values()) expect(summarize(h).p50_ms).toBeLessThan(40);
    seen.length = 0;
    await runCell({ clients: [rawClient('c0', store)], workload: wl({ ops: 6, mode: { openRate: 200 } }), valueBytes: 64, seed: 3, around });
    expect(seen).toEqual([]);
  });

  it('values carry their id and round-trip through valueId', () => {
    const v = makeValue(100, 'c3:17', new Random(1));
    expect(v.byteLength).toBe(100);
    expect(valueId(v)).toBe('c3:17');
    expect(valueId(new Uint8Array([1, 2, 3]))).toBe('bytes:3');
  });

  it('zipfian access favours low indexes; uniform does not', () => {
    const seed = Number(process.env.TEST_SEED ?? Date.now() % 100000);
    const counts = (access: 'uniform' | { zipfian: number }) => {
      const next = registerSampler(100, access, new Random(seed));
      const c = new Array<number>(100).fill(0);
      for (let i = 0; i < 20000; i++) c[next()]++;
      return c;
    };
    const z = counts({ zipfian: 0.99 });
    const u = counts('uniform');
    const msg = `seed ${seed}`;
    expect(z[0], msg).toBeGreaterThan(z[50]! * 10);
    expect(z[0], msg).toBeGreaterThan(2000);
    expect(u[0], msg).toBeLessThan(400);
    expect(Math.min(...u), msg).toBeGreaterThan(100);
  });
});
