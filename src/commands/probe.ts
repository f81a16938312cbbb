/**
 * `rkvs probe [--config FILE] [--configs a,b]`: per replica, checks credentials and bucket access,
 * measures raw put/get/list/remove latency by value size and probes consistency; writes probe.csv
 * into a report directory and prints a table. Without --config: the local emulators.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
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
}

export function intFlag(flag: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ConfigError(flag, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

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
    .option('--samples <n>', 'calls per call type and value size', '5')
    .option('--trials <n>', 'trials per consistency probe', '10')
    .option('--timeout-ms <ms>', 'timeout of every call', '30000')
    .option('--out <dir>', 'base directory of report directories', 'reports')
    .option('--dir <dir>', 'write probe.csv into exactly this directory (default: <out>/<timestamp>-probe)')
    .option('--yes', 'also probe buckets that hold objects outside the rkvs- prefix (probe only touches its own keys)')
    .action(async (flags: ProbeFlags) => {
      const { makeRunId, parseSize, probeConfiguration, probeTable, writeProbeCsv } = await import('../bench/run/probe.js');
      const sizes = flags.sizes.split(',').filter((s) => s.trim()).map((s) => parseSize(s));
      if (!sizes.length) throw new ConfigError('--sizes', 'give at least one size, e.g. --sizes 1KiB,1MiB');
      const samples = intFlag('--samples', flags.samples, 1, 10_000);
      const trials = intFlag('--trials', flags.trials, 0, 10_000);
      const timeoutMs = intFlag('--timeout-ms', flags.timeoutMs, 1);
      const handles = await selectConfigurations(flags.config, flags.configs);
      const runId = makeRunId('probe');
      const dir = flags.dir ?? path.join(flags.out, runId);
      const ac = new AbortController();
      const onSigint = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSigint);
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
        if (rows.length) {
          const file = await writeProbeCsv(dir, rows);
          process.stdout.write(`${probeTable(rows)}\n\nwrote ${file}\n`);
        }
      }
      const failed = rows.filter((r) => (r.check === 'credentials' || r.check === 'access') && (r.errors > 0 || r.anomalies > 0));
      // each with the first problem logged for it (what the replica did: a timeout on list, ...)
      const why = (r: ProbeRow) => problems.find((p) => p.startsWith(`${r.config}/${r.replica}: `))?.slice(`${r.config}/${r.replica}: `.length);
      if (failed.length)
        throw new ExitCode(1, `probe: ${failed.length} replica(s) not usable: ${failed.map((r) => `${r.config}/${r.replica} (${why(r) ?? r.check})`).join(', ')}`);
    });
}
