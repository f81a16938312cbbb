/**
 * A bench run, stage by stage: plan (run/plan.ts) → run (run/) → record (record/) → analyze
 * (analyze/) → report (report/). Data flows down the stages; each measurement is recorded as soon
 * as it is taken, and the report is written whatever happens (interrupt, failing configuration).
 */
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { ConfigError } from '../errors.js';
import { analyzeRun } from './analyze/checks.js';
import { baseMeta, suiteHash, type RunMeta } from './record/meta.js';
import { BenchResults } from './record/results.js';
import { prepareRunDir } from './record/run-dir.js';
import { finishReportDir, writeReport } from './report/files.js';
import { checkRunPrefixes, guardConfigurations, runPlan, type RunOutcome } from './run/orchestrate.js';
import { planRun, type RunOptions, type RunPlan } from './run/plan.js';

export interface BenchOptions extends RunOptions {
  /** Base directory of report directories. @default "reports" */
  outDir?: string;
  /** Command-line options, recorded in meta.json. */
  options?: Record<string, unknown>;
  now?: Date;
  /**
   * Run id shared by the shards: names the report directory and the key prefix
   * `<prefixRoot>bench/<runId>/`. @default <YYYYMMDD-HHMMSS>-<suite>-<6 random characters>
   */
  runId?: string;
  /** Run against buckets holding objects outside the prefix root (see guardConfiguration). */
  yes?: boolean;
  /** Replace an existing report directory of the same name wholly. */
  overwrite?: boolean;
  /** Allow writing a baseline directory (named baseline, or holding .rkvs-baseline). */
  updateBaseline?: boolean;
  /** Write report.html, charts/ and cost.csv at the end. @default true */
  htmlAndCost?: boolean;
}

export interface BenchOutcome {
  runId: string;
  /** The report directory (absent from disk when `written` is false). */
  dir: string;
  /** False when the run was interrupted before anything was measured: no directory was written. */
  written: boolean;
  results: BenchResults;
  meta: RunMeta;
  files: string[];
  interrupted: boolean;
  failures: string[];
}

export async function runBench(o: BenchOptions): Promise<BenchOutcome> {
  // every replica call of every client listens to the run's signal
  if (o.signal) setMaxListeners(0, o.signal);
  const start = o.now ?? new Date();
  const plan = planRun({ ...o, now: start });
  const target = await prepareRunDir(o.outDir ?? 'reports', plan.dirName, {
    overwrite: o.overwrite,
    updateBaseline: o.updateBaseline,
    flag: plan.generatedId ? '--out' : '--run-id',
  });
  try {
    await guardConfigurations(o);
    await checkRunPrefixes(o, plan);
  } catch (e) {
    target.discard();
    throw e;
  }
  const results = new BenchResults(plan.runId, o.suite.name);
  const meta = await startMeta(o, plan, start);
  let measured = 0;
  const run = await runPlan(o, plan, (m) => {
    measured++;
    results.add(m);
  });
  const outcome = { runId: plan.runId, dir: target.dir, results, meta, interrupted: run.interrupted };
  if (measured === 0 && (run.interrupted || run.crashed instanceof ConfigError)) {
    // nothing measured: no report rather than an empty one (an interrupt during emulator start,
    // a run prefix held by another run)
    target.discard();
    if (run.crashed instanceof ConfigError) throw run.crashed;
    return { ...outcome, written: false, files: [], failures: run.failures };
  }
  results.failures.push(...run.failures);
  results.checks.push(...analyzeRun(results, run.checks, plan.counts));
  finishMeta(meta, run, results);
  // history times count from here (rkvs merge puts the shards' histories on one timeline)
  if (o.history) meta.history_epoch_ms = Math.round(run.historyEpochMs * 1000) / 1000;
  let files: string[];
  try {
    // meta.json is written last, then the staging directory moves into place whole
    files = await writeReport(target.staging, results, meta, { history: o.history });
    await target.commit();
  } catch (e) {
    if (!(e instanceof Error && e.message.includes(target.staging))) target.discard();
    throw e;
  }
  if (o.htmlAndCost !== false) files.push(...(await finishReportDir(target.dir, (line: string) => process.stderr.write(`${line}\n`))));
  if (run.crashed && !(run.crashed instanceof Error)) throw run.crashed;
  return { ...outcome, written: true, files, failures: results.failures };
}

/** meta.json as known before the run: what runs, where, with which code and seeds. */
async function startMeta(o: BenchOptions, plan: RunPlan, start: Date): Promise<RunMeta> {
  const meta = await baseMeta(plan.runId, o.suite.name, start);
  meta.suite_hash = suiteHash(o.suite);
  meta.host = os.hostname();
  meta.seeds = { suite: plan.seed };
  meta.options = { ...(o.options ?? {}) };
  meta.configurations = o.configurations.map((c) => c.describe());
  meta.workers = plan.counts.length === 1 ? plan.counts[0] : plan.counts;
  meta.run_prefixes = Object.fromEntries(o.configurations.map((c) => [c.name, plan.prefixOf(c)]));
  if (plan.shard) meta.shard = { index: plan.shard.index, count: plan.shard.count };
  return meta;
}

/** meta.json completed after the run: end time, interruption, failures, notes and checks. */
function finishMeta(meta: RunMeta, run: RunOutcome, results: BenchResults): void {
  meta.end = new Date().toISOString();
  if (run.interrupted) meta.interrupted = true;
  if (results.failures.length) meta.failures = results.failures;
  if (run.notes.length) meta.notes = run.notes;
  if (run.clocks.length) meta.clock_offsets = run.clocks;
  meta.checks = results.checks;
}
