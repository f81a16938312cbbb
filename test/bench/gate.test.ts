/**
 * The regression gate: compare's exit codes and thresholds, that a verdict never contradicts its
 * interval and p-value (a seeded property test), the exact metrics of the model suite (identical
 * bytes across runs and processes, regressions named), the test-only knobs that inject
 * regressions, and `rkvs ab` end to end against a real temporary git ref.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compareDirs, METRICS } from '../../src/bench/analyze/compare.js';
import { compareExactDirs } from '../../src/bench/analyze/exact.js';
import { bootstrapPercentileChange } from '../../src/bench/analyze/bootstrap.js';
import { binsFromValues, welchChange } from '../../src/bench/analyze/stats.js';
import { configurationsFromFile, modelConfiguration } from '../../src/bench/config/configurations.js';
import { parseSuite, type SuiteInput } from '../../src/bench/config/suite.js';
import { runBench } from '../../src/bench/pipeline.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { compareRows } from '../../src/bench/report/compare.js';
import { lognormalSamples, writeSyntheticReport, type SyntheticCell } from '../../src/bench/report/synthetic.js';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { latency } from '../../src/layers/latency.js';
import { resolvePolicy } from '../../src/register/policy.js';
import { COMMITTED_INJECTIONS, parseInjections, TEST_INJECT_ENV } from '../../src/util/test-inject.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from '../support/tmp.js';

const SEED = Number(process.env.TEST_SEED ?? 16);
const seedMsg = `seed ${SEED} (rerun with TEST_SEED=${SEED})`;
const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rkvs.js');
const run = promisify(execFile);

async function rkvs(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...o.env }, maxBuffer: 32 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** A model suite of a few seconds: every variant, one workload. */
const TINY: SuiteInput = {
  name: 'tiny-model',
  kind: 'model',
  variants: ['raw', 'regular', 'atomic'],
  schedules: ['fast'],
  workloads: [{ name: 'mixed', mix: { write: 1, read: 1 }, valueBytes: [256], registers: 2, clients: 1, ops: 24, warmupOps: 2 }],
};

async function modelRun(out: string, runId: string, inject = '', suite: SuiteInput = TINY): Promise<string> {
  const before = process.env[TEST_INJECT_ENV];
  if (inject) process.env[TEST_INJECT_ENV] = inject;
  try {
    const o = await runBench({ suite: parseSuite(suite, 'test'), configurations: [modelConfiguration()], outDir: out, runId, progress: createProgress({ mode: 'quiet' }), htmlAndCost: false });
    expect(o.failures).toEqual([]);
    return o.dir;
  } finally {
    if (before === undefined) delete process.env[TEST_INJECT_ENV];
    else process.env[TEST_INJECT_ENV] = before;
  }
}

function synthCell(rng: Random, op: string, medianMs: number, n: number, repeats: number, sigma = 0.25): SyntheticCell {
  return { config: 'mem', variant: 'atomic', schedule: 'fast', op, value_bytes: 1024, clients: 1, repeats: Array.from({ length: repeats }, () => ({ samplesMs: lognormalSamples(rng, Math.ceil(n / repeats), medianMs, sigma) })) };
}

describe('rkvs compare: exit codes and thresholds', () => {
  it('exits 2, naming both suites, when no cell matched', async () => {
    const dir = tempDir('rkvs-gate-');
    const rng = new Random(SEED);
    const a = await writeSyntheticReport(join(dir, 'a'), { suite: 'alpha', cells: [synthCell(rng, 'get', 10, 600, 2)] });
    const b = await writeSyntheticReport(join(dir, 'b'), { suite: 'beta', cells: [{ ...synthCell(rng, 'get', 10, 600, 2), clients: 4 }] });
    const r = await rkvs(['compare', a, b, '--no-csv']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no cell of BASELINE \(suite alpha, .*\) matches a cell of CURRENT \(suite beta, .*\): nothing was compared/);
  });

  it("reads BASELINE/thresholds.yaml unless --thresholds says otherwise, and says which thresholds it used", async () => {
    const dir = tempDir('rkvs-gate-');
    const rng = new Random(SEED + 1);
    const base = await writeSyntheticReport(join(dir, 'base'), { cells: [synthCell(rng, 'get', 10, 2000, 2)] });
    const slow = await writeSyntheticReport(join(dir, 'slow'), { cells: [synthCell(rng, 'get', 15, 2000, 2)] }); // +50%
    await writeFile(join(base, 'thresholds.yaml'), 'p50: 80%\np99: 90%\nthroughput: 90%\n');
    const loose = await rkvs(['compare', base, slow, '--no-csv']);
    expect(loose.code, loose.stdout + loose.stderr).toBe(0);
    expect(loose.stdout).toContain(`thresholds from ${join(base, 'thresholds.yaml')} (the baseline's; --thresholds FILE or none to use others): p50 80.0%, p99 90.0%, throughput 90.0%; alpha 0.05`);
    const defaults = await rkvs(['compare', base, slow, '--no-csv', '--thresholds', 'none']);
    expect(defaults.code, defaults.stdout + defaults.stderr).toBe(1);
    expect(defaults.stdout).toContain('thresholds from the built-in defaults (--thresholds none): p50 10.0%, p99 20.0%, throughput 10.0%');
    const flag = await rkvs(['compare', base, slow, '--no-csv', '--threshold-p50', '5%']);
    expect(flag.code).toBe(1);
    expect(flag.stdout).toMatch(/thresholds from .*thresholds\.yaml \(the baseline's.*\), with --threshold-p50: p50 5\.0%, p99 90\.0%/);
  });
});

describe('a verdict never contradicts its interval or its p-value', () => {
  it('bootstrap: the interval excludes 0 exactly when p <= alpha', () => {
    const rng = new Random(SEED);
    for (let i = 0; i < 40; i++) {
      const a = binsFromValues(lognormalSamples(rng, 200 + rng.int(0, 800), 10, 0.3).map((x) => Math.round(x * 10) / 10));
      const b = binsFromValues(lognormalSamples(rng, 200 + rng.int(0, 800), 10 * (0.9 + 0.25 * rng.next()), 0.3).map((x) => Math.round(x * 10) / 10));
      for (const alpha of [0.01, 0.05, 0.1]) {
        const ci = bootstrapPercentileChange(a, b, rng.chance(0.5) ? 50 : 99, { confidence: 1 - alpha, seed: i + 1, resamples: 1000 + rng.int(0, 1000) });
        expect(ci.significant, `trial ${i} alpha ${alpha} ${JSON.stringify(ci)}; ${seedMsg}`).toBe(ci.lower > 0 || ci.upper < 0);
        expect(ci.pValue <= alpha, `trial ${i} alpha ${alpha} ${JSON.stringify(ci)}; ${seedMsg}`).toBe(ci.significant);
      }
    }
  });

  it("Welch: the interval of the relative change excludes 0 exactly when p < alpha", () => {
    const rng = new Random(SEED + 2);
    for (let i = 0; i < 200; i++) {
      const n = 2 + rng.int(0, 6);
      const a = Array.from({ length: n }, () => rng.normal(100, 5 + rng.next() * 10));
      const b = Array.from({ length: 2 + rng.int(0, 6) }, () => rng.normal(100 * (0.85 + 0.3 * rng.next()), 5 + rng.next() * 10));
      const alpha = [0.01, 0.05, 0.1][i % 3]!;
      const w = welchChange(a, b, alpha);
      expect(w.lower <= w.change && w.change <= w.upper, `trial ${i}; ${seedMsg}`).toBe(true);
      expect(w.lower > 0 || w.upper < 0, `trial ${i} p ${w.pValue} [${w.lower}, ${w.upper}]; ${seedMsg}`).toBe(w.pValue < alpha);
    }
  });

  it('compare: every verdict follows from its interval, p-value and threshold, and the table says so (seeded property test)', async () => {
    const dir = tempDir('rkvs-gate-prop-');
    const rng = new Random(SEED + 3);
    const problems: string[] = [];
    for (let trial = 0; trial < 24; trial++) {
      const n = 100 + rng.int(0, 2400);
      const reps = 1 + rng.int(0, 3);
      const shift = 0.75 + rng.next() * 0.7;
      const sigma = 0.1 + rng.next() * 0.5;
      const mk = (name: string, scale: number) => writeSyntheticReport(join(dir, `${trial}-${name}`), { cells: ['get', 'put'].map((op) => synthCell(rng, op, 10 * scale, n, reps, sigma)) });
      const a = await mk('a', 1);
      const b = await mk('b', shift);
      const alpha = [0.01, 0.05, 0.1][rng.int(0, 2)]!;
      const threshold = 0.02 + rng.next() * 0.3;
      const r = await compareDirs(a, b, { alpha, seed: trial + 1, resamples: 1000, thresholds: { p50: threshold, p99: threshold, throughput: threshold } });
      const rows = compareRows(r);
      r.cells.forEach((c, ci) =>
        c.metrics.forEach((m, mi) => {
          const where = `trial ${trial} (n ${n}, ${reps} reps, shift ${shift.toFixed(3)}, alpha ${alpha}) ${c.key.op} ${m.metric}: ${m.verdict} change ${m.change} [${m.ciLower}, ${m.ciUpper}] p ${m.pValue} threshold ${m.threshold}`;
          const row = rows[ci * METRICS.length + mi]!;
          if (row[row.length - 1] !== m.verdict) problems.push(`${where}: the table says ${row[row.length - 1]}`);
          if (m.test === 'none') return;
          const excludes0 = m.ciLower > 0 || m.ciUpper < 0;
          if (m.significant !== excludes0) problems.push(`${where}: significant ${m.significant} but the interval ${excludes0 ? 'excludes' : 'holds'} 0`);
          if ((m.test === 'bootstrap' ? m.pValue <= alpha : m.pValue < alpha) !== m.significant) problems.push(`${where}: p ${m.pValue} disagrees with significant ${m.significant}`);
          const worse = m.metric === 'throughput' ? -1 : 1;
          const [lo, hi, ch] = worse > 0 ? [m.ciLower, m.ciUpper, m.change] : [-m.ciUpper, -m.ciLower, -m.change];
          if (m.verdict === 'no significant change' && excludes0) problems.push(`${where}: no significant change but the interval excludes 0`);
          if (m.verdict === 'regressed' && !(lo > 0 && ch > m.threshold && hi > m.threshold)) problems.push(`${where}: regressed against its interval`);
          if (m.verdict === 'improved' && !(hi < 0 && ch < -m.threshold && lo < -m.threshold)) problems.push(`${where}: improved against its interval`);
          if (m.verdict === 'within threshold' && !m.significant) problems.push(`${where}: within threshold but not significant`);
          if (!m.significant && m.verdict !== 'no significant change' && m.verdict !== 'too few samples') problems.push(`${where}: not significant yet ${m.verdict}`);
          // the printed p-value and interval tell the same story as the verdict
          const pText = row[row.length - 2]!;
          if (pText === '<0.001' && 0.001 <= alpha && m.verdict === 'no significant change') problems.push(`${where}: printed p <0.001 with no significant change`);
        }),
      );
    }
    expect(problems, `${problems.slice(0, 5).join('\n')}\n${seedMsg}`).toEqual([]);
  });
});

describe('exact metrics of the model suite', () => {
  it('are byte-identical across runs and processes; the exact gate names each regression; A/A passes', async () => {
    const out = tempDir('rkvs-gate-model-');
    const a = await modelRun(out, 'a');
    const b = await modelRun(out, 'b');
    const suiteFile = join(out, 'tiny.json');
    writeFileSync(suiteFile, JSON.stringify(TINY));
    const cli = await rkvs(['bench', '--suite', suiteFile, '--out', out, '--run-id', 'c', '--no-progress', '--no-html']);
    expect(cli.code, cli.stderr).toBe(0);
    const text = await readFile(join(a, 'exact.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe('config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,fault,replica,metric,value');
    expect(await readFile(join(b, 'exact.csv'), 'utf8')).toBe(text);
    expect(await readFile(join(out, 'c', 'exact.csv'), 'utf8')).toBe(text);
    expect(text).toContain('model,atomic,fast,read,256,1,2,1,mixed,closed,0,,all,requests,6\n');

    const same = await rkvs(['compare', a, join(out, 'c'), '--no-csv']);
    expect(same.code, same.stdout + same.stderr).toBe(0);
    expect(same.stdout).toMatch(/no exact metric changed/);
    expect(same.stdout).toContain('thresholds: zero tolerance (exact metrics: any increase is a regression)\n');
    // a baseline's thresholds.yaml (and threshold flags) are for timing: the exact gate says it left them aside
    await writeFile(join(a, 'thresholds.yaml'), 'p50: 50%\n');
    const withFile = await rkvs(['compare', a, join(out, 'c'), '--no-csv', '--threshold-p99', '30%']);
    expect(withFile.code, withFile.stdout + withFile.stderr).toBe(0);
    expect(withFile.stdout).toContain(`thresholds: zero tolerance (exact metrics: any increase is a regression); not used here, they are for timing comparisons: ${join(a, 'thresholds.yaml')}, --threshold-p99`);

    const request = await modelRun(out, 'extra-request', 'extra-request');
    const round = await modelRun(out, 'extra-round', 'extra-round');
    const r1 = (await compareExactDirs(a, request)).result!;
    const messages = r1.findings.map((f) => f.message);
    expect(messages).toContain('atomic/fast read (model mixed 256B 1c 2r 1w closed): requests/op 6 → 9 (+1 get per replica)');
    expect(messages).toContain('regular/fast read (model mixed 256B 1c 2r 1w closed): requests/op 6 → 9 (+1 get per replica)');
    expect(r1.findings.filter((f) => f.key.variant === 'raw')).toEqual([]); // raw has no register: nothing injected
    expect(r1.regressions).toBe(4); // read and write of regular and atomic
    const r2 = (await compareExactDirs(a, round)).result!;
    expect(r2.findings.map((f) => f.message)).toContain('atomic/fast read (model mixed 256B 1c 2r 1w closed): rounds/op 1 → 2 (+1)');
    expect(r2.findings.map((f) => f.message)).toContain('regular/fast write (model mixed 256B 1c 2r 1w closed): virtual latency mean 20 ms → 30 ms, p50 20 ms → 30 ms, p99 20 ms → 30 ms, max 20 ms → 30 ms');

    const gate = await rkvs(['compare', a, request]);
    expect(gate.code, gate.stdout + gate.stderr).toBe(1);
    expect(gate.stdout).toContain('REGRESSED  atomic/fast read (model mixed 256B 1c 2r 1w closed): requests/op 6 → 9 (+1 get per replica)');
    expect(gate.stderr).toMatch(/4 cell key\(s\) regressed in exact metrics \(zero tolerance\)/);
    expect(existsSync(join(request, 'compare-exact.csv'))).toBe(true);
    const back = await rkvs(['compare', request, a, '--no-csv']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/the baseline is stale/);

    const other = await modelRun(out, 'other', '', { ...TINY, name: 'other-model', workloads: [{ ...TINY.workloads![0]!, registers: 3 }] });
    const none = await rkvs(['compare', a, other, '--no-csv']);
    expect(none.code, none.stdout + none.stderr).toBe(2);
    expect(none.stderr).toMatch(/no cell of BASELINE \(suite tiny-model, .*\) matches a cell of CURRENT \(suite other-model/);
    const rng = new Random(SEED);
    const stat = await writeSyntheticReport(join(out, 'stat'), { cells: [synthCell(rng, 'get', 10, 100, 1)] });
    const mixed = await rkvs(['compare', a, stat, '--no-csv']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/BASELINE .* holds exact metrics \(exact\.csv, a model suite run\) but CURRENT .* does not/);
  });
});

describe('test-only knobs', () => {
  it('are off on a real branch, refuse unknown names, and turn on only when asked', async () => {
    expect(COMMITTED_INJECTIONS, 'a commit injecting a regression must never be merged').toBe('');
    expect(() => parseInjections('extra-requests', 'RKVS_TEST_INJECT')).toThrow(/RKVS_TEST_INJECT: unknown test injection "extra-requests"; use extra-request, extra-round or latency\+N%/);
    expect(parseInjections('extra-round, latency+25%', 'x')).toEqual({ extraRequest: false, extraRound: true, latencyFactor: 1.25 });
    expect(resolvePolicy().testExtraRound).toBeUndefined();
    process.env[TEST_INJECT_ENV] = 'extra-request';
    try {
      expect(resolvePolicy().testExtraRequest).toBe(true);
    } finally {
      delete process.env[TEST_INJECT_ENV];
    }
    const seen: number[] = [];
    const store = latency({ delay: 4, testFactor: 1.25, onDelay: (_op, ms) => seen.push(ms) })(createMemoryStore());
    await store.put('k', new Uint8Array(1));
    await store.close();
    expect(seen).toEqual([5]);
  });
});

describe('the latency knob in a real-time run', () => {
  it('stretches every call of a bench run: no operation is faster than 1.25 d, and meta.json says the figures are injected', async () => {
    // a lower bound only (a sleep never ends early), so a loaded machine cannot make this fail
    const dir = tempDir('rkvs-gate-latency-');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, ['version: 1', 'configurations:', '  slow:', '    replicas:', ...[0, 1, 2].map((i) => `      - { provider: memory, name: m${i}, latency: { distribution: fixed, ms: 40 } }`), '    t: 1', ''].join('\n'));
    const suite = parseSuite({ name: 'knob', variants: ['raw'], schedules: ['fast'], sampleMs: 0, workloads: [{ name: 'mixed', mix: { write: 1, read: 1 }, valueBytes: [64], registers: 2, clients: 2, ops: 20, warmupOps: 2 }] }, 'test');
    const runOnce = async (runId: string, inject: string) => {
      const before = process.env[TEST_INJECT_ENV];
      if (inject) process.env[TEST_INJECT_ENV] = inject;
      try {
        return await runBench({ suite, configurations: await configurationsFromFile(file), outDir: dir, runId, progress: createProgress({ mode: 'quiet' }), htmlAndCost: false });
      } finally {
        if (before === undefined) delete process.env[TEST_INJECT_ENV];
        else process.env[TEST_INJECT_ENV] = before;
      }
    };
    const plain = await runOnce('plain', '');
    const slow = await runOnce('slow', 'latency+25%');
    const header = (await readFile(join(dir, 'plain', 'latency.csv'), 'utf8')).split('\n')[0]!.split(',');
    const at = header.indexOf('p50_ms');
    expect(at).toBeGreaterThan(0);
    const p50s = async (d: string) => (await readFile(join(d, 'latency.csv'), 'utf8')).trim().split('\n').slice(1).map((l) => Number(l.split(',')[at]));
    for (const p of await p50s(plain.dir)) expect(p).toBeGreaterThanOrEqual(39.9);
    const stretched = await p50s(slow.dir);
    expect(stretched.length).toBeGreaterThan(0);
    for (const p of stretched) expect(p, 'every call 40 ms x 1.25').toBeGreaterThanOrEqual(49.9);
    expect(JSON.stringify(slow.meta.notes)).toMatch(/TEST-ONLY regressions were injected \(latency x1\.25/);
    expect(plain.meta.notes ?? []).not.toContainEqual(expect.stringMatching(/TEST-ONLY/));
  });
});

describe('rkvs ab', () => {
  it('checks a real ref out in a worktree, runs both versions, exits 1 on the regression a commit injected, and cleans up', async () => {
    const dir = tempDir('rkvs-gate-ab-');
    const clone = join(dir, 'repo');
    // a clone of this repository's HEAD (the base), then a commit that injects an extra round (the head)
    execFileSync('git', ['clone', '-q', '--no-hardlinks', ROOT, clone]);
    const git = (...args: string[]) => execFileSync('git', ['-C', clone, '-c', 'user.email=gate@test', '-c', 'user.name=gate', ...args], { encoding: 'utf8' });
    const inject = join(clone, 'src', 'util', 'test-inject.ts');
    await writeFile(inject, (await readFile(inject, 'utf8')).replace("export const COMMITTED_INJECTIONS = '';", "export const COMMITTED_INJECTIONS = 'extra-round';"));
    git('commit', '-q', '-am', 'a commit that adds a round to every operation');
    // the same dependencies as this checkout, as a developer's clone would have after npm ci
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const suite = join(dir, 'tiny.json');
    writeFileSync(suite, JSON.stringify({ ...TINY, variants: ['regular'] }));

    const bad = await rkvs(['ab', 'no-such-ref', '--suite', suite], { cwd: clone });
    expect(bad.code, bad.stderr).toBe(2);
    expect(bad.stderr).toMatch(/BASE_REF: "no-such-ref" is not a commit of /);

    const out = join(dir, 'out');
    const r = await rkvs(['ab', 'HEAD~1', '--suite', suite, '--rounds', '1', '--out', out], { cwd: clone });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('REGRESSED  regular/fast read (model mixed 256B 1c 2r 1w closed): rounds/op 1 → 2 (+1)');
    expect(r.stderr).toMatch(/ab: base: HEAD~1 at [0-9a-f]{12} in .*; node_modules linked to .* \(same package-lock\.json\)/);
    const [abDir] = readdirSync(out);
    for (const f of ['ab.json', 'suite.json', 'compare-exact.csv', 'base/exact.csv', 'head/exact.csv', 'base-r0/exact.csv', 'head-r0/exact.csv']) expect(existsSync(join(out, abDir!, f)), f).toBe(true);
    expect(git('worktree', 'list').trim().split('\n'), 'the temporary worktree is removed').toHaveLength(1);
  });
});
