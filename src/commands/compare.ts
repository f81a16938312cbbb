/**
 * `rkvs compare BASELINE_DIR CURRENT_DIR`: the CI regression gate. Two model suite runs (exact.csv
 * on both sides) are compared exactly, at zero tolerance; other runs statistically, against
 * thresholds. Exit 0: no regression; 1: at least one regression; 2: usage or input error, no cell in
 * common included. `rkvs ab` ends with the same comparison (`runCompare`).
 */
import { appendFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import type { ThresholdFlags } from '../bench/analyze/thresholds.js';
import { ConfigError } from '../errors.js';
import { mkdirs } from '../util/fs.js';
import { intFlag, LIMITS } from './flags.js';

/** Bootstrap replicates per percentile, at most (they are held in memory). */
const MAX_RESAMPLES = 100_000;

export interface CompareFlags extends ThresholdFlags {
  resamples?: string;
  seed?: string;
  markdown?: string;
  out?: string;
  csv: boolean;
  quiet?: boolean;
}

/** What `runCompare` found; it has printed it, and thrown ExitCode(1) when something regressed. */
export interface CompareOutcome {
  mode: 'exact' | 'statistical';
  regressions: number;
}

/**
 * Compares two report directories as `rkvs compare` does and prints the result; throws a
 * ConfigError (exit 2) when the directories cannot be compared or have no cell in common, and
 * ExitCode(1) on a regression.
 */
export async function runCompare(baseline: string, current: string, flags: CompareFlags, names = { baseline: 'BASELINE', current: 'CURRENT' }): Promise<CompareOutcome> {
  const { compareExactDirs } = await import('../bench/analyze/exact.js');
  const exact = await compareExactDirs(baseline, current);
  if (exact.missing) {
    const [has, hasNot] = exact.missing === 'current' ? [`${names.baseline} ${baseline}`, `${names.current} ${current}`] : [`${names.current} ${current}`, `${names.baseline} ${baseline}`];
    throw new ConfigError(
      'compare',
      `${has} holds exact metrics (exact.csv, a model suite run) but ${hasNot} does not: compare two runs of the same suite (rkvs bench --suite model for the exact gate)`,
    );
  }
  if (exact.result) return exactGate(exact.result, current, flags, names);
  return statisticalGate(baseline, current, flags, names);
}

async function exactGate(result: import('../bench/analyze/exact.js').ExactCompareResult, current: string, flags: CompareFlags, names: { baseline: string; current: string }): Promise<CompareOutcome> {
  const { formatExactCompare, exactMarkdown, writeExactCompareCsv } = await import('../bench/report/exact.js');
  if (result.changes.length === 0)
    throw new ConfigError(
      'compare',
      `no cell of ${names.baseline} (suite ${result.baselineSuite}, ${result.baselineDir}) matches a cell of ${names.current} (suite ${result.currentSuite}, ${result.currentDir}): ` +
        'nothing was compared; compare two runs of the same suite (cells match on config, variant, schedule, op, value_bytes, clients, registers, workers, workload, mode, open_rate)',
    );
  if (!flags.quiet) process.stdout.write(`${await exactToleranceLine(result.baselineDir, flags)}\n`);
  process.stdout.write(formatExactCompare(result, { quiet: flags.quiet }));
  await writeOutputs(exactMarkdown(result), flags, current, (dir) => writeExactCompareCsv(result, dir));
  if (result.regressions > 0) throw new ExitCode(1, `rkvs compare: ${result.regressions} cell key(s) regressed in exact metrics (zero tolerance)`);
  return { mode: 'exact', regressions: 0 };
}

/**
 * What the exact gate tolerates (nothing) and which thresholds it leaves aside: a baseline's
 * thresholds.yaml and the threshold flags are for timing comparisons, so the output says they were
 * not used rather than letting a reader think they were.
 */
async function exactToleranceLine(baseline: string, flags: CompareFlags): Promise<string> {
  const [{ existsSync }, { join }, { BASELINE_THRESHOLDS_FILES }] = await Promise.all([import('node:fs'), import('node:path'), import('../bench/analyze/thresholds.js')]);
  const unused: string[] = [];
  if (flags.thresholds && flags.thresholds !== 'none') unused.push(`--thresholds ${flags.thresholds}`);
  else if (!flags.thresholds) {
    const found = BASELINE_THRESHOLDS_FILES.map((f) => join(baseline, f)).find((f) => existsSync(f));
    if (found) unused.push(found);
  }
  for (const [flag, v] of [['--threshold-p50', flags.thresholdP50], ['--threshold-p99', flags.thresholdP99], ['--threshold-throughput', flags.thresholdThroughput], ['--alpha', flags.alpha], ['--min-samples', flags.minSamples]] as const) if (v !== undefined) unused.push(flag);
  return `thresholds: zero tolerance (exact metrics: any increase is a regression)${unused.length ? `; not used here, they are for timing comparisons: ${unused.join(', ')}` : ''}`;
}

async function statisticalGate(baseline: string, current: string, flags: CompareFlags, names: { baseline: string; current: string }): Promise<CompareOutcome> {
  const [{ compareDirs }, { describeThresholds, resolveThresholds }, { formatCompareTable, writeCompareCsv }, { compareMarkdown }, { readMeta }] = await Promise.all([
    import('../bench/analyze/compare.js'),
    import('../bench/analyze/thresholds.js'),
    import('../bench/report/compare.js'),
    import('../bench/report/markdown.js'),
    import('../bench/record/read.js'),
  ]);
  // each bootstrap holds its replicates in memory: a bound keeps it within reach
  const resamples = intFlag('--resamples', flags.resamples, 1, MAX_RESAMPLES, 2000);
  const seed = intFlag('--seed', flags.seed, 1, LIMITS.seed, 42);
  const opts = await resolveThresholds(baseline, flags);
  if (resamples !== undefined) opts.resamples = resamples;
  if (seed !== undefined) opts.seed = seed;
  const result = await compareDirs(baseline, current, opts);
  if (result.cells.length === 0) {
    const [bm, cm] = await Promise.all([readMeta(baseline), readMeta(current)]);
    const suite = (m: Record<string, unknown> | null) => (typeof m?.suite === 'string' ? m.suite : 'unknown');
    throw new ConfigError(
      'compare',
      `no cell of ${names.baseline} (suite ${suite(bm)}, ${baseline}) matches a cell of ${names.current} (suite ${suite(cm)}, ${current}): ` +
        'nothing was compared; compare two runs of the same suite (cells match on config, variant, schedule, op, value_bytes, clients, registers, workers, workload, mode, open_rate)',
    );
  }
  const table = formatCompareTable(result);
  process.stdout.write(`${describeThresholds(opts)}\n\n`);
  if (flags.quiet) process.stdout.write(table.slice(table.indexOf('\n\n') + 2));
  else process.stdout.write(`${table}\n${(await import('../bench/report/side-by-side.js')).compareSideBySideText(result)}`);
  await writeOutputs(compareMarkdown(result), flags, current, (dir) => writeCompareCsv(result, dir));
  if (result.regressions > 0) throw new ExitCode(1, `rkvs compare: ${result.regressions} cell(s) regressed beyond the threshold (significant at alpha ${result.alpha})`);
  return { mode: 'statistical', regressions: 0 };
}

/** The Markdown (to --markdown, else $GITHUB_STEP_SUMMARY) and the CSV (into --out, else CURRENT). */
async function writeOutputs(md: string, flags: CompareFlags, current: string, writeCsv: (dir: string) => Promise<string>): Promise<void> {
  if (flags.markdown) {
    try {
      await writeFile(flags.markdown, md);
    } catch (e) {
      throw new ConfigError('--markdown', `cannot write ${flags.markdown}: ${(e as Error).message}`);
    }
  } else if (process.env.GITHUB_STEP_SUMMARY) {
    await appendFile(process.env.GITHUB_STEP_SUMMARY, md);
  }
  if (!flags.csv) return;
  const dir = flags.out ?? current;
  let file: string;
  try {
    await mkdirs(dir);
    file = await writeCsv(dir);
  } catch (e) {
    throw new ConfigError('--out', `cannot write the comparison CSV into ${dir}: ${(e as Error).message}`);
  }
  if (!flags.quiet) process.stdout.write(`wrote ${file}\n`);
}

/** The threshold and statistics options shared by `rkvs compare` and `rkvs ab`. */
export function addCompareOptions(cmd: Command): Command {
  return cmd
    .option('--thresholds <file|none>', 'JSON or YAML file: {p50, p99, throughput, alpha, minSamples, overrides}; flags override it; none: the defaults below (default: BASELINE/thresholds.yaml when present, else the defaults)')
    .option('--threshold-p50 <pct>', 'largest tolerated p50 latency increase (default 10%)')
    .option('--threshold-p99 <pct>', 'largest tolerated p99 latency increase (default 20%)')
    .option('--threshold-throughput <pct>', 'largest tolerated throughput decrease (default 10%)')
    .option('--alpha <a>', 'significance level of every test and interval (default 0.05)')
    .option('--min-samples <n>', 'fewest ok samples per side to judge a cell (default 30; p99 also needs 500)')
    .option('--resamples <n>', `bootstrap replicates per percentile, 1 to ${MAX_RESAMPLES} (default 2000)`)
    .option('--seed <n>', 'seed of the bootstrap (default 1)')
    .option('--markdown <file>', 'also write the comparison as Markdown (default: appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--no-csv', 'do not write compare.csv (compare-exact.csv for exact metrics)')
    .option('-q, --quiet', 'print only the summary line, regressions and warnings');
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('compare two bench reports cell by cell: exact metrics at zero tolerance (model suite), others against thresholds; exit 1 on a regression, 2 when nothing matched')
    .argument('<baseline>', 'baseline report directory (e.g. reports/baseline)')
    .argument('<current>', 'current report directory (e.g. reports/<run-id>)');
  addCompareOptions(cmd)
    .option('--out <dir>', 'directory for compare.csv (default: the current report directory)')
    .action(async (baseline: string, current: string, flags: CompareFlags) => {
      await runCompare(baseline, current, flags);
    });
}
