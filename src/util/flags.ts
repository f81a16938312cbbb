/**
 * Numeric command-line flags, bounded. Every number a command takes is read here: an integer flag
 * is digits only (no sign, point, exponent, hex or spaces), a decimal flag a plain decimal number,
 * and both must lie within bounds that keep the run within this machine's reach (a repeat count
 * of 10^20 would plan 10^20 cells and run out of memory). A value outside them is a ConfigError
 * (exit 2) naming the flag, the bounds and how to give a good value; nothing is rounded or clamped.
 *
 * Kept free of heavy imports: commands parse their flags before they load the harness (the
 * harness reads its thresholds with them too; src/commands/flags.ts re-exports them).
 */
import os from 'node:os';
import { ConfigError } from '../errors.js';

/** Bounds of the numeric flags shared by several commands. */
export const LIMITS = {
  /** Repetitions of every cell (`bench --repeat`). */
  repeat: 1000,
  /** Measured operations per cell (`bench --ops`). */
  ops: 100_000_000,
  /** Measured seconds per cell (`bench --duration`): one day. */
  durationS: 86_400,
  /** Concurrent clients per cell (`bench --clients`). */
  clients: 10_000,
  /** Seeds are 32-bit: a larger one would silently wrap to another seed. */
  seed: 4_294_967_295,
  /** Seconds to wait for something (`--sync-timeout`): one day. */
  waitS: 86_400,
  /** Worker processes per core (`--workers`), unless `--force`. */
  workersPerCore: 4,
  /** Worker processes with `--force`. */
  workersForced: 256,
  /** Milliseconds of a per-call or search time limit: one hour. */
  timeoutMs: 3_600_000,
} as const;

/** The largest `--workers` count allowed without `--force` on a machine with `cores` cores. */
export function maxWorkers(cores = os.cpus().length, force = false): number {
  return force ? LIMITS.workersForced : Math.max(1, cores) * LIMITS.workersPerCore;
}

/**
 * An integer flag from `min` to `max`, or undefined when it was not given. `example` is a good
 * value shown in the message.
 */
export function intFlag(flag: string, text: string | undefined, min: number, max: number, example?: number): number | undefined {
  if (text === undefined) return undefined;
  const t = String(text);
  const eg = example ?? Math.min(max, Math.max(min, 1));
  if (!/^\d+$/.test(t))
    throw new ConfigError(flag, `expected an integer from ${min} to ${fmt(max)}, got ${JSON.stringify(t)}; give digits only, e.g. ${flag} ${eg}`);
  // Compare as text first: Number() of a long digit string loses precision.
  const digits = t.replace(/^0+(?=\d)/, '');
  if (digits.length > String(max).length || Number(digits) > max)
    throw new ConfigError(flag, `${t} is above the largest allowed value ${fmt(max)}; give ${flag} N with N from ${min} to ${fmt(max)}, e.g. ${flag} ${eg}`);
  const n = Number(digits);
  if (n < min) throw new ConfigError(flag, `${t} is below the smallest allowed value ${min}; give ${flag} N with N from ${min} to ${fmt(max)}, e.g. ${flag} ${eg}`);
  return n;
}

/** Like intFlag, for a flag that always has a value (a default given to commander). */
export function intFlagValue(flag: string, text: string, min: number, max: number, example?: number): number {
  return intFlag(flag, text, min, max, example) as number;
}

/**
 * A decimal flag (`12`, `0.5`) greater than `min` (or equal with `inclusive`) and at most `max`,
 * or undefined when it was not given. `unit` names what it counts (seconds, ...).
 */
export function decimalFlag(flag: string, text: string | undefined, o: { min: number; max: number; unit: string; inclusive?: boolean; example?: string }): number | undefined {
  if (text === undefined) return undefined;
  const t = String(text);
  const range = `${o.inclusive ? 'from' : 'above'} ${o.min} ${o.inclusive ? 'to' : 'and at most'} ${fmt(o.max)}`;
  const eg = o.example ?? '10';
  if (!/^\d+(\.\d+)?$/.test(t)) throw new ConfigError(flag, `expected a number of ${o.unit} ${range}, got ${JSON.stringify(t)}; e.g. ${flag} ${eg}`);
  const n = Number(t);
  if (n > o.max) throw new ConfigError(flag, `${t} is above the largest allowed value ${fmt(o.max)} ${o.unit}; give ${flag} with a number of ${o.unit} ${range}, e.g. ${flag} ${eg}`);
  if (n < o.min || (!o.inclusive && n === o.min))
    throw new ConfigError(flag, `${t} is too small; give ${flag} with a number of ${o.unit} ${range}, e.g. ${flag} ${eg}`);
  return n;
}

function fmt(n: number): string {
  return String(n);
}
