/**
 * Provider configurations: named sets of replicas (S3, Azure Blob, GCS, memory, fs, or the embedded
 * emulators) the harness, `rkvs probe` and `rkvs clean` run against.
 *
 * - `emulatorConfiguration()` is the embedded default: open() starts the local S3, Azure and GCS
 *   emulators, n = 3, t = 1; close() stops them.
 * - `loadConfigFile(file)` reads and validates a YAML/JSON config file (see docs/configurations.md).
 * - `loadConfigurations(file, names?)` returns one handle per named configuration in the file.
 *
 * Every handle's open({prefix}) wraps each replica with the `prefixed(prefix)` layer, so a run
 * writes only under its own unique prefix. Secrets are read from environment variables at open()
 * time and never appear in describe().
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import { redactUrl } from '../../util/redact.js';
import dotenv from 'dotenv';
import { parse as parseYaml } from 'yaml';
import { ConfigError, describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import type { ConfigurationHandle, ConfigurationOrigin, EndpointRoute, OpenedConfiguration } from './types.js';
import { validateConfigDocument } from './validate.js';
import {
  DEFAULT_PREFIX_ROOT,
  type ConfigFile,
  type ReplicaSpec,
  type ResolvedConfiguration,
} from './schema.js';
import { buildReplicaStore, EmulatorPool, prefixStore, type EmulatorKind } from './open.js';

export type { ConfigFile, ReplicaSpec, ResolvedConfiguration } from './schema.js';
export { DEFAULT_PREFIX_ROOT, formatPath } from './schema.js';
export type { EmulatorKind } from './open.js';

/** Directory of the preset files shipped with the project (`benchmarks/configs/`). */
export const PRESET_DIR = path.join(PACKAGE_ROOT, 'benchmarks', 'configs');

/** Presets addressable by name instead of a path (`--config emulators`). */
export function presetPath(name: string): string | undefined {
  for (const ext of ['.yaml', '.yml', '.json']) {
    const p = path.join(PRESET_DIR, name + ext);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A configuration handle built from a config file (or the embedded default). */
export interface ProviderConfiguration extends ConfigurationHandle {
  /** The resolved configuration: replicas, n, t, variant/schedule defaults. */
  readonly spec: ResolvedConfiguration;
  /** Root every run prefix starts with (default `rkvs-`); objects outside it are foreign. */
  readonly prefixRoot: string;
  /** True when every replica lives only for the run (memory, embedded emulators): no safety guard needed. */
  readonly ephemeral: boolean;
  /** Price overrides from the config file. */
  readonly prices: ConfigFile['prices'];
  /**
   * Opens the replicas WITHOUT the run prefix (for probes, cleanup and the bucket guard).
   * The caller must close it.
   */
  openRaw(opts?: { signal?: AbortSignal; route?: EndpointRoute }): Promise<OpenedReplicas>;
  /** Like openRaw, but a replica that cannot be built (e.g. a missing variable) is reported, not thrown. */
  openEach(opts?: { signal?: AbortSignal; route?: EndpointRoute }): Promise<OpenedEach>;
}

/** Replicas opened one by one: each has a store, or the error that prevented building it. */
export interface OpenedEach {
  replicas: { spec: ReplicaSpec; store?: Store; error?: unknown }[];
  close(): Promise<void>;
}

/** Replicas opened without a prefix, with their specs. */
export interface OpenedReplicas {
  replicas: { spec: ReplicaSpec; store: Store }[];
  close(): Promise<void>;
}

/** JSON-safe copy of a replica spec with anything secret-looking removed. */
export function redactReplica(spec: ReplicaSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (v === undefined) continue;
    if (k === 'endpoint' && typeof v === 'string') out[k] = redactUrl(v);
    else if (k === 'credentials' && v && typeof v === 'object') {
      // Only environment variable NAMES are kept, never values.
      const names: Record<string, string> = {};
      for (const [ck, cv] of Object.entries(v as Record<string, unknown>))
        if (ck.endsWith('Env') && typeof cv === 'string') names[ck] = cv;
      out[k] = names;
    } else out[k] = v;
  }
  return out;
}

/** A URL for messages and meta.json: user info and query secrets masked (src/util/redact.ts). */
export { redactUrl } from '../../util/redact.js';

class FileConfiguration implements ProviderConfiguration {
  readonly name: string;
  readonly ephemeral: boolean;

  constructor(
    readonly spec: ResolvedConfiguration,
    readonly prefixRoot: string,
    readonly prices: ConfigFile['prices'],
    private readonly source: string,
    readonly origin?: ConfigurationOrigin,
  ) {
    this.name = spec.name;
    this.ephemeral = spec.replicas.every((r) => r.provider === 'memory' || r.provider === 'emulator');
  }

  describe(): Record<string, unknown> {
    return {
      name: this.name,
      source: this.source,
      ...(this.spec.description ? { description: this.spec.description } : {}),
      n: this.spec.n,
      t: this.spec.t,
      ...(this.spec.variants ? { variants: this.spec.variants } : {}),
      ...(this.spec.schedules ? { schedules: this.spec.schedules } : {}),
      prefixRoot: this.prefixRoot,
      replicas: this.spec.replicas.map(redactReplica),
      ...(Object.keys(this.prices).length ? { prices: this.prices } : {}),
    };
  }

  async openRaw(opts: { signal?: AbortSignal; route?: EndpointRoute } = {}): Promise<OpenedReplicas> {
    const each = await this.openEach(opts);
    const failed = each.replicas.find((r) => r.error !== undefined);
    if (failed) {
      await each.close();
      throw failed.error;
    }
    return { replicas: each.replicas.map((r) => ({ spec: r.spec, store: r.store! })), close: each.close };
  }

  async openEach(opts: { signal?: AbortSignal; route?: EndpointRoute } = {}): Promise<OpenedEach> {
    const pool = new EmulatorPool();
    const opened: OpenedEach['replicas'] = [];
    const closeAll = async () => {
      await Promise.allSettled(opened.map((o) => o.store?.close()));
      await pool.stop();
    };
    try {
      const kinds = [...new Set(this.spec.replicas.flatMap((r) => (r.provider === 'emulator' ? [r.kind] : [])))];
      if (kinds.length) await pool.start(kinds, opts.signal);
    } catch (e) {
      await closeAll();
      throw e;
    }
    for (let i = 0; i < this.spec.replicas.length; i++) {
      const spec = this.spec.replicas[i];
      const where = `configurations.${this.name}.replicas[${i}]`;
      const route = opts.route;
      try {
        opened.push({ spec, store: await buildReplicaStore(spec, { pool, where, signal: opts.signal, ...(route ? { route: (url: string) => route(i, url) } : {}) }) });
      } catch (error) {
        opened.push({ spec, error });
      }
    }
    let closed = false;
    return {
      replicas: opened,
      close: async () => {
        if (closed) return;
        closed = true;
        await closeAll();
      },
    };
  }

  async open(opts: { prefix: string; signal?: AbortSignal; route?: EndpointRoute }): Promise<OpenedConfiguration> {
    if (!opts.prefix) throw new ConfigError('prefix', 'a run prefix is required so the run never touches other objects');
    const raw = await this.openRaw({ signal: opts.signal, route: opts.route });
    try {
      const replicas = await Promise.all(raw.replicas.map((r) => prefixStore(r.store, opts.prefix)));
      return { replicas, t: this.spec.t, close: () => raw.close() };
    } catch (e) {
      await raw.close();
      throw e;
    }
  }
}

/**
 * The embedded default: the local S3, Azure and GCS emulators (started by open(), stopped by
 * close()), one replica each, n = 3, t = 1.
 */
export function emulatorConfiguration(opts: { kinds?: EmulatorKind[]; name?: string; bucket?: string } = {}): ProviderConfiguration {
  const kinds = opts.kinds ?? ['s3', 'azure', 'gcs'];
  if (kinds.length === 0) throw new ConfigError('kinds', 'give at least one emulator kind (s3, azure, gcs)');
  const replicas: ReplicaSpec[] = kinds.map((kind) => ({
    provider: 'emulator' as const,
    kind,
    name: `${kind}-emulator`,
    bucket: opts.bucket ?? 'rkvs-bench',
  }));
  const n = replicas.length;
  const spec: ResolvedConfiguration = {
    name: opts.name ?? 'emulators',
    description: 'local S3, Azure and GCS emulators started by the harness',
    replicas,
    n,
    t: Math.floor((n - 1) / 2),
  };
  return new FileConfiguration(spec, DEFAULT_PREFIX_ROOT, {}, '<embedded:emulators>', {
    kind: 'emulators',
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.kinds ? { kinds: opts.kinds } : {}),
    ...(opts.bucket ? { bucket: opts.bucket } : {}),
  });
}

/** Resolves a `--config` argument: a path, or the name of a preset in benchmarks/configs/. */
export function resolveConfigPath(file: string): string {
  const abs = path.resolve(file);
  if (existsSync(abs)) return abs;
  if (!/[\\/]/.test(file) && !path.extname(file)) {
    const preset = presetPath(file);
    if (preset) return preset;
  }
  throw new ConfigError(
    '--config',
    `config file ${JSON.stringify(file)} not found (looked at ${abs}); give a path to a .yaml/.json file or a preset name (emulators, minio, azurite, swift, swift-s3api, local-compare, local-dirs)`,
  );
}

/**
 * Reads and validates a config file (YAML or JSON). Loads its dotenv file (the `env:` field,
 * else `.env` next to it or in the working directory) without overriding variables already set.
 */
export async function loadConfigFile(file: string): Promise<ConfigFile> {
  const abs = resolveConfigPath(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new ConfigError('--config', `cannot read ${abs}: ${describeCause(e)}`);
  }
  let doc: unknown;
  try {
    doc = abs.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true, merge: true });
  } catch (e) {
    throw new ConfigError('--config', `${abs} is not valid ${abs.endsWith('.json') ? 'JSON' : 'YAML'}: ${describeCause(e)}`);
  }
  if (doc === null || doc === undefined) throw new ConfigError('--config', `${abs} is empty; see docs/configurations.md for the format`);
  const v = validateConfigDocument(doc, abs);
  let envPath: string | undefined;
  if (v.envFile) {
    envPath = path.resolve(path.dirname(abs), v.envFile);
    if (!existsSync(envPath)) throw new ConfigError('env', `dotenv file ${envPath} not found (in ${abs}); create it from .env.example or remove the env: field`);
  } else {
    for (const candidate of [path.join(path.dirname(abs), '.env'), path.resolve('.env')])
      if (existsSync(candidate)) {
        envPath = candidate;
        break;
      }
  }
  if (envPath) dotenv.config({ path: envPath, quiet: true, override: false });
  // Relative fs directories are relative to the config file, not to the working directory.
  for (const c of v.configurations)
    c.replicas = c.replicas.map((r) => (r.provider === 'fs' ? { ...r, dir: path.resolve(path.dirname(abs), r.dir) } : r));
  return { path: abs, env: envPath, prefixRoot: v.prefixRoot, configurations: v.configurations, prices: v.prices, defaults: v.defaults };
}

/** Handles for a loaded file's configurations, optionally only those named (in that order). */
export function configurationsOf(cfg: ConfigFile, names?: string[]): ProviderConfiguration[] {
  const byName = new Map(cfg.configurations.map((c) => [c.name, c]));
  const wanted = names && names.length ? names : cfg.configurations.map((c) => c.name);
  const out: ProviderConfiguration[] = [];
  for (const n of wanted) {
    const c = byName.get(n);
    if (!c)
      throw new ConfigError(
        '--configs',
        `no configuration named ${JSON.stringify(n)} in ${cfg.path} (it defines: ${[...byName.keys()].join(', ')})`,
      );
    out.push(new FileConfiguration(c, cfg.prefixRoot, cfg.prices, path.basename(cfg.path), { kind: 'file', file: cfg.path, name: n }));
  }
  return out;
}

/** Loads a config file and returns a handle per configuration (all, or those named). */
export async function loadConfigurations(file: string, names?: string[]): Promise<ProviderConfiguration[]> {
  return configurationsOf(await loadConfigFile(file), names);
}

/** Splits a `--configs a,b,c` option into names. */
export function parseConfigNames(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new ConfigError('--configs', 'give a comma-separated list of configuration names, e.g. --configs a,b');
  return names;
}

/** True when a handle was built by this module (file or embedded configuration). */
export function isProviderConfiguration(h: ConfigurationHandle): h is ProviderConfiguration {
  return typeof (h as Partial<ProviderConfiguration>).openRaw === 'function';
}
