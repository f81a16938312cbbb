/**
 * Gate power (`npm run bench:gate-power`): how often the regression gate catches a known injected
 * regression (power) and how often it fails on no change at all (false alarms), on this machine.
 * Writes reports/gate-power/: summary.md (the table the README quotes), power.csv (one row per
 * gate, injection, rounds and thresholds), trials.csv (every comparison), rounds.csv (every bench
 * run, with its duration and the load average around it) and meta.json.
 *
 *   npx tsx benchmarks/gate-power.ts [--rounds 48] [--windows 2,4,8] [--exact-seeds 5] [--out reports/gate-power] [--work DIR]
 *
 * The regressions are the test-only knobs of src/util/test-inject.ts, turned on through
 * RKVS_TEST_INJECT for one side only:
 * - exact gate (`rkvs compare reports/baseline <model run>`): the model suite (benchmarks/model.ts)
 *   run with each of `--exact-seeds` seeds as A, again as A' (A/A) and with `extra-request` and
 *   `extra-round` (A/B); every pair is compared with compareExactDirs, which `rkvs compare` runs;
 * - timing gate (`rkvs ab`): a latency suite (the atomic register, 8 clients) on three in-process
 *   memory replicas behind the latency layer (lognormal per-call delay, median 20 ms, sigma 0.3,
 *   its own seed in every run, so each run draws other delays as a real network would). Every round runs four arms, in an order
 *   rotated round by round: A, A' (the same code), B+10% and B+25% (`latency+10%`,
 *   `latency+25%`: every per-call delay stretched). The rounds are then cut into disjoint windows of
 *   R consecutive rounds; each window is one trial of `rkvs ab --rounds R`: each arm's R rounds
 *   pooled as repetitions (analyze/pool.ts, what ab does) and compared with compareDirs (what
 *   compare and ab do), under ab's default thresholds and under tighter ones. A trial fails the gate
 *   when at least one cell regressed.
 *
 * Disjoint windows keep the trials independent; the four arms of a round share its machine load,
 * as the two versions of an ab round do. The arms run in this process (no checkout and no
 * process start per run: those add nothing to the statistics and would cost most of the time).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { compareDirs, type CompareResult, type Thresholds } from '../src/bench/analyze/compare.js';
import { compareExactDirs } from '../src/bench/analyze/exact.js';
import { poolRounds } from '../src/bench/analyze/pool.js';
import { configurationsFromFile, modelConfiguration } from '../src/bench/config/configurations.js';
import { loadSuite, parseSuite, type Suite } from '../src/bench/config/suite.js';
import { runBench } from '../src/bench/pipeline.js';
import { createProgress } from '../src/bench/run/progress.js';
import { TEST_INJECT_ENV } from '../src/util/test-inject.js';

const ROOT = path.join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '48' },
    windows: { type: 'string', default: '2,4,8' },
    'exact-seeds': { type: 'string', default: '5' },
    out: { type: 'string', default: path.join(ROOT, 'reports', 'gate-power') },
    work: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  process.stderr.write(`gate-power: ${message}\n`);
  process.exit(2);
}
function whole(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) fail(`--${flag}: expected a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}
const ROUNDS = whole('rounds', args.rounds!, 2);
const WINDOWS = args.windows!.split(',').map((w) => whole('windows', w.trim(), 1));
for (const w of WINDOWS) if (w > ROUNDS) fail(`--windows: a window of ${w} rounds is longer than --rounds ${ROUNDS}`);
const EXACT_SEEDS = whole('exact-seeds', args['exact-seeds']!, 0);
const OUT = path.resolve(args.out!);

/** Per-call delay of the timing gate's replicas: lognormal, this median and sigma (a cloud store's shape). */
const DELAY = { medianMs: 20, sigma: 0.3 };
const DELAY_TEXT = `lognormal per-call delay, median ${DELAY.medianMs} ms, sigma ${DELAY.sigma}`;
/** The suite of the timing gate: the atomic register's reads and writes, eight clients. */
const TIMING_SUITE: Suite = parseSuite(
  {
    name: 'gate-power',
    description: `the atomic register on three memory replicas behind the latency layer (${DELAY_TEXT})`,
    variants: ['atomic'],
    schedules: ['fast'],
    repeat: 1,
    seed: 1,
    sampleMs: 100,
    workloads: [{ name: 'mixed', mix: { write: 1, read: 1 }, valueBytes: [1024], registers: 16, access: 'uniform', clients: 8, ops: 400, warmupOps: 16 }],
  },
  'benchmarks/gate-power.ts',
);
const TIMING_TEXT = `suite gate-power (the atomic register, fast schedule, 1 KiB values, reads and writes 1:1, 8 clients, 400 operations per run) on three memory replicas behind the latency layer (${DELAY_TEXT}, drawn afresh in every run)`;

interface Arm {
  name: string;
  inject: string;
  /** What it stands for in the tables. */
  label: string;
}
const ARMS: Arm[] = [
  { name: 'A', inject: '', label: 'A/A (no change)' },
  { name: 'A2', inject: '', label: 'A/A (no change)' },
  { name: 'B10', inject: 'latency+10%', label: '+10% per-call latency' },
  { name: 'B25', inject: 'latency+25%', label: '+25% per-call latency' },
];

/** Threshold sets every trial is judged under: ab's defaults, and a tighter p50/throughput. */
const THRESHOLD_SETS: { name: string; thresholds: Thresholds }[] = [
  { name: 'default (p50 10%, p99 20%, throughput 10%)', thresholds: { p50: 0.1, p99: 0.2, throughput: 0.1 } },
  { name: 'tight (p50 5%, p99 20%, throughput 5%)', thresholds: { p50: 0.05, p99: 0.2, throughput: 0.05 } },
];

async function withInjection<T>(inject: string, f: () => Promise<T>): Promise<T> {
  const before = process.env[TEST_INJECT_ENV];
  if (inject) process.env[TEST_INJECT_ENV] = inject;
  else delete process.env[TEST_INJECT_ENV];
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env[TEST_INJECT_ENV];
    else process.env[TEST_INJECT_ENV] = before;
  }
}

const quiet = () => createProgress({ mode: 'quiet' });
const load1 = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
const say = (line: string) => process.stderr.write(`gate-power: ${line}\n`);

interface RoundRow {
  part: string;
  round: number;
  arm: string;
  inject: string;
  seconds: number;
  load_before: number;
  load_after: number;
}
interface TrialRow {
  gate: string;
  injection: string;
  rounds: number;
  thresholds: string;
  trial: number;
  failed: boolean;
  /** The regressions, or for a pass the largest relative change seen. */
  detail: string;
}

async function benchOnce(suite: Suite, configurations: Awaited<ReturnType<typeof configurationsFromFile>>, outDir: string, runId: string, seed: number, inject: string, part: string, round: number, arm: string, rows: RoundRow[]): Promise<string> {
  const loadBefore = load1();
  const t0 = performance.now();
  const o = await withInjection(inject, () => runBench({ suite, configurations, outDir, runId, seed, progress: quiet(), htmlAndCost: false }));
  if (o.failures.length) throw new Error(`${runId}: ${o.failures.length} failure(s): ${JSON.stringify(o.failures[0])}`);
  rows.push({ part, round, arm, inject, seconds: Math.round((performance.now() - t0) / 10) / 100, load_before: loadBefore, load_after: load1() });
  return o.dir;
}

async function exactPart(work: string, rounds: RoundRow[], trials: TrialRow[]): Promise<void> {
  const suite = await loadSuite('model');
  const config = [modelConfiguration(suite.model ?? {})];
  const injections = [
    { name: "A'", inject: '', label: 'A/A (no change)' },
    { name: 'extra-request', inject: 'extra-request', label: 'one extra request per replica per operation' },
    { name: 'extra-round', inject: 'extra-round', label: 'one extra round per operation' },
    { name: 'latency+25%', inject: 'latency+25%', label: '+25% per-call latency' },
  ];
  for (let s = 1; s <= EXACT_SEEDS; s++) {
    say(`exact gate: model suite, seed ${s} of ${EXACT_SEEDS} ...`);
    const base = await benchOnce(suite, config, work, `model-s${s}-A`, s, '', 'exact', s, 'A', rounds);
    for (const inj of injections) {
      const dir = await benchOnce(suite, config, work, `model-s${s}-${inj.name.replace("'", '2')}`, s, inj.inject, 'exact', s, inj.name, rounds);
      const r = (await compareExactDirs(base, dir)).result;
      if (!r || r.changes.length === 0) throw new Error(`exact gate: nothing compared between ${base} and ${dir}`);
      const regressed = r.findings.filter((f) => f.verdict === 'regressed');
      trials.push({ gate: 'exact (rkvs compare, model suite)', injection: inj.label, rounds: 1, thresholds: 'zero tolerance', trial: s, failed: r.regressions > 0, detail: regressed.length ? `${r.regressions} cell key(s); e.g. ${regressed[0]!.message}` : `${r.changes.length} exact metrics unchanged` });
    }
  }
}

async function timingPart(work: string, rounds: RoundRow[]): Promise<Map<string, string[]>> {
  const dirs = new Map<string, string[]>(ARMS.map((a) => [a.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    const order = ARMS.map((_, i) => ARMS[(i + r) % ARMS.length]!);
    say(`timing gate: round ${r + 1}/${ROUNDS} (${order.map((a) => a.name).join(' ')}), load ${load1()} ...`);
    for (const arm of order) {
      // every run draws its own delays (as a network does); both sides of a round share the operations' seed, as in ab
      const yaml = [
        'version: 1',
        'configurations:',
        '  gate-power:',
        `    description: three memory replicas behind the latency layer (${DELAY_TEXT})`,
        '    replicas:',
        ...[0, 1, 2].map((i) => `      - { provider: memory, name: m${i}, latency: { distribution: lognormal, ms: ${DELAY.medianMs}, sigma: ${DELAY.sigma}, seed: ${r * 100 + ARMS.indexOf(arm) * 10 + i + 1} } }`),
        '    t: 1',
        '',
      ].join('\n');
      const file = path.join(work, `config-r${r}-${arm.name}.yaml`);
      await writeFile(file, yaml);
      const configurations = await configurationsFromFile(file);
      dirs.get(arm.name)!.push(await benchOnce(TIMING_SUITE, configurations, work, `timing-r${r}-${arm.name}`, 1000 + r, arm.inject, 'timing', r, arm.name, rounds));
    }
  }
  return dirs;
}

function describeResult(r: CompareResult): string {
  const bad = r.cells.flatMap((c) => c.metrics.filter((m) => m.verdict === 'regressed').map((m) => `${c.key.variant} ${c.key.op} ${m.metric} ${fmt(m.change)} [${fmt(m.ciLower)}, ${fmt(m.ciUpper)}]`));
  if (bad.length) return bad.join('; ');
  const judged = r.cells.flatMap((c) => c.metrics.filter((m) => m.test !== 'none'));
  const tooFew = r.cells.flatMap((c) => c.metrics.filter((m) => m.verdict === 'too few samples')).length;
  const worst = judged.reduce((a, m) => (Math.abs(m.change) > Math.abs(a?.change ?? 0) ? m : a), judged[0]);
  return `${judged.length} judged${tooFew ? `, ${tooFew} too few samples` : ''}; largest change ${worst ? `${worst.metric} ${fmt(worst.change)}` : 'none'}`;
}
const fmt = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

async function judgeWindows(work: string, dirs: Map<string, string[]>, trials: TrialRow[]): Promise<void> {
  for (const R of WINDOWS) {
    const windows = Math.floor(ROUNDS / R);
    for (let w = 0; w < windows; w++) {
      const pooled = new Map<string, string>();
      for (const arm of ARMS) {
        const out = path.join(work, 'pooled', `R${R}-w${w}-${arm.name}`);
        await poolRounds(dirs.get(arm.name)!.slice(w * R, (w + 1) * R), out, { gate_power: { rounds: R, window: w, arm: arm.name } });
        pooled.set(arm.name, out);
      }
      for (const set of THRESHOLD_SETS) {
        for (const arm of ARMS.slice(1)) {
          const r = await compareDirs(pooled.get('A')!, pooled.get(arm.name)!, { thresholds: set.thresholds, seed: w + 1 });
          if (r.cells.length === 0) throw new Error(`timing gate: nothing compared in window ${w} of ${R} rounds (${arm.name})`);
          trials.push({ gate: 'timing (rkvs ab)', injection: arm.label, rounds: R, thresholds: set.name, trial: w + 1, failed: r.regressions > 0, detail: describeResult(r) });
        }
      }
      await rm(path.join(work, 'pooled'), { recursive: true, force: true });
    }
  }
}

interface PowerRow {
  gate: string;
  injection: string;
  rounds: number;
  thresholds: string;
  trials: number;
  failed: number;
  rate: number;
  /** Wilson 95% interval of the rate. */
  rate_lower: number;
  rate_upper: number;
  /** Mean wall seconds of one trial on this machine (both sides, all rounds; 0 for the exact gate's bookkeeping). */
  seconds_per_trial: number;
}

function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

function powerRows(trials: TrialRow[], rounds: RoundRow[]): PowerRow[] {
  const groups = new Map<string, TrialRow[]>();
  for (const t of trials) {
    const k = JSON.stringify([t.gate, t.injection, t.rounds, t.thresholds]);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const mean = (part: string, arm?: string) => {
    const xs = rounds.filter((r) => r.part === part && (arm === undefined || r.arm === arm)).map((r) => r.seconds);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
  };
  const timingRun = mean('timing');
  const exactRun = mean('exact');
  return [...groups.values()].map((ts) => {
    const t = ts[0]!;
    const failed = ts.filter((x) => x.failed).length;
    const [lo, hi] = wilson(failed, ts.length);
    const seconds = t.gate.startsWith('exact') ? 2 * exactRun : 2 * t.rounds * timingRun;
    return { gate: t.gate, injection: t.injection, rounds: t.rounds, thresholds: t.thresholds, trials: ts.length, failed, rate: failed / ts.length, rate_lower: lo, rate_upper: hi, seconds_per_trial: Math.round(seconds) };
  });
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function summary(power: PowerRow[], rounds: RoundRow[], started: Date, seconds: number): string {
  const loads = rounds.map((r) => r.load_before);
  const lines = [
    '# Gate power',
    '',
    `How often the regression gate fails on a known injected regression (power) and on no change (false alarm), measured by \`npx tsx benchmarks/gate-power.ts --rounds ${ROUNDS} --windows ${WINDOWS.join(',')} --exact-seeds ${EXACT_SEEDS}\` on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}), ${started.toISOString()}, ${Math.round(seconds)} s; 1-minute load average during the runs ${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)}.`,
    '',
    'A failed trial is a gate exit 1. For "A/A" rows that is a false alarm; for the others it is a catch. Rates carry a Wilson 95% interval.',
    '',
    '| gate | injected change | rounds | thresholds | trials | gate failed | rate [95% CI] | s per trial |',
    '| --- | --- | ---: | --- | ---: | ---: | --- | ---: |',
    ...power.map((p) => `| ${p.gate} | ${p.injection} | ${p.gate.startsWith('exact') ? '–' : p.rounds} | ${p.thresholds} | ${p.trials} | ${p.failed} | ${pct(p.rate)} [${pct(p.rate_lower)}, ${pct(p.rate_upper)}] | ${p.seconds_per_trial} |`),
    '',
    'Exact gate: the model suite (`rkvs bench --suite model`) run with the knob against the same suite without it, one trial per seed. The latency knob stretches the latency layer of real-time runs; virtual time on the simulator is fixed per call, so it does not show in exact metrics (that is the timing gate\'s job).',
    '',
    `Timing gate: ${TIMING_TEXT}; rounds of A, A\', B+10%, B+25% in rotated order; each disjoint window of R rounds is one \`rkvs ab --rounds R\` trial (rounds pooled as repetitions, compared with compare\'s statistics; alpha 0.05). The p99 of a cell is judged when each side has 500 ok samples (here from 3 rounds on: about 200 reads and 200 writes per run); with fewer it reads "too few samples" and cannot fail the gate.`,
    '',
    'Files: power.csv (this table), trials.csv (every comparison and what failed it), rounds.csv (every bench run: seconds, load average before and after), meta.json.',
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const t0 = performance.now();
  const work = args.work ? path.resolve(args.work) : await mkdtemp(path.join(os.tmpdir(), 'rkvs-gate-power-'));
  await mkdir(work, { recursive: true });
  await mkdir(OUT, { recursive: true });
  say(`work directory ${work}; results into ${OUT}`);
  const rounds: RoundRow[] = [];
  const trials: TrialRow[] = [];
  try {
    await exactPart(work, rounds, trials);
    const dirs = await timingPart(work, rounds);
    await judgeWindows(work, dirs, trials);
    const seconds = (performance.now() - t0) / 1000;
    const power = powerRows(trials, rounds);
    const csv = <T extends object>(rows: T[]) => stringify(rows as Record<string, unknown>[], { header: true, cast: { boolean: (b) => (b ? 'true' : 'false') } });
    await writeFile(path.join(OUT, 'power.csv'), csv(power.map((p) => ({ ...p, rate: p.rate.toFixed(4), rate_lower: p.rate_lower.toFixed(4), rate_upper: p.rate_upper.toFixed(4) }))));
    await writeFile(path.join(OUT, 'trials.csv'), csv(trials));
    await writeFile(path.join(OUT, 'rounds.csv'), csv(rounds));
    const { baseMeta } = await import('../src/bench/record/meta.js');
    const meta = { ...(await baseMeta('gate-power', 'gate-power', started)), end: new Date().toISOString(), options: { rounds: ROUNDS, windows: WINDOWS, exact_seeds: EXACT_SEEDS }, timing_suite: TIMING_SUITE, thresholds: THRESHOLD_SETS };
    await writeFile(path.join(OUT, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
    const md = summary(power, rounds, started, seconds);
    await writeFile(path.join(OUT, 'summary.md'), md);
    process.stdout.write(md);
  } finally {
    if (!args.keep) await rm(work, { recursive: true, force: true });
    else say(`kept ${work}`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`gate-power: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
