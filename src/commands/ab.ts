/**
 * `rkvs ab BASE_REF [HEAD_REF]`: A/B on the same runner in one run. Checks BASE_REF out in a
 * temporary git worktree (HEAD_REF too when given; otherwise HEAD and the working tree as they
 * are), runs both versions' suites interleaved round by round on the same emulators, pools each
 * version's rounds and compares them with `rkvs compare`'s statistics (exact metrics for a model
 * suite). Exit 0: no regression; 1: a regression (or a version's bench failed); 2: usage error.
 */
import { setMaxListeners } from 'node:events';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { addCompareOptions, type CompareFlags } from './compare.js';

interface AbFlags extends CompareFlags {
  suite: string;
  config?: string;
  configs?: string;
  rounds: string;
  benchSeed?: string;
  out: string;
  build?: boolean;
  keepWorktrees?: boolean;
}

function wholeNumber(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new ConfigError(flag, `expected a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function registerAb(program: Command): void {
  const cmd = program
    .command('ab')
    .description('A/B on this machine in one run: check BASE_REF out in a temporary worktree, run both versions\' suites interleaved on the same emulators, compare them; exit 1 on a regression')
    .argument('<base-ref>', 'the version to compare against (branch, tag or commit, e.g. origin/main)')
    .argument('[head-ref]', 'the version under test (default: HEAD and the working tree as they are, uncommitted changes included)')
    .option('--suite <name|file>', 'suite both versions run (loaded from this checkout, given to both as a file)', 'default')
    .option('--rounds <n>', 'rounds; each runs both versions once, in alternating order (ABBA...)', '4')
    .option('--config <file>', "configurations file both versions run on (default: the suite's; for the emulators, started once and shared)")
    .option('--configs <a,b>', 'names of the configurations of --config to run (default: all)')
    .option('--bench-seed <n>', "seed of round 1 of both versions; round r uses seed + r - 1 (default: the suite's)")
    .option('--out <dir>', 'base directory of the A/B directory <YYYYMMDD-HHMMSS>-ab/', 'reports')
    .option('--build', 'compile each checked-out version (npm run build) instead of running its TypeScript sources')
    .option('--keep-worktrees', 'leave the temporary worktrees in place after the run');
  addCompareOptions(cmd).action(async (baseRef: string, headRef: string | undefined, flags: AbFlags) => {
    const rounds = wholeNumber('--rounds', flags.rounds, 1);
    const seed = flags.benchSeed === undefined ? undefined : wholeNumber('--bench-seed', flags.benchSeed, 0);
    if (flags.configs && !flags.config) throw new ConfigError('--configs', 'needs --config FILE (the file the names come from)');
    const [{ loadSuite }, { runAb }, { runCompare }] = await Promise.all([import('../bench/config/suite.js'), import('../bench/ab.js'), import('./compare.js')]);
    const suite = await loadSuite(flags.suite);
    if (suite.kind === 'model' && flags.config) throw new ConfigError('--config', `suite ${suite.name} is a model suite (the deterministic simulator): drop --config`);
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    const onSignal = () => {
      process.stderr.write('\ninterrupted: stopping the round in progress and removing the worktrees\n');
      ac.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let outcome;
    try {
      outcome = await runAb({
        cwd: process.cwd(),
        baseRef,
        headRef,
        suite,
        config: flags.config,
        configs: flags.configs,
        rounds,
        seed,
        out: flags.out,
        build: flags.build,
        keep: flags.keepWorktrees,
        signal: ac.signal,
        say: (line) => process.stderr.write(`ab: ${line}\n`),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
    const slow = outcome.invocations.reduce((a, i) => a + i.seconds, 0);
    process.stdout.write(
      `ab: ${rounds} round(s) of suite ${suite.name}, ${slow.toFixed(0)} s of runs; base ${outcome.base.ref} (${outcome.base.commit.slice(0, 12)}) vs head ${outcome.head.ref} (${outcome.head.commit.slice(0, 12)}${outcome.head.dirty ? ' + uncommitted changes' : ''}); reports in ${outcome.dir}\n\n`,
    );
    await runCompare(outcome.baseDir, outcome.headDir, { ...flags, out: outcome.dir }, { baseline: `BASE (${baseRef})`, current: `HEAD (${headRef ?? 'working tree'})` });
  });
}
