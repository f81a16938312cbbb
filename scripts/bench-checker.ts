/**
 * Benchmark of the consistency checkers: `npm run bench:checker [-- --quick] [--out DIR]`.
 *
 * Histories from the simulator (the real register over simulated stores, one register, 40
 * operations per client) and bench-like histories (src/check/generate.ts: closed-loop clients,
 * heavy-tailed latencies, 5% removes, crashed clients and failed operations) at 8, 16, 32, 64 and
 * 256 clients, bench-like up to 1,000,000 operations, some with stale reads (violations). Every
 * history is checked by the polynomial checkers (linearizability and regularity) and, up to
 * --search-max-ops operations, by the search with a time limit. Times are medians of repeated runs
 * in one process (for 1 s, or 3 runs above 200,000 operations; a first run warms up and is not
 * counted); the search's ratio is taken history by
 * history, where both decide. A warm-up of a few seconds on other histories comes first.
 *
 * Writes DIR/results.csv (one row per history and checker), DIR/summary.md, and DIR/cli.csv (the
 * end-to-end `rkvs check` call on the largest history, start-up and parsing included).
 *
 * Options: --out DIR (default reports/checker), --quick (no 1M history, one seed per class),
 * --seeds N (default 3), --search-timeout MS (default 10000), --search-max-ops N (default 3000),
 * --save-histories DIR (write every history as <class>-seed<N>.jsonl, to run other checkers on),
 * --only NAME,... (just these classes).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { checkHistory, formatHistory, type CheckMethod, type CheckModel, type Operation, type Verdict } from '../src/check/index.js';
import { generateHistory } from '../src/check/generate.js';
import { CheckPool, checkHistoryParallel } from '../src/check/parallel.js';
import { runSimulation } from '../src/sim/index.js';

const ROOT = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'reports', 'checker') },
    quick: { type: 'boolean', default: false },
    seeds: { type: 'string' },
    'search-timeout': { type: 'string', default: '10000' },
    'search-max-ops': { type: 'string', default: '3000' },
    'save-histories': { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = args.quick!;
const seeds = Number(args.seeds ?? (quick ? 1 : 3));
const searchTimeout = Number(args['search-timeout']);
const searchMaxOps = Number(args['search-max-ops']);
for (const [flag, v] of [['--seeds', seeds], ['--search-timeout', searchTimeout], ['--search-max-ops', searchMaxOps]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`bench-checker: ${flag} must be a positive integer\n`);
    process.exit(2);
  }
}

interface HistoryClass {
  name: string;
  source: 'sim' | 'bench-like';
  clients: number;
  registers: number;
  /** Operations asked for (the simulator: clients x 40). */
  operations: number;
  violations: boolean;
  seeds: number;
  make: (seed: number) => Promise<Operation[]>;
}

const sim = (clients: number, opsPerClient: number, mutant?: string): HistoryClass['make'] => async (seed) => {
  // a broken variant: the first seed from 1000 * seed on whose history violates (at most 200 tries)
  if (mutant) {
    for (let s = 1000 * seed; s < 1000 * seed + 200; s++) {
      const h = await simRun(s, clients, opsPerClient, mutant);
      if (checkHistory(h, 'linearizable', { minimize: false }).result === 'violation') return h;
    }
    throw new Error(`no violation of ${mutant} in 200 seeds`);
  }
  return simRun(seed, clients, opsPerClient);
};
async function simRun(seed: number, clients: number, opsPerClient: number, mutant?: string): Promise<Operation[]> {
  const r = await runSimulation({
    seed,
    variant: 'atomic',
    schedule: seed % 2 ? 'fast' : 'classic',
    clients,
    opsPerClient,
    registers: 1,
    clientCrashes: 0,
    checkSpace: false,
    maxEvents: 20_000_000,
    ...(mutant ? { mutant, strategy: 'gc-early' } : {}),
  });
  return r.history;
}
const bench = (clients: number, operations: number, registers: number, staleReads = 0): HistoryClass['make'] => async (seed) =>
  generateHistory({ seed, clients, operations, registers, removeFraction: 0.05, crashFraction: 0.05, errorFraction: 0.005, staleReads });

const classes: HistoryClass[] = [];
for (const c of [8, 16, 32, 64, 256]) {
  classes.push({ name: `sim-${c}c`, source: 'sim', clients: c, registers: 1, operations: c * 40, violations: false, seeds: c === 256 ? 1 : seeds, make: sim(c, 40) });
}
classes.push({ name: 'sim-10c-hard', source: 'sim', clients: 10, registers: 1, operations: 140, violations: false, seeds, make: sim(10, 14) });
classes.push({ name: 'sim-16c-mutant', source: 'sim', clients: 16, registers: 1, operations: 320, violations: true, seeds, make: sim(16, 20, 'quorum-minus-one') });
for (const c of [8, 16, 32, 64, 256]) {
  classes.push({ name: `bench-${c}c`, source: 'bench-like', clients: c, registers: 1, operations: c * 40, violations: false, seeds, make: bench(c, c * 40, 1) });
}
classes.push({ name: 'bench-8c-stale', source: 'bench-like', clients: 8, registers: 1, operations: 320, violations: true, seeds, make: bench(8, 320, 1, 0.05) });
classes.push({ name: 'bench-256c-100k', source: 'bench-like', clients: 256, registers: 1, operations: 100_000, violations: false, seeds: 1, make: bench(256, 100_000, 1) });
if (!quick) {
  classes.push({ name: 'bench-256c-1m', source: 'bench-like', clients: 256, registers: 1, operations: 1_000_000, violations: false, seeds: 1, make: bench(256, 1_000_000, 1) });
  classes.push({ name: 'bench-256c-1m-stale', source: 'bench-like', clients: 256, registers: 1, operations: 1_000_000, violations: true, seeds: 1, make: bench(256, 1_000_000, 1, 1e-5) });
  classes.push({ name: 'bench-256c-1m-64reg', source: 'bench-like', clients: 256, registers: 64, operations: 1_000_000, violations: false, seeds: 1, make: bench(256, 1_000_000, 64) });
}

if (args.only) {
  const only = new Set(args.only.split(','));
  const unknown = [...only].filter((n) => !classes.some((c) => c.name === n));
  if (unknown.length) {
    process.stderr.write(`bench-checker: --only: unknown class ${unknown.join(', ')}; classes: ${classes.map((c) => c.name).join(', ')}\n`);
    process.exit(2);
  }
  classes.splice(0, classes.length, ...classes.filter((c) => only.has(c.name)));
}
if (args['save-histories']) await mkdir(args['save-histories'], { recursive: true });

interface Row {
  class: string;
  source: string;
  clients: number;
  registers: number;
  ops: number;
  seed: number;
  model: CheckModel;
  checker: string;
  verdict: string;
  decided_by: string;
  witness_ops: number | '';
  ms_median: number;
  ms_min: number;
  runs: number;
  ops_per_s: number;
}

/**
 * Median and minimum of repeated runs after one warm-up run: `true` repeats for 1 s (at most 15
 * runs), a number runs that many times (large histories), `false` once (the search).
 */
async function measure(run: () => Promise<Verdict> | Verdict, repeat: boolean | number): Promise<{ verdict: Verdict; median: number; min: number; runs: number }> {
  let verdict = await run();
  const times: number[] = [];
  const started = performance.now();
  do {
    const t = performance.now();
    verdict = await run();
    times.push(performance.now() - t);
  } while (typeof repeat === 'number' ? times.length < repeat : repeat && times.length < 15 && performance.now() - started < 1000);
  times.sort((a, b) => a - b);
  return { verdict, median: times[Math.floor(times.length / 2)], min: times[0], runs: times.length };
}

/** Runs every checker on small histories until the JIT has settled, so the first class is not penalised. */
async function warmUp(): Promise<void> {
  const until = performance.now() + 5000;
  for (let i = 0; performance.now() < until; i++) {
    const h = generateHistory({ seed: 900_000 + i, clients: 4 + (i % 12), operations: 300, removeFraction: 0.1, crashFraction: 0.1, staleReads: i % 3 ? 0 : 0.02 });
    for (const model of ['linearizable', 'regular'] as const) checkHistory(h, model, { method: 'polynomial' });
    if (i % 4 === 0) checkHistory(h.slice(0, 60), 'linearizable', { method: 'search', timeoutMs: 200 });
  }
  for (let seed = 1; seed <= 20; seed++) {
    const r = await runSimulation({ seed: 900_000 + seed, variant: 'atomic', schedule: 'fast', checkSpace: false });
    checkHistory(r.history, 'linearizable', { method: 'search' });
  }
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const rows: Row[] = [];
const load: string[] = [`start ${loadavg().map((x) => x.toFixed(1)).join(' ')}`];
const started = Date.now();
await warmUp();
let largest: { cls: HistoryClass; history: Operation[] } | null = null;

for (const cls of classes) {
  for (let seed = 1; seed <= cls.seeds; seed++) {
    const t0 = performance.now();
    const h = await cls.make(seed);
    process.stderr.write(`${cls.name} seed ${seed}: ${h.length} operations (made in ${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    if (args['save-histories']) await writeFile(join(args['save-histories'], `${cls.name}-seed${seed}.jsonl`), formatHistory(h));
    const base = { class: cls.name, source: cls.source, clients: cls.clients, registers: cls.registers, ops: h.length, seed };
    const add = (model: CheckModel, checker: string, m: Awaited<ReturnType<typeof measure>>) => {
      const v = m.verdict;
      rows.push({
        ...base,
        model,
        checker,
        verdict: v.result,
        decided_by: v.decidedBy,
        witness_ops: v.result === 'violation' ? v.operations.length : '',
        ms_median: r3(m.median),
        ms_min: r3(m.min),
        runs: m.runs,
        ops_per_s: Math.round(h.length / (m.median / 1000)),
      });
      process.stderr.write(`  ${model} ${checker}: ${v.result} (${v.decidedBy}) ${m.median.toFixed(2)} ms\n`);
    };
    const big = h.length > 200_000;
    for (const model of ['linearizable', 'regular'] as const) {
      const method: CheckMethod = 'polynomial';
      add(model, 'polynomial', await measure(() => checkHistory(h, model, { method, timeoutMs: 600_000 }), big ? 3 : true));
    }
    if (cls.registers > 1) {
      // a pool kept across calls (as rkvs check keeps one across files): the warm-up run starts the workers
      const pool = new CheckPool(2);
      try {
        add('linearizable', 'polynomial, 2 worker threads', await measure(() => checkHistoryParallel(h, 'linearizable', { method: 'polynomial', timeoutMs: 600_000, pool, parallelFrom: 0 }), big ? 3 : true));
      } finally {
        await pool.close();
      }
    }
    if (h.length <= searchMaxOps) {
      add('linearizable', 'search', await measure(() => checkHistory(h, 'linearizable', { method: 'search', timeoutMs: searchTimeout }), false));
    }
    if (!largest || h.length > largest.history.length || (h.length === largest.history.length && cls.registers === 1 && !cls.violations)) largest = { cls, history: h };
  }
}
load.push(`after checks ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// end to end: rkvs check on the largest single-register history, as a user runs it
const cliRows: Record<string, unknown>[] = [];
if (largest) {
  const dir = args.out!;
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${largest.cls.name}.jsonl`);
  await writeFile(file, formatHistory(largest.history));
  for (const model of ['linearizable', 'regular']) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'rkvs.js'), 'check', file, '--model', model, '--format', 'jsonl', '--timeout', '600000'], { encoding: 'utf8' });
    const wall = performance.now() - t;
    const line = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    cliRows.push({ class: largest.cls.name, ops: largest.history.length, model, exit: r.status, verdict: line.verdict, decided_by: line.decidedBy, file_ms: line.ms, wall_ms: Math.round(wall) });
    process.stderr.write(`rkvs check ${largest.cls.name} --model ${model}: exit ${r.status}, ${Math.round(wall)} ms wall, ${line.ms} ms for the file\n`);
  }
}
load.push(`end ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);

// --- summary ---------------------------------------------------------------------------------------
await mkdir(args.out!, { recursive: true });
await writeFile(join(args.out!, 'results.csv'), stringify(rows, { header: true }));
if (cliRows.length) await writeFile(join(args.out!, 'cli.csv'), stringify(cliRows, { header: true }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtMs = (x: number) => (x < 10 ? x.toFixed(2) : x < 1000 ? x.toFixed(0) : `${(x / 1000).toFixed(2)} s`.replace(' s', '\u00a0s'));
const lines: string[] = [];
lines.push('# Checker benchmark', '');
lines.push(
  `Run ${new Date(started).toISOString()}, ${Math.round((Date.now() - started) / 1000)} s; node ${process.version}; ${cpus()[0]?.model ?? 'cpu'} x ${availableParallelism()}; ` +
    `load average (1/5/15 min) ${load.join(', ')}. Times are per history: the median of repeated runs in one process (3 runs above 200,000 operations); ` +
    `the search ran once with a ${searchTimeout} ms limit on histories of up to ${searchMaxOps} operations. Ratios are taken history by history in this run.`,
  '',
);
lines.push('| class | source | clients | registers | operations | verdict | linearizable: polynomial | ops/s | search | search / polynomial | regular: polynomial |');
lines.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|');
const targets: string[] = [];
let minRatio = Number.POSITIVE_INFINITY;
for (const cls of classes) {
  const mine = rows.filter((r) => r.class === cls.name);
  if (mine.length === 0) continue;
  const poly = mine.filter((r) => r.model === 'linearizable' && r.checker === 'polynomial');
  const reg = mine.filter((r) => r.model === 'regular' && r.checker === 'polynomial');
  const search = mine.filter((r) => r.checker === 'search');
  const ratios: number[] = [];
  for (const s of search) {
    const p = poly.find((x) => x.seed === s.seed)!;
    if (s.verdict !== 'unknown') ratios.push(s.ms_median / p.ms_median);
  }
  if (ratios.length) minRatio = Math.min(minRatio, ...ratios);
  const searchCell = search.length === 0 ? 'not run' : search.map((s) => (s.verdict === 'unknown' ? `gave up (${searchTimeout / 1000}\u00a0s)` : fmtMs(s.ms_median))).join(', ');
  const ratioCell = ratios.length ? ratios.map((x) => `${x.toFixed(0)}×`).join(', ') : '–';
  const verdicts = [...new Set(poly.map((p) => p.verdict))].join('/');
  lines.push(
    `| ${cls.name} | ${cls.source} | ${cls.clients} | ${cls.registers} | ${median(poly.map((p) => p.ops))} | ${verdicts} | ` +
      `${poly.map((p) => fmtMs(p.ms_median)).join(', ')} | ${median(poly.map((p) => p.ops_per_s)).toLocaleString('en-US')} | ${searchCell} | ${ratioCell} | ${reg.map((p) => fmtMs(p.ms_median)).join(', ')} |`,
  );
  if (cls.name === 'sim-32c') targets.push(`- 32-client simulator history (${median(poly.map((p) => p.ops))} operations) decided in under 1 s: ${poly.every((p) => p.ms_median < 1000) ? 'yes' : 'NO'} (${poly.map((p) => fmtMs(p.ms_median)).join(', ')} ms).`);
  if (cls.name === 'bench-256c-1m') targets.push(`- 1,000,000 operations in under 10 s: ${poly.every((p) => p.ms_median < 10_000) ? 'yes' : 'NO'} (linearizable ${poly.map((p) => fmtMs(p.ms_median)).join(', ')}, regular ${reg.map((p) => fmtMs(p.ms_median)).join(', ')}).`);
  const par = mine.filter((r) => r.checker.startsWith('polynomial, 2'));
  if (par.length) targets.push(`- ${cls.name}: on 2 worker threads (started beforehand) ${par.map((p) => fmtMs(p.ms_median)).join(', ')} vs ${poly.map((p) => fmtMs(p.ms_median)).join(', ')} in one thread (encoding and transfer included).`);
}
targets.push(`- Search / polynomial where both decide: at least ${Number.isFinite(minRatio) ? `${minRatio.toFixed(0)}×` : '–'} (target 10×): ${minRatio >= 10 ? 'yes' : 'NO'}.`);
for (const c of cliRows) targets.push(`- \`rkvs check\` on ${c.class} (${c.ops} operations, --model ${c.model}): ${c.verdict}, ${fmtMs(Number(c.wall_ms))} wall clock including start-up and parsing (${fmtMs(Number(c.file_ms))} for the file).`);
lines.push('', 'Times in ms unless marked; one entry per seed.', '', '## Targets', '', ...targets, '');
await writeFile(join(args.out!, 'summary.md'), lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\nwrote ${join(args.out!, 'results.csv')}, summary.md${cliRows.length ? ', cli.csv' : ''}\n`);
