/**
 * Workload definitions: what a suite asks a cell to run (operation mix, value sizes, registers,
 * access pattern, clients, stop condition, closed or open loop), validated with zod.
 */
import { z } from 'zod';
import type { LoadMode } from './cell.js';

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
    /** Name of the workload: part of every cell key (`workload` column) and of progress lines. */
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

/** The load of a workload as the cell key says it: mode and open-loop rate (0 when closed). */
export function loadOf(w: Workload): { mode: LoadMode; open_rate: number } {
  return w.mode === 'closed' ? { mode: 'closed', open_rate: 0 } : { mode: 'open', open_rate: w.mode.openRate };
}
