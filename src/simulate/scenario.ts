/**
 * The scenario contract: a scenario file in benchmarks/sim/ exports one `Scenario` as default.
 * `rkvs simulate NAME` runs it, writes its report directory and prints its headline and checks.
 */
import type { LatencyModel } from './models.js';
import type { SimReport } from './report.js';

/** A replica line-up: names and latency models. */
export interface Lineup {
  names: string[];
  models: LatencyModel[];
}

export interface ScenarioContext {
  seed: number;
  /** Small sizes (tests, smoke runs): same shape, fewer cells and operations. */
  small: boolean;
  report: SimReport;
  /**
   * The n replicas to simulate: provider/region presets by default (heterogeneousCluster), or the
   * recorded latency models given on the command line (--histograms), cycled.
   */
  lineup(n: number): Lineup;
  /** Progress output (stderr). */
  log(message: string): void;
}

/** A claim the scenario checks (a bound from the paper, or "no errors"). */
export interface ScenarioCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** The measured value, in words and units (the report's checks table). */
  measured?: string;
  /** What it is held against. */
  bound?: string;
  /** One sentence on what it means for the reader. */
  meaning?: string;
}

export interface ScenarioResult {
  /** One to a few lines: the result worth quoting. */
  headline: string[];
  checks: ScenarioCheck[];
  /** Free-form numbers kept in meta.json (and returned to tests). */
  data?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  title: string;
  description: string;
  /** Whether the scenario runs in virtual time only, or also in real time. */
  clocks: Array<'virtual' | 'real'>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** Helper to build a check; `shown` gives the report its measured value, bound and meaning. */
export function check(name: string, ok: boolean, detail: string, shown: Pick<ScenarioCheck, 'measured' | 'bound' | 'meaning'> = {}): ScenarioCheck {
  return { name, ok, detail, ...shown };
}

/** What the scenarios' recurring checks mean, one sentence each (the report's checks table). */
export const CHECK_MEANING = {
  floor: 'No operation can beat the ideal one that does exactly its rounds on the same replicas; a p50 below that floor would mean the simulation skipped work.',
  noErrors: 'Every operation returned a result: the faults of the scenario stay within what the register tolerates.',
  quiescent: 'Once the writes have settled, each replica keeps the eternal key and the newest temporary key of a register, nothing more: garbage collection leaves no leak.',
  overlap:
    'At every moment a replica holds at most 2 copies more than the writes overlapping then (SPEC §6), temporary keys that land late (lingering puts) set aside; above the point-contention bound c + 2 is allowed.',
  staysAtFloor: 'Slow or crashed replicas within t do not slow the register down: its latency follows the q-th fastest replica, not the slowest.',
  realVsVirtual: 'The simulator agrees with the same workload run on real timers: its latencies can be trusted at scales that cannot be run for real.',
} as const;
