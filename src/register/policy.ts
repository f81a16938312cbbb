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

/** DEFAULT_POLICY with the given decisions replaced. */
export function resolvePolicy(policy?: Partial<RegisterPolicy>): RegisterPolicy {
  return { ...DEFAULT_POLICY, ...(policy ?? {}) };
}
