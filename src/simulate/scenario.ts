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

/** Helper to build a check. */
export function check(name: string, ok: boolean, detail: string): ScenarioCheck {
  return { name, ok, detail };
}
