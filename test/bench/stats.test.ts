import { describe, expect, it } from 'vitest';
import { Random } from '../../src/util/random.js';
import { bootstrapPercentileChange, percentileBootstrapSampler, sampleBeta } from '../../src/bench/analyze/bootstrap.js';
import {
  binsFromValues,
  incompleteBeta,
  mannWhitneyU,
  normalCdf,
  percentile,
  relativeChange,
  studentTTwoSided,
  welchTTest,
} from '../../src/bench/analyze/stats.js';

const SEED = Number(process.env.TEST_SEED ?? 20261123);
const seedMsg = `seed ${SEED} (rerun with TEST_SEED=${SEED})`;

describe('percentile (HdrHistogram definition)', () => {
  const bins = binsFromValues(Array.from({ length: 100 }, (_, i) => i + 1));
  it('gives the smallest value with at least ceil(p n / 100) samples at or below it', () => {
    expect(percentile(bins, 50)).toBe(50);
    expect(percentile(bins, 99)).toBe(99);
    expect(percentile(bins, 99.5)).toBe(100);
    expect(percentile(bins, 100)).toBe(100);
    expect(percentile(bins, 0.5)).toBe(1);
    expect(percentile(binsFromValues([3, 1, 2]), 50)).toBe(2);
  });
  it('is NaN for an empty sample and rejects p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile(bins, 0)).toThrow(/percentile 0/);
    expect(() => percentile(bins, 101)).toThrow(/percentile 101/);
  });
  it('binsFromValues merges equal values and sorts', () => {
    expect(binsFromValues([5, 1, 5, 3])).toEqual([
      { value: 1, count: 1 },
      { value: 3, count: 1 },
      { value: 5, count: 2 },
    ]);
  });
});

describe('distributions', () => {
  it('normalCdf matches tables', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 5);
    expect(normalCdf(-2.575829)).toBeCloseTo(0.005, 5);
  });
  it('Student t two-sided p-values match tables', () => {
    expect(studentTTwoSided(12.706, 1)).toBeCloseTo(0.05, 3);
    expect(studentTTwoSided(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(studentTTwoSided(1.96, 1e6)).toBeCloseTo(0.05, 3);
    expect(studentTTwoSided(0, 5)).toBeCloseTo(1, 9);
  });
  it('incompleteBeta matches closed forms', () => {
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 9);
    expect(incompleteBeta(0.3, 2, 1)).toBeCloseTo(0.09, 9);
    expect(incompleteBeta(0.5, 3, 3)).toBeCloseTo(0.5, 9);
  });
  it('sampleBeta has the right mean', () => {
    const rng = new Random(SEED);
    let s = 0;
    for (let i = 0; i < 20000; i++) s += sampleBeta(rng, 3, 7);
    expect(s / 20000, seedMsg).toBeCloseTo(0.3, 2);
  });
});

describe('Mann-Whitney U', () => {
  it('computes U, the effect size and the normal-approximation p-value of a known example', () => {
    const r = mannWhitneyU(binsFromValues([1, 2, 3]), binsFromValues([4, 5, 6]));
    expect(r.u).toBe(9);
    expect(r.probGreater).toBe(1);
    // z = (9 - 4.5 - 0.5) / sqrt(5.25) = 1.7457; p = 2 (1 - Phi(z)) = 0.0809
    expect(r.z).toBeCloseTo(1.7457, 3);
    expect(r.pValue).toBeCloseTo(0.0809, 3);
  });
  it('gives p = 1 for identical constant samples and for empty ones', () => {
    expect(mannWhitneyU(binsFromValues([5, 5, 5]), binsFromValues([5, 5])).pValue).toBe(1);
    expect(mannWhitneyU([], binsFromValues([1])).pValue).toBe(1);
  });
  it('on bins equals the pairwise definition with ties', () => {
    const rng = new Random(SEED);
    const a = Array.from({ length: 60 }, () => rng.int(1, 12));
    const b = Array.from({ length: 45 }, () => rng.int(5, 16));
    let u = 0;
    for (const x of a) for (const y of b) u += y > x ? 1 : y === x ? 0.5 : 0;
    const r = mannWhitneyU(binsFromValues(a), binsFromValues(b));
    expect(r.u, seedMsg).toBeCloseTo(u, 9);
    expect(r.pValue, seedMsg).toBeLessThan(0.05);
  });
  it('does not find a shift between two samples of one distribution', () => {
    const rng = new Random(SEED);
    const a = Array.from({ length: 2000 }, () => Math.round(rng.normal(100, 10)));
    const b = Array.from({ length: 2000 }, () => Math.round(rng.normal(100, 10)));
    expect(mannWhitneyU(binsFromValues(a), binsFromValues(b)).pValue, seedMsg).toBeGreaterThan(0.001);
  });
});

describe('Welch t-test', () => {
  it('matches a hand-computed example', () => {
    // means 2 and 5, variances 1 and 1, n = 3 each: t = 3 / sqrt(2/3) = 3.674, df = 4
    const r = welchTTest([1, 2, 3], [4, 5, 6]);
    expect(r.t).toBeCloseTo(3.674, 3);
    expect(r.df).toBeCloseTo(4, 6);
    expect(r.pValue).toBeCloseTo(0.0213, 3);
  });
  it('needs two values per side', () => {
    expect(welchTTest([1], [2, 3]).pValue).toBeNaN();
  });
});

describe('bootstrap of a percentile', () => {
  it('the Beta order-statistic sampler matches brute-force resampling', () => {
    const rng = new Random(SEED);
    const values = Array.from({ length: 200 }, () => Math.round(rng.exponential(50)));
    const bins = binsFromValues(values);
    const sampler = percentileBootstrapSampler(bins, 90);
    const reps = 3000;
    let fast = 0;
    let brute = 0;
    for (let r = 0; r < reps; r++) {
      fast += sampler(rng);
      const resample = Array.from({ length: values.length }, () => values[rng.int(0, values.length - 1)]!);
      brute += percentile(binsFromValues(resample), 90);
    }
    expect(Math.abs(fast / reps - brute / reps) / (brute / reps), seedMsg).toBeLessThan(0.03);
  });
  it('finds a 30% shift of the median and not a null change', () => {
    const rng = new Random(SEED);
    const a = binsFromValues(Array.from({ length: 1000 }, () => Math.round(1000 * Math.exp(rng.normal(0, 0.3)))));
    const same = binsFromValues(Array.from({ length: 1000 }, () => Math.round(1000 * Math.exp(rng.normal(0, 0.3)))));
    const shifted = binsFromValues(Array.from({ length: 1000 }, () => Math.round(1300 * Math.exp(rng.normal(0, 0.3)))));
    const up = bootstrapPercentileChange(a, shifted, 50, { seed: SEED });
    expect(up.estimate, seedMsg).toBeGreaterThan(0.2);
    expect(up.lower, seedMsg).toBeGreaterThan(0.1);
    const none = bootstrapPercentileChange(a, same, 50, { seed: SEED });
    expect(none.lower, seedMsg).toBeLessThan(0);
    expect(none.upper, seedMsg).toBeGreaterThan(0);
  });
  it('with repetitions that disagree, the two-level bootstrap gives a wider interval than pooling', () => {
    const rng = new Random(SEED);
    const rep = (median: number) => binsFromValues(Array.from({ length: 500 }, () => Math.round(median * Math.exp(rng.normal(0, 0.2)))));
    const base = [rep(1000), rep(1300), rep(1000)]; // one slow repetition
    const cur = [rep(1150), rep(1150), rep(1150)];
    const grouped = bootstrapPercentileChange(base, cur, 50, { seed: SEED });
    const pooled = bootstrapPercentileChange(base.flat(), cur.flat(), 50, { seed: SEED });
    expect(grouped.estimate).toBeCloseTo(pooled.estimate, 9);
    expect(grouped.upper - grouped.lower, seedMsg).toBeGreaterThan(2 * (pooled.upper - pooled.lower));
    expect(pooled.lower > 0 || pooled.upper < 0, seedMsg).toBe(true); // pooled: "significant"
    expect(grouped.lower < 0 && grouped.upper > 0, seedMsg).toBe(true); // grouped: not
  });
  it('relativeChange handles zeros', () => {
    expect(relativeChange(0, 0)).toBe(0);
    expect(relativeChange(0, 1)).toBe(Infinity);
    expect(relativeChange(2, 3)).toBeCloseTo(0.5);
  });
});
