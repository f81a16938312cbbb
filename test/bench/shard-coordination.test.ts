/**
 * What the shards of a run agree on without a coordinator: which shard they are (flags, Kubernetes,
 * Slurm), which clients each runs, the barrier on a quorum of replicas (with any t replicas down
 * or hanging, replica 0 included), their clocks measured against the replicas, and one timeline
 * for the merged history.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { describeClocks, mergeHistories, shardClocks } from '../../src/bench/analyze/timeline.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import { StoreBarrier } from '../../src/bench/run/barrier.js';
import { measureOffset, type ClockOffset, type ClockTarget } from '../../src/bench/run/clock.js';
import { clientRange, planParts, shardRange } from '../../src/bench/run/distribute.js';
import { planRun } from '../../src/bench/run/plan.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { resolveShard, resolveShardSource } from '../../src/bench/run/shard.js';
import { checkHistory, parseHistory } from '../../src/check/index.js';
import type { Store } from '../../src/store.js';
import { hangUntilAborted } from '../../src/util/abort.js';
import { Random } from '../../src/util/random.js';

describe('which shard this process is', () => {
  it('a Slurm job array: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, relative to SLURM_ARRAY_TASK_MIN', () => {
    const env = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '2', SLURM_ARRAY_TASK_STEP: '1' };
    expect(resolveShardSource({}, env)).toEqual({ shard: { index: 2, count: 3 }, source: 'SLURM_ARRAY_TASK_ID' });
    // --array=1-3: the first task is shard 0
    expect(resolveShard({}, { ...env, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '3' })).toEqual({ index: 0, count: 3 });
    // --array=0-8:4 (tasks 0, 4, 8)
    expect(resolveShard({}, { ...env, SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_STEP: '4' })).toEqual({ index: 2, count: 3 });
    // a one-task array is not sharded; --shard wins over the array; the count may come from RKVS_SHARD_COUNT
    expect(resolveShard({}, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '1' })).toBeUndefined();
    expect(resolveShard({ shard: '0/1' }, env)).toEqual({ index: 0, count: 1 });
    expect(resolveShard({ shardCount: '3' }, { SLURM_ARRAY_TASK_ID: '1' })).toEqual({ index: 1, count: 3 });
    // the Kubernetes index comes first when both are set
    expect(resolveShardSource({ shardCount: '3' }, { ...env, JOB_COMPLETION_INDEX: '0' })?.source).toBe('JOB_COMPLETION_INDEX');
  });

  it('refuses a Slurm array it cannot map onto 0..N-1, naming the variable', () => {
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '1' })).toThrow(/SLURM_ARRAY_TASK_COUNT: is not set although SLURM_ARRAY_TASK_ID is/);
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/SLURM_ARRAY_TASK_ID: expected a non-negative integer/);
    // --array=0,2,7: not one range
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '7' })).toThrow(
      /SLURM_ARRAY_TASK_COUNT: the job array is not one contiguous range .*sbatch --array=0-2/,
    );
    expect(() => resolveShard({ shardCount: '2' }, { SLURM_ARRAY_TASK_ID: '2' })).toThrow(/SLURM_ARRAY_TASK_ID: shard index 2 is out of range for 2 shard/);
  });
});

describe('which clients each shard runs', () => {
  it('every client exactly once; with at least as many clients as shards every shard has one; small cells move on (property)', () => {
    const seed = Number(process.env.RKVS_PROPERTY_SEED ?? Date.now() % 1_000_000);
    const rnd = new Random(seed);
    for (let trial = 0; trial < 500; trial++) {
      const N = rnd.int(1, 9);
      const C = rnd.int(1, 20);
      const offset = rnd.int(0, 50);
      const ranges = Array.from({ length: N }, (_, i) => shardRange(C, i, N, offset));
      const owned = ranges.flatMap(([a, b]) => Array.from({ length: b - a }, (_, k) => a + k)).sort((x, y) => x - y);
      const why = `seed ${seed} trial ${trial}: C=${C} N=${N} offset=${offset} (rerun with RKVS_PROPERTY_SEED=${seed})`;
      expect(owned, why).toEqual(Array.from({ length: C }, (_, k) => k));
      if (C >= N) expect(ranges.every(([a, b]) => b > a), why).toBe(true);
      else {
        // one client each on C consecutive shards starting at offset mod N
        for (let k = 0; k < C; k++) expect(ranges[(offset + k) % N]![1] - ranges[(offset + k) % N]![0], why).toBe(1);
      }
    }
    expect(shardRange(6, 1, 3, 7)).toEqual(clientRange(6, 1, 3));
  });

  const suite = (clients: number[], variants: ('raw' | 'regular')[] = ['raw', 'regular']) =>
    parseSuite(
      {
        name: 'small',
        variants,
        schedules: ['fast'],
        sampleMs: 0,
        defaultConfig: { memory: { n: 3 } },
        workloads: [{ name: 'w', mix: { write: 1, read: 1 }, valueBytes: [64], registers: 4, clients, ops: 30, warmupOps: 3 }],
      },
      'inline',
    );
  const base = { configurations: [memoryConfiguration()], progress: createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream }), runId: 'x' };

  it('cells with fewer clients than shards run on different shards in turn, and the plan says so', () => {
    const plan = planRun({ ...base, suite: suite([1, 2]), shard: { index: 2, count: 3 } });
    expect(plan.notes.join(' ')).toMatch(/4 cell\(s\) have fewer clients than the 3 shards .*some shards have no client in some cells/);
    // the quick suite's shape: shard 2 gets a client in some cell
    const busy = plan.cells.map((c, k) => planParts(c, { shard: { index: 2, count: 3 }, workers: 1, offset: k }, {}).length);
    expect(busy.some((n) => n > 0)).toBe(true);
  });

  it('refuses, on every shard alike, a plan where a shard would measure nothing', () => {
    for (const index of [0, 1, 2])
      expect(() => planRun({ ...base, suite: suite([2], ['raw']), shard: { index, count: 3 } })).toThrow(
        /--shard: shard\(s\) 2 of 3 would measure nothing: no cell of suite small has a client for them .*run at most 2 shard\(s\), or give every cell more clients with --clients 3/,
      );
    expect(planRun({ ...base, suite: suite([2], ['raw']), shard: { index: 0, count: 3 }, clients: 3 }).notes).toEqual([]);
  });
});

/** A replica that is down: every call fails at once. */
function downStore(name: string): Store {
  const fail = async (): Promise<never> => {
    throw new Error(`${name} is down (connection refused)`);
  };
  return { name, capabilities: createMemoryStore().capabilities, put: fail, get: fail, list: fail, remove: fail, close: async () => undefined };
}

/** A replica that hangs: every call waits until its signal fires. */
function hangingStore(name: string): Store {
  const hang = (op: string) => (_k: unknown, _v?: unknown, o?: { signal?: AbortSignal }) =>
    hangUntilAborted((o ?? (_v as { signal?: AbortSignal } | undefined))?.signal, { store: name, op, key: '' });
  return {
    name,
    capabilities: createMemoryStore().capabilities,
    put: (k, v, o) => hang('put')(k, v, o),
    get: (k, o) => hang('get')(k, o),
    list: (p, o) => hang('list')(p, o),
    remove: (k, o) => hang('remove')(k, o),
    close: async () => undefined,
  };
}

describe('the barrier on a quorum of replicas', () => {
  const N = 3;
  const run = (replicas: Store[], o: { timeoutMs?: number; t?: number } = {}) =>
    Promise.all(
      Array.from({ length: N }, (_, i) => {
        const b = new StoreBarrier(replicas, { index: i, count: N }, { t: o.t ?? 1, timeoutMs: o.timeoutMs ?? 20_000, pollMs: 20, callTimeoutMs: 300 });
        // the shards arrive at different times; shard 0 reads every marker
        return new Promise((r) => setTimeout(r, 40 * i)).then(() => b.arrive(`cell0001-end`, { shard: i }, { read: i === 0 }));
      }),
    );

  for (const [kind, make] of [
    ['down', downStore],
    ['hanging', hangingStore],
  ] as const)
    for (const missing of [0, 1, 2])
      it(`every shard meets with replica ${missing} ${kind} (n = 3, t = 1), and the reader gets every marker`, async () => {
        const replicas = [0, 1, 2].map((i) => (i === missing ? make(`r${i}`) : createMemoryStore({ name: `r${i}` })));
        const [markers] = await run(replicas);
        expect((markers as { shard: number; payload: unknown }[]).map((m) => [m.shard, m.payload])).toEqual([
          [0, { shard: 0 }],
          [1, { shard: 1 }],
          [2, { shard: 2 }],
        ]);
        // each marker is on both live replicas (n - t = 2)
        for (const r of replicas.filter((_, i) => i !== missing)) expect((await r.list('_sync/cell0001-end/')).sort()).toHaveLength(3);
      }, 30_000);

  it('with more than t replicas down a shard cannot arrive, and says which replicas failed', async () => {
    const replicas = [downStore('r0'), downStore('r1'), createMemoryStore({ name: 'r2' })];
    const b = new StoreBarrier(replicas, { index: 1, count: 3 }, { t: 1, timeoutMs: 600, pollMs: 20, callTimeoutMs: 100 });
    await expect(b.arrive('cell0002-start', null)).rejects.toThrow(
      /shard 1\/3 could not arrive at barrier cell0002-start within 1 s: 1 of 3 replicas took its marker, 2 needed \(n - t\); failing replicas: r0: r0 is down \(connection refused\); r1: r1 is down/,
    );
  });

  it('a missing shard is named after the timeout, with the replicas that never listed', async () => {
    const replicas = [hangingStore('r0'), createMemoryStore({ name: 'r1' }), createMemoryStore({ name: 'r2' })];
    const b = new StoreBarrier(replicas, { index: 0, count: 3 }, { t: 1, timeoutMs: 700, pollMs: 20, callTimeoutMs: 100 });
    await expect(b.arrive('cell0003-start', null)).rejects.toThrow(/shard 0\/3 waited 1 s at barrier cell0003-start for shard\(s\) 1, 2; replica\(s\) never listed: r0: .*timed out/);
  });
});

describe('clock offsets measured against a replica', () => {
  it('a 1 s resolution stamp (a Date header) gives an interval that holds the true offset, about halved by each probe', async () => {
    for (const trueOffset of [1234.5, -3_600_042.25]) {
      const target: ClockTarget = {
        source: 'date-header',
        target: 'fake',
        resolutionMs: 1000,
        read: async () => Math.floor((Date.now() + trueOffset) / 1000) * 1000,
      };
      const m = await measureOffset(target, { maxProbes: 8, budgetMs: 3000 });
      expect(m.samples).toBeGreaterThanOrEqual(2);
      expect(Math.abs(m.offsetMs - trueOffset), JSON.stringify(m)).toBeLessThanOrEqual(m.boundMs + 1);
      expect(m.boundMs).toBeLessThanOrEqual(501);
    }
  }, 20_000);

  it('a directory replica on this machine: offset 0 within the bound', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rkvs-clock-'));
    try {
      const { measureClocks } = await import('../../src/bench/run/clock.js');
      const { loadConfigurations } = await import('../../src/bench/config/file.js');
      const { writeFile } = await import('node:fs/promises');
      const file = path.join(dir, 'c.yaml');
      await writeFile(file, 'configurations:\n  d:\n    replicas:\n      - { provider: fs, dir: r0 }\n      - { provider: fs, dir: r0 }\n      - { provider: memory }\n');
      await (await import('node:fs/promises')).mkdir(path.join(dir, 'r0'));
      const [h] = await loadConfigurations(file, ['d']);
      const offsets = await measureClocks(h!, ['a', 'b', 'c'], 'start');
      for (const o of offsets.slice(0, 2)) {
        expect(o.source).toBe('file-mtime');
        expect(Math.abs(o.offset_ms!), JSON.stringify(o)).toBeLessThanOrEqual(o.bound_ms! + 0.01);
      }
      expect(offsets[2]?.error).toMatch(/a memory replica has no clock of its own/);
      // the probe files are gone
      expect(await readdir(path.join(dir, 'r0'))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('one timeline for the shards', () => {
  const clock = (replica: string, offset: number, bound: number, phase: 'start' | 'end' = 'start'): ClockOffset => ({
    config: 'c',
    replica,
    phase,
    offset_ms: offset,
    bound_ms: bound,
    at: '',
  });

  it('the offset between two shards comes from the replica both measured best', () => {
    const clocks = shardClocks([
      { index: 0, clocks: [clock('a', 100, 5), clock('b', 50, 400)] },
      // shard 1's clock is 30 ms ahead: it sees each replica 30 ms earlier
      { index: 1, clocks: [clock('a', 70, 3), clock('a', 71, 3, 'end'), clock('b', 20, 1)] },
      { index: 2, clocks: [clock('z', 0, 1)] },
    ]);
    expect(clocks[0]).toEqual({ shard: 0, offset_ms: 0, bound_ms: 0 });
    expect(clocks[1]).toEqual({ shard: 1, offset_ms: 29.5, bound_ms: 8.5, via: 'c/a' });
    expect(clocks[2]).toEqual({ shard: 2, offset_ms: 0 });
    const { lines, warnings } = describeClocks(clocks, 20);
    expect(lines).toEqual(['shard 1: +29.5 ms ± 8.5 ms (via c/a)', 'shard 2: not measured (no replica both it and shard 0 could read the clock of)']);
    expect(warnings.join('\n')).toMatch(/the clock of shard 1 is 29.5 ms ± 8.5 ms from shard 0's, more than --max-skew 20.0 ms even at the bound/);
    expect(warnings.join('\n')).toMatch(/the clock of shard 2 was not measured/);
  });

  it('merged histories keep every real precedence and invent none, whatever the skew within the bound (property)', () => {
    const seed = Number(process.env.RKVS_PROPERTY_SEED ?? Date.now() % 1_000_000);
    const rnd = new Random(seed);
    for (let trial = 0; trial < 50; trial++) {
      // a linearizable history of one register on a true timeline, split over 2 shards whose clocks are skewed
      const ops: { client: string; op: string; register: string; input: string | null; output: string | null; call: number; return: number }[] = [];
      let t = 0;
      let value: string | null = null;
      for (let k = 0; k < 30; k++) {
        const shard = rnd.int(0, 1);
        const client = `s${shard}c${shard}`;
        const call = t + rnd.int(0, 3);
        const isWrite = rnd.int(0, 1) === 0;
        if (isWrite) value = `${client}:${k}`;
        ops.push({ client, op: isWrite ? 'write' : 'read', register: 'r', input: isWrite ? value : null, output: isWrite ? null : value, call, return: call + 1 + rnd.int(0, 2) });
        t = ops[ops.length - 1]!.return + rnd.int(0, 2);
      }
      const skew = rnd.int(-500, 500);
      const bound = rnd.int(0, 20);
      const measured = skew + rnd.int(-bound, bound);
      const epoch0 = 1_700_000_000_000;
      const lines = (shard: number, epoch: number, off: number) =>
        ops.filter((o) => o.client.startsWith(`s${shard}`)).map((o) => JSON.stringify({ ...o, call: o.call - (epoch - epoch0) + off, return: o.return - (epoch - epoch0) + off }));
      const merged = mergeHistories([
        { shard: 0, dir: 'a', epochMs: epoch0, lines: lines(0, epoch0, 0), clock: { shard: 0, offset_ms: 0, bound_ms: 0 } },
        { shard: 1, dir: 'b', epochMs: epoch0 + 7, lines: lines(1, epoch0 + 7, skew), clock: { shard: 1, offset_ms: measured, bound_ms: bound, via: 'c/a' } },
      ]);
      const v = checkHistory(parseHistory(merged.lines.join('\n'), 'merged'), 'linearizable');
      expect(v.result, `seed ${seed} trial ${trial} (rerun with RKVS_PROPERTY_SEED=${seed})`).toBe('ok');
    }
  });

  it('refuses histories whose client ids collide across shards', () => {
    const line = JSON.stringify({ client: 'c0', op: 'write', register: 'r', input: 'c0:1', output: null, call: 1, return: 2 });
    expect(() =>
      mergeHistories([
        { shard: 0, dir: '/x/a', epochMs: 0, lines: [line], clock: { shard: 0, offset_ms: 0, bound_ms: 0 } },
        { shard: 1, dir: '/x/b', epochMs: 0, lines: [line], clock: { shard: 1, offset_ms: 0, bound_ms: 0 } },
      ]),
    ).toThrow(/\/x\/b\/history.jsonl: client id "c0" is also in the history of shard 0: client ids must be distinct/);
  });
});
