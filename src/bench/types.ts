/**
 * Types shared by the harness modules: the bench runner, provider configurations, probes,
 * compare/report and the multi-process/shard merge.
 */
import type { Store } from '../store.js';

/** A configuration's replicas, opened for one run. */
export interface OpenedConfiguration {
  /** The n replicas, in order. */
  replicas: Store[];
  /** Tolerated faults t (default floor((n-1)/2)). */
  t?: number;
  /** Releases the replicas (and stops emulators this configuration started). */
  close(): Promise<void>;
}

/** A named provider configuration the harness can run against. */
export interface ConfigurationHandle {
  /** Name as it appears in the `config` column of every report. */
  readonly name: string;
  /** JSON-safe description with every secret redacted, written into meta.json. */
  describe(): Record<string, unknown>;
  /**
   * Opens the replicas; every key the run writes lives under `prefix` (unique per run),
   * so the run can clean up after itself and never touches other objects.
   */
  open(opts: { prefix: string; signal?: AbortSignal }): Promise<OpenedConfiguration>;
}
