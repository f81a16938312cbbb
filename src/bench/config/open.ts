/**
 * Turns a validated replica spec into a Store: reads credentials from the environment variables the
 * spec names, builds the provider adapter, and starts/stops the embedded emulators a configuration
 * refers to. Kept apart from config.ts so the file format and the adapters evolve separately.
 */
import { ConfigError } from '../../errors.js';
import type { Store } from '../../store.js';
import { checkEndpoints } from '../../adapters/endpoint.js';
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

/**
 * The endpoint of a replica: `endpoint`, or the URL in the variable `endpointEnv` names. Either is
 * checked like the adapters check theirs (an http(s) URL without user info): a password in the
 * variable is refused with the URL redacted, naming the field and the variable.
 */
function endpointOf(spec: { provider: 's3' | 'azure' | 'gcs'; endpoint?: string; endpointEnv?: string }, where: string): string | undefined {
  if (spec.endpointEnv) {
    const v = envValue(spec.endpointEnv, `${where}.endpointEnv`);
    checkEndpoints(spec.provider, { [`${where}.endpointEnv (variable ${spec.endpointEnv})`]: v });
    return v;
  }
  if (spec.endpoint !== undefined) checkEndpoints(spec.provider, { [`${where}.endpoint`]: spec.endpoint });
  return spec.endpoint;
}

/** An environment variable a replica needs, and the field of the configuration file naming it. */
export interface RequiredVariable {
  variable: string;
  field: string;
}

/** The environment variables `spec` (at `where` in its file) reads when it is opened. */
export function requiredVariables(spec: ReplicaSpec, where: string): RequiredVariable[] {
  const out: RequiredVariable[] = [];
  const add = (variable: string | undefined, field: string) => {
    if (variable) out.push({ variable, field: `${where}.${field}` });
  };
  if (spec.provider === 's3' || spec.provider === 'azure' || spec.provider === 'gcs') add(spec.endpointEnv, 'endpointEnv');
  if (spec.provider === 's3' && spec.credentials) {
    add(spec.credentials.accessKeyIdEnv, 'credentials.accessKeyIdEnv');
    add(spec.credentials.secretAccessKeyEnv, 'credentials.secretAccessKeyEnv');
    add(spec.credentials.sessionTokenEnv, 'credentials.sessionTokenEnv');
  }
  if (spec.provider === 'azure') {
    const c = spec.credentials;
    if (!c) add('AZURE_STORAGE_CONNECTION_STRING', 'credentials (none given, so AZURE_STORAGE_CONNECTION_STRING)');
    else for (const k of ['connectionStringEnv', 'accountNameEnv', 'accountKeyEnv', 'sasTokenEnv'] as const) add(c[k], `credentials.${k}`);
  }
  if (spec.provider === 'gcs') {
    add(spec.projectIdEnv, 'projectIdEnv');
    add(spec.credentials?.keyFileEnv, 'credentials.keyFileEnv');
  }
  return out;
}

/** The variables of `required` that are unset or empty. */
export function unsetVariables(required: readonly RequiredVariable[]): RequiredVariable[] {
  return required.filter((r) => process.env[r.variable] === undefined || process.env[r.variable] === '');
}

/**
 * Every unset variable at once, in one ConfigError (exit 2): each with the field that names it,
 * so a user fixes them all in one go rather than one per run.
 */
export function missingVariablesError(missing: readonly RequiredVariable[]): ConfigError {
  const names = [...new Set(missing.map((m) => m.variable))];
  const lines = missing.map((m) => `${m.variable} (${m.field})`).join(', ');
  return new ConfigError(
    names.length === 1 ? names[0]! : 'environment',
    `${names.length === 1 ? 'environment variable is' : `${names.length} environment variables are`} not set: ${lines} — export ${names.length === 1 ? 'it' : 'them'} in your shell or put ${names.length === 1 ? 'it' : 'them'} in .env (see .env.example)`,
  );
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
