/**
 * The bootstrap of a percentile and of its relative change between two samples (definitions in
 * stats.ts and docs/compare-and-report.md). Every random choice takes a seeded `Random`.
 */
import { Random } from '../../util/random.js';
import { normalizeBins, percentile, percentileRank, relativeChange, totalCount, valueAtRank, type Bin } from './stats.js';

/** Gamma(shape, 1) variate (Marsaglia and Tsang; shape < 1 by boosting). */
export function sampleGamma(rng: Random, shape: number): number {
  if (!(shape > 0)) throw new RangeError(`gamma shape ${shape} must be > 0`);
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(a, b) variate. */
export function sampleBeta(rng: Random, a: number, b: number): number {
  const x = sampleGamma(rng, a);
  const y = sampleGamma(rng, b);
  return x / (x + y);
}

/**
 * Sampler of the bootstrap distribution of percentile p of a sample given as one or more groups
 * (repetitions of a benchmark cell).
 *
 * One group: the percentile of a resample of the n samples (exact, via one Beta draw).
 * Several groups: a two-level (hierarchical) bootstrap: the groups are resampled with replacement,
 * then the samples within the chosen groups; so the spread between repetitions widens the interval,
 * as it should when runs disagree. Each replicate costs one Beta draw and a binary search over the
 * distinct values, whatever the number of samples.
 */
export function percentileBootstrapSampler(groups: readonly Bin[] | readonly (readonly Bin[])[], p: number): (rng: Random) => number {
  const gs = asGroups(groups)
    .map(normalizeBins)
    .filter((g) => g.length > 0);
  if (gs.length === 0) throw new RangeError('cannot bootstrap an empty sample');
  const values = [...new Set(gs.flatMap((g) => g.map((b) => b.value)))].sort((x, y) => x - y);
  const J = values.length;
  const G = gs.length;
  // cum[g * J + j]: samples of group g that are <= values[j]
  const cum = new Float64Array(G * J);
  const sizes = new Float64Array(G);
  gs.forEach((g, gi) => {
    let c = 0;
    let bi = 0;
    for (let j = 0; j < J; j++) {
      while (bi < g.length && g[bi]!.value === values[j]) c += g[bi++]!.count;
      cum[gi * J + j] = c;
    }
    sizes[gi] = c;
  });
  const weights = new Float64Array(G);
  return (rng) => {
    let n = 0;
    if (G === 1) {
      weights[0] = 1;
      n = sizes[0]!;
    } else {
      weights.fill(0);
      for (let i = 0; i < G; i++) weights[rng.int(0, G - 1)]! += 1;
      for (let g = 0; g < G; g++) n += weights[g]! * sizes[g]!;
    }
    const k = percentileRank(n, p);
    const target = sampleBeta(rng, k, n - k + 1) * n;
    let lo = 0;
    let hi = J - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      let c = 0;
      for (let g = 0; g < G; g++) if (weights[g]! > 0) c += weights[g]! * cum[g * J + mid]!;
      if (c >= target) hi = mid;
      else lo = mid + 1;
    }
    return values[lo]!;
  };
}

function asGroups(x: readonly Bin[] | readonly (readonly Bin[])[]): (readonly Bin[])[] {
  if (x.length === 0) return [];
  return Array.isArray(x[0]) ? (x as readonly (readonly Bin[])[]).slice() : [x as readonly Bin[]];
}

export interface BootstrapOptions {
  /** Number of bootstrap replicates. @default 2000 */
  resamples?: number;
  /** Two-sided confidence level. @default 0.95 */
  confidence?: number;
  /** Seed of the resampling. @default 1 */
  seed?: number;
}

/** Estimate and bootstrap confidence interval of the relative change q_b / q_a - 1 of percentile p. */
export interface RelativeChangeCI {
  estimate: number;
  lower: number;
  upper: number;
  confidence: number;
  /**
   * Two-sided bootstrap p-value from the same replicates: 2 min(#r <= 0, #r >= 0) / R (at most 1).
   * The interval excludes 0 exactly when pValue <= 1 - confidence: test and interval never disagree.
   */
  pValue: number;
  /** The interval excludes 0. */
  significant: boolean;
}

/**
 * Percentile bootstrap confidence interval of the relative change of percentile p from sample a to
 * sample b. Each sample is given as bins, or as a list of groups of bins (one per repetition: a
 * hierarchical bootstrap, see `percentileBootstrapSampler`). Both samples must be non-empty. A
 * change is significant at level 1 - confidence when the interval excludes 0.
 */
export function bootstrapPercentileChange(
  a: readonly Bin[] | readonly (readonly Bin[])[],
  b: readonly Bin[] | readonly (readonly Bin[])[],
  p: number,
  opts: BootstrapOptions = {},
): RelativeChangeCI {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence ${confidence} must be between 0 and 1`);
  const rng = new Random(opts.seed ?? 1);
  const qa = percentile(normalizeBins(asGroups(a).flat()), p);
  const qb = percentile(normalizeBins(asGroups(b).flat()), p);
  const estimate = relativeChange(qa, qb);
  const sa = percentileBootstrapSampler(a, p);
  const sb = percentileBootstrapSampler(b, p);
  const reps = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) reps[r] = relativeChange(sa(rng), sb(rng));
  reps.sort();
  // k replicates are left out of each tail: lower = r[k] > 0 exactly when #(r <= 0) <= k, and
  // upper = r[R-1-k] < 0 exactly when #(r >= 0) <= k, i.e. when the p-value below is <= 1 - confidence
  const k = Math.min(Math.floor(((1 - confidence) / 2) * resamples + 1e-9), Math.floor((resamples - 1) / 2));
  const lower = reps[k]!;
  const upper = reps[resamples - 1 - k]!;
  let atMost = 0;
  let atLeast = 0;
  for (const r of reps) {
    if (r <= 0) atMost++;
    if (r >= 0) atLeast++;
  }
  const pValue = Math.min(1, (2 * Math.min(atMost, atLeast)) / resamples);
  return { estimate, lower, upper, confidence, pValue, significant: lower > 0 || upper < 0 };
}

