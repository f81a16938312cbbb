/**
 * `rkvs simulate SCENARIO [--seed N] [--out DIR] [--small]`: runs a simulation scenario from
 * benchmarks/sim/ (by name, or a path to a scenario file) and writes its report directory.
 * Exit codes: 0 all checks hold, 1 a check failed, 2 usage error.
 */
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { ConfigError } from '../errors.js';
import type { Scenario } from '../simulate/scenario.js';
import { importFile } from '../util/import-file.js';
import { intFlagValue, LIMITS } from './flags.js';

// The scenarios (and the simulator, its reports and charts) load in the action; the help names them
// from this list, which a test keeps equal to SCENARIOS of benchmarks/sim/index.ts.
export const SCENARIO_NAMES = ['space-vs-contention', 'latency-vs-n', 'stragglers-and-crashes', 'schedules-and-variants', 'many-clients'] as const;
const scenarios = () => import('../../benchmarks/sim/index.js');

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run a simulation scenario (benchmarks/sim/) in virtual time and write a report directory')
    .argument('[scenario]', `scenario name (${SCENARIO_NAMES.join(', ')}) or path to a scenario file`)
    .option('--seed <n>', 'seed of every random choice (same seed, same virtual-time results)', '1')
    .option('--out <dir>', 'report directory, new or empty (default reports/<YYYYMMDD-HHMMSS>-sim-<scenario>-<random>)')
    .option('--overwrite', 'replace a report directory --out that already holds files (default: refuse it)')
    .option('--small', 'small sizes: same shape, fewer cells and operations (smoke tests)')
    .option('--histograms <files>', 'comma-separated histograms.jsonl/.hgrm files recorded by rkvs bench or probe: replay them as the replicas\' latencies (cycled over replicas) (default: the provider presets)')
    .option('--list', 'list the scenarios and exit')
    .option('--no-html', 'do not write report.html')
    .action(async (name: string | undefined, opts: { seed: string; out?: string; overwrite?: boolean; small?: boolean; list?: boolean; html: boolean; histograms?: string }) => {
      if (opts.list || !name) {
        const { SCENARIOS } = await scenarios();
        for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(24)} ${s.description}\n`);
        if (!name && !opts.list) throw new ConfigError('scenario', 'missing; pass one of the names above, e.g. rkvs simulate space-vs-contention');
        return;
      }
      const seed = intFlagValue('--seed', opts.seed, 0, LIMITS.seed, 1);
      const scenario = await resolveScenario(name);
      const { loadRecordedModel, runScenario } = await import('../simulate/index.js');
      const log = (m: string) => process.stderr.write(`[${scenario.name}] ${m}\n`);
      log(`seed ${seed}${opts.small ? ', small sizes' : ''}`);
      const recorded = [];
      for (const file of (opts.histograms ?? '').split(',').map((f) => f.trim()).filter(Boolean))
        recorded.push({ name: basename(file).replace(/\.(jsonl|hgrm)$/, ''), model: await loadRecordedModel(file) });
      const res = await runScenario(scenario, { seed, small: opts.small, out: opts.out, overwrite: opts.overwrite, html: opts.html, log, recorded });
      const out = process.stdout;
      out.write(`\n${scenario.title} (seed ${seed}${opts.small ? ', --small' : ''}, ${res.wallSeconds.toFixed(1)} s wall)\n`);
      for (const h of res.headline) out.write(`  ${h}\n`);
      const failed = res.checks.filter((c) => !c.ok);
      out.write(`checks: ${res.checks.length - failed.length}/${res.checks.length} hold\n`);
      for (const c of failed) out.write(`  FAILED ${c.name}: ${c.detail}\n`);
      out.write(`report: ${res.dir}${res.html.ok ? ` (HTML: ${res.html.detail})` : ` (${res.html.detail})`}${res.cost.ok ? '' : ` (${res.cost.detail})`}\n`);
      if (failed.length > 0) throw new ExitCode(1, `${failed.length} check(s) failed; replay with: rkvs simulate ${name} --seed ${seed}${opts.small ? ' --small' : ''}`);
    });
}

async function resolveScenario(name: string): Promise<Scenario> {
  const looksLikePath = name.includes('/') || name.endsWith('.ts') || name.endsWith('.js');
  if (!looksLikePath) {
    if (!(SCENARIO_NAMES as readonly string[]).includes(name))
      throw new ConfigError('scenario', `unknown scenario "${name}"; known: ${SCENARIO_NAMES.join(', ')} (or pass a path to a scenario file)`);
    const known = (await scenarios()).findScenario(name);
    if (!known) throw new Error(`scenario ${name} is listed but not in benchmarks/sim/index.ts`);
    return known;
  }
  const file = resolve(name);
  if (!existsSync(file)) throw new ConfigError('scenario', `file ${file} does not exist`);
  const s = (await importFile(file, 'scenario')).default as Scenario | undefined;
  if (!s || typeof s.run !== 'function' || typeof s.name !== 'string')
    throw new ConfigError('scenario', `${file} must export a Scenario (name, title, description, clocks, run) as default`);
  return s;
}
