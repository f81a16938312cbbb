/**
 * The seeded generators of a workload: operation mix, value sizes, register access distribution.
 */
import { Random } from '../../util/random.js';
import type { Access, LogicalOp, ValueSizes, Workload } from '../config/workload.js';

/** Report bucket of a value size drawn from a distribution: the next power of two (0 stays 0). */
export function sizeBucket(bytes: number): number {
  if (bytes <= 1) return bytes;
  return 2 ** Math.ceil(Math.log2(bytes));
}

/** Draws value sizes. */
export function valueSizeSampler(sizes: ValueSizes, fixed: number | null, rnd: Random): () => number {
  if (fixed !== null) return () => fixed;
  if (Array.isArray(sizes)) return () => rnd.pick(sizes);
  if (sizes.distribution === 'uniform') {
    const { min, max } = sizes;
    return () => rnd.int(Math.min(min, max), Math.max(min, max));
  }
  const { median, sigma, max } = sizes;
  return () => Math.max(0, Math.min(max, Math.round(median * Math.exp(rnd.normal(0, sigma)))));
}

/** Draws register indexes in [0, n). */
export function registerSampler(n: number, access: Access, rnd: Random): () => number {
  if (access === 'uniform' || n === 1) return () => rnd.int(0, n - 1);
  const cdf = zipfianCdf(n, access.zipfian);
  return () => {
    const u = rnd.next();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Cumulative distribution of a Zipf law with exponent `theta` over ranks 1..n (index 0 is the hottest). */
export function zipfianCdf(n: number, theta: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / (i + 1) ** theta;
    cdf[i] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i] = (cdf[i] as number) / sum;
  cdf[n - 1] = 1;
  return cdf;
}

/** Draws logical operations according to the mix weights. */
export function opSampler(mix: Workload['mix'], rnd: Random): () => LogicalOp {
  const total = mix.write + mix.read + mix.remove;
  return () => {
    const u = rnd.next() * total;
    if (u < mix.write) return 'write';
    if (u < mix.write + mix.read) return 'read';
    return 'remove';
  };
}

/** Name of register `i` (fixed width, so listings sort). */
export function registerName(i: number): string {
  return `r${String(i).padStart(6, '0')}`;
}
