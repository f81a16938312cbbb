/**
 * Spreading cells over processes and merging them back: exact histogram merging (property test),
 * client/operation shares, shard flags, and merge's checks on directories that are not shards of
 * one run.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { clientRange, decodeOutcome, encodeOutcome, mergeOutcomes, planParts, shareOf } from '../../src/bench/run/distribute.js';
import { createHistogram, decodeHistogram, encodeHistogram, mergeHistograms, recordMs, type Histogram } from '../../src/bench/run/histogram.js';
import { checkShards, mergeShards, readShardDir } from '../../src/bench/analyze/merge.js';
import { runBench } from '../../src/bench/pipeline.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { perSecondKey, type CellOutcome } from '../../src/bench/run/runner.js';
import { checkRunId, resolveShard } from '../../src/bench/run/shard.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import { workloadSchema } from '../../src/bench/config/workload.js';
import { resolveWorkers } from '../../src/commands/bench.js';
import { Random } from '../../src/util/random.js';

/**
 * What a report reads from a histogram: count, mean, a dense set of percentiles (0 and 100 are the
 * extremes at the histogram's resolution), and the whole percentile distribution (bucket counts).
 */
function fingerprint(h: Histogram): (number | string)[] {
  const out: (number | string)[] = [h.totalCount, Math.round(h.mean * 1e6)];
  for (let p = 0; p <= 100; p += 0.5) out.push(h.getValueAtPercentile(p));
  out.push(h.getValueAtPercentile(99.9), h.getValueAtPercentile(99.99));
  // the footer's "Max" is the raw largest sample when the histogram kept it (encoding keeps the
  // bucket, not the sample); the report's max_ms is the 100th percentile, compared above
  out.push(h.totalCount ? h.outputPercentileDistribution(5, 1000).replace(/#\[Max .*\n/, '') : '');
  return out;
}

describe('merged histograms equal the histogram of the union of the samples', () => {
  it('for random samples split at random over random numbers of parts, through the encoded form (property)', () => {
    const base = Number(process.env.RKVS_PROPERTY_SEED ?? Date.now() % 1_000_000);
    for (let trial = 0; trial < 40; trial++) {
      const seed = base + trial;
      const rnd = new Random(seed);
      const parts = rnd.int(1, 8);
      const union = createHistogram();
      const hs = Array.from({ length: parts }, () => createHistogram());
      const n = rnd.int(0, 3000);
      for (let i = 0; i < n; i++) {
        // latencies from microseconds to minutes, heavy tailed
        const ms = Math.exp(rnd.normal(1, 2.5));
        recordMs(union, ms);
        recordMs(hs[rnd.int(0, parts - 1)] as Histogram, ms);
      }
      const merged = mergeHistograms(hs.map((h) => decodeHistogram(encodeHistogram(h))));
      // the report reads every histogram through mergeHistograms, one part or many
      expect(fingerprint(merged), `seed ${seed} (rerun with RKVS_PROPERTY_SEED=${seed})`).toEqual(fingerprint(mergeHistograms([union])));
    }
  });

  it('mergeOutcomes adds histograms and counters and takes the union of the windows', () => {
    const histOf = (xs: number[]) => {
      const h = createHistogram();
      for (const x of xs) recordMs(h, x);
      return h;
    };
    const mk = (start: number, len: number, samples: number[], op: 'write' | 'read'): CellOutcome => {
      const h = createHistogram();
      for (const s of samples) recordMs(h, s);
      return {
        ok: new Map([[`${op}|1024`, h]]),
        failed: new Map(),
        errors: new Map([[`${op}|Timeout`, 1]]),
        errorsBySeries: new Map([[`${op}|1024|Timeout`, 1]]),
        measured: new Map([[op, samples.length + 1]]),
        rounds: new Map([[op, { sum: samples.length, n: samples.length }]]),
        lastWritten: new Map([['r000001', 10]]),
        startMs: 5,
        endMs: 5 + len,
        startEpochMs: start,
        endEpochMs: start + len,
        interrupted: false,
        perSecond: new Map([
          [perSecondKey(0, 'warmup', op, 1024), { ok: histOf([9]), errors: 0 }],
          [perSecondKey(0, 'measured', op, 1024), { ok: histOf(samples), errors: 1 }],
        ]),
        loopStartEpochMs: start,
        loopSpanMs: len,
      };
    };
    const a = mk(1_000_000, 500, [1, 2, 3], 'write');
    const b = mk(1_000_200, 600, [4, 5], 'write');
    const c = mk(1_000_100, 100, [7], 'read');
    const m = mergeOutcomes([a, b, c].map((o) => decodeOutcome(encodeOutcome(o))));
    expect(m.ok.get('write|1024')?.totalCount).toBe(5);
    expect(m.ok.get('read|1024')?.totalCount).toBe(1);
    expect(m.errors.get('write|Timeout')).toBe(2);
    expect(m.measured.get('write')).toBe(7);
    expect(m.rounds.get('write')).toEqual({ sum: 5, n: 5 });
    expect(m.startEpochMs).toBe(1_000_000);
    expect(m.endEpochMs).toBe(1_000_800);
    expect(m.endMs - m.startMs).toBe(800);
    // per second: parts aligned on the earliest start (b and c started within half a second: same second)
    expect(m.loopStartEpochMs).toBe(1_000_000);
    expect(m.perSecond.get(perSecondKey(0, 'measured', 'write', 1024))?.ok.totalCount).toBe(5);
    expect(m.perSecond.get(perSecondKey(0, 'measured', 'write', 1024))?.errors).toBe(2);
    expect(m.perSecond.get(perSecondKey(0, 'warmup', 'read', 1024))?.ok.totalCount).toBe(1);
    expect(m.loopSpanMs).toBe(800);
    // a part that started 1.6 s later lands two seconds further on
    const late = mergeOutcomes([a, mk(1_001_600, 300, [8], 'write')]);
    expect(late.perSecond.get(perSecondKey(2, 'measured', 'write', 1024))?.ok.totalCount).toBe(1);
    expect(late.loopSpanMs).toBe(2300);
  });
});

describe('spreading a cell', () => {
  it('client ranges partition the clients and shares add up to the totals', () => {
    for (let C = 1; C <= 17; C++)
      for (let N = 1; N <= 6; N++) {
        const ranges = Array.from({ length: N }, (_, i) => clientRange(C, i, N));
        expect(ranges[0]![0]).toBe(0);
        expect(ranges[N - 1]![1]).toBe(C);
        for (let i = 1; i < N; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
        for (const total of [0, 1, 7, 300]) expect(ranges.reduce((a, [x, y]) => a + shareOf(total, C, x, y), 0)).toBe(total);
      }
  });

  it('planParts gives every shard x worker its clients, operations, warm-up and open-loop rate', () => {
    const workload = workloadSchema.parse({ name: 'w', mix: { write: 1 }, valueBytes: [8], registers: 4, clients: 6, ops: 100, warmupOps: 9, mode: { openRate: 60 } });
    const all = [0, 1, 2].flatMap((s) => planParts({ workload, clients: 6 }, { shard: { index: s, count: 3 }, workers: 2 }, {}).map((p) => ({ ...p, s })));
    expect(all).toHaveLength(6);
    expect(all.reduce((a, p) => a + p.count, 0)).toBe(6);
    expect(all.reduce((a, p) => a + (p.ops ?? 0), 0)).toBe(100);
    expect(all.reduce((a, p) => a + p.workload.warmupOps, 0)).toBe(9);
    expect(all.reduce((a, p) => a + (p.workload.mode as { openRate: number }).openRate, 0)).toBeCloseTo(60);
    expect(new Set(all.map((p) => p.idPrefix)).size).toBe(6);
    expect(all[0]!.idPrefix).toBe('s0w0');
    // --duration: every part runs for the duration
    const d = planParts({ workload, clients: 6 }, { shard: { index: 0, count: 1 }, workers: 2 }, { durationS: 3 });
    expect(d.map((p) => [p.durationS, p.ops])).toEqual([
      [3, undefined],
      [3, undefined],
    ]);
    // more workers than clients: only the parts with a client
    expect(planParts({ workload, clients: 1 }, { shard: { index: 0, count: 1 }, workers: 4 }, {})).toHaveLength(1);
  });
});

describe('shard and worker flags', () => {
  it('--shard i/N is 0-based and validated', () => {
    expect(resolveShard({ shard: '0/3' }, {})).toEqual({ index: 0, count: 3 });
    expect(resolveShard({ shard: '2/3' }, {})).toEqual({ index: 2, count: 3 });
    expect(() => resolveShard({ shard: '3/3' }, {})).toThrow(/--shard: shard index 3 is out of range for 3 shard\(s\): indexes are 0-based, 0\.\.2/);
    expect(() => resolveShard({ shard: '1-3' }, {})).toThrow(/--shard: expected i\/N/);
    expect(() => resolveShard({ shard: '0/0' }, {})).toThrow(/--shard: the number of shards must be at least 1/);
    expect(resolveShard({}, {})).toBeUndefined();
  });

  it('takes the index from RKVS_SHARD_INDEX or a Kubernetes JOB_COMPLETION_INDEX', () => {
    expect(resolveShard({ shardCount: '4' }, { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
    expect(resolveShard({}, { RKVS_SHARD_COUNT: '2', RKVS_SHARD_INDEX: '1', JOB_COMPLETION_INDEX: '0' })).toEqual({ index: 1, count: 2 });
    expect(() => resolveShard({ shardCount: '4' }, {})).toThrow(/--shard-count: a shard count needs the shard index/);
    expect(() => resolveShard({}, { RKVS_SHARD_COUNT: '2', JOB_COMPLETION_INDEX: '2' })).toThrow(/JOB_COMPLETION_INDEX: shard index 2 is out of range/);
    expect(() => resolveShard({}, { RKVS_SHARD_INDEX: '1' })).toThrow(/RKVS_SHARD_INDEX: is set but the number of shards is not/);
  });

  it('run ids and worker counts', () => {
    expect(checkRunId('--run-id', 'nightly-42')).toBe('nightly-42');
    expect(() => checkRunId('--run-id', 'a/b')).toThrow(/--run-id: "a\/b" cannot be a run id/);
    expect(resolveWorkers('2', {}, 2)).toEqual([2]);
    expect(resolveWorkers('sweep', {}, 3)).toEqual([1, 2, 3]);
    expect(resolveWorkers('auto', {}, 2)).toEqual([2]);
    expect(resolveWorkers('4,1', {}, 2)).toEqual([1, 4]);
    expect(resolveWorkers(undefined, { workers: 'sweep' }, 2)).toEqual([1, 2]);
    expect(resolveWorkers(undefined, {}, 2)).toEqual([1]);
    expect(() => resolveWorkers('0', {}, 2)).toThrow(/--workers: expected a number of worker processes from 1 to 8/);
  });
});

describe('rkvs merge checks', () => {
  let tmp: string;
  const dirs: string[] = [];
  const suite = parseSuite(
    {
      name: 'tiny',
      variants: ['raw', 'regular'],
      schedules: ['fast'],
      sampleMs: 0,
      defaultConfig: { memory: { n: 3 } },
      workloads: [{ name: 'w', mix: { write: 1, read: 1 }, valueBytes: [64], registers: 4, clients: [1, 3], ops: 30, warmupOps: 3 }],
    },
    'inline',
  );
  const quiet = () => createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream });

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-merge-'));
    for (const index of [0, 1]) {
      const out = await runBench({
        suite,
        configurations: [memoryConfiguration({ name: 'mem' })],
        outDir: tmp,
        progress: quiet(),
        shard: { index, count: 2 },
        runId: 'm2',
        htmlAndCost: false,
        options: { ops: undefined },
      });
      dirs.push(out.dir);
    }
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('two shards merge: every operation once, histograms added', async () => {
    const shards = await Promise.all(dirs.map((d) => readShardDir(d)));
    expect(checkShards(shards)).toEqual([]);
    const m = mergeShards(shards);
    const rows = m.results.latencyRows();
    const total = rows.reduce((a, r) => a + Number(r.count) + Number(r.errors), 0);
    // raw: 2 cells, regular: 2 cells (1 and 3 clients), 30 operations each
    expect(total).toBe(4 * 30);
    for (const r of rows) {
      const perShard = shards.map((s) => s.counters.series.filter((x) => x.variant === r.variant && x.op === r.op && x.clients === r.clients).reduce((a, x) => a + x.ok, 0));
      expect(Number(r.count)).toBe(perShard[0]! + perShard[1]!);
    }
    expect(m.meta.merged_from).toHaveLength(2);
    // the per-second series of both shards on one time line: every measured operation once, from second 0
    const seconds = m.results.perSecondRows();
    for (const r of rows) {
      const mine = seconds.filter((x) => x.variant === r.variant && x.op === r.op && x.clients === r.clients);
      expect(mine.filter((x) => x.phase === 'measured').reduce((a, x) => a + Number(x.count) + Number(x.errors), 0)).toBe(Number(r.count) + Number(r.errors));
      expect(Math.min(...mine.map((x) => Number(x.second)))).toBe(0);
    }
  });

  async function tampered(name: string, edit: (meta: Record<string, unknown>) => void): Promise<string> {
    const copy = path.join(tmp, name);
    await cp(dirs[1]!, copy, { recursive: true });
    const f = path.join(copy, 'meta.json');
    const meta = JSON.parse(await readFile(f, 'utf8')) as Record<string, unknown>;
    edit(meta);
    await writeFile(f, JSON.stringify(meta));
    return copy;
  }

  it('rejects a shard of another suite, naming the directory and the field', async () => {
    const bad = await tampered('other-suite', (m) => {
      m.suite = 'default';
    });
    const shards = await Promise.all([dirs[0]!, bad].map((d) => readShardDir(d)));
    expect(() => checkShards(shards)).toThrow(new RegExp(`${bad}: suite is "default" but "tiny" in .*shard 0.*not shards of the same run`));
    const bad2 = await tampered('other-hash', (m) => {
      m.suite_hash = '0000';
    });
    expect(() => checkShards([shards[0]!, { ...shards[1]!, dir: bad2, meta: { ...shards[1]!.meta, suite: 'tiny', suite_hash: '0000' } }])).toThrow(/suite_hash \(the suite definition\) is "0000"/);
  });

  it('rejects a shard of another configuration, naming the field that differs', async () => {
    const bad = await tampered('other-config', (m) => {
      (m.configurations as Record<string, unknown>[])[0]!.n = 5;
    });
    const shards = await Promise.all([dirs[0]!, bad].map((d) => readShardDir(d)));
    expect(() => checkShards(shards)).toThrow(new RegExp(`${bad}: configurations differ from .*: configuration "mem" field n is 5 here and 3 there`));
  });

  it('rejects other options, a duplicate shard index, missing shards (unless allowed) and non-shard directories', async () => {
    const opts = await tampered('other-ops', (m) => {
      m.options = { ops: '99' };
    });
    const a = await readShardDir(dirs[0]!);
    const o = await readShardDir(opts);
    expect(() => checkShards([a, o])).toThrow(/option --ops is "99" but unset/);
    const dup = await tampered('dup', (m) => {
      m.shard = { index: 0, count: 2 };
    });
    const d = await readShardDir(dup);
    expect(() => checkShards([a, d])).toThrow(new RegExp(`${dup}: shard index 0 is also the index of ${dirs[0]}`));
    expect(() => checkShards([a])).toThrow(/DIR: shard\(s\) 1 of 2 missing \(indexes are 0-based\); give every shard's directory, or --allow-partial/);
    expect(checkShards([a], { allowPartial: true })[0]).toMatch(/shard\(s\) 1 of 2 missing/);
    const plain = await tampered('plain', (m) => {
      delete m.shard;
    });
    const p = await readShardDir(plain);
    expect(() => checkShards([a, p])).toThrow(/meta.json has no shard field/);
  });
});
