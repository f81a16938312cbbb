/**
 * Types shared by the harness modules: the bench runner, provider configurations, probes,
 * compare/report and the multi-process/shard merge.
 */
import type { Store } from '../../store.js';

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
   * so the run can clean up after itself and never touches other objects. With `route`, the
   * replicas it names reach their endpoint through another address (`rkvs bench --fault`).
   */
  open(opts: { prefix: string; signal?: AbortSignal; route?: EndpointRoute }): Promise<OpenedConfiguration>;
  /**
   * How another process (a `--workers` worker) builds the same configuration. Handles without it
   * can only be run in one process.
   */
  readonly origin?: ConfigurationOrigin;
}

/**
 * Puts a replica's endpoint behind another address (the fault proxy of `rkvs bench --fault`): called
 * with the replica's index and its plain-HTTP endpoint URL, returns the URL to use instead, or
 * undefined to leave the replica as it is.
 */
export type EndpointRoute = (replica: number, endpoint: string) => Promise<string | undefined>;

/** A JSON description from which `configurationFromOrigin` rebuilds a configuration handle. */
export type ConfigurationOrigin =
  | { kind: 'memory'; name?: string; n?: number; t?: number; delayMs?: number }
  | { kind: 'emulators'; name?: string; kinds?: ('s3' | 'azure' | 'gcs' | 'swift-s3')[]; bucket?: string }
  | { kind: 'file'; file: string; name: string };

/**
 * Where a configuration's replicas live: `process` when every process that opens it gets replicas
 * of its own (memory, embedded emulators started by the opener), `shared` when every process that
 * opens it reaches the same objects (buckets, containers, a directory, a server already running).
 */
export type ReplicaScope = 'process' | 'shared';
