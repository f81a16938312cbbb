/**
 * Configurations the harness builds itself: memory replicas (optionally with a fixed delay per call),
 * and thin links to src/bench/config.ts (the embedded emulator default and configuration files).
 */
import { createMemoryStore } from '../../adapters/memory.js';
import { ConfigError } from '../../errors.js';
import type { Store } from '../../store.js';
import { emulatorConfiguration, loadConfigurations } from './file.js';
import { DelayedStore } from './stores.js';
import { isProviderConfiguration } from './file.js';
import type { ConfigurationHandle, ConfigurationOrigin, ReplicaScope } from './types.js';

export interface MemoryConfigurationOptions {
  /** @default "memory" */
  name?: string;
  /** @default 3 */
  n?: number;
  /** @default floor((n-1)/2) */
  t?: number;
  /** Fixed delay added to every call, ms. @default 0 */
  delayMs?: number;
}

/** n in-process memory replicas, each behind a fixed per-call delay when `delayMs > 0`. */
export function memoryConfiguration(o: MemoryConfigurationOptions = {}): ConfigurationHandle {
  const n = o.n ?? 3;
  const delayMs = o.delayMs ?? 0;
  const name = o.name ?? 'memory';
  return {
    name,
    origin: { kind: 'memory', name, n, ...(o.t !== undefined ? { t: o.t } : {}), delayMs },
    describe: () => ({ name, kind: 'memory', n, t: o.t ?? Math.floor((n - 1) / 2), delayMs }),
    async open() {
      const replicas: Store[] = Array.from({ length: n }, (_, i) => {
        const m = createMemoryStore({ name: `mem${i}` });
        return delayMs > 0 ? new DelayedStore(m, delayMs) : m;
      });
      return {
        replicas,
        t: o.t ?? Math.floor((n - 1) / 2),
        close: async () => {
          await Promise.all(replicas.map((r) => r.close()));
        },
      };
    },
  };
}

/**
 * The replicas of a model suite: the deterministic simulator's (run/model.ts), in virtual time,
 * every call taking `delayMs`. Described in meta.json; never opened as stores.
 */
export function modelConfiguration(o: { n?: number; t?: number; delayMs?: number } = {}): ConfigurationHandle {
  const n = o.n ?? 3;
  const t = o.t ?? Math.floor((n - 1) / 2);
  const delayMs = o.delayMs ?? 10;
  return {
    name: 'model',
    // the simulated replicas live in memory: priced as local storage (free)
    describe: () => ({ name: 'model', kind: 'simulator', clock: 'virtual', n, t, delayMs, effectFraction: 0.5, replicas: Array.from({ length: n }, (_, i) => ({ name: `r${i}`, provider: 'memory', simulated: true })) }),
    open: () => Promise.reject(new ConfigError('model', 'the model configuration is the deterministic simulator of a model suite; it is not opened as stores')),
  };
}

/** The embedded default: the three local emulators (S3, Azure, GCS; n = 3, t = 1), started on open. */
export async function defaultEmulatorConfiguration(): Promise<ConfigurationHandle> {
  return emulatorConfiguration();
}

/** Configurations from a file (see docs/configurations.md). */
export async function configurationsFromFile(file: string, names?: string[]): Promise<ConfigurationHandle[]> {
  return loadConfigurations(file, names);
}

/** Rebuilds a configuration handle from its origin (in a worker process). */
export async function configurationFromOrigin(origin: ConfigurationOrigin): Promise<ConfigurationHandle> {
  switch (origin.kind) {
    case 'memory':
      return memoryConfiguration(origin);
    case 'emulators':
      return emulatorConfiguration(origin);
    case 'file': {
      const [h] = await loadConfigurations(origin.file, [origin.name]);
      return h as ConfigurationHandle;
    }
  }
}

/**
 * `shared` when every process opening the handle reaches the same objects (so shards and workers
 * can contend on the same registers), `process` when each opener gets replicas of its own.
 */
export function replicaScope(h: ConfigurationHandle): ReplicaScope {
  if (isProviderConfiguration(h)) return h.ephemeral ? 'process' : 'shared';
  return 'process';
}
