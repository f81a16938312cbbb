import { testInjections } from '../util/test-inject.js';
import { compareTs, type Timestamp } from './timestamp.js';
import type { RegisterPolicy } from './types.js';

/** The algorithm of SPEC §3-§4, unchanged. */
export const DEFAULT_POLICY: RegisterPolicy = Object.freeze({
  quorum: (n: number, t: number) => n - t,
  nextTimestamp: (maxListed: Timestamp | null, clientId: string): Timestamp => ({
    num: (maxListed?.num ?? 0) + 1,
    clientId,
  }),
  gcWaitsForOwnAck: true,
  acceptEternal: (eternalTs: Timestamp, tsr: Timestamp | null) => tsr === null || compareTs(eternalTs, tsr) >= 0,
  atomicWriteBack: true,
});

/**
 * DEFAULT_POLICY with the given decisions replaced. The test-only regressions of
 * src/util/test-inject.ts (RKVS_TEST_INJECT) are switched on here, once per register: both are off
 * unless a gate test asks for them, and then they cost the operation one boolean test.
 */
export function resolvePolicy(policy?: Partial<RegisterPolicy>): RegisterPolicy {
  const inj = testInjections();
  const injected: Partial<RegisterPolicy> = {};
  if (inj.extraRequest) injected.testExtraRequest = true;
  if (inj.extraRound) injected.testExtraRound = true;
  return { ...DEFAULT_POLICY, ...injected, ...(policy ?? {}) };
}
