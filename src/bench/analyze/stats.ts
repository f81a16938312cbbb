/**
 * Statistics for comparing benchmark runs. Pure functions, no I/O; every random choice takes a
 * seeded `Random`.
 *
 * Definitions (also in docs/compare-and-report.md):
 *
 * - A sample is given as *bins*: distinct values in ascending order with their counts, which is
 *   exactly what an HDR histogram holds (values at 3 significant digits).
 * - Percentile (HdrHistogram's definition): the value at percentile p (0 < p <= 100) of n samples is
 *   the smallest recorded value v such that at least ceil(p/100 * n) samples (at least 1) are <= v.
 * - Mann-Whitney U: U_b counts the pairs (a, b) with b > a, plus half the pairs with b == a. Its
 *   two-sided p-value uses the normal approximation with tie correction and continuity correction.
 *   The effect size `probGreater` = U_b / (n_a n_b) is the probability that a random b exceeds a
 *   random a (ties counted half): 0.5 means no shift.
 * - Bootstrap of a percentile: the percentile of a resample of size n drawn with replacement is the
 *   k-th order statistic (k = ceil(p/100 n)) of n draws from the empirical distribution F, which is
 *   exactly F^-1(U) with U ~ Beta(k, n - k + 1). So each bootstrap replicate costs one Beta draw and
 *   one binary search instead of n draws. With several repetitions per side the bootstrap is
 *   two-level: repetitions are resampled with replacement first, then the samples of the chosen
 *   repetitions (same Beta draw on their pooled distribution), so disagreement between repetitions
 *   widens the interval. The confidence interval of the relative change q_b / q_a - 1 is the
 *   percentile interval of the replicates.
 * - Welch's t-test: unequal variances, Welch-Satterthwaite degrees of freedom, two-sided p-value
 *   from Student's t distribution (regularized incomplete beta function). Its confidence interval of
 *   the relative change of the means uses the same t distribution and alpha, so it excludes 0
 *   exactly when p < alpha.
 * - The bootstrap p-value of a relative change (bootstrap.ts) comes from the same replicates as its
 *   interval: p = 2 min(#replicates <= 0, #replicates >= 0) / R, and the (1 - alpha) interval
 *   excludes 0 exactly when p <= alpha.
 */
import type { Histogram } from '../run/histogram.js';

/** One distinct value of a sample and how many times it occurs. */
export interface Bin {
  value: number;
  count: number;
}

/** Bins (ascending, merged) of plain values. */
export function binsFromValues(values: Iterable<number>): Bin[] {
  const counts = new Map<number, number>();
  for (const v of values) {
    if (!Number.isFinite(v)) throw new RangeError(`binsFromValues: sample value ${v} is not a finite number`);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()].sort((x, y) => x[0] - y[0]).map(([value, count]) => ({ value, count }));
}

/** Bins sorted ascending with equal values merged and empty bins dropped. */
export function normalizeBins(bins: readonly Bin[]): Bin[] {
  const counts = new Map<number, number>();
  for (const b of bins) {
    if (b.count < 0 || !Number.isFinite(b.count)) throw new RangeError(`bin count ${b.count} must be a non-negative number`);
    if (b.count > 0) counts.set(b.value, (counts.get(b.value) ?? 0) + b.count);
  }
  return [...counts.entries()].sort((x, y) => x[0] - y[0]).map(([value, count]) => ({ value, count }));
}

/** Total number of samples. */
export function totalCount(bins: readonly Bin[]): number {
  let n = 0;
  for (const b of bins) n += b.count;
  return n;
}

/** Mean of the samples (NaN when empty). */
export function binsMean(bins: readonly Bin[]): number {
  let n = 0;
  let s = 0;
  for (const b of bins) {
    n += b.count;
    s += b.value * b.count;
  }
  return n === 0 ? NaN : s / n;
}

/** Rank (1-based) of the sample that is percentile p under the HdrHistogram definition. */
export function percentileRank(n: number, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile ${p} must be in (0, 100]`);
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n - 1e-9)));
}

/** Value at percentile p (HdrHistogram definition, see above). NaN when there are no samples. */
export function percentile(bins: readonly Bin[], p: number): number {
  const n = totalCount(bins);
  if (n === 0) return NaN;
  return valueAtRank(bins, percentileRank(n, p));
}

/** The k-th smallest sample (1-based). */
export function valueAtRank(bins: readonly Bin[], k: number): number {
  let cum = 0;
  for (const b of bins) {
    cum += b.count;
    if (cum >= k) return b.value;
  }
  return bins.length ? bins[bins.length - 1]!.value : NaN;
}

// ---------------------------------------------------------------------------------------------
// Distributions

/** Complementary error function (Numerical Recipes erfcc, fractional error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9)
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lnFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t statistic with df degrees of freedom. */
export function studentTTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return Number.isNaN(t) ? 1 : 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

// ---------------------------------------------------------------------------------------------
// Tests

/** Result of a Mann-Whitney U test of sample b against sample a. */
export interface MannWhitneyResult {
  nA: number;
  nB: number;
  /** U of sample b: pairs with b > a plus half the ties. */
  u: number;
  /** Normal-approximation z score (positive: b tends to be larger). */
  z: number;
  /** Two-sided p-value. 1 when either sample is empty or all values are equal. */
  pValue: number;
  /** P(b > a) + P(b = a)/2 for random draws; 0.5 means no shift. */
  probGreater: number;
}

/** Mann-Whitney U (Wilcoxon rank-sum) test on binned samples, exact tie handling per bin. */
export function mannWhitneyU(a: readonly Bin[], b: readonly Bin[]): MannWhitneyResult {
  const A = normalizeBins(a);
  const B = normalizeBins(b);
  const nA = totalCount(A);
  const nB = totalCount(B);
  if (nA === 0 || nB === 0) return { nA, nB, u: 0, z: 0, pValue: 1, probGreater: 0.5 };
  let i = 0;
  let j = 0;
  let below = 0; // samples of both before the current value
  let rankSumB = 0;
  let tieTerm = 0;
  while (i < A.length || j < B.length) {
    const va = i < A.length ? A[i]!.value : Infinity;
    const vb = j < B.length ? B[j]!.value : Infinity;
    const v = Math.min(va, vb);
    const ca = va === v ? A[i++]!.count : 0;
    const cb = vb === v ? B[j++]!.count : 0;
    const t = ca + cb;
    const avgRank = below + (t + 1) / 2;
    rankSumB += cb * avgRank;
    tieTerm += t * t * t - t;
    below += t;
  }
  const N = nA + nB;
  const u = rankSumB - (nB * (nB + 1)) / 2;
  const mean = (nA * nB) / 2;
  const variance = ((nA * nB) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  const probGreater = u / (nA * nB);
  if (!(variance > 0)) return { nA, nB, u, z: 0, pValue: 1, probGreater };
  const diff = u - mean;
  const corrected = Math.sign(diff) * Math.max(0, Math.abs(diff) - 0.5);
  const z = corrected / Math.sqrt(variance);
  const pValue = Math.min(1, 2 * normalCdf(-Math.abs(z)));
  return { nA, nB, u, z, pValue, probGreater };
}

/** Result of Welch's two-sample t-test of b against a. */
export interface WelchResult {
  meanA: number;
  meanB: number;
  t: number;
  df: number;
  pValue: number;
}

/** Welch's t-test (two-sided). Needs at least 2 values per sample; otherwise pValue is NaN. */
export function welchTTest(a: readonly number[], b: readonly number[]): WelchResult {
  const mA = mean(a);
  const mB = mean(b);
  if (a.length < 2 || b.length < 2) return { meanA: mA, meanB: mB, t: NaN, df: NaN, pValue: NaN };
  const vA = variance(a, mA) / a.length;
  const vB = variance(b, mB) / b.length;
  const se2 = vA + vB;
  if (se2 === 0) return { meanA: mA, meanB: mB, t: 0, df: a.length + b.length - 2, pValue: mA === mB ? 1 : 0 };
  const t = (mB - mA) / Math.sqrt(se2);
  const df = (se2 * se2) / ((vA * vA) / (a.length - 1) + (vB * vB) / (b.length - 1));
  return { meanA: mA, meanB: mB, t, df, pValue: studentTTwoSided(t, df) };
}

/**
 * The two-sided critical value of Student's t: the t >= 0 whose two-sided p-value with df degrees
 * of freedom is `alpha` (bisection on studentTTwoSided, to 1e-12).
 */
export function studentTCritical(alpha: number, df: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha ${alpha} must be between 0 and 1`);
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Welch's test of b against a with the confidence interval of the relative change of the means. */
export interface WelchChange extends WelchResult {
  /** meanB / meanA - 1. */
  change: number;
  /** (1 - alpha) interval of (meanB - meanA) / meanA: excludes 0 exactly when pValue < alpha. */
  lower: number;
  upper: number;
}

/**
 * Welch's t-test and the matching confidence interval (level 1 - alpha) of the relative change of
 * the means, (mB - mA ± t_crit se) / mA: the interval excludes 0 exactly when p < alpha, so the two
 * never disagree. Needs 2 values per sample (else everything is NaN).
 */
export function welchChange(a: readonly number[], b: readonly number[], alpha: number): WelchChange {
  const w = welchTTest(a, b);
  const change = relativeChange(w.meanA, w.meanB);
  if (!Number.isFinite(w.pValue) || !(w.meanA > 0)) return { ...w, change, lower: NaN, upper: NaN };
  const diff = w.meanB - w.meanA;
  if (w.t === 0 || !Number.isFinite(w.t)) {
    const flat = diff / w.meanA;
    return { ...w, change, lower: flat, upper: flat };
  }
  const se = Math.abs(diff / w.t);
  const half = studentTCritical(alpha, w.df) * se;
  return { ...w, change, lower: (diff - half) / w.meanA, upper: (diff + half) / w.meanA };
}

function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function variance(xs: readonly number[], m: number): number {
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return s / (xs.length - 1);
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

/** (b - a) / a, with 0 when both are 0 and +/-Infinity when only a is 0. */
export function relativeChange(a: number, b: number): number {
  if (a === b) return 0;
  if (a === 0) return b > 0 ? Infinity : -Infinity;
  return (b - a) / Math.abs(a);
}

interface RecordedValuesIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAddedInThisIterationStep: number };
}

/** Distinct recorded values of a histogram with their counts (HdrHistogram's highest equivalent values). */
export function histogramBins(h: Histogram): Bin[] {
  const out: Bin[] = [];
  if (h.totalCount === 0) return out;
  // The pure-JS histogram (the build used by src/bench/histogram.ts) exposes HdrHistogram's iterator.
  const it = (h as unknown as { recordedValuesIterator?: RecordedValuesIterator }).recordedValuesIterator;
  if (!it) throw new Error('histogramBins needs a pure-JS hdr-histogram-js histogram (useWebAssembly: false)');
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    if (v.countAddedInThisIterationStep > 0) out.push({ value: v.valueIteratedTo, count: v.countAddedInThisIterationStep });
  }
  return out;
}
