/**
 * Bad input and reused names never cost data: every numeric flag is bounded (exit 2 naming the
 * flag, the bound and the fix, before anything runs); a report directory that exists is never
 * written into (a unique default run id, --overwrite replaces one whole, a baseline needs
 * --update-baseline); an interrupted run writes a complete report or nothing; a run prefix is
 * owned by one run (or by the shards of one run).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { main } from '../../src/cli.js';
import { ConfigError } from '../../src/errors.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { claimRunPrefix, ownerMarker, runPrefix } from '../../src/bench/config/run-prefix.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import { runBench } from '../../src/bench/pipeline.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { planRun } from '../../src/bench/run/plan.js';
import { tempDir } from '../support/tmp.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const cores = os.cpus().length;

describe('numeric flags are bounded: exit 2 naming the flag, the bound and the fix, nothing run', () => {
  const cases: [string[], RegExp][] = [
    [['bench', '--repeat', '99999999999999999999'], /--repeat: 99999999999999999999 is above the largest allowed value 1000; give --repeat N with N from 1 to 1000, e\.g\. --repeat 3/],
    [['bench', '--repeat', '-1'], /--repeat: expected an integer from 1 to 1000, got "-1"/],
    [['bench', '--repeat', '1.5'], /--repeat: expected an integer from 1 to 1000, got "1\.5"/],
    [['bench', '--repeat', '1e3'], /--repeat: expected an integer from 1 to 1000, got "1e3"/],
    [['bench', '--repeat', '0'], /--repeat: 0 is below the smallest allowed value 1/],
    [['bench', '--ops', '100000001'], /--ops: 100000001 is above the largest allowed value 100000000/],
    [['bench', '--clients', '10001'], /--clients: 10001 is above the largest allowed value 10000/],
    [['bench', '--clients', ' 4'], /--clients: expected an integer from 1 to 10000, got " 4"/],
    [['bench', '--duration', '0'], /--duration: 0 is too small; give --duration with a number of seconds above 0 and at most 86400/],
    [['bench', '--duration', '86401'], /--duration: 86401 is above the largest allowed value 86400 seconds/],
    [['bench', '--duration', 'Infinity'], /--duration: expected a number of seconds above 0 and at most 86400, got "Infinity"/],
    [['bench', '--seed', '4294967296'], /--seed: 4294967296 is above the largest allowed value 4294967295/],
    [['bench', '--seed', '-3'], /--seed: expected an integer from 0 to 4294967295, got "-3"/],
    [['bench', '--sync-timeout', '0'], /--sync-timeout: 0 is too small/],
    [['bench', '--workers', '100000'], new RegExp(`--workers: 100000 worker processes is above the largest allowed ${4 * cores} \\(4 per core, ${cores} core\\(s\\)\\).*--force`)],
    [['bench', '--workers', `1,${4 * cores + 1}`], new RegExp(`--workers: ${4 * cores + 1} worker processes is above the largest allowed ${4 * cores}`)],
    [['bench', '--workers', '100000', '--force'], /--workers: 100000 worker processes is above the largest allowed 256, even with --force/],
    [['bench', '--workers', '99999999999999999999999', '--force'], /--workers: that many worker processes is above the largest allowed 256/],
    [['bench', '--force'], /--force: only lifts the bound of --workers/],
    [['probe', '--samples', '10001'], /--samples: 10001 is above the largest allowed value 10000/],
    [['probe', '--trials', '-1'], /--trials: expected an integer from 0 to 10000/],
    [['probe', '--timeout-ms', '3600001'], /--timeout-ms: 3600001 is above the largest allowed value 3600000/],
    [['soak', '--seeds', '1000001'], /--seeds: 1000001 is above the largest allowed value 1000000/],
    [['soak', '--clients', '65'], /--clients: 65 is above the largest allowed value 64/],
    [['simulate', 'many-clients', '--seed', '4294967296'], /--seed: 4294967296 is above the largest allowed value 4294967295/],
    [['check', 'x.jsonl', '--timeout', '0'], /--timeout: 0 is below the smallest allowed value 1/],
    [['check', 'x.jsonl', '--workers', '100000'], new RegExp(`--workers: 100000 is above the largest allowed value ${4 * cores}`)],
    [['compare', 'a', 'b', '--resamples', '99999999999999'], /--resamples: 99999999999999 is above the largest allowed value 100000/],
    [['compare', 'a', 'b', '--min-samples', '0'], /--min-samples: 0 is below the smallest allowed value 1/],
    [['merge', 'a', 'b', '--max-skew', '-1'], /--max-skew: expected a number of seconds from 0 to 86400, got "-1"/],
  ];
  it.each(cases)('rkvs %j', async (args, message) => {
    const dir = tempDir('rkvs-flags-');
    const outDir = path.join(dir, 'reports');
    const withOut = args[0] === 'bench' || args[0] === 'probe' ? [...args, '--out', outDir] : args;
    const code = await main(['node', 'rkvs', ...withOut]);
    expect(code, err).toBe(2);
    expect(err.trim().split('\n'), 'one line').toHaveLength(1);
    expect(err).toMatch(message);
    expect(existsSync(outDir), 'nothing is written').toBe(false);
  });

  it('the largest allowed values are accepted', async () => {
    const { intFlag } = await import('../../src/commands/flags.js');
    expect(intFlag('--repeat', '1000', 1, 1000)).toBe(1000);
    expect(intFlag('--seed', '4294967295', 0, 4294967295)).toBe(4294967295);
    expect(intFlag('--seed', '0004', 0, 4294967295)).toBe(4);
    const { resolveWorkers } = await import('../../src/commands/bench.js');
    expect(resolveWorkers(String(4 * cores), {}, cores)).toEqual([4 * cores]);
    expect(resolveWorkers('100', {}, cores, true)).toEqual([100]);
    expect(() => resolveWorkers(undefined, { workers: 1000 }, 2)).toThrow(/suite workers: 1000 worker processes is above the largest allowed 8/);
  });
});

const tinySuite = parseSuite(
  {
    name: 't',
    defaultConfig: { memory: { n: 3 } },
    variants: ['raw', 'regular'],
    seed: 3,
    sampleMs: 0,
    workloads: [{ name: 'w', mix: { write: 1, read: 1 }, valueBytes: [16], registers: 2, clients: 1, ops: 6 }],
  },
  'inline',
);
const quiet = () => createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream });
const bench = (outDir: string, more: Partial<Parameters<typeof runBench>[0]> = {}) =>
  runBench({ suite: tinySuite, configurations: [memoryConfiguration({ n: 3 })], outDir, progress: quiet(), htmlAndCost: false, ...more });

describe('report directories: never written into once they exist', () => {
  it('two runs started in the same second get two directories', async () => {
    const dir = tempDir('rkvs-ids-');
    const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
    const [a, b] = await Promise.all([bench(dir, { now }), bench(dir, { now })]);
    expect(a.dir).not.toBe(b.dir);
    expect((await readdir(dir)).sort()).toEqual([path.basename(a.dir), path.basename(b.dir)].sort());
    for (const d of [a.dir, b.dir]) expect(path.basename(d)).toMatch(/^20260601-120000-t-[a-z0-9]{6}$/);
  });

  it('--run-id that exists is refused (exit 2), and the directory is left as it was', async () => {
    const dir = tempDir('rkvs-reuse-');
    await mkdir(path.join(dir, 'r1'));
    await writeFile(path.join(dir, 'r1', 'latency.csv'), 'old');
    const code = await main(['node', 'rkvs', 'bench', '--suite', 'quick', '--out', dir, '--run-id', 'r1', '--no-progress']);
    expect(code).toBe(2);
    expect(err).toMatch(/--run-id: .*r1 already exists: a run never writes into an existing report directory.*give --overwrite to replace the directory wholly/);
    expect(await readdir(path.join(dir, 'r1'))).toEqual(['latency.csv']);
    expect(await readFile(path.join(dir, 'r1', 'latency.csv'), 'utf8')).toBe('old');
    expect(await readdir(dir), 'no staging directory left').toEqual(['r1']);
  });

  it('--overwrite replaces the directory wholly: no file of the old run is left beside the new ones', async () => {
    const dir = tempDir('rkvs-overwrite-');
    const first = await bench(dir, { runId: 'r1', history: true });
    await mkdir(path.join(first.dir, 'histograms'), { recursive: true });
    await writeFile(path.join(first.dir, 'histograms', 'old-config_raw_none_write_16B_1c_w_2r_1w.hgrm'), 'old');
    expect(existsSync(path.join(first.dir, 'history.jsonl'))).toBe(true);
    await expect(bench(dir, { runId: 'r1' })).rejects.toThrow(ConfigError);
    const second = await bench(dir, { runId: 'r1', overwrite: true });
    expect(second.dir).toBe(first.dir);
    const files = await readdir(second.dir);
    expect(files).not.toContain('history.jsonl');
    expect(await readdir(path.join(second.dir, 'histograms'))).not.toContain('old-config_raw_none_write_16B_1c_w_2r_1w.hgrm');
    expect(JSON.parse(await readFile(path.join(second.dir, 'meta.json'), 'utf8')).start).toBe(second.meta.start);
    expect((await readdir(dir)).filter((d) => d.startsWith('.')), 'no staging or old directory left').toEqual([]);
  });

  it('a baseline (named baseline, or holding .rkvs-baseline) is refused unless --update-baseline, which keeps its own files', async () => {
    const dir = tempDir('rkvs-baseline-');
    const base = path.join(dir, 'baseline');
    await mkdir(base);
    for (const [f, t] of [['README.md', 'how it was made'], ['thresholds.yaml', 'p50: 50%'], ['latency.csv', 'old'], ['history.jsonl', 'old']]) await writeFile(path.join(base, f!), t!);
    const code = await main(['node', 'rkvs', 'bench', '--suite', 'quick', '--out', dir, '--run-id', 'baseline', '--no-progress']);
    expect(code).toBe(2);
    expect(err).toMatch(/--update-baseline: .*baseline is a baseline \(named baseline\): rkvs bench writes a baseline only when told --update-baseline/);
    // --overwrite is not enough for a baseline
    await expect(bench(dir, { runId: 'baseline', overwrite: true })).rejects.toThrow(/--update-baseline/);
    // a directory of another name holding the marker is a baseline too
    const marked = path.join(dir, 'ci-base');
    await mkdir(marked);
    await writeFile(path.join(marked, '.rkvs-baseline'), '');
    await expect(bench(dir, { runId: 'ci-base', overwrite: true })).rejects.toThrow(/ci-base is a baseline \(it holds \.rkvs-baseline\)/);
    // nor is --out pointing into a baseline
    await expect(bench(base)).rejects.toThrow(/--out: .*baseline is a baseline directory, not a base of report directories/);
    const updated = await bench(dir, { runId: 'baseline', updateBaseline: true });
    const files = await readdir(updated.dir);
    expect(files).toEqual(expect.arrayContaining(['README.md', 'thresholds.yaml', 'latency.csv', 'meta.json']));
    expect(files).not.toContain('history.jsonl');
    expect(await readFile(path.join(base, 'thresholds.yaml'), 'utf8')).toBe('p50: 50%');
    expect(await readFile(path.join(base, 'latency.csv'), 'utf8')).toMatch(/^run_id,/);
  });

  it('the checked-in reports/baseline is marked, so no run writes into it by accident', () => {
    expect(existsSync(path.resolve(import.meta.dirname, '../../reports/baseline/.rkvs-baseline'))).toBe(true);
  });

  it('an interrupt before anything was measured writes nothing at all', async () => {
    const dir = tempDir('rkvs-int-');
    const ac = new AbortController();
    ac.abort(new Error('interrupted'));
    const o = await bench(dir, { signal: ac.signal });
    expect(o.written).toBe(false);
    expect(o.interrupted).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it('shards of one run share the run id and the prefix, and write <id>-shard<i>', async () => {
    const dir = tempDir('rkvs-shards-');
    const h = memoryConfiguration({ n: 3 });
    const plans = [0, 1].map((index) => planRun({ suite: tinySuite, configurations: [h], progress: quiet(), runId: 'nightly-7', shard: { index, count: 2 } }));
    expect(plans.map((p) => p.prefixOf(h))).toEqual(['rkvs-bench/nightly-7/', 'rkvs-bench/nightly-7/']);
    expect(plans.map((p) => p.dirName)).toEqual(['nightly-7-shard0', 'nightly-7-shard1']);
    const runs = await Promise.all([0, 1].map((index) => bench(dir, { runId: 'nightly-7', shard: { index, count: 2 } })));
    expect(runs.map((r) => path.basename(r.dir))).toEqual(['nightly-7-shard0', 'nightly-7-shard1']);
  });
});

describe('run prefixes: under the prefix root, owned by one run', () => {
  it('the prefix derives from the prefix root and the run id', () => {
    expect(runPrefix('rkvs-', 'r1')).toBe('rkvs-bench/r1/');
    expect(runPrefix('team-a/rkvs/', 'r1')).toBe('team-a/rkvs/bench/r1/');
    expect(() => runPrefix('rkvs-', '../x')).toThrow(/cannot be a run id/);
  });

  it('a second run claiming a held prefix is refused, withdraws its marker and touches nothing else', async () => {
    const replicas = [0, 1, 2].map(() => createMemoryStore());
    const prefix = 'rkvs-bench/same/';
    const a = ownerMarker('same');
    await claimRunPrefix(replicas, prefix, a, { fix: 'rkvs clean ...' });
    await replicas[0]!.put('data/k', new Uint8Array([1]));
    const e = await claimRunPrefix(replicas, prefix, ownerMarker('same'), { fix: 'rkvs clean --prefix rkvs-bench/same/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/--run-id: the run prefix rkvs-bench\/same\/ is in use by another run \(replica memory holds its owner marker _owner\/run\/[0-9a-f]{16}\).*rkvs clean --prefix rkvs-bench\/same\//);
    for (const r of replicas) expect(await r.list('_owner/')).toEqual([`_owner/run/${a.nonce}`]);
    expect(await replicas[0]!.list('data/')).toEqual(['data/k']);
  });

  it('shards of one run share a prefix; the same shard index twice, or a shard and a whole run, do not', async () => {
    const replicas = [createMemoryStore()];
    const p = 'rkvs-bench/s/';
    const release0 = await claimRunPrefix(replicas, p, ownerMarker('s', { index: 0, count: 3 }), { fix: '' });
    await claimRunPrefix(replicas, p, ownerMarker('s', { index: 1, count: 3 }), { fix: '' });
    await expect(claimRunPrefix(replicas, p, ownerMarker('s', { index: 1, count: 3 }), { fix: '' })).rejects.toThrow(/in use by another run/);
    await expect(claimRunPrefix(replicas, p, ownerMarker('s', { index: 2, count: 4 }), { fix: '' })).rejects.toThrow(/in use by another run/);
    await expect(claimRunPrefix(replicas, p, ownerMarker('s'), { fix: '' })).rejects.toThrow(/in use by another run/);
    await release0();
    expect(await replicas[0]!.list('_owner/')).toHaveLength(1);
  });

  it('two runs claiming at the same moment never both go on (seeded interleavings)', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      // each replica delays its calls by a seeded amount, so the puts and lists interleave differently
      let x = seed;
      const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648), x % 5);
      const replicas = [0, 1, 2].map(() => {
        const m = createMemoryStore();
        const delay = () => new Promise((r) => setTimeout(r, rnd()));
        return Object.assign(Object.create(m) as typeof m, {
          put: async (k: string, v: Uint8Array) => (await delay(), m.put(k, v)),
          list: async (k: string) => (await delay(), m.list(k)),
          remove: async (k: string) => (await delay(), m.remove(k)),
        });
      });
      const results = await Promise.allSettled([0, 1].map(() => claimRunPrefix(replicas, 'rkvs-bench/x/', ownerMarker('x'), { fix: '' })));
      const won = results.filter((r) => r.status === 'fulfilled').length;
      expect(won, `seed ${seed}: both runs claimed the prefix`).toBeLessThanOrEqual(1);
    }
  });

  /** Memory replicas; those in `down` fail every call, as an unreachable endpoint does. */
  const withDown = (n: number, down: number[]) =>
    Array.from({ length: n }, (_, i) => {
      const m = createMemoryStore({ name: `m${i}` });
      if (!down.includes(i)) return m;
      const fail = () => Promise.reject(new Error(`replica m${i} is down`));
      return Object.assign(Object.create(m) as typeof m, { put: fail, list: fail, remove: fail });
    });

  it('up to t replicas down: the claim goes on with the others, and still refuses a held prefix', async () => {
    const replicas = withDown(3, [2]);
    const a = ownerMarker('d');
    const release = await claimRunPrefix(replicas, 'rkvs-bench/d/', a, { fix: '', t: 1, labels: ['m0', 'm1', 'm2'] });
    for (const r of replicas.slice(0, 2)) expect(await r.list('_owner/')).toEqual([`_owner/run/${a.nonce}`]);
    await expect(claimRunPrefix(replicas, 'rkvs-bench/d/', ownerMarker('d'), { fix: '', t: 1 })).rejects.toThrow(/in use by another run/);
    await release();
    expect(await replicas[0]!.list('_owner/')).toEqual([]);
  });

  it('more than t replicas down: refused, naming every replica that failed, and no marker is left', async () => {
    const replicas = withDown(3, [0, 2]);
    const e = await claimRunPrefix(replicas, 'rkvs-bench/d/', ownerMarker('d'), { fix: '', t: 1, labels: ['m0', 'm1', 'm2'] }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/cannot claim the run prefix rkvs-bench\/d\/: putting the owner marker failed on 2 of 3 replica\(s\), more than t = 1: replica m0: .*down; replica m2: .*down/);
    expect(await replicas[1]!.list('_owner/')).toEqual([]);
  });
});
