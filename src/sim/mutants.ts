/**
 * Known-broken variants of the register (SPEC §6), built only by overriding the register's policy.
 * Each must be caught by the simulator and the checkers within a bounded number of seeds.
 */
import type { RegisterPolicy, Variant } from '../register/index.js';

export interface Mutant {
  readonly name: string;
  readonly description: string;
  readonly policy: Partial<RegisterPolicy>;
  /** Variants in which the broken rule is used at all. */
  readonly variants: readonly Variant[];
}

export const MUTANTS: readonly Mutant[] = [
  {
    name: 'gc-without-ack',
    description: 'GC removes older temporary keys at a replica before that replica acknowledged the new key',
    policy: { gcWaitsForOwnAck: false },
    variants: ['regular', 'atomic'],
  },
  {
    name: 'quorum-minus-one',
    description: 'operations wait for q - 1 replies instead of q',
    policy: { quorum: (n: number, t: number) => n - t - 1 },
    variants: ['regular', 'atomic'],
  },
  {
    name: 'no-write-back',
    description: 'atomic reads return without writing the value back to a quorum',
    policy: { atomicWriteBack: false },
    variants: ['atomic'],
  },
  {
    name: 'stale-eternal',
    description: "reads accept an eternal value with ts' < tsr",
    policy: { acceptEternal: () => true },
    variants: ['regular', 'atomic'],
  },
  {
    name: 'timestamp-not-above',
    description: 'a write takes the largest listed timestamp number instead of one above it',
    policy: { nextTimestamp: (max, clientId) => ({ num: max?.num ?? 0, clientId }) },
    variants: ['regular', 'atomic'],
  },
];

export function findMutant(name: string): Mutant {
  const m = MUTANTS.find((x) => x.name === name);
  if (!m) throw new Error(`unknown mutant ${JSON.stringify(name)}; use one of ${MUTANTS.map((x) => x.name).join(', ')}`);
  return m;
}
