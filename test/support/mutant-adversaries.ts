/**
 * Each known-broken variant of the register with the adversary (scripted strategy) that exposes it
 * in the simulator, for the checker tests that need violating histories.
 */
export const MUTANT_ADVERSARIES: readonly (readonly [mutant: string, strategy: string])[] = [
  ['gc-without-ack', 'gc-ack'],
  ['quorum-minus-one', 'gc-early'],
  ['no-write-back', 'inversion'],
  ['stale-eternal', 'stale-eternal'],
  ['timestamp-not-above', 'uniform'],
];
