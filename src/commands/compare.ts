/**
 * `rkvs compare BASELINE_DIR CURRENT_DIR`: the CI performance-regression gate.
 * Exit 0: no regression; 1: at least one metric regressed beyond its threshold and significantly;
 * 2: usage or input error.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import type { CompareOptions } from '../bench/analyze/compare.js';
import { ConfigError } from '../errors.js';
import { mkdirs } from '../util/fs.js';

interface CompareFlags {
  thresholds?: string;
  thresholdP50?: string;
  thresholdP99?: string;
  thresholdThroughput?: string;
  alpha?: string;
  minSamples?: string;
  resamples?: string;
  seed?: string;
  markdown?: string;
  out?: string;
  csv: boolean;
  quiet?: boolean;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two bench reports cell by cell; exit 1 when a metric regressed beyond its threshold and significantly')
    .argument('<baseline>', 'baseline report directory (e.g. reports/baseline)')
    .argument('<current>', 'current report directory (e.g. reports/<run-id>)')
    .option('--thresholds <file>', 'JSON or YAML file: {p50, p99, throughput, alpha, minSamples, overrides}; flags override it (default: none, the defaults below)')
    .option('--threshold-p50 <pct>', 'largest tolerated p50 latency increase (default 10%)')
    .option('--threshold-p99 <pct>', 'largest tolerated p99 latency increase (default 20%)')
    .option('--threshold-throughput <pct>', 'largest tolerated throughput decrease (default 10%)')
    .option('--alpha <a>', 'significance level (default 0.05)')
    .option('--min-samples <n>', 'fewest ok samples per side to judge a cell (default 30)')
    .option('--resamples <n>', 'bootstrap replicates per percentile (default 2000)')
    .option('--seed <n>', 'seed of the bootstrap (default 1)')
    .option('--markdown <file>', 'also write the comparison as a Markdown table (default: appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--out <dir>', 'directory for compare.csv (default: the current report directory)')
    .option('--no-csv', 'do not write compare.csv')
    .option('-q, --quiet', 'print only the summary line and warnings')
    .action(async (baseline: string, current: string, flags: CompareFlags) => {
      const [{ compareDirs }, { checkAlpha, checkPositiveInt, loadThresholdsFile, parseThreshold }, { formatCompareTable, writeCompareCsv }, { compareMarkdown }] =
        await Promise.all([import('../bench/analyze/compare.js'), import('../bench/analyze/thresholds.js'), import('../bench/report/compare.js'), import('../bench/report/markdown.js')]);
      const opts: CompareOptions = flags.thresholds ? await loadThresholdsFile(flags.thresholds) : {};
      const thresholds = { ...opts.thresholds };
      if (flags.thresholdP50 !== undefined) thresholds.p50 = parseThreshold(flags.thresholdP50, '--threshold-p50');
      if (flags.thresholdP99 !== undefined) thresholds.p99 = parseThreshold(flags.thresholdP99, '--threshold-p99');
      if (flags.thresholdThroughput !== undefined) thresholds.throughput = parseThreshold(flags.thresholdThroughput, '--threshold-throughput');
      opts.thresholds = thresholds;
      if (flags.alpha !== undefined) opts.alpha = checkAlpha(flags.alpha, '--alpha');
      if (flags.minSamples !== undefined) opts.minSamples = checkPositiveInt(flags.minSamples, '--min-samples');
      if (flags.resamples !== undefined) opts.resamples = checkPositiveInt(flags.resamples, '--resamples');
      if (flags.seed !== undefined) opts.seed = checkPositiveInt(flags.seed, '--seed');

      const result = await compareDirs(baseline, current, opts);
      const table = formatCompareTable(result);
      if (flags.quiet) process.stdout.write(table.slice(table.indexOf('\n\n') + 2));
      else process.stdout.write(`${table}\n${(await import('../bench/report/side-by-side.js')).compareSideBySideText(result)}`);

      const md = compareMarkdown(result);
      if (flags.markdown) {
        try {
          await writeFile(flags.markdown, md);
        } catch (e) {
          throw new ConfigError('--markdown', `cannot write ${flags.markdown}: ${(e as Error).message}`);
        }
      } else if (process.env.GITHUB_STEP_SUMMARY) {
        await appendFile(process.env.GITHUB_STEP_SUMMARY, md);
      }
      if (flags.csv) {
        const dir = flags.out ?? current;
        try {
          await mkdirs(dir);
          const file = await writeCompareCsv(result, dir);
          if (!flags.quiet) process.stdout.write(`wrote ${file}\n`);
        } catch (e) {
          throw new ConfigError('--out', `cannot write compare.csv into ${dir}: ${(e as Error).message}`);
        }
      }
      if (result.regressions > 0) {
        throw new ExitCode(1, `rkvs compare: ${result.regressions} cell(s) regressed beyond the threshold (significant at alpha ${result.alpha})`);
      }
    });
}
