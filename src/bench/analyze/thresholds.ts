/**
 * Thresholds of `rkvs compare`: parsing `10%` / `0.1`, the thresholds file (JSON or YAML) with
 * per-cell overrides matched on any fields of the cell key, and which thresholds a comparison uses:
 * `--thresholds FILE` (or `none`), else BASELINE/thresholds.yaml when present, else the defaults,
 * with the flags on top.
 */
import { intFlagValue } from '../../util/flags.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import YAML from 'yaml';
import { ConfigError } from '../../errors.js';
import { CELL_KEY_COLUMNS, type CellKey } from '../config/cell.js';
import { DEFAULT_THRESHOLDS, fmtPct, METRICS, type CompareOptions, type Metric, type ThresholdOverride, type Thresholds } from './compare.js';

/** Parses a threshold such as `10%`, `10 %` or `0.1` into a fraction; `where` names the flag or field. */
export function parseThreshold(text: unknown, where: string): number {
  const s = String(text).trim();
  const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(s);
  if (!m) throw new ConfigError(where, `"${s}" is not a threshold; write a percentage like 10% or a fraction like 0.1`);
  const v = m[2] ? Number(m[1]) / 100 : Number(m[1]);
  if (!m[2] && v > 1) throw new ConfigError(where, `"${s}" is more than 1 without a % sign; write ${s}% if you mean a percentage`);
  return v;
}

/** Settings file for `rkvs compare --thresholds FILE` (JSON or YAML). */
export interface ThresholdsFile {
  p50?: string | number;
  p99?: string | number;
  throughput?: string | number;
  alpha?: number;
  minSamples?: number;
  /** Per-cell thresholds, e.g. [{match: {config: "s3-only-3", clients: 4}, p99: "50%"}]. */
  overrides?: ({ match: Partial<Record<keyof CellKey, string | number>> } & Partial<Record<Metric, string | number>>)[];
}

const FILE_KEYS = new Set(['p50', 'p99', 'throughput', 'alpha', 'minSamples', 'overrides']);
const MATCH_KEYS: ReadonlySet<string> = new Set(CELL_KEY_COLUMNS);

/** Reads a JSON or YAML thresholds file into compare options. */
export async function loadThresholdsFile(file: string): Promise<CompareOptions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('--thresholds', `cannot read ${file}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = extname(file) === '.json' ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(file, `is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, 'must be an object like {"p50": "10%", "p99": "20%", "throughput": "10%"}');
  }
  const obj = data as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!FILE_KEYS.has(k)) throw new ConfigError(`${file}: ${k}`, `unknown setting; allowed: ${[...FILE_KEYS].join(', ')}`);
  }
  const thresholds: Partial<Thresholds> = {};
  for (const m of METRICS) if (obj[m] !== undefined) thresholds[m] = parseThreshold(obj[m], `${file}: ${m}`);
  const out: CompareOptions = { thresholds };
  if (obj.alpha !== undefined) out.alpha = checkAlpha(obj.alpha, `${file}: alpha`);
  if (obj.minSamples !== undefined) out.minSamples = checkPositiveInt(obj.minSamples, `${file}: minSamples`);
  if (obj.overrides !== undefined) out.overrides = parseOverrides(obj.overrides, `${file}: overrides`);
  return out;
}

function parseOverrides(v: unknown, where: string): ThresholdOverride[] {
  const example = 'a list like [{match: {config: "s3-only-3", clients: 4}, p99: "50%"}]';
  if (!Array.isArray(v)) throw new ConfigError(where, `must be ${example}`);
  return v.map((item: unknown, i) => {
    const w = `${where}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ConfigError(w, `must be an object; overrides are ${example}`);
    const o = item as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (k !== 'match' && !(METRICS as readonly string[]).includes(k)) throw new ConfigError(`${w}.${k}`, `unknown setting; allowed: match, ${METRICS.join(', ')}`);
    }
    const match = o.match;
    if (match === null || typeof match !== 'object' || Array.isArray(match)) throw new ConfigError(`${w}.match`, `required: the cell fields to match, e.g. {config: "s3-only-3", op: "write"}`);
    for (const k of Object.keys(match)) {
      if (!MATCH_KEYS.has(k)) throw new ConfigError(`${w}.match.${k}`, `unknown field; match on ${[...MATCH_KEYS].join(', ')}`);
    }
    const thresholds: Partial<Thresholds> = {};
    for (const m of METRICS) if (o[m] !== undefined) thresholds[m] = parseThreshold(o[m], `${w}.${m}`);
    return { match: match as Partial<CellKey>, thresholds };
  });
}

export function checkAlpha(v: unknown, where: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new ConfigError(where, `"${String(v)}" must be a number between 0 and 1, e.g. 0.05`);
  return n;
}

export function checkPositiveInt(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(where, `"${String(v)}" must be a positive whole number`);
  return n;
}


/** Files looked for in the baseline directory, in this order, when --thresholds is not given. */
export const BASELINE_THRESHOLDS_FILES = ['thresholds.yaml', 'thresholds.yml', 'thresholds.json'] as const;

/** The threshold and significance flags of `rkvs compare` and `rkvs ab`, as given. */
export interface ThresholdFlags {
  /** A file, or `none` for the built-in defaults (no file, not even the baseline's). */
  thresholds?: string;
  thresholdP50?: string;
  thresholdP99?: string;
  thresholdThroughput?: string;
  alpha?: string;
  minSamples?: string;
}

/**
 * The thresholds of a comparison and where they came from: `--thresholds FILE` (`none`: the
 * defaults), else the baseline directory's thresholds.yaml when it has one, else the defaults;
 * the flags override any of them. `thresholdsSource` says which, for the output.
 */
export async function resolveThresholds(baselineDir: string, flags: ThresholdFlags): Promise<CompareOptions> {
  let opts: CompareOptions = {};
  let source = 'the built-in defaults';
  if (flags.thresholds === 'none') source = 'the built-in defaults (--thresholds none)';
  else if (flags.thresholds) {
    opts = await loadThresholdsFile(flags.thresholds);
    source = `${flags.thresholds} (--thresholds)`;
  } else {
    const found = BASELINE_THRESHOLDS_FILES.map((f) => join(baselineDir, f)).find((f) => existsSync(f));
    if (found) {
      opts = await loadThresholdsFile(found);
      source = `${found} (the baseline's; --thresholds FILE or none to use others)`;
    }
  }
  const thresholds = { ...opts.thresholds };
  const fromFlags: string[] = [];
  const flag = (m: Metric, v: string | undefined, name: string) => {
    if (v === undefined) return;
    thresholds[m] = parseThreshold(v, name);
    fromFlags.push(name);
  };
  flag('p50', flags.thresholdP50, '--threshold-p50');
  flag('p99', flags.thresholdP99, '--threshold-p99');
  flag('throughput', flags.thresholdThroughput, '--threshold-throughput');
  opts.thresholds = thresholds;
  if (flags.alpha !== undefined) {
    opts.alpha = checkAlpha(flags.alpha, '--alpha');
    fromFlags.push('--alpha');
  }
  if (flags.minSamples !== undefined) {
    opts.minSamples = intFlagValue('--min-samples', flags.minSamples, 1, 1_000_000_000, 30);
    fromFlags.push('--min-samples');
  }
  opts.thresholdsSource = fromFlags.length ? `${source}, with ${fromFlags.join(', ')}` : source;
  return opts;
}

/** One line: `thresholds from <source>: p50 10%, p99 20%, throughput 10%; alpha 0.05; 1 per-cell override`. */
export function describeThresholds(opts: CompareOptions): string {
  const t: Thresholds = { ...DEFAULT_THRESHOLDS, ...opts.thresholds };
  const n = opts.overrides?.length ?? 0;
  const pct = (x: number) => fmtPct(x).replace(/^\+/, '');
  return (
    `thresholds from ${opts.thresholdsSource ?? 'the built-in defaults'}: p50 ${pct(t.p50)}, p99 ${pct(t.p99)}, throughput ${pct(t.throughput)}; ` +
    `alpha ${opts.alpha ?? 0.05}; ${n} per-cell override${n === 1 ? '' : 's'}`
  );
}
