/**
 * Simulations across scales: run a scenario (benchmarks/sim/) on simulated replicas in virtual time
 * and write its report directory in the bench format.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeRunId } from '../bench/run/plan.js';
import { ConfigError } from '../errors.js';
import os from 'node:os';
import { SimReport, tryCostCsv, tryHtmlReport } from './report.js';
import type { LatencyModel } from './models.js';
import { heterogeneousCluster } from './presets.js';
import type { Lineup, Scenario, ScenarioResult } from './scenario.js';

export { VirtualClock, RealClock, SimulationStalledError, type Clock } from './clock.js';
export { SimReplica, type ReplicaFaults, type ReplicaCounters } from './replica.js';
export { Cluster, createClients, runWorkload, type ClusterSpec, type WorkloadOptions, type WorkloadResult } from './run.js';
export {
  PROVIDER_MODELS,
  providerModel,
  loadRecordedModel,
  parseHgrm,
  sampleDistribution,
  scaleModel,
  type Distribution,
  type LatencyModel,
} from './models.js';
export { latencyFloor, commonCaseRoundsOf } from './floor.js';
export { SimReport, percentile } from './report.js';
export type { Scenario, ScenarioContext, ScenarioResult, ScenarioCheck, Lineup } from './scenario.js';
export { heterogeneousCluster, PROVIDER_ORDER } from './presets.js';

export interface RunScenarioOptions {
  seed?: number;
  small?: boolean;
  /**
   * Report directory; default `reports/<YYYYMMDD-HHMMSS>-sim-<name>-<random>`. An existing directory
   * that holds anything is refused (ConfigError on `--out`) unless `overwrite`.
   */
  out?: string;
  /** Replace a non-empty `out` wholly. */
  overwrite?: boolean;
  /** Write report.html when the HTML report module is present. @default true */
  html?: boolean;
  log?: (message: string) => void;
  toolVersion?: string;
  /** Recorded latency models to use for the replicas instead of the presets (cycled over replicas). */
  recorded?: Array<{ name: string; model: LatencyModel }>;
}

export interface RunScenarioResult extends ScenarioResult {
  dir: string;
  runId: string;
  wallSeconds: number;
  html: { ok: boolean; detail: string };
  cost: { ok: boolean; detail: string };
}

/** `20261123-121500` in UTC. */
export function runStamp(d = new Date()): string {
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** Runs one scenario and writes its report directory. */
export async function runScenario(scenario: Scenario, opts: RunScenarioOptions = {}): Promise<RunScenarioResult> {
  const seed = opts.seed ?? 1;
  const small = opts.small ?? false;
  const start = new Date();
  const suite = `sim-${scenario.name}${small ? '-small' : ''}`;
  const runId = makeRunId(suite, start);
  const dir = opts.out ?? join('reports', runId);
  checkOutDir(dir, opts.overwrite ?? false);
  const report = new SimReport(runId, suite);
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const recorded = opts.recorded ?? [];
  const lineup = (n: number): Lineup => {
    if (recorded.length === 0) return heterogeneousCluster(n);
    const names: string[] = [];
    const models: LatencyModel[] = [];
    for (let i = 0; i < n; i++) {
      const r = recorded[i % recorded.length];
      names.push(i < recorded.length ? r.name : `${r.name}#${Math.floor(i / recorded.length) + 1}`);
      models.push(r.model);
    }
    return { names, models };
  };
  const result = await scenario.run({ seed, small, report, log, lineup });
  const wallSeconds = (performance.now() - t0) / 1000;
  checkOutDir(dir, opts.overwrite ?? false); // again: it may have appeared while the scenario ran
  if (opts.overwrite) await rm(dir, { recursive: true, force: true });
  await report.write(dir, {
    tool_version: opts.toolVersion ?? '0.1.0',
    git_commit: null,
    node: process.version,
    os: `${os.platform()} ${os.release()}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    start: start.toISOString(),
    end: new Date().toISOString(),
    seeds: [seed],
    configurations: { scenario: scenario.name, title: scenario.title, description: scenario.description, clocks: scenario.clocks },
    options: { small, seed, recorded: recorded.map((r) => ({ name: r.name, source: r.model.source })) },
    simulation: { headline: result.headline, checks: result.checks, wall_seconds: wallSeconds, data: result.data ?? {} },
  });
  const cost = await tryCostCsv(dir);
  const html = opts.html === false ? { ok: false, detail: 'disabled' } : await tryHtmlReport(dir);
  return { ...result, dir, runId, wallSeconds, html, cost };
}

/**
 * A simulation never writes into a report directory that holds anything (its files would mix with
 * those already there): an existing non-empty `dir` is refused unless `overwrite`, which replaces it.
 */
function checkOutDir(dir: string, overwrite: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new ConfigError('--out', `${dir} exists and is not a directory; choose another --out`);
  if (readdirSync(dir).length > 0 && !overwrite)
    throw new ConfigError(
      '--out',
      `${dir} already exists and is not empty: a simulation never writes into an existing report (its files would mix with those there); choose another --out (or none: the default is unique), or give --overwrite to replace it wholly`,
    );
}
