/**
 * Latency models for simulated replicas: parametric distributions (fixed, uniform, normal,
 * lognormal), replayed samples, and histograms recorded by real `rkvs bench` / `rkvs probe` runs
 * (histograms.jsonl or .hgrm files) replayed through their inverse CDF. All sampling is seeded.
 */
import { readFile } from 'node:fs/promises';
import * as hdr from 'hdr-histogram-js';
import { ConfigError } from '../errors.js';
import type { StoreOp } from '../errors.js';
import type { Random } from '../util/random.js';

/** One latency distribution, in milliseconds. */
export type Distribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; min: number; max: number }
  /** Normal, truncated below at `min` (default 0). */
  | { kind: 'normal'; mean: number; stddev: number; min?: number }
  /** `min + median * exp(sigma * Z)`, Z standard normal: the usual shape of cloud request latency. */
  | { kind: 'lognormal'; median: number; sigma: number; min?: number }
  /** Exponential with the given mean, shifted by `min` (default 0): think times, open arrivals. */
  | { kind: 'exponential'; mean: number; min?: number }
  /** Replays recorded samples (ms), uniformly at random. */
  | { kind: 'samples'; samples: number[] }
  /** Replays a distribution given by its quantiles: `points` are [quantile in 0..1, ms], ascending. */
  | { kind: 'quantiles'; points: Array<[number, number]> };

/** A replica's latency: a default distribution, optional per-call overrides, and a per-KiB cost. */
export interface LatencyModel {
  default: Distribution;
  perOp?: Partial<Record<StoreOp, Distribution>>;
  /**
   * Extra milliseconds per KiB of value transferred (put up, get down).
   * @default 0
   */
  perKiBMs?: number;
  /** Where the numbers come from (shown in reports). */
  source?: string;
}

/** Samples one latency (ms, >= 0) from a distribution. */
export function sampleDistribution(d: Distribution, rng: Random): number {
  switch (d.kind) {
    case 'fixed':
      return Math.max(0, d.ms);
    case 'uniform':
      return Math.max(0, rng.uniform(d.min, d.max));
    case 'normal':
      return Math.max(d.min ?? 0, rng.normal(d.mean, d.stddev));
    case 'lognormal':
      return (d.min ?? 0) + d.median * Math.exp(d.sigma * rng.normal());
    case 'exponential':
      return (d.min ?? 0) + rng.exponential(d.mean);
    case 'samples':
      return Math.max(0, rng.pick(d.samples));
    case 'quantiles':
      return quantileAt(d.points, rng.next());
  }
}

/** The median of a distribution (exact for the parametric kinds, empirical otherwise). */
export function distributionMedian(d: Distribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.ms;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'normal':
      return Math.max(d.min ?? 0, d.mean);
    case 'lognormal':
      return (d.min ?? 0) + d.median;
    case 'exponential':
      return (d.min ?? 0) + d.mean * Math.LN2;
    case 'samples': {
      const s = d.samples.slice().sort((a, b) => a - b);
      return s[Math.ceil(0.5 * s.length) - 1] ?? 0;
    }
    case 'quantiles':
      return quantileAt(d.points, 0.5);
  }
}

/** The distribution a model uses for one call. */
export function distributionFor(model: LatencyModel, op: StoreOp): Distribution {
  return model.perOp?.[op] ?? model.default;
}

/** Samples the latency of one call carrying `bytes` of value. */
export function sampleLatency(model: LatencyModel, op: StoreOp, bytes: number, rng: Random): number {
  return sampleDistribution(distributionFor(model, op), rng) + ((model.perKiBMs ?? 0) * bytes) / 1024;
}

/** Multiplies every latency of a model by `factor` (a straggler). */
export function scaleModel(model: LatencyModel, factor: number): LatencyModel {
  const scale = (d: Distribution): Distribution => {
    switch (d.kind) {
      case 'fixed':
        return { kind: 'fixed', ms: d.ms * factor };
      case 'uniform':
        return { kind: 'uniform', min: d.min * factor, max: d.max * factor };
      case 'normal':
        return { kind: 'normal', mean: d.mean * factor, stddev: d.stddev * factor, min: (d.min ?? 0) * factor };
      case 'lognormal':
        return { kind: 'lognormal', median: d.median * factor, sigma: d.sigma, min: (d.min ?? 0) * factor };
      case 'exponential':
        return { kind: 'exponential', mean: d.mean * factor, min: (d.min ?? 0) * factor };
      case 'samples':
        return { kind: 'samples', samples: d.samples.map((s) => s * factor) };
      case 'quantiles':
        return { kind: 'quantiles', points: d.points.map(([q, v]) => [q, v * factor] as [number, number]) };
    }
  };
  const perOp: Partial<Record<StoreOp, Distribution>> = {};
  for (const [op, d] of Object.entries(model.perOp ?? {})) perOp[op as StoreOp] = scale(d as Distribution);
  return { default: scale(model.default), perOp, perKiBMs: (model.perKiBMs ?? 0) * factor, source: `${model.source ?? 'model'} x${factor}` };
}

function quantileAt(points: Array<[number, number]>, u: number): number {
  if (points.length === 0) return 0;
  if (u <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [q1, v1] = points[i];
    if (u <= q1) {
      const [q0, v0] = points[i - 1];
      return q1 === q0 ? v1 : v0 + ((v1 - v0) * (u - q0)) / (q1 - q0);
    }
  }
  return points[points.length - 1][1];
}

/**
 * Illustrative per-provider/region defaults: lognormal request latencies from a client in the same
 * region, shaped after published measurements of object-store first-byte latency (tens of
 * milliseconds at the median, a heavy tail) and the providers' own guidance. They are starting
 * points for experiments, not measurements of any account: record your own with `rkvs bench` or
 * `rkvs probe` and replay them (`histogram:` models).
 */
export const PROVIDER_MODELS: Readonly<Record<string, LatencyModel>> = Object.freeze({
  'aws-s3-us-east-1': lat(18, 0.45, { list: 30, put: 28, get: 18, remove: 15 }),
  'aws-s3-eu-west-1': lat(22, 0.45, { list: 34, put: 31, get: 22, remove: 18 }),
  'azure-blob-westeurope': lat(14, 0.5, { list: 24, put: 20, get: 14, remove: 12 }),
  'azure-blob-eastus': lat(16, 0.5, { list: 26, put: 22, get: 16, remove: 13 }),
  'gcs-us-central1': lat(25, 0.4, { list: 40, put: 38, get: 25, remove: 20 }),
  'gcs-europe-west1': lat(28, 0.4, { list: 44, put: 41, get: 28, remove: 22 }),
  'minio-lan': lat(2, 0.3, { list: 3, put: 3, get: 2, remove: 2 }),
  'cross-region': lat(80, 0.25, { list: 95, put: 95, get: 80, remove: 80 }),
});

function lat(median: number, sigma: number, perOp: Record<StoreOp, number>): LatencyModel {
  const p: Partial<Record<StoreOp, Distribution>> = {};
  for (const [op, m] of Object.entries(perOp)) p[op as StoreOp] = { kind: 'lognormal', median: m, sigma };
  return { default: { kind: 'lognormal', median, sigma }, perOp: p, perKiBMs: 0.01, source: 'illustrative default (docs/simulations.md)' };
}

/** Looks up a preset by name, with a clear error listing the known ones. */
export function providerModel(name: string): LatencyModel {
  const m = PROVIDER_MODELS[name];
  if (!m) throw new ConfigError('latency model', `unknown provider model "${name}"; known: ${Object.keys(PROVIDER_MODELS).join(', ')}`);
  return m;
}

/** Quantile points of an HDR histogram (values in `unit` per count), converted to milliseconds. */
function histogramPoints(h: hdr.Histogram, toMs: number): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  const qs = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999, 1];
  for (const q of qs) points.push([q, h.getValueAtPercentile(Math.max(0.0001, q * 100)) * toMs]);
  return points;
}

/**
 * Reads recorded latencies as per-op models. Accepts a bench `histograms.jsonl` (compressed HDR
 * histograms in microseconds, one per cell and repetition; cells of one op are merged) or a single
 * `.hgrm` percentile text (applied to every op). `filter` narrows jsonl lines by config/variant.
 */
export async function loadRecordedModel(file: string, filter: { config?: string; variant?: string } = {}): Promise<LatencyModel> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('histogram', `cannot read ${file}: ${(e as Error).message}; pass a histograms.jsonl or .hgrm file written by rkvs bench or rkvs probe`);
  }
  if (file.endsWith('.hgrm')) {
    const points = parseHgrm(text, file);
    return { default: { kind: 'quantiles', points }, source: `replayed ${file}` };
  }
  const merged = new Map<string, hdr.Histogram>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    let rec: { op?: string; encoded?: string; outcome?: string; config?: string; variant?: string; unit?: string };
    try {
      rec = JSON.parse(line);
    } catch {
      throw new ConfigError('histogram', `${file}:${lineNo} is not JSON; expected one histograms.jsonl object per line`);
    }
    if (!rec.encoded || !rec.op) throw new ConfigError('histogram', `${file}:${lineNo} lacks "op" or "encoded"; is this a histograms.jsonl from rkvs bench?`);
    if (rec.outcome && rec.outcome !== 'ok') continue;
    if (filter.config && rec.config !== filter.config) continue;
    if (filter.variant && rec.variant !== filter.variant) continue;
    const h = hdr.decodeFromCompressedBase64(rec.encoded, 32, false);
    const prev = merged.get(rec.op);
    if (prev) {
      prev.add(h);
      h.destroy();
    } else merged.set(rec.op, h);
  }
  if (merged.size === 0) throw new ConfigError('histogram', `${file} holds no successful histogram${filter.config ? ` for config ${filter.config}` : ''}`);
  const perOp: Partial<Record<StoreOp, Distribution>> = {};
  let first: Distribution | undefined;
  for (const [op, h] of merged) {
    const d: Distribution = { kind: 'quantiles', points: histogramPoints(h, 1 / 1000) };
    first ??= d;
    // Raw calls replay directly; register-level ops (read/write) serve as defaults.
    if (op === 'put' || op === 'get' || op === 'list' || op === 'remove') perOp[op] = d;
    h.destroy();
  }
  return { default: perOp.get ?? perOp.put ?? (first as Distribution), perOp, source: `replayed ${file}` };
}

/** Parses HdrHistogram percentile text (`Value Percentile TotalCount 1/(1-Percentile)` rows) into quantile points (ms). */
export function parseHgrm(text: string, where = 'hgrm'): Array<[number, number]> {
  const points: Array<[number, number]> = [];
  // Values are in the unit the writer chose; rkvs writes milliseconds (output value unit scaling 1000 from us).
  for (const line of text.split('\n')) {
    const m = line.trim().match(/^([0-9.]+)\s+([0-9.]+)\s+([0-9]+)(\s+([0-9.]+|inf|Infinity))?$/);
    if (!m) continue;
    const v = Number(m[1]);
    const q = Number(m[2]);
    if (Number.isFinite(v) && Number.isFinite(q)) {
      if (points.length === 0 || q > points[points.length - 1][0]) points.push([q, v]);
      else if (q === points[points.length - 1][0]) points[points.length - 1][1] = v;
    }
  }
  if (points.length < 2) throw new ConfigError('histogram', `${where} has no percentile rows; expected HdrHistogram percentile text (.hgrm)`);
  return points;
}
