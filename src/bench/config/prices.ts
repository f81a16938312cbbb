/**
 * Price table: list prices per provider for the request classes a store call falls into, and for
 * storage per GB-month. Each entry carries the date it was read and its source URL; prices change,
 * so check the source and override entries (config file `prices:` or `--prices FILE`) for your
 * region, storage class and contract.
 *
 * A GB here is 2^30 bytes (the providers bill by GiB-month under the name "GB").
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, describeCause } from '../../errors.js';
import { formatPath, type ReplicaSpec } from './schema.js';

/** Prices of one provider / region / storage class. */
export interface PriceEntry {
  /** What the entry prices, e.g. "AWS S3 Standard, us-east-1". */
  description: string;
  /** ISO 4217 code. */
  currency: string;
  /** When the prices were read from the source (YYYY-MM-DD). */
  date: string;
  /** Where the prices come from. */
  source: string;
  /** Price per 1000 put requests (S3 PUT, Azure write, GCS Class A). */
  putPer1k: number;
  /** Price per 1000 get requests (S3 GET, Azure read, GCS Class B). */
  getPer1k: number;
  /** Price per 1000 list requests (S3 LIST, Azure list, GCS Class A). One request returns one page. */
  listPer1k: number;
  /** Price per 1000 remove requests (free on all three). */
  removePer1k: number;
  /** Price per GB-month stored. */
  storagePerGBMonth: number;
  /** Price per GB transferred out to the internet (0 inside the same region). */
  egressPerGB: number;
}

export type PriceTable = Record<string, PriceEntry>;

/**
 * Built-in list prices (USD, standard storage class, pay-as-you-go, first pricing tier).
 * Keys: `s3`, `azure`, `gcs` (a replica's provider, or the provider an emulator replica stands
 * for), `local` (memory/fs: free). Override for other regions or classes.
 */
export const DEFAULT_PRICES: Readonly<PriceTable> = Object.freeze({
  s3: {
    description: 'AWS S3 Standard, us-east-1',
    currency: 'USD',
    date: '2025-06-01',
    source: 'https://aws.amazon.com/s3/pricing/',
    putPer1k: 0.005,
    getPer1k: 0.0004,
    listPer1k: 0.005,
    removePer1k: 0,
    storagePerGBMonth: 0.023,
    egressPerGB: 0.09,
  },
  azure: {
    description: 'Azure Blob Storage, Hot tier, LRS, East US',
    currency: 'USD',
    date: '2025-06-01',
    source: 'https://azure.microsoft.com/en-us/pricing/details/storage/blobs/',
    putPer1k: 0.0065,
    getPer1k: 0.00044,
    listPer1k: 0.0065,
    removePer1k: 0,
    storagePerGBMonth: 0.0208,
    egressPerGB: 0.087,
  },
  gcs: {
    description: 'Google Cloud Storage, Standard class, us-east1 (regional)',
    currency: 'USD',
    date: '2025-06-01',
    source: 'https://cloud.google.com/storage/pricing',
    putPer1k: 0.005,
    getPer1k: 0.0004,
    listPer1k: 0.005,
    removePer1k: 0,
    storagePerGBMonth: 0.02,
    egressPerGB: 0.12,
  },
  local: {
    description: 'memory or local file system (no charge)',
    currency: 'USD',
    date: '2025-06-01',
    source: 'n/a',
    putPer1k: 0,
    getPer1k: 0,
    listPer1k: 0,
    removePer1k: 0,
    storagePerGBMonth: 0,
    egressPerGB: 0,
  },
});

const price = (what: string) => z.number({ error: `must be a number — ${what}` }).nonnegative({ error: `must be >= 0 — ${what}` });

const entryOverride = z.strictObject({
  description: z.string().optional(),
  currency: z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 code such as USD or EUR' }).optional(),
  date: z.string().optional(),
  source: z.string().optional(),
  putPer1k: price('price per 1000 put requests').optional(),
  getPer1k: price('price per 1000 get requests').optional(),
  listPer1k: price('price per 1000 list requests').optional(),
  removePer1k: price('price per 1000 remove requests').optional(),
  storagePerGBMonth: price('price per GB-month stored').optional(),
  egressPerGB: price('price per GB transferred out').optional(),
});

/** A prices file: `{ prices: { <key>: {...} } }` or the map itself. */
const pricesFileSchema = z.record(z.string(), entryOverride);

export type PriceOverrides = Record<string, Partial<PriceEntry>>;

/**
 * The built-in table with overrides applied field by field. A new key must give every price
 * (there is nothing to inherit from); an existing key may override any subset.
 */
export function mergePrices(base: Readonly<PriceTable>, ...overrides: (PriceOverrides | undefined)[]): PriceTable {
  const out: PriceTable = {};
  for (const [k, v] of Object.entries(base)) out[k] = { ...v };
  for (const o of overrides) {
    if (!o) continue;
    for (const [k, v] of Object.entries(o)) {
      const prev = out[k];
      if (prev) {
        out[k] = { ...prev, ...stripUndefined(v) };
        continue;
      }
      const missing = (['putPer1k', 'getPer1k', 'listPer1k', 'removePer1k', 'storagePerGBMonth'] as const).filter(
        (f) => v[f] === undefined,
      );
      if (missing.length)
        throw new ConfigError(
          `prices.${k}`,
          `a new price entry must give ${missing.join(', ')} (existing keys: ${Object.keys(out).join(', ')})`,
        );
      out[k] = {
        description: v.description ?? k,
        currency: v.currency ?? 'USD',
        date: v.date ?? 'unknown',
        source: v.source ?? 'user override',
        putPer1k: v.putPer1k!,
        getPer1k: v.getPer1k!,
        listPer1k: v.listPer1k!,
        removePer1k: v.removePer1k!,
        storagePerGBMonth: v.storagePerGBMonth!,
        egressPerGB: v.egressPerGB ?? 0,
      };
    }
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Reads a prices file (YAML or JSON): a map of price keys to (partial) entries, optionally under `prices:`. */
export async function loadPricesFile(file: string): Promise<PriceOverrides> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('--prices', `cannot read prices file ${file}: ${describeCause(e)}`);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError('--prices', `${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${describeCause(e)}`);
  }
  const body = doc && typeof doc === 'object' && 'prices' in doc ? (doc as { prices: unknown }).prices : doc;
  const parsed = pricesFileSchema.safeParse(body);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const p = formatPath(['prices', ...i.path]);
      return i.code === 'unrecognized_keys' ? `${p}: unknown field(s) ${i.keys.join(', ')}` : `${p}: ${i.message}`;
    });
    throw new ConfigError('--prices', `${file}: ${lines.join('; ')}`);
  }
  return parsed.data;
}

/** The price-table key of a replica: its `priceKey`, else the provider it is (or emulates). */
export function priceKeyOf(spec: Pick<ReplicaSpec, 'provider'> & { kind?: string; priceKey?: string }): string {
  if (spec.priceKey) return spec.priceKey;
  switch (spec.provider) {
    case 'emulator':
      // a local Swift speaks S3: priced as S3, like the s3 emulator
      return spec.kind === 'swift-s3' ? 's3' : (spec.kind ?? 'local');
    case 'memory':
    case 'fs':
      return 'local';
    default:
      return spec.provider;
  }
}
