/**
 * A bench run, stage by stage: plan (run/plan.ts) → run (run/) → record (record/) → analyze
 * (analyze/) → report (report/). Data flows down the stages; each measurement is recorded as soon
 * as it is taken, and the report is written whatever happens (interrupt, failing configuration).
 */
import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { analyzeRun } from './analyze/checks.js';
import { baseMeta, suiteHash, type RunMeta } from './record/meta.js';
import { BenchResults } from './record/results.js';
import { createRunDir } from './record/run-dir.js';
import { finishReportDir, writeReport } from './report/files.js';
import { guardConfigurations, runPlan, type RunOutcome } from './run/orchestrate.js';
import { planRun, type RunOptions, type RunPlan } from './run/plan.js';

export interface BenchOptions extends RunOptions {
  /** Base directory of report directories. @default "reports" */
  outDir?: string;
  /** Command-line options, recorded in meta.json. */
  options?: Record<string, unknown>;
  now?: Date;
  /** Run id shared by the shards (also the key prefix `rkvs-bench/<runId>/`). @default <YYYYMMDD-HHMMSS>-<suite> */
  runId?: string;
  /** Run against buckets holding objects outside the prefix root (see guardConfiguration). */
  yes?: boolean;
  /** Write report.html, charts/ and cost.csv at the end. @default true */
  htmlAndCost?: boolean;
}

export interface BenchOutcome {
  runId: string;
  dir: string;
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
  await guardConfigurations(o);
  const dir = await createRunDir(o.outDir ?? 'reports', plan.dirName);
  const results = new BenchResults(plan.runId, o.suite.name);
  const meta = await startMeta(o, plan, start);
  const run = await runPlan(o, plan, (m) => results.add(m));
  results.failures.push(...run.failures);
  results.checks.push(...analyzeRun(results, run.checks, plan.counts));
  finishMeta(meta, run, results);
  // history times count from here (rkvs merge puts the shards' histories on one timeline)
  if (o.history) meta.history_epoch_ms = Math.round(run.historyEpochMs * 1000) / 1000;
  const files = await writeReport(dir, results, meta, { history: o.history });
  if (o.htmlAndCost !== false) files.push(...(await finishReportDir(dir, (line: string) => process.stderr.write(`${line}\n`))));
  if (run.crashed && !(run.crashed instanceof Error)) throw run.crashed;
  return { runId: plan.runId, dir, results, meta, files, interrupted: run.interrupted, failures: results.failures };
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
