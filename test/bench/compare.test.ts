import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDirs, type CompareResult } from '../../src/bench/analyze/compare.js';
import { loadThresholdsFile, parseThreshold } from '../../src/bench/analyze/thresholds.js';
import { compareMarkdown } from '../../src/bench/report/markdown.js';
import { lognormalSamples, writeSyntheticReport, type SyntheticCell } from '../../src/bench/report/synthetic.js';
import { Random } from '../../src/util/random.js';

const SEED = Number(process.env.TEST_SEED ?? 8);
const seedMsg = `seed ${SEED} (rerun with TEST_SEED=${SEED})`;
const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'rkvs.js');

let root: string;
let baseline: string;
let regressed: string;
let improved: string;
let noise: string;
let few: string;
let fewBase: string;

function cell(rng: Random, medianMs: number, n: number, repeats = 2, op = 'get'): SyntheticCell {
  return {
    config: 'mem',
    variant: 'atomic',
    schedule: 'fast',
    op,
    value_bytes: 1024,
    clients: 2,
    repeats: Array.from({ length: repeats }, () => ({ samplesMs: lognormalSamples(rng, n / repeats, medianMs, 0.2) })),
  };
}

async function report(name: string, seed: number, getMs: number, putMs: number, n = 2000): Promise<string> {
  const rng = new Random(seed);
  return writeSyntheticReport(join(root, name), { cells: [cell(rng, getMs, n, 2, 'get'), cell(rng, putMs, n, 2, 'put')] });
}

async function rkvs(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, GITHUB_STEP_SUMMARY: env.GITHUB_STEP_SUMMARY ?? '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

function verdictOf(r: CompareResult, op: string, metric: string): string {
  return r.cells.find((c) => c.key.op === op)!.metrics.find((m) => m.metric === metric)!.verdict;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rkvs-compare-'));
  baseline = await report('baseline', SEED, 10, 20);
  regressed = await report('regressed', SEED + 1, 15, 20); // get +50%
  improved = await report('improved', SEED + 2, 7, 20); // get -30%
  noise = await report('noise', SEED + 3, 10, 20); // same distributions
  fewBase = await report('few-base', SEED + 4, 10, 20, 10);
  few = await report('few', SEED + 5, 30, 60, 10); // 3x slower, but only 10 samples
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('compareDirs on synthetic reports with known outcomes', () => {
  it('flags a clear regression', async () => {
    const r = await compareDirs(baseline, regressed, { seed: SEED });
    expect(verdictOf(r, 'get', 'p50'), seedMsg).toBe('regressed');
    expect(verdictOf(r, 'get', 'p99'), seedMsg).toBe('regressed');
    expect(verdictOf(r, 'get', 'throughput'), seedMsg).toBe('regressed');
    expect(verdictOf(r, 'put', 'p50'), seedMsg).toBe('no significant change');
    expect(r.regressions).toBe(1);
    const get = r.cells.find((c) => c.key.op === 'get')!.metrics[0]!;
    expect(get.change, seedMsg).toBeGreaterThan(0.35);
    expect(get.change, seedMsg).toBeLessThan(0.65);
    expect(get.ciLower, seedMsg).toBeGreaterThan(0);
  });
  it('flags a clear improvement without failing', async () => {
    const r = await compareDirs(baseline, improved, { seed: SEED });
    expect(verdictOf(r, 'get', 'p50'), seedMsg).toBe('improved');
    expect(r.regressions).toBe(0);
    expect(r.improvements).toBe(1);
  });
  it('finds nothing in noise only', async () => {
    const r = await compareDirs(baseline, noise, { seed: SEED });
    // a tiny significant shift may show as `within threshold`, never as a regression or an improvement
    for (const c of r.cells) for (const m of c.metrics) expect(['no significant change', 'within threshold'], `${c.key.op} ${m.metric}; ${seedMsg}`).toContain(m.verdict);
    expect(r.regressions).toBe(0);
  });
  it('warns on too few samples instead of judging', async () => {
    const r = await compareDirs(fewBase, few, { seed: SEED });
    expect(verdictOf(r, 'get', 'p50')).toBe('too few samples');
    expect(verdictOf(r, 'get', 'p99')).toBe('too few samples');
    expect(r.regressions).toBe(0);
    expect(r.cells[0]!.warnings.join('\n')).toMatch(/too few samples \(needs 30 ok samples per side, has 10 \/ 10\)/);
  });
  it('needs the change to pass the threshold as well as the significance test', async () => {
    const r = await compareDirs(baseline, regressed, { seed: SEED, thresholds: { p50: 1, p99: 1, throughput: 0.9 } });
    expect(r.regressions).toBe(0);
    const m = r.cells.find((c) => c.key.op === 'get')!.metrics[0]!;
    expect(m.significant).toBe(true);
    expect(m.note).toMatch(/within the/);
  });
  it('without histograms.jsonl shows the changes as untested', async () => {
    const rng = new Random(SEED);
    const dir = await writeSyntheticReport(join(root, 'nohist'), { cells: [cell(rng, 15, 2000)], histograms: false });
    const r = await compareDirs(baseline, dir);
    expect(verdictOf(r, 'get', 'p50')).toBe('untested');
    expect(r.regressions).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/no histograms.jsonl/);
    expect(r.onlyInBaseline).toHaveLength(1);
  });
  it('applies per-cell threshold overrides from a thresholds file', async () => {
    const file = join(root, 'overrides.yaml');
    await writeFile(file, 'p50: 5%\noverrides:\n  - match: { op: get, clients: 2 }\n    p50: 90%\n    p99: 90%\n    throughput: 90%\n');
    const opts = await loadThresholdsFile(file);
    const r = await compareDirs(baseline, regressed, { ...opts, seed: SEED });
    expect(verdictOf(r, 'get', 'p50')).toBe('within threshold');
    expect(r.cells.find((c) => c.key.op === 'get')!.metrics[0]!.threshold).toBeCloseTo(0.9);
    expect(r.cells.find((c) => c.key.op === 'put')!.metrics[0]!.threshold).toBeCloseTo(0.05);
    await writeFile(file, 'overrides:\n  - match: { opp: get }\n    p50: 90%\n');
    await expect(loadThresholdsFile(file)).rejects.toThrow(/overrides\[0\]\.match\.opp: unknown field; match on config, variant/);
  });
  it('warns when the current run has more failed operations', async () => {
    const rng = new Random(SEED);
    const c = cell(rng, 10, 2000);
    c.repeats[0]!.errorSamplesMs = [5, 6, 7];
    const dir = await writeSyntheticReport(join(root, 'errs'), { cells: [c] });
    const r = await compareDirs(baseline, dir, { seed: SEED });
    expect(r.cells[0]!.warnings.join('\n')).toMatch(/3 failed operation\(s\) in the current run \(baseline 0\)/);
  });
  it('the checked-in CI thresholds file (of the A/B job) is valid and sets every threshold', async () => {
    const opts = await loadThresholdsFile(join(import.meta.dirname, '..', '..', 'reports', 'baseline', 'thresholds.yaml'));
    for (const m of ['p50', 'p99', 'throughput'] as const) expect(opts.thresholds?.[m], m).toBeGreaterThan(0);
    expect(opts.alpha).toBe(0.05);
  });
  it('renders a Markdown table with one row per metric', async () => {
    const r = await compareDirs(baseline, regressed, { seed: SEED });
    const md = compareMarkdown(r);
    expect(md).toMatch(/regression\(s\)/);
    expect(md.split('\n').filter((l) => l.startsWith('| mem |'))).toHaveLength(6);
  });
  it('parses thresholds and rejects bad ones with a clear message', () => {
    expect(parseThreshold('10%', 'x')).toBeCloseTo(0.1);
    expect(parseThreshold('0.25', 'x')).toBeCloseTo(0.25);
    expect(() => parseThreshold('ten', '--threshold-p50')).toThrow(/--threshold-p50: "ten" is not a threshold/);
    expect(() => parseThreshold('15', '--threshold-p50')).toThrow(/write 15% if you mean/);
  });
});

describe('rkvs compare (CLI)', () => {
  it('exits 1 on a regression and writes compare.csv, Markdown and the step summary', async () => {
    const summary = join(root, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    const r = await rkvs(['compare', baseline, regressed, '--seed', String(SEED)], { GITHUB_STEP_SUMMARY: summary });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/regressed/);
    expect(r.stderr).toMatch(/1 cell\(s\) regressed/);
    const csv = await readFile(join(regressed, 'compare.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe(
      'config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,fault,metric,unit,baseline,current,change,ci_lower,ci_upper,p_value,test,threshold,baseline_samples,current_samples,verdict,note',
    );
    expect(csv).toMatch(/mem,atomic,fast,get,1024,2,1,1,synthetic,closed,0,,p50,ms,.*,bootstrap,0.1,2000,2000,regressed/);
    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('# earlier step\n')).toBe(true);
    expect(md).toMatch(/:red_circle: regressed/);
  });
  it('exits 0 on noise only and on an improvement; --markdown and --out choose the files', async () => {
    const out = join(root, 'out');
    const mdFile = join(root, 'cmp.md');
    const r = await rkvs(['compare', baseline, noise, '--markdown', mdFile, '--out', out, '--seed', String(SEED)]);
    expect(r.code, `${r.stderr}\n${seedMsg}`).toBe(0);
    expect(existsSync(join(out, 'compare.csv'))).toBe(true);
    expect(await readFile(mdFile, 'utf8')).toMatch(/no regression/);
    const i = await rkvs(['compare', baseline, improved, '--no-csv']);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/improved/);
  });
  it('reads thresholds from a YAML file; flags override it', async () => {
    const file = join(root, 'thresholds.yaml');
    await writeFile(file, 'p50: 80%\np99: 90%\nthroughput: 60%\n');
    const loose = await rkvs(['compare', baseline, regressed, '--thresholds', file, '--no-csv']);
    expect(loose.code, loose.stderr).toBe(0);
    const strict = await rkvs(['compare', baseline, regressed, '--thresholds', file, '--threshold-p50', '5%', '--no-csv']);
    expect(strict.code, strict.stderr).toBe(1);
  });
  it('exits 2 with a clear message on bad input', async () => {
    const missing = await rkvs(['compare', join(root, 'nope'), noise]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/BASELINE: .*nope does not exist; pass a directory written by rkvs bench/);
    const bad = await rkvs(['compare', baseline, noise, '--threshold-p99', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--threshold-p99: "lots" is not a threshold/);
    const file = join(root, 'bad.yaml');
    await writeFile(file, 'p51: 10%\n');
    const unknown = await rkvs(['compare', baseline, noise, '--thresholds', file]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/p51: unknown setting/);
  });
});

describe('the gate on real bench runs (memory replicas behind the latency layer)', () => {
  // Done-when check: a regression injected with the latency layer is caught; a noise-only rerun is not.
  it('catches a doubled per-call delay and passes a noise-only rerun', async () => {
    const { runBench } = await import('../../src/bench/pipeline.js');
    const { loadSuite } = await import('../../src/bench/config/suite.js');
    const { createProgress } = await import('../../src/bench/run/progress.js');
    const { createMemoryStore } = await import('../../src/adapters/memory.js');
    const { compose } = await import('../../src/layers/compose.js');
    const { latency } = await import('../../src/layers/latency.js');
    type Handle = import('../../src/bench/config/types.js').ConfigurationHandle;

    const gateConfig = (medianMs: number, seed: number): Handle => ({
      name: 'gate',
      describe: () => ({ name: 'gate', kind: 'memory+latency', medianMs, seed }),
      async open() {
        const replicas = [0, 1, 2].map((i) =>
          compose(createMemoryStore({ name: `mem${i}` }), latency({ delay: { kind: 'lognormal', medianMs, sigma: 0.1 }, seed: seed * 10 + i })),
        );
        return { replicas, t: 1, close: async () => void (await Promise.all(replicas.map((r) => r.close()))) };
      },
    });
    const suite = await loadSuite('quick');
    const out = join(root, 'gate-runs');
    let second = 0;
    const run = async (medianMs: number, seed: number) => {
      const o = await runBench({
        suite,
        configurations: [gateConfig(medianMs, seed)],
        outDir: out,
        ops: 160,
        variants: ['raw', 'atomic'],
        seed,
        progress: createProgress({ mode: 'quiet' }),
        skipChecks: true,
        now: new Date(Date.UTC(2026, 0, 1, 0, 0, second++)),
      });
      expect(o.failures).toEqual([]);
      return o.dir;
    };
    const base = await run(8, SEED);
    const rerun = await run(8, SEED + 1);
    const slow = await run(16, SEED + 2);
    // generous thresholds: the machine is shared, the injected change is +100% (per-op throughput of a
    // mixed workload also varies with the random read/write split, hence its wider threshold)
    const opts = { seed: SEED, thresholds: { p50: 0.3, p99: 0.6, throughput: 0.5 } };
    const noiseOnly = await compareDirs(base, rerun, opts);
    if (process.env.RKVS_TEST_VERBOSE) console.log(formatCompare(noiseOnly));
    expect(noiseOnly.cells.length, seedMsg).toBeGreaterThanOrEqual(4);
    expect(noiseOnly.regressions, `${formatCompare(noiseOnly)}\n${seedMsg}`).toBe(0);
    const injected = await compareDirs(base, slow, opts);
    if (process.env.RKVS_TEST_VERBOSE) console.log(formatCompare(injected));
    for (const c of injected.cells) {
      expect(c.metrics[0]!.verdict, `${c.key.variant} ${c.key.op} p50\n${formatCompare(injected)}\n${seedMsg}`).toBe('regressed');
    }
    const cli = await rkvs(['compare', base, slow, '--threshold-p50', '30%', '--threshold-p99', '60%', '--threshold-throughput', '50%', '--no-csv']);
    expect(cli.code, cli.stdout + cli.stderr).toBe(1);
    const cliNoise = await rkvs(['compare', base, rerun, '--threshold-p50', '30%', '--threshold-p99', '60%', '--threshold-throughput', '50%', '--no-csv']);
    expect(cliNoise.code, cliNoise.stdout + cliNoise.stderr).toBe(0);
  });
});

function formatCompare(r: CompareResult): string {
  return r.cells.map((c) => `${c.key.variant}/${c.key.op}: ${c.metrics.map((m) => `${m.metric} ${(m.change * 100).toFixed(1)}% ${m.verdict}`).join(', ')}`).join('\n');
}
