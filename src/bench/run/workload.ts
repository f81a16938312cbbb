/**
 * Workload definitions (what a suite runs) and their seeded generators: operation mix,
 * value sizes, register access distribution.
 */
import { z } from 'zod';
import { Random } from '../../util/random.js';

export const BENCH_VARIANTS = ['raw', 'regular', 'atomic'] as const;
export type BenchVariant = (typeof BENCH_VARIANTS)[number];
export const BENCH_SCHEDULES = ['fast', 'classic'] as const;
export type BenchSchedule = (typeof BENCH_SCHEDULES)[number];
/** Logical operations of a workload: register write, read, remove (tombstone write). */
export const LOGICAL_OPS = ['write', 'read', 'remove'] as const;
export type LogicalOp = (typeof LOGICAL_OPS)[number];

const int = (min: number) => z.number().int().min(min);

const valueSizesSchema = z.union([
  z.array(int(0)).min(1),
  z.object({ distribution: z.literal('uniform'), min: int(0), max: int(0) }).strict(),
  z.object({ distribution: z.literal('lognormal'), median: int(1), sigma: z.number().positive(), max: int(1) }).strict(),
]);

export const workloadSchema = z
  .object({
    /** Short name shown in progress lines. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, _ . - only'),
    /** Relative weights of each logical operation. */
    mix: z
      .object({ write: z.number().min(0).default(0), read: z.number().min(0).default(0), remove: z.number().min(0).default(0) })
      .strict()
      .refine((m) => m.write + m.read + m.remove > 0, 'at least one of write, read, remove must have a positive weight'),
    /** A list of fixed sizes (one cell per size) or a distribution (sizes bucketed to powers of two). */
    valueBytes: valueSizesSchema,
    /** Number of registers (keys) the workload spreads over. */
    registers: int(1),
    /** Register access distribution. */
    access: z
      .union([z.literal('uniform'), z.object({ zipfian: z.number().positive().default(0.99) }).strict()])
      .default('uniform'),
    /** Concurrent clients; a list runs one cell per count. */
    clients: z.union([int(1), z.array(int(1)).min(1)]).default(1),
    /** Measured operations (all clients together). */
    ops: int(1).optional(),
    /** Or: measured duration in seconds. */
    durationS: z.number().positive().optional(),
    /** Operations before measurement starts (all clients together), excluded from every result. */
    warmupOps: int(0).default(0),
    /** Closed loop (default), or open loop at a target rate in operations per second (all clients). */
    mode: z.union([z.literal('closed'), z.object({ openRate: z.number().positive() }).strict()]).default('closed'),
    /** Restricts the suite's variants for this workload. */
    variants: z.array(z.enum(BENCH_VARIANTS)).min(1).optional(),
    /** Restricts the suite's schedules for this workload. */
    schedules: z.array(z.enum(BENCH_SCHEDULES)).min(1).optional(),
  })
  .strict()
  .refine((w) => w.ops !== undefined || w.durationS !== undefined, 'give ops or durationS (how long to measure)');

export type WorkloadInput = z.input<typeof workloadSchema>;
export type Workload = z.output<typeof workloadSchema>;
export type ValueSizes = Workload['valueBytes'];
export type Access = Workload['access'];

/** Clients counts of a workload, as a list. */
export function clientCounts(w: Workload): number[] {
  return Array.isArray(w.clients) ? w.clients : [w.clients];
}

/** The value_bytes cells of a workload: each fixed size, or `null` for a distribution (bucketed per op). */
export function valueCells(w: Workload): (number | null)[] {
  return Array.isArray(w.valueBytes) ? w.valueBytes : [null];
}

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
