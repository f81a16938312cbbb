/**
 * Turns a validated replica spec into a Store: reads credentials from the environment variables the
 * spec names, builds the provider adapter, and starts/stops the embedded emulators a configuration
 * refers to. Kept apart from config.ts so the file format and the adapters evolve separately.
 */
import { ConfigError } from '../../errors.js';
import type { Store } from '../../store.js';
import { createMemoryStore } from '../../adapters/memory.js';
import { createFsStore } from '../../adapters/fs.js';
import { latency, type LatencyOptions } from '../../layers/latency.js';
import { prefixed } from '../../layers/prefix.js';
import type { AzureBlobStoreOptions } from '../../adapters/azure-blob.js';
import type { EmulatorKind, RunningEmulator, RunningEmulators } from '../../emulators/index.js';
import type { LatencyModelSpec, ReplicaSpec } from './schema.js';

export type { EmulatorKind } from '../../emulators/index.js';

// Provider SDKs and emulators are imported lazily (dynamic import), so that loading a configuration
// file (validation, describe(), presets) never pulls them in.

/**
 * Emulators started once for a whole run and used by every configuration opened in this process
 * (and, through `attachEmulators` in each worker, by the `--workers` processes): a configuration
 * whose emulator kinds are all here connects to them instead of starting its own.
 */
const attached = new Map<EmulatorKind, RunningEmulator>();

/** What a worker needs to reach an emulator another process started (JSON-safe). */
export interface EmulatorEndpoint {
  kind: EmulatorKind;
  server: RunningEmulator['server'];
  port: number;
  pid: number;
  dataDir: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  projectId?: string;
}

/** Starts the given emulator kinds once and makes every later open() in this process use them. */
export async function startSharedEmulators(kinds: EmulatorKind[], signal?: AbortSignal): Promise<{ endpoints: EmulatorEndpoint[]; stop(): Promise<void> }> {
  const mod = await import('../../emulators/index.js');
  const missing = [...new Set(kinds)].filter((k) => !attached.has(k));
  const running = missing.length ? await mod.startEmulators(missing, { signal }) : undefined;
  for (const e of running?.all ?? []) attached.set(e.kind, e);
  return {
    endpoints: [...attached.values()].map(endpointOfEmulator),
    stop: async () => {
      for (const e of running?.all ?? []) attached.delete(e.kind);
      await running?.stop();
    },
  };
}

function endpointOfEmulator(e: RunningEmulator): EmulatorEndpoint {
  return {
    kind: e.kind,
    server: e.server,
    port: e.port,
    pid: e.pid,
    dataDir: e.dataDir,
    ...(e.accessKeyId ? { accessKeyId: e.accessKeyId, secretAccessKey: e.secretAccessKey } : {}),
    ...(e.projectId ? { projectId: e.projectId } : {}),
  };
}

/** In a worker: use emulators another process started (never stopped from here). */
export async function attachEmulators(endpoints: readonly EmulatorEndpoint[]): Promise<void> {
  if (!endpoints.length) return;
  const mod = await import('../../emulators/index.js');
  for (const p of endpoints) attached.set(p.kind, mod.describeEmulator(p.kind, p.server, p, p.pid, p.dataDir, async () => {}));
}

/** The embedded emulators a configuration needs, started once per open() (or attached, see above). */
export class EmulatorPool {
  private running?: RunningEmulators;
  private mod?: typeof import('../../emulators/index.js');
  private kinds = new Set<EmulatorKind>();
  private own = false;

  async start(kinds: EmulatorKind[], signal?: AbortSignal): Promise<void> {
    this.mod = await import('../../emulators/index.js');
    this.kinds = new Set(kinds);
    if (kinds.every((k) => attached.has(k))) return;
    this.running = await this.mod.startEmulators(kinds, { signal });
    this.own = true;
  }

  /** The store of an emulator; with `route`, reaching it through the address `route` gives for its endpoint. */
  async storeFor(kind: EmulatorKind, opts: { bucket?: string; name?: string; route?: (url: string) => Promise<string | undefined> }): Promise<Store> {
    if (!this.mod || !this.kinds.has(kind)) throw new Error(`the ${kind} emulator was not started`);
    const e = this.own ? this.running?.[kind] : attached.get(kind);
    if (!e) throw new Error(`the ${kind} emulator was not started`);
    const via = opts.route ? await opts.route(e.endpoint) : undefined;
    return this.mod.storeForEmulator(via ? emulatorVia(e, via) : e, { bucket: opts.bucket, name: opts.name });
  }

  async stop(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    if (r) await r.stop();
  }
}

/** An emulator record whose endpoint (and connection string) is `url` instead of its own. */
function emulatorVia(e: RunningEmulator, url: string): RunningEmulator {
  const u = new URL(url);
  const swap = (v: string) => v.split(e.endpoint).join(url);
  return {
    ...e,
    endpoint: url,
    host: u.hostname,
    port: Number(u.port),
    env: Object.fromEntries(Object.entries(e.env).map(([k, v]) => [k, swap(v)])),
    ...(e.connectionString !== undefined ? { connectionString: swap(e.connectionString) } : {}),
  };
}

/** An Azure connection string with its BlobEndpoint routed (unchanged when it has none or `route` leaves it). */
async function routeConnectionString(cs: string, route: ((url: string) => Promise<string | undefined>) | undefined): Promise<string> {
  if (!route) return cs;
  const parts = cs.split(';');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    const eq = p.indexOf('=');
    if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'blobendpoint') {
      const via = await route(p.slice(eq + 1).trim());
      if (via) parts[i] = `${p.slice(0, eq)}=${via}`;
    }
  }
  return parts.join(';');
}

async function routed(url: string | undefined, route: ((url: string) => Promise<string | undefined>) | undefined): Promise<string | undefined> {
  if (!url || !route) return url;
  return (await route(url)) ?? url;
}

/** Reads an environment variable a config file names; a clear ConfigError when unset. */
export function envValue(name: string, where: string): string {
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new ConfigError(
      where,
      `environment variable ${name} is not set — export it in your shell or put it in .env (see .env.example)`,
    );
  return v;
}

function endpointOf(spec: { endpoint?: string; endpointEnv?: string }, where: string): string | undefined {
  if (spec.endpointEnv) {
    const v = envValue(spec.endpointEnv, `${where}.endpointEnv`);
    try {
      const u = new URL(v);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new ConfigError(`${where}.endpointEnv`, `environment variable ${spec.endpointEnv} must hold an http(s) URL, e.g. http://127.0.0.1:9000`);
    }
    return v;
  }
  return spec.endpoint;
}

/** Wraps a store so every key lives under `prefix` (the run prefix). */
export async function prefixStore(store: Store, prefix: string): Promise<Store> {
  return prefixed(prefix)(store);
}

/** Options of the latency layer derived from a config file's latency model. */
export function latencyOptions(m: LatencyModelSpec): LatencyOptions {
  const base: LatencyOptions = { seed: m.seed ?? 1, ...(m.perKiBMs !== undefined ? { msPerKiB: m.perKiBMs } : {}) };
  switch (m.distribution) {
    case 'fixed':
      return { ...base, delay: { kind: 'fixed', ms: m.ms ?? 0 } };
    case 'uniform':
      return { ...base, delay: { kind: 'uniform', minMs: m.min ?? 0, maxMs: m.max ?? 0 } };
    case 'normal':
      return { ...base, delay: { kind: 'normal', meanMs: m.ms ?? 0, stddevMs: m.stddev ?? 0 } };
    case 'lognormal':
      return { ...base, delay: { kind: 'lognormal', medianMs: m.ms ?? 0, sigma: m.sigma ?? 0 } };
  }
}

/** Builds the store of one replica (no prefix). `where` is the replica's path in the config file. */
export async function buildReplicaStore(
  spec: ReplicaSpec,
  ctx: { pool: EmulatorPool; where: string; signal?: AbortSignal; route?: (url: string) => Promise<string | undefined> },
): Promise<Store> {
  const { where } = ctx;
  const name = spec.name;
  switch (spec.provider) {
    case 'memory': {
      const store = createMemoryStore({ name: name ?? 'memory' });
      if (!spec.latency) return store;
      return latency(latencyOptions(spec.latency))(store);
    }
    case 'fs':
      return createFsStore({ dir: spec.dir, ...(name ? { name } : {}) });
    case 'emulator':
      return ctx.pool.storeFor(spec.kind, { bucket: spec.bucket ?? 'rkvs-bench', name, route: ctx.route });
    case 's3': {
      const credentials = spec.credentials
        ? {
            accessKeyId: envValue(spec.credentials.accessKeyIdEnv, `${where}.credentials.accessKeyIdEnv`),
            secretAccessKey: envValue(spec.credentials.secretAccessKeyEnv, `${where}.credentials.secretAccessKeyEnv`),
            ...(spec.credentials.sessionTokenEnv
              ? { sessionToken: envValue(spec.credentials.sessionTokenEnv, `${where}.credentials.sessionTokenEnv`) }
              : {}),
          }
        : undefined;
      const { createS3Store } = await import('../../adapters/s3.js');
      return createS3Store({
        name,
        bucket: spec.bucket,
        region: spec.region ?? 'us-east-1',
        endpoint: await routed(endpointOf(spec, where), ctx.route),
        forcePathStyle: spec.forcePathStyle,
        credentials,
        createBucketIfMissing: spec.createIfMissing ?? false,
      });
    }
    case 'azure': {
      const c = spec.credentials;
      const opts: AzureBlobStoreOptions = {
        name,
        container: spec.container,
        createBucketIfMissing: spec.createIfMissing ?? false,
      };
      const endpoint = await routed(endpointOf(spec, where), ctx.route);
      if (c?.connectionStringEnv) opts.connectionString = await routeConnectionString(envValue(c.connectionStringEnv, `${where}.credentials.connectionStringEnv`), ctx.route);
      if (c?.accountNameEnv) opts.accountName = envValue(c.accountNameEnv, `${where}.credentials.accountNameEnv`);
      if (c?.accountKeyEnv) opts.accountKey = envValue(c.accountKeyEnv, `${where}.credentials.accountKeyEnv`);
      if (c?.sasTokenEnv) opts.sasToken = envValue(c.sasTokenEnv, `${where}.credentials.sasTokenEnv`);
      if (endpoint) opts.endpoint = endpoint;
      if (!c) {
        const fromEnv = process.env.AZURE_STORAGE_CONNECTION_STRING;
        if (!fromEnv)
          throw new ConfigError(
            `${where}.credentials`,
            'no Azure credentials: give credentials.connectionStringEnv (or accountNameEnv + accountKeyEnv), or set AZURE_STORAGE_CONNECTION_STRING',
          );
        opts.connectionString = await routeConnectionString(fromEnv, ctx.route);
      }
      const { createAzureBlobStore } = await import('../../adapters/azure-blob.js');
      return createAzureBlobStore(opts);
    }
    case 'gcs': {
      const projectId = spec.projectIdEnv ? envValue(spec.projectIdEnv, `${where}.projectIdEnv`) : spec.projectId;
      const keyFilename = spec.credentials ? envValue(spec.credentials.keyFileEnv, `${where}.credentials.keyFileEnv`) : undefined;
      const { createGcsStore } = await import('../../adapters/gcs.js');
      return createGcsStore({
        name,
        bucket: spec.bucket,
        projectId,
        apiEndpoint: await routed(endpointOf(spec, where), ctx.route),
        keyFilename,
        createBucketIfMissing: spec.createIfMissing ?? false,
      });
    }
  }
}
