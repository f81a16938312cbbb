// `npm run bench:startup`: how long the rkvs command takes to start, next to a bare `node -e 0`, in one
// run. Writes reports/startup/startup.csv (one row per command: min / median / max / mean over the
// runs, and the median as a multiple of node's) and reports/startup/summary.md (the same with the
// targets: --help, --version and usage errors at most 3x `node -e 0`; `rkvs check` of a 5-operation
// history under 0.5 s).
//
//   node scripts/bench-startup.mjs [--runs N] [--warmup N] [--runner hyperfine|node] [--out DIR]
//
// Runner: hyperfine (`apt-get install hyperfine`) when it is on PATH, started without a shell, each
// command's runs back to back; otherwise (or with --runner node) a built-in runner that interleaves
// the commands run by run, so load from other processes spreads over all of them. Either way every
// command is first run once and its exit code checked, so the timings are of what the label says.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildState } from '../bin/build-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    runner: { type: 'string' },
    out: { type: 'string', default: join(root, 'reports', 'startup') },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
if (!Number.isInteger(runs) || runs < 3) fail('--runs: expected an integer >= 3');
if (!Number.isInteger(warmup) || warmup < 0) fail('--warmup: expected an integer >= 0');
const hasHyperfine = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).status === 0;
const runner = args.runner ?? (hasHyperfine ? 'hyperfine' : 'node');
if (runner !== 'hyperfine' && runner !== 'node') fail(`--runner: expected hyperfine or node, got ${JSON.stringify(runner)}`);
if (runner === 'hyperfine' && !hasHyperfine) fail('--runner hyperfine: hyperfine is not on PATH (apt-get install hyperfine), or use --runner node');

function fail(message) {
  process.stderr.write(`bench:startup: ${message}\n`);
  process.exit(2);
}

// The CLI must run its compiled build: measuring the tsx fallback would say nothing.
let build = buildState(root);
if (build.state !== 'current') {
  process.stderr.write(`bench:startup: dist/ is not current (${build.reason}); building it first\n`);
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  build = buildState(root);
  if (build.state !== 'current') fail(`dist/ still not current after the build: ${build.reason}`);
}

const tmp = mkdtempSync(join(os.tmpdir(), 'rkvs-startup-'));
const history = join(tmp, 'history.jsonl');
writeFileSync(
  history,
  [
    { client: 'c1', op: 'write', register: 'x', input: 'a', output: null, call: 0, return: 2 },
    { client: 'c2', op: 'read', register: 'x', input: null, output: 'a', call: 1, return: 3 },
    { client: 'c1', op: 'write', register: 'x', input: 'b', output: null, call: 4, return: 6 },
    { client: 'c2', op: 'read', register: 'x', input: null, output: 'b', call: 7, return: 8 },
    { client: 'c3', op: 'read', register: 'x', input: null, output: 'b', call: 7, return: 9 },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n') + '\n',
);

const bin = join(root, 'bin', 'rkvs.js');
const node = process.execPath;
// target: null (the baseline), { ratio } (median at most ratio x the baseline's median) or { seconds }.
const commands = [
  { label: 'node -e 0', argv: [node, '-e', '0'], exit: 0, target: null },
  { label: 'rkvs --help', argv: [node, bin, '--help'], exit: 0, target: { ratio: 3 } },
  { label: 'rkvs --version', argv: [node, bin, '--version'], exit: 0, target: { ratio: 3 } },
  { label: 'rkvs bench --suit quick (unknown option)', argv: [node, bin, 'bench', '--suit', 'quick'], exit: 2, target: { ratio: 3 } },
  { label: 'rkvs nosuch (unknown command)', argv: [node, bin, 'nosuch'], exit: 2, target: { ratio: 3 } },
  { label: 'rkvs bench --variants fastest (bad value)', argv: [node, bin, 'bench', '--variants', 'fastest'], exit: 2, target: { ratio: 3 } },
  { label: 'rkvs bench --help', argv: [node, bin, 'bench', '--help'], exit: 0, target: { ratio: 3 } },
  { label: 'rkvs check history.jsonl (5 operations)', argv: [node, bin, 'check', history], exit: 0, target: { seconds: 0.5 } },
];
const env = { ...process.env };
delete env.RKVS_FROM_SOURCES;

for (const c of commands) {
  const r = spawnSync(c.argv[0], c.argv.slice(1), { encoding: 'utf8', env });
  if (r.status !== c.exit) {
    rmSync(tmp, { recursive: true, force: true });
    fail(`"${c.label}" exited ${r.status ?? r.signal}, expected ${c.exit}:\n${r.stdout}${r.stderr}`);
  }
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const started = new Date();
process.stderr.write(`bench:startup: ${commands.length} commands x ${runs} runs (+${warmup} warm-up) with ${runner}; load average ${loadBefore}\n`);

/** Seconds of every run, and mean CPU seconds (user + system) per run, by command label. */
const times = new Map(commands.map((c) => [c.label, []]));
const cpu = new Map();
/** CPU seconds used by this process's waited-for children so far (Linux; null elsewhere). */
const childrenCpu = () => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ = 100 ticks
  } catch {
    return null;
  }
};
if (runner === 'hyperfine') {
  const json = join(tmp, 'hyperfine.json');
  const quote = (a) => (/^[A-Za-z0-9_./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const hf = spawnSync(
    'hyperfine',
    ['--shell=none', '--ignore-failure', '--style', 'basic', '--runs', String(runs), '--warmup', String(warmup), '--export-json', json,
      ...commands.flatMap((c) => ['--command-name', c.label, c.argv.map(quote).join(' ')])],
    { stdio: ['ignore', 'inherit', 'inherit'], env },
  );
  if (hf.status !== 0) fail(`hyperfine exited ${hf.status ?? hf.signal}`);
  for (const r of JSON.parse(readFileSync(json, 'utf8')).results) {
    times.get(r.command).push(...r.times);
    cpu.set(r.command, r.user + r.system);
  }
} else {
  const cpuSum = new Map(commands.map((c) => [c.label, 0]));
  for (let i = 0; i < warmup + runs; i++) {
    for (const c of commands) {
      const cpu0 = childrenCpu();
      const t0 = process.hrtime.bigint();
      spawnSync(c.argv[0], c.argv.slice(1), { stdio: 'ignore', env });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu1 = childrenCpu();
      if (i >= warmup) {
        times.get(c.label).push(s);
        if (cpu0 !== null && cpu1 !== null) cpuSum.set(c.label, cpuSum.get(c.label) + cpu1 - cpu0);
      }
    }
  }
  if (childrenCpu() !== null) for (const c of commands) cpu.set(c.label, cpuSum.get(c.label) / runs);
}
rmSync(tmp, { recursive: true, force: true });
const loadAfter = load();

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    runs: s.length,
    min: s[0],
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
};
const baseline = stats(times.get('node -e 0'));
const baselineCpu = cpu.get('node -e 0');
const rows = commands.map((c) => {
  const st = stats(times.get(c.label));
  const ratio = st.median / baseline.median;
  const cpuS = cpu.get(c.label);
  let target = '';
  let meets = '';
  if (c.target?.ratio !== undefined) {
    target = `median <= ${c.target.ratio}x node -e 0`;
    meets = ratio <= c.target.ratio ? 'yes' : 'no';
  } else if (c.target?.seconds !== undefined) {
    target = `median < ${c.target.seconds} s`;
    meets = st.median < c.target.seconds ? 'yes' : 'no';
  }
  return { command: c.label, ...st, ratio, cpuS, cpuRatio: cpuS !== undefined && baselineCpu ? cpuS / baselineCpu : undefined, target, meets };
});

const runId = started.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}`;
mkdirSync(args.out, { recursive: true });
const csvCell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const header = ['run_id', 'runner', 'node', 'machine', 'command', 'runs', 'min_s', 'median_s', 'max_s', 'mean_s', 'median_vs_node', 'mean_cpu_s', 'cpu_vs_node', 'target', 'meets_target'];
const opt = (v, digits) => (v === undefined ? '' : v.toFixed(digits));
const csv = [
  header.join(','),
  ...rows.map((r) =>
    [runId, runner, process.version, machine, r.command, r.runs, r.min.toFixed(4), r.median.toFixed(4), r.max.toFixed(4), r.mean.toFixed(4), r.ratio.toFixed(2), opt(r.cpuS, 4), opt(r.cpuRatio, 2), r.target, r.meets]
      .map(csvCell)
      .join(','),
  ),
].join('\n');
writeFileSync(join(args.out, 'startup.csv'), `${csv}\n`);

const ms = (s) => (s * 1000).toFixed(0);
const md = [
  '# Start-up time of rkvs',
  '',
  `Run ${runId}: ${runs} runs per command after ${warmup} warm-up runs, ${runner === 'hyperfine' ? 'hyperfine (no shell), each command\'s runs back to back' : 'built-in runner, commands interleaved run by run'};`,
  `Node.js ${process.version}, ${machine}; load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after.`,
  `The CLI ran its compiled build (dist/, ${build.reason}). Times are wall-clock milliseconds of the whole process;`,
  'CPU is the mean user + system time per run (less sensitive than wall time to other processes on the machine).',
  '',
  '| command | min ms | median ms | max ms | median vs `node -e 0` | CPU ms | CPU vs `node -e 0` | target | met |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ...rows.map(
    (r) =>
      `| \`${r.command}\` | ${ms(r.min)} | ${ms(r.median)} | ${ms(r.max)} | ${r.ratio.toFixed(2)}x | ${r.cpuS === undefined ? '-' : ms(r.cpuS)} | ${r.cpuRatio === undefined ? '-' : `${r.cpuRatio.toFixed(2)}x`} | ${r.target || 'baseline'} | ${r.meets || '-'} |`,
  ),
  ...(baseline.median > 0.15
    ? ['', `\`node -e 0\` itself took ${ms(baseline.median)} ms in this run (about 150 ms or less on this kind of machine when idle): the machine was busy, so the ratios say more than the absolute times.`]
    : []),
  '',
  `Written by \`npm run bench:startup\` (scripts/bench-startup.mjs); rows in ${relative(root, join(args.out, 'startup.csv')) || 'startup.csv'}.`,
  '',
].join('\n');
writeFileSync(join(args.out, 'summary.md'), md);
process.stdout.write(`${md}\n`);
