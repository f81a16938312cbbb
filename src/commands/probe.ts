/**
 * `rkvs probe [--config FILE] [--configs a,b]`: per replica, checks credentials and bucket access,
 * measures raw put/get/list/remove latency by value size and probes consistency; writes probe.csv
 * into a report directory and prints a table. Without --config: the local emulators.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { EXIT_INTERRUPTED, EXIT_USAGE, ExitCode } from '../exit-codes.js';
import { intFlagValue, LIMITS } from './flags.js';
import type { ProviderConfiguration } from '../bench/config/file.js';
import type { ProbeRow } from '../bench/run/probe.js';

interface ProbeFlags {
  config?: string;
  configs?: string;
  sizes: string;
  samples: string;
  trials: string;
  timeoutMs: string;
  out: string;
  dir?: string;
  yes?: boolean;
  overwrite?: boolean;
}

/** Bounds of probe's counts. */
const MAX_SAMPLES = 10_000;

/** Configurations named by --config/--configs, or the embedded emulators. */
export async function selectConfigurations(config: string | undefined, configs: string | undefined): Promise<ProviderConfiguration[]> {
  if (config === undefined && configs !== undefined) throw new ConfigError('--configs', 'needs --config FILE (the file that defines those configurations)');
  const { emulatorConfiguration, loadConfigurations, parseConfigNames } = await import('../bench/config/file.js');
  if (config === undefined) return [emulatorConfiguration()];
  return loadConfigurations(config, parseConfigNames(configs));
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description('check credentials and bucket access, measure raw call latency and probe consistency of every replica; writes probe.csv')
    .option('--config <file>', 'provider configurations file or preset name (default: the local emulators)')
    .option('--configs <a,b>', 'names of the configurations of --config to probe (default: all)')
    .option('--sizes <list>', 'value sizes of the latency probes, e.g. 1KiB,64KiB,1MiB', '1KiB,64KiB,1MiB')
    .option('--samples <n>', `calls per call type and value size, 1 to ${MAX_SAMPLES}`, '5')
    .option('--trials <n>', `trials per consistency probe, 0 to ${MAX_SAMPLES}`, '10')
    .option('--timeout-ms <ms>', `timeout of every call, 1 to ${LIMITS.timeoutMs}`, '30000')
    .option('--out <dir>', 'base directory of report directories', 'reports')
    .option('--dir <dir>', 'write probe.csv into exactly this directory (default: <out>/<YYYYMMDD-HHMMSS>-probe-<random>)')
    .option('--overwrite', 'replace a probe.csv already in --dir (default: refuse it)')
    .option('--yes', 'also probe buckets that hold objects outside the prefix root (probe only touches its own keys)')
    .action(async (flags: ProbeFlags) => {
      const { makeRunId, parseSize, probeConfiguration, probeTable, writeProbeCsv } = await import('../bench/run/probe.js');
      const sizes = flags.sizes.split(',').filter((s) => s.trim()).map((s) => parseSize(s));
      if (!sizes.length) throw new ConfigError('--sizes', 'give at least one size, e.g. --sizes 1KiB,1MiB');
      const samples = intFlagValue('--samples', flags.samples, 1, MAX_SAMPLES, 5);
      const trials = intFlagValue('--trials', flags.trials, 0, MAX_SAMPLES, 10);
      const timeoutMs = intFlagValue('--timeout-ms', flags.timeoutMs, 1, LIMITS.timeoutMs, 30000);
      if (flags.dir !== undefined && existsSync(path.join(flags.dir, 'probe.csv')) && !flags.overwrite)
        throw new ConfigError('--dir', `${path.join(flags.dir, 'probe.csv')} already exists; choose another --dir (or none: the default is unique), or give --overwrite to replace it`);
      const handles = await selectConfigurations(flags.config, flags.configs);
      const { missingVariablesError, requiredVariables, unsetVariables } = await import('../bench/config/open.js');
      // every unset variable of every replica, named at once at the end (exit 2, as bench)
      const missing = unsetVariables(handles.flatMap((h) => h.spec.replicas.flatMap((r, i) => requiredVariables(r, `configurations.${h.name}.replicas[${i}]`))));
      const runId = makeRunId('probe');
      const dir = flags.dir ?? path.join(flags.out, runId);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      const rows: ProbeRow[] = [];
      const problems: string[] = [];
      const log = (line: string) => {
        problems.push(line);
        process.stderr.write(`probe: ${line}\n`);
      };
      try {
        for (const h of handles) {
          process.stderr.write(`probe: ${h.name} (${h.spec.n} replicas)\n`);
          rows.push(...(await probeConfiguration(h, { runId, sizes, samples, consistencyTrials: trials, timeoutMs, yes: flags.yes, signal: ac.signal, log })));
        }
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        if (rows.length) {
          const file = await writeProbeCsv(dir, rows);
          process.stdout.write(`${probeTable(rows)}\n\nwrote ${file}\n`);
        }
      }
      if (ac.signal.aborted) throw new ExitCode(EXIT_INTERRUPTED, 'probe: interrupted');
      if (missing.length) throw new ExitCode(EXIT_USAGE, `rkvs: ${missingVariablesError(missing).message}`);
      // without --yes, a bucket holding foreign objects is skipped: a usage error, as in bench
      const foreign = rows.filter((r) => r.check === 'access' && r.anomalies > 0 && r.errors === 0 && r.count === 0);
      if (foreign.length)
        throw new ExitCode(
          EXIT_USAGE,
          `probe: --yes: ${foreign.map((r) => `${r.config}/${r.replica}`).join(', ')} hold${foreign.length === 1 ? 's' : ''} objects outside the prefix root and ${foreign.length === 1 ? 'was' : 'were'} not probed; use a dedicated bucket, or rerun with --yes (probe writes and removes only keys under its own prefix)`,
        );
      // a replica that could not be built (bad endpoint, bad field) is a configuration error, as in bench
      const unbuilt = rows.filter((r) => r.check === 'credentials' && r.errors > 0);
      if (unbuilt.length)
        throw new ExitCode(EXIT_USAGE, `probe: ${unbuilt.map((r) => `${r.config}/${r.replica}`).join(', ')}: the configuration is wrong (see the lines above); fix it and rerun`);
      const failed = rows.filter((r) => (r.check === 'credentials' || r.check === 'access') && (r.errors > 0 || r.anomalies > 0));
      // each with the first problem logged for it (what the replica did: a timeout on list, ...)
      const why = (r: ProbeRow) => problems.find((p) => p.startsWith(`${r.config}/${r.replica}: `))?.slice(`${r.config}/${r.replica}: `.length);
      if (failed.length)
        throw new ExitCode(1, `probe: ${failed.length} replica(s) not usable: ${failed.map((r) => `${r.config}/${r.replica} (${why(r) ?? r.check})`).join(', ')}`);
    });
}
