/**
 * The provider configuration file: its schema (zod) and types; validate.ts turns a parsed
 * YAML/JSON document into a typed `ConfigFile`, or a `ConfigError` whose path names the bad field,
 * e.g. `configurations.aws+azure+gcs.replicas[1].bucket: required — the bucket name ...`.
 *
 * Secrets never live in the file: credentials are given by ENVIRONMENT VARIABLE NAME
 * (`accessKeyIdEnv: AWS_ACCESS_KEY_ID`), and fields that look like inline secrets are rejected.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';

/** Replica providers a configuration may name. `emulator` refers to the embedded local emulators. */
export const PROVIDERS = ['s3', 'azure', 'gcs', 'memory', 'fs', 'emulator'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const EMULATOR_KINDS = ['s3', 'azure', 'gcs', 'swift-s3'] as const;
export type EmulatorKindName = (typeof EMULATOR_KINDS)[number];

export const VARIANTS = ['raw', 'regular', 'atomic'] as const;
export const SCHEDULES = ['fast', 'classic'] as const;

/** Default root of every run prefix; objects outside it are "foreign" and need `--yes`. */
export const DEFAULT_PREFIX_ROOT = 'rkvs-';

export const UNKNOWN_FIELD = 'unknown field — check the spelling (see docs/configurations.md for the fields of this section)';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A required non-empty string with a message that says what the field is. */
function required(what: string) {
  return z
    .string({
      error: (iss) => (iss.input === undefined ? `required — ${what}` : `must be a string — ${what}`),
    })
    .min(1, { error: `must not be empty — ${what}` });
}

/** The NAME of an environment variable (never its value). */
function envName(what: string) {
  return z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? `required — the name of the environment variable holding ${what}`
          : `must be the name of an environment variable holding ${what}`,
    })
    .regex(ENV_NAME, {
      error: `must be an environment variable NAME (letters, digits, _), not its value — the variable holding ${what}`,
    });
}

const optionalBool = (what: string) =>
  z.boolean({ error: `must be true or false — ${what}` }).optional();

const endpointUrl = z
  .string({ error: 'must be a URL string, e.g. http://127.0.0.1:9000' })
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, { error: 'must be an http(s) URL, e.g. http://127.0.0.1:9000' });

/** Fields every replica accepts. */
const common = {
  /** Display name of the replica in reports (default: provider-index, e.g. `s3-0`). */
  name: z
    .string({ error: 'must be a string — the replica name shown in reports' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, { error: 'must use letters, digits and . _ + - only' })
    .optional(),
  /** Storage class or tier, for documentation and pricing (e.g. STANDARD, Hot). */
  storageClass: z.string({ error: 'must be a string, e.g. STANDARD' }).optional(),
  /** Price-table entry used for this replica's cost (default: the provider's entry). */
  priceKey: z.string({ error: 'must be a key of the price table, e.g. s3' }).optional(),
};

const endpointFields = {
  /** Endpoint URL (S3-compatible server, Azurite, GCS emulator). */
  endpoint: endpointUrl.optional(),
  /** Name of an environment variable holding the endpoint URL (user-run MinIO/Azurite). */
  endpointEnv: envName('the endpoint URL').optional(),
};

const latencyModel = z.strictObject(
  {
    distribution: z.enum(['fixed', 'uniform', 'normal', 'lognormal'], {
      error: 'must be one of fixed, uniform, normal, lognormal',
    }),
    /** fixed: the delay; normal: the mean; lognormal: the median (ms). */
    ms: z.number({ error: 'must be a number of milliseconds' }).nonnegative().optional(),
    /** uniform: bounds (ms). */
    min: z.number({ error: 'must be a number of milliseconds' }).nonnegative().optional(),
    max: z.number({ error: 'must be a number of milliseconds' }).nonnegative().optional(),
    /** normal: standard deviation (ms). */
    stddev: z.number({ error: 'must be a number of milliseconds' }).nonnegative().optional(),
    /** lognormal: shape (the delay is ms * exp(sigma * N(0,1)), ms being the median). */
    sigma: z.number({ error: 'must be a number, e.g. 0.5' }).nonnegative().optional(),
    /** Extra milliseconds per KiB of value. */
    perKiBMs: z.number({ error: 'must be a number of milliseconds per KiB' }).nonnegative().optional(),
    seed: z.number({ error: 'must be an integer seed' }).int().optional(),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? undefined : 'must be an object, e.g. {distribution: fixed, ms: 20}') },
).superRefine((m, ctx) => {
  if ((m.distribution === 'fixed' || m.distribution === 'normal' || m.distribution === 'lognormal') && m.ms === undefined)
    ctx.addIssue({ code: 'custom', path: ['ms'], message: `required for distribution ${m.distribution} — the delay in ms` });
  if (m.distribution === 'uniform' && (m.min === undefined || m.max === undefined))
    ctx.addIssue({ code: 'custom', path: [m.min === undefined ? 'min' : 'max'], message: 'required for distribution uniform — bounds in ms' });
  if (m.min !== undefined && m.max !== undefined && m.min > m.max)
    ctx.addIssue({ code: 'custom', path: ['max'], message: `must be >= min (${m.min})` });
});

const s3Replica = z.strictObject({
  provider: z.literal('s3'),
  ...common,
  ...endpointFields,
  region: z.string({ error: 'must be a string, e.g. us-east-1' }).min(1).optional(),
  bucket: required('the bucket name, e.g. bucket: my-rkvs-bench'),
  forcePathStyle: optionalBool('path-style addressing, true for MinIO and most S3-compatible servers'),
  createIfMissing: optionalBool('create the bucket when it does not exist'),
  credentials: z
    .strictObject({
      accessKeyIdEnv: envName('the access key id'),
      secretAccessKeyEnv: envName('the secret access key'),
      sessionTokenEnv: envName('the session token').optional(),
    })
    .optional(),
});

const azureReplica = z.strictObject({
  provider: z.literal('azure'),
  ...common,
  ...endpointFields,
  region: z.string({ error: 'must be a string, e.g. westeurope' }).min(1).optional(),
  container: required('the blob container name, e.g. container: rkvs-bench'),
  createIfMissing: optionalBool('create the container when it does not exist'),
  credentials: z
    .strictObject({
      connectionStringEnv: envName('the storage connection string').optional(),
      accountNameEnv: envName('the storage account name').optional(),
      accountKeyEnv: envName('the storage account key').optional(),
      sasTokenEnv: envName('a SAS token').optional(),
    })
    .superRefine((c, ctx) => {
      const hasAccount = c.accountNameEnv !== undefined;
      if (!c.connectionStringEnv && !hasAccount)
        ctx.addIssue({
          code: 'custom',
          message: 'give connectionStringEnv, or accountNameEnv with accountKeyEnv or sasTokenEnv',
        });
      if (hasAccount && !c.accountKeyEnv && !c.sasTokenEnv)
        ctx.addIssue({ code: 'custom', path: ['accountKeyEnv'], message: 'required with accountNameEnv (or give sasTokenEnv)' });
    })
    .optional(),
});

const gcsReplica = z.strictObject({
  provider: z.literal('gcs'),
  ...common,
  ...endpointFields,
  region: z.string({ error: 'must be a string, e.g. europe-west1' }).min(1).optional(),
  bucket: required('the bucket name, e.g. bucket: my-rkvs-bench'),
  projectId: z.string({ error: 'must be a string — the Google Cloud project id' }).min(1).optional(),
  projectIdEnv: envName('the Google Cloud project id').optional(),
  createIfMissing: optionalBool('create the bucket when it does not exist'),
  credentials: z
    .strictObject({
      keyFileEnv: envName('the path of a service-account key file (e.g. GOOGLE_APPLICATION_CREDENTIALS)'),
    })
    .optional(),
});

const memoryReplica = z.strictObject({
  provider: z.literal('memory'),
  ...common,
  region: z.string().optional(),
  /** Optional latency model applied to every call (a simulated remote store). */
  latency: latencyModel.optional(),
});

const fsReplica = z.strictObject({
  provider: z.literal('fs'),
  ...common,
  region: z.string().optional(),
  dir: required('the directory holding the data, e.g. dir: ./.rkvs/data/replica-0'),
});

const emulatorReplica = z.strictObject({
  provider: z.literal('emulator'),
  ...common,
  region: z.string().optional(),
  kind: z.enum(EMULATOR_KINDS, { error: 'required — which local emulator: s3, azure, gcs or swift-s3 (OpenStack Swift, see docs/emulators.md)' }),
  bucket: z.string({ error: 'must be a string — the bucket/container name' }).min(1).optional(),
});

export const replicaSchema = z.discriminatedUnion(
  'provider',
  [s3Replica, azureReplica, gcsReplica, memoryReplica, fsReplica, emulatorReplica],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? `provider must be one of ${PROVIDERS.join(', ')}`
        : 'must be a replica object with a provider field, or the name of a replica defined under replicas:',
  },
);

export type ReplicaSpec = z.infer<typeof replicaSchema>;
export type LatencyModelSpec = z.infer<typeof latencyModel>;

const variantList = z
  .array(z.enum(VARIANTS, { error: `must be one of ${VARIANTS.join(', ')}` }), { error: 'must be a list, e.g. [regular, atomic]' })
  .min(1, { error: 'must name at least one variant' });
const scheduleList = z
  .array(z.enum(SCHEDULES, { error: `must be one of ${SCHEDULES.join(', ')}` }), { error: 'must be a list, e.g. [fast]' })
  .min(1, { error: 'must name at least one schedule' });

const tField = z.number({ error: 'must be an integer, the number of tolerated faulty replicas' }).int().nonnegative();

/** A replica object, or the name of an entry under the top-level `replicas:` map. */
const replicaOrName = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v === 'string') {
      if (!v) ctx.addIssue({ code: 'custom', message: 'must not be empty — a replica name or object' });
      return;
    }
    const r = replicaSchema.safeParse(v);
    if (r.success) return;
    for (const issue of r.error.issues) {
      if (issue.code === 'unrecognized_keys')
        for (const key of issue.keys) ctx.addIssue({ code: 'custom', path: [...issue.path, key], message: UNKNOWN_FIELD });
      else ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    }
  })
  .transform((v) => (typeof v === 'string' ? v : replicaSchema.parse(v)));

const configurationSchema = z.strictObject({
  description: z.string().optional(),
  replicas: z
    .array(replicaOrName, {
      error: 'required — the list of replicas (objects, or names of entries under replicas:)',
    })
    .min(1, { error: 'must list at least one replica' }),
  /** Optional check: the number of replicas (n is always the length of `replicas`). */
  n: z.number({ error: 'must be an integer, the number of replicas' }).int().positive().optional(),
  t: tField.optional(),
  variants: variantList.optional(),
  schedules: scheduleList.optional(),
});

/** Price overrides in a config file: same shape as the price table (see prices.ts), every field optional. */
const priceOverride = z.strictObject({
  currency: z.string().optional(),
  date: z.string().optional(),
  source: z.string().optional(),
  putPer1k: z.number({ error: 'must be a price in currency units per 1000 requests' }).nonnegative().optional(),
  getPer1k: z.number({ error: 'must be a price in currency units per 1000 requests' }).nonnegative().optional(),
  listPer1k: z.number({ error: 'must be a price in currency units per 1000 requests' }).nonnegative().optional(),
  removePer1k: z.number({ error: 'must be a price in currency units per 1000 requests' }).nonnegative().optional(),
  storagePerGBMonth: z.number({ error: 'must be a price per GB-month' }).nonnegative().optional(),
  egressPerGB: z.number({ error: 'must be a price per GB transferred out' }).nonnegative().optional(),
});
export type PriceOverride = z.infer<typeof priceOverride>;

export const configFileSchema = z.strictObject({
  /** Schema version of the file. */
  version: z.literal(1, { error: 'must be 1 (the only config file version)' }).optional(),
  /** A dotenv file to load, relative to the config file (default: .env next to it, if present). */
  env: z.string({ error: 'must be a path to a dotenv file' }).optional(),
  defaults: z
    .strictObject({
      t: tField.optional(),
      variants: variantList.optional(),
      schedules: scheduleList.optional(),
      /** Every run prefix starts with this (default `rkvs-`). */
      prefixRoot: z
        .string({ error: 'must be a string, e.g. rkvs-' })
        .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, { error: 'must be non-empty and use letters, digits and . _ / - only' })
        .optional(),
    })
    .optional(),
  /** Named replicas that configurations can refer to by name. */
  replicas: z.record(z.string(), replicaSchema).optional(),
  /** Named configurations compared in one run. */
  configurations: z
    .record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/, { error: 'configuration names use letters, digits and . _ + - only' }),
      configurationSchema,
      { error: 'required — a map of named configurations, e.g. configurations: { my-config: { replicas: [...] } }' },
    )
    .refine((r) => Object.keys(r).length > 0, { error: 'must define at least one configuration' }),
  /** Price table overrides by price key (s3, azure, gcs, ...). */
  prices: z.record(z.string(), priceOverride).optional(),
});

export type ConfigFileInput = z.input<typeof configFileSchema>;
export type ParsedConfigFile = z.infer<typeof configFileSchema>;

/** One configuration, with replica references resolved and n/t settled. */
export interface ResolvedConfiguration {
  name: string;
  description?: string;
  replicas: ReplicaSpec[];
  n: number;
  t: number;
  variants?: (typeof VARIANTS)[number][];
  schedules?: (typeof SCHEDULES)[number][];
}

/** A validated configuration file. */
export interface ConfigFile {
  /** Absolute path of the file (or `<preset:emulators>` for the embedded default). */
  path: string;
  /** Dotenv file to load, absolute, if any. */
  env?: string;
  prefixRoot: string;
  configurations: ResolvedConfiguration[];
  prices: Record<string, PriceOverride>;
  defaults: { t?: number; variants?: ResolvedConfiguration['variants']; schedules?: ResolvedConfiguration['schedules'] };
}

/** Formats a zod/JS path as `a.b[1].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

