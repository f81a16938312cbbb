// `npm run bench:faults`: what a provider outage does to the register's latency, on real sockets, in
// one run. On the local S3, Azure and GCS emulators (n = 3, t = 1), every replica behind a fault
// proxy (src/net/fault-proxy.ts):
//
//   1. probe each replica's put / get / list latency at 1 KiB through its proxy (pass mode);
//   2. run the `faults` suite (benchmarks/faults.ts: regular and atomic, fast schedule, one client,
//      writes and reads) with `--fault` scenarios: every cell healthy, then with each replica in turn
//      blackholed (accepts, never answers) and delayed 10x (each answer held (10 - 1) x the
//      replica's probed call latency); in turn with each cell's operations (after each, before the next), under its fault and
//      through the same proxies, measure its floor: ideal operations (src/bench/run/ideal-op.ts) —
//      the register's rounds issued to every replica at once, each ending at the q-th answer,
//      nothing else done;
//   3. probe again, and average the two probes (the call latencies beside the floor);
//   4. write reports/faults/: faults.csv (each register cell's p50 and p99 next to the floor of its
//      case and to the healthy cell measured in the same run), floor.csv (every ideal operation),
//      probe.csv, README.md (the summary and the wait-freedom target: one replica of three
//      blackholed, p50 within 10% of its floor) and run/ (the bench's own report directory:
//      latency.csv, histograms, report.html ...).
//
//   npm run bench:faults [-- --ops N] [--samples N] [--factor X] [--out DIR] [--force]
//
// The floor of a case (src/bench/analyze/fault-floor.ts): the p50 of its ideal operations, i.e. the
// operation's rounds with each round's latency that of the q-th fastest replica still answering. It
// is what a register that never waits for a replica it does not need would take; wait-freedom says a
// silent replica costs nothing more. The sum of the sequential probe's call latencies is written
// beside it (call_floor_ms).
import { existsSync } from 'node:fs';
import os from 'node:os';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';


type ProbeRow = import('../src/bench/run/probe.js').ProbeRow;
type ReplicaCalls = import('../src/bench/analyze/fault-floor.js').ReplicaCalls;
type FaultCase = import('../src/bench/analyze/fault-floor.js').FaultCase;
type FaultFloorRow = import('../src/bench/analyze/fault-floor.js').FaultFloorRow;
type FaultScenario = import('../src/bench/config/fault.js').FaultScenario;
type Fault = import('../src/net/fault-proxy.js').Fault;
type IdealRow = import('../src/bench/run/ideal-op.js').IdealRow;

const root = path.resolve(import.meta.dirname, '..');
const VALUE_BYTES = 1024;

function usage(message: string): never {
  process.stderr.write(`bench:faults: ${message}\n`);
  process.exit(2);
}

let args: { ops?: string; samples: string; factor: string; out: string; force?: boolean; help?: boolean };
try {
  args = parseArgs({
    options: {
      ops: { type: 'string' },
      samples: { type: 'string', default: '40' },
      factor: { type: 'string', default: '10' },
      out: { type: 'string', default: path.join(root, 'reports', 'faults') },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values as typeof args;
} catch (e) {
  usage(`${(e as Error).message}; options: --ops N, --samples N, --factor X, --out DIR, --force`);
}
if (args.help) {
  process.stdout.write(
    [
      'npm run bench:faults [-- --ops N] [--samples N] [--factor X] [--out DIR] [--force]',
      '',
      '  --ops N      measured operations per cell and repetition (default: the faults suite, 100 x 9 repetitions)',
      '  --samples N  probe calls per call type and replica, before and after the run (default 40)',
      '  --factor X   slow-down of the delayed replica: its answers held (X - 1) x its call latency (default 10)',
      '  --out DIR    report directory (default reports/faults)',
      '  --force      replace the report already in --out',
      '',
    ].join('\n'),
  );
  process.exit(0);
}
const intArg = (flag: string, v: string, min: number, max: number) => {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) usage(`${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
};
const ops = args.ops === undefined ? undefined : intArg('--ops', args.ops, 10, 1_000_000);
const samples = intArg('--samples', args.samples, 5, 10_000);
const factor = Number(args.factor);
if (!/^\d+(\.\d+)?$/.test(args.factor) || !(factor > 1) || factor > 1000) usage(`--factor: expected a number above 1 (at most 1000), got ${JSON.stringify(args.factor)}`);
const out = path.resolve(args.out);
if (existsSync(out) && (await readdir(out)).length > 0) {
  if (!args.force) usage(`${path.relative(process.cwd(), out) || out} already holds a report; pass --force to replace it, or choose another --out DIR`);
  if (!existsSync(path.join(out, 'faults.csv')) && !existsSync(path.join(out, 'run')))
    usage(`--force: ${out} does not look like a report of bench:faults (no faults.csv, no run/); refusing to delete it, choose another --out DIR`);
  await rm(out, { recursive: true, force: true });
}

// the modules of the run, loaded once the arguments are known good (a usage error answers at once)
const { describeCause } = await import('../src/errors.js');
const { startFaultProxy } = await import('../src/net/fault-proxy.js');
const { startSharedEmulators } = await import('../src/bench/config/open.js');
const { emulatorConfiguration } = await import('../src/bench/config/file.js');
const { loadSuite } = await import('../src/bench/config/suite.js');
const { faultKey } = await import('../src/bench/config/fault.js');
const { CELL_KEY_COLUMNS } = await import('../src/bench/config/cell.js');
const { makeRunId } = await import('../src/bench/run/plan.js');
const { probeConfiguration, PROBE_COLUMNS } = await import('../src/bench/run/probe.js');
const { idealCellProbe, IDEAL_COLUMNS } = await import('../src/bench/run/ideal-op.js');
const { runBench } = await import('../src/bench/pipeline.js');
const { createProgress, progressMode } = await import('../src/bench/run/progress.js');
const { parseCsv } = await import('../src/bench/record/read.js');
const ff = await import('../src/bench/analyze/fault-floor.js');

const ac = new AbortController();
const onSignal = () => {
  if (ac.signal.aborted) process.exit(130);
  process.stderr.write('\ninterrupted: stopping (press Ctrl-C again to quit at once)\n');
  ac.abort(new Error('interrupted'));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const log = (line: string) => process.stderr.write(`bench:faults: ${line}\n`);

const handle = emulatorConfiguration();
const names = handle.spec.replicas.map((r, i) => r.name ?? `replica-${i}`);
const n = handle.spec.n;
const t = handle.spec.t;
const q = n - t;
const runId = makeRunId('faults', new Date());

/** Probes every replica through a pass-mode fault proxy of its own: the path the bench's cells take. */
async function probe(label: string): Promise<{ rows: ProbeRow[]; calls: ReplicaCalls[] }> {
  log(`probing ${names.join(', ')} (${samples} calls per type, ${VALUE_BYTES} B, through a pass proxy) ${label} the run`);
  const proxies: Awaited<ReturnType<typeof startFaultProxy>>[] = [];
  const problems: string[] = [];
  try {
    const rows = await probeConfiguration(handle, {
      runId: `${runId}-probe-${label}`,
      sizes: [VALUE_BYTES],
      samples,
      consistencyTrials: 0,
      timeoutMs: 10_000,
      signal: ac.signal,
      log: (line) => {
        problems.push(line);
        log(`probe: ${line}`);
      },
      route: async (_i, endpoint) => {
        const p = await startFaultProxy({ target: endpoint });
        proxies.push(p);
        return p.url(endpoint);
      },
    });
    const failed = rows.filter((r) => (r.check === 'credentials' || r.check === 'access') && r.errors > 0);
    if (failed.length) throw new Error(`the probe ${label} the run could not use ${failed.map((r) => r.replica).join(', ')}: ${problems.join('; ')}`);
    return { rows, calls: ff.callsFromProbe(rows, names, VALUE_BYTES) };
  } finally {
    await Promise.allSettled(proxies.map((p) => p.close()));
  }
}

const ms2 = (x: number | string) => (x === '' || !Number.isFinite(Number(x)) ? '-' : Number(x).toFixed(2));
const x2 = (x: number | string) => (x === '' || !Number.isFinite(Number(x)) ? '-' : `${Number(x).toFixed(2)}x`);

let exitCode = 0;
const loadBefore = os.loadavg();
const shared = await startSharedEmulators(['s3', 'azure', 'gcs'], ac.signal);
try {
  // emulators just started answer their first calls slowly (cold JIT, caches): a probe whose
  // figures are thrown away warms them up, so the floor is not made of start-up latencies
  await probe('warm-up');
  const before = await probe('before');

  // the cases: healthy, then each replica blackholed, then each delayed `factor` x
  const cases: FaultCase[] = [{ kind: 'healthy', fault: '', conditions: [], label: 'healthy' }];
  const scenarios: FaultScenario[] = [];
  const add = (kind: 'blackhole' | 'delay', replica: string, fault: Fault, conditions: FaultCase['conditions'], label: string) => {
    scenarios.push({ items: [{ replica, fault, atMs: 0 }] });
    cases.push({ kind, replica, fault: faultKey([{ name: replica, fault, atMs: 0 }]), conditions, label });
  };
  for (const c of before.calls) add('blackhole', c.replica, { mode: 'blackhole' }, [{ replica: c.replica, silent: true }], `${c.replica} blackholed`);
  for (const c of before.calls) {
    const addMs = Math.max(1, Math.round((factor - 1) * ff.typicalCallMs(c)));
    add('delay', c.replica, { mode: 'delay', ms: addMs }, [{ replica: c.replica, addMs }], `${c.replica} delayed ${factor}x (+${addMs} ms)`);
  }
  log(`cases: ${cases.map((c) => c.label).join('; ')}`);

  const suite = await loadSuite(path.join(root, 'benchmarks', 'faults.ts'));
  // the floor of each cell, measured in turn with it under the same fault: beside each of its
  // operations (right before or right after, a seeded coin deciding), an ideal one of the same kind
  const idealRows: IdealRow[] = [];
  const cellProbe = idealCellProbe({ runId, seed: suite.seed, onRow: (r) => idealRows.push(r), log: (line) => log(`floor: ${line}`) });
  const progress = createProgress({ mode: progressMode(true) });
  const outcome = await runBench({
    suite,
    configurations: [handle],
    outDir: out,
    runId,
    ...(ops !== undefined ? { ops } : {}),
    // every repetition runs every case in turn, so drift (other work on the machine) hits each alike
    interleave: true,
    progress,
    signal: ac.signal,
    faults: scenarios,
    cellProbe,
    options: { script: 'bench:faults', samples, factor, ...(ops !== undefined ? { ops } : {}) },
  });
  progress.stop();
  const runDir = path.join(out, 'run');
  await rename(outcome.dir, runDir);
  if (outcome.interrupted) throw new Error(`interrupted; the cells measured so far are in ${runDir}`);
  if (outcome.failures.length) exitCode = 1;

  const after = await probe('after');
  const calls = ff.averageCalls([before.calls, after.calls]);
  // the floors are made from floor.csv as written, so the figures beside them are the file's
  await writeFile(path.join(out, 'floor.csv'), stringify(idealRows, { header: true, columns: [...IDEAL_COLUMNS] }));
  const ideal = ff.idealFloors(parseCsv(await readFile(path.join(out, 'floor.csv'), 'utf8'), 'floor.csv') as unknown as { ms: string; rounds_ms: string }[]);

  const latency = parseCsv(await readFile(path.join(runDir, 'latency.csv'), 'utf8'), 'latency.csv');
  const keyColumns = ['run_id', 'suite', ...CELL_KEY_COLUMNS];
  const rows = ff.faultFloorRows(latency, cases, calls, q, keyColumns, ideal);
  const missing = cases.filter((c) => !rows.some((r) => r.fault === c.fault));
  if (missing.length) throw new Error(`no register cell measured under ${missing.map((c) => c.label).join(', ')} (see ${runDir})`);

  await writeFile(path.join(out, 'faults.csv'), stringify(rows, { header: true, columns: [...keyColumns, ...ff.FAULT_FLOOR_COLUMNS] }));
  await writeFile(path.join(out, 'probe.csv'), stringify([...before.rows, ...after.rows], { header: true, columns: [...PROBE_COLUMNS] }));
  const summary = summarize(rows, cases, before.calls, after.calls, calls, outcome.failures, suite.repeat);
  await writeFile(path.join(out, 'README.md'), summary);
  process.stdout.write(summary);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), out) || out}/{README.md,faults.csv,floor.csv,probe.csv,run/}\n`);
} catch (e) {
  log(describeCause(e));
  exitCode = ac.signal.aborted ? 130 : 1;
} finally {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await shared.stop();
}
process.exitCode = exitCode;

function summarize(rows: FaultFloorRow[], cases: FaultCase[], b: ReplicaCalls[], a: ReplicaCalls[], avg: ReplicaCalls[], failures: string[], repeats: number): string {
  const lines: string[] = [];
  const first = rows[0];
  lines.push('# The register under a provider outage (`npm run bench:faults`)', '');
  lines.push(
    `Run \`${first?.run_id ?? runId}\`, ${new Date().toISOString().slice(0, 10)}: the \`faults\` suite (benchmarks/faults.ts) on the local S3, Azure and GCS`,
    `emulators, n = ${n}, t = ${t}, q = ${q}; ${first ? `${first.value_bytes} B values, ${first.clients} client, ${first.registers} registers, ${first.workload} workload (write:read 1:1), ${first.mode} loop` : ''};`,
    `every replica behind a fault proxy. Each register cell measured healthy and under each fault, one after the`,
    `other in this one run; the fault in force from the cell's first operation (\`at=0s\`) and healed before its`,
    `cleanup. Each cell ran in ${repeats} repetitions, every case in turn in each (\`--interleave\`), so drift hits all alike.`,
    `Beside each operation of a cell (right before or right after it, a seeded coin deciding), one *ideal* operation of the`,
    `same kind on the same register name, under the same fault and through the same proxies: the floor (below). Cells'`,
    `ops/s in run/ count the time of those ideal operations too: they are not throughput figures.`,
    `Node ${process.version}, ${os.cpus().length} cores, load average ${loadBefore[0]!.toFixed(1)} at the start and ${os.loadavg()[0]!.toFixed(1)} at the end (other work shares`,
    `the machine): compare the ratios, not the milliseconds, with other machines.`,
    '',
  );
  lines.push('## Replica call latency (probe p50, ms, 1 KiB, through the proxy, one call at a time)', '');
  lines.push('| replica | put before / after | get before / after | list before / after | call floor uses (mean) |', '| --- | --- | --- | --- | --- |');
  for (const c of avg) {
    const pb = b.find((x) => x.replica === c.replica)!;
    const pa = a.find((x) => x.replica === c.replica)!;
    lines.push(
      `| ${c.replica} | ${ms2(pb.ms.put)} / ${ms2(pa.ms.put)} | ${ms2(pb.ms.get)} / ${ms2(pa.ms.get)} | ${ms2(pb.ms.list)} / ${ms2(pa.ms.list)} | put ${ms2(c.ms.put)}, get ${ms2(c.ms.get)}, list ${ms2(c.ms.list)} |`,
    );
  }
  lines.push('', `Delayed ${factor}x: each answer of the replica held (${factor} − 1) × its call latency (the median of its put, get and list p50 before the run).`, '');
  // how far the two probes disagree: the load of the machine moved the floor by as much
  const drift = Math.max(
    ...b.flatMap((pb) => {
      const pa = a.find((x) => x.replica === pb.replica)!;
      return (['put', 'get', 'list'] as const).map((c) => Math.max(pb.ms[c], pa.ms[c]) / Math.max(1e-9, Math.min(pb.ms[c], pa.ms[c])));
    }),
  );
  lines.push(
    `The probes before and after the run differ by up to ${drift.toFixed(1)}x for one call. Their sum over an operation's rounds`,
    `(\`call_floor_ms\` in faults.csv) is not the floor: calls probed one at a time, on the probe's own keys (a list over ${samples} keys`,
    `where a register's prefix holds one or two), leave out what the register's calls in parallel cost the client and the`,
    `replicas sharing this machine's cores, and it is taken minutes away from the cells.`,
    '',
  );
  lines.push('## Latency per operation and case', '');
  lines.push(
    'The floor of a cell: the p50 of its ideal operations (src/bench/run/ideal-op.ts, every one in floor.csv). An ideal operation',
    'issues the calls of the operation\'s rounds (SPEC §3-§4, fast schedule: write = list, then the temporary and eternal puts',
    'together; read = list ‖ get; the atomic read as the regular one on the fast path) to every replica at once, ends each round',
    'at the q-th answer of the replicas still answering (a blackholed replica never answers; a delayed one answers its delay',
    'later), and does nothing else but the register\'s background removes of the previous temporary key, issued when the',
    'register issues them: its latency is the rounds × the call latency of the q-th fastest replica, measured beside the cell.',
    '`p50/floor` near 1: the register waits for nothing it does not need. `/healthy`: over the healthy cell of the same key in',
    'this run.',
    '',
  );
  lines.push('| variant | op | case | ops | errors | p50 ms | p99 ms | floor ms | p50/floor | p50/healthy | p99/healthy |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const c = cases.find((x) => x.fault === r.fault)!;
    lines.push(
      `| ${r.variant} | ${r.op} | ${c.label} | ${r.count} | ${r.errors} | ${ms2(r.p50_ms)} | ${ms2(r.p99_ms)} | ${ms2(r.floor_ms)} | ${x2(r.p50_over_floor)} | ${r.fault ? x2(r.p50_over_healthy) : '-'} | ${r.fault ? x2(r.p99_over_healthy) : '-'} |`,
    );
  }
  lines.push('', `## Wait-freedom in numbers: one replica of three blackholed, p50 within ${ff.WAIT_FREE_TOLERANCE * 100}% of the floor`, '');
  const checked = rows.filter((r) => r.case === 'blackhole');
  const met = checked.filter((r) => ff.meetsWaitFreeTarget(r));
  const range = (xs: FaultFloorRow[], f: 'p50_over_floor' | 'p50_over_healthy') => {
    const v = xs.map((r) => Number(r[f])).filter((x) => Number.isFinite(x) && x > 0);
    return v.length ? `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}x` : '-';
  };
  lines.push(
    `${met.length} of ${checked.length} blackhole cells meet it. In this run: healthy cells at ${range(rows.filter((r) => r.case === 'healthy'), 'p50_over_floor')} their floor`,
    `(what the register and the harness cost beyond its rounds' calls), blackhole cells at`,
    `${range(checked, 'p50_over_floor')} their floor and ${range(checked, 'p50_over_healthy')} the healthy cell of the same key, delayed cells at`,
    `${range(rows.filter((r) => r.case === 'delay'), 'p50_over_healthy')} the healthy cell.`,
    '',
  );
  lines.push('| variant | op | blackholed | p50 ms | floor ms | p50/floor | met |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of checked) lines.push(`| ${r.variant} | ${r.op} | ${r.faulty_replica} | ${ms2(r.p50_ms)} | ${ms2(r.floor_ms)} | ${x2(r.p50_over_floor)} | ${ff.meetsWaitFreeTarget(r) ? 'yes' : 'no'} |`);
  if (failures.length) lines.push('', '## Failures', '', ...failures.map((f) => `- ${f}`));
  lines.push(
    '',
    '## Files',
    '',
    '- `faults.csv`: one row per register cell and operation, the full cell key (its `fault` field names the fault, empty when healthy), then `case`, `faulty_replica`, `count`, `errors`, `p50_ms`, `p99_ms`, `floor_ms` (the p50 of the cell\'s ideal operations), `floor_samples`, `rounds`, `p50_over_floor`, `p50_over_healthy`, `p99_over_healthy`, `floor_detail` (the p50 of each round), `call_floor_ms`, `p50_over_call_floor`, `call_floor_detail` (the sequential probe\'s sum, and which replica\'s latency makes each round).',
    '- `floor.csv`: every ideal operation beside a measured one: `run_id`, the cell key of the cell it is the floor of, `rep` (the repetition), `sample`, `ms`, `rounds_ms` (each round, `;`-separated).',
    '- `probe.csv`: the probes before and after the run (`run_id` ends in `-probe-before` / `-probe-after`), columns as `rkvs probe` writes them.',
    '- `run/`: the report directory of the bench run (latency.csv, requests.csv, overhead.csv, histograms; docs/report-format.md), with report.html and charts/ (left out of the repository: `npx rkvs report <dir>/run` renders them again).',
    '',
    `Made by \`npm run bench:faults${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\`. The faults: ${cases
      .filter((c) => c.fault)
      .map((c) => `\`${c.fault}\``)
      .join(', ')} (the same as \`rkvs bench --suite faults --fault '<spec>'\`; see docs/benchmarks.md).`,
    '',
  );
  return lines.join('\n');
}
