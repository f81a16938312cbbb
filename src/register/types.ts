/**
 * Public types of the robust register (SPEC §1-§5). The implementation lives in register.ts and
 * robust-store.ts; the simulator, the checkers and the harness code against these types.
 */
import type { CallOptions, Store } from '../store.js';
import type { Timestamp } from './timestamp.js';

/** `regular`: a read returns the last completed write or a concurrent one. `atomic`: linearizable. */
export type Variant = 'regular' | 'atomic';

/**
 * `classic`: write = list, temporary puts, eternal puts (3 rounds); read = list, get (2 rounds; 3 when atomic).
 * `fast`: write = list, then temporary and eternal puts in parallel (2 rounds); read = list and eternal get
 * in parallel (1 round in the common case).
 */
export type Schedule = 'classic' | 'fast';

/** How garbage collection of older temporary keys relates to the write that triggers it. */
export type GcMode = 'background' | 'sync';

/** Every decision point a mutant may change. Pure functions and flags; no simulation-specific branches. */
export interface RegisterPolicy {
  /** Replies an operation waits for. Default `n - t`. */
  quorum(n: number, t: number): number;
  /** The timestamp of a new write, from the largest listed one. Default `(max.num + 1, clientId)`. */
  nextTimestamp(maxListed: Timestamp | null, clientId: string): Timestamp;
  /** GC at a replica waits until that replica acknowledged the new temporary key. Default true. */
  gcWaitsForOwnAck: boolean;
  /** Whether a read may return an eternal answer `eternalTs` when the largest listed key is `tsr`. Default `ts' >= tsr`. */
  acceptEternal(eternalTs: Timestamp, tsr: Timestamp | null): boolean;
  /** Atomic reads write the chosen value back to a quorum when it was not seen there. Default true. */
  atomicWriteBack: boolean;
  /**
   * TEST ONLY (src/util/test-inject.ts): every operation also sends one get to every replica, in the
   * background. An injected regression the gate must catch; never set outside its tests. Default false.
   */
  testExtraRequest?: boolean;
  /**
   * TEST ONLY (src/util/test-inject.ts): every operation waits for one more round (a list at a
   * quorum) before it returns. An injected regression the gate must catch. Default false.
   */
  testExtraRound?: boolean;
}

export interface RobustStoreOptions {
  /** The n key-value stores the register is replicated over (n >= 2t + 1). */
  replicas: Store[];
  /** Consistency of reads. */
  variant: Variant;
  /**
   * Round schedule.
   * @default 'fast'
   */
  schedule?: Schedule;
  /**
   * Replicas that may fail (t).
   * @default floor((n - 1) / 2)
   */
  faults?: number;
  /**
   * Unique id of this client, part of every timestamp it writes (1 to 64 characters, any characters).
   * @default a random 16-hex-digit id
   */
  clientId?: string;
  /**
   * `background`: GC of older temporary keys does not delay the write. `sync`: the write waits for the GC
   * removes at the replicas that are ready for them when the store rounds finish.
   * @default 'background'
   */
  gc?: GcMode;
  /** Each operation stops waiting for a quorum after this many milliseconds (QuorumError). Default: no limit. */
  operationTimeoutMs?: number;
  /**
   * Name shown in errors.
   * @default `robust(<replica names>)`
   */
  name?: string;
  /**
   * Close the replicas when this store is closed. Leave false when several clients share the replicas.
   * @default false
   */
  closeReplicas?: boolean;
  /** Algorithm policy; production uses DEFAULT_POLICY. Tests inject broken policies (mutants). */
  policy?: Partial<RegisterPolicy>;
}

export interface WriteResult {
  /** The timestamp this write chose. */
  ts: Timestamp;
}

export interface ReadResult {
  /** Timestamp of the value returned; null for an empty register. */
  ts: Timestamp | null;
  /** The value; null for an empty register or a tombstone. */
  value: Uint8Array | null;
  /** The value returned is a tombstone (written by `remove`). */
  tombstone: boolean;
  /** Sequential round trips this read waited for. */
  rounds: number;
  /** This (atomic) read wrote the value back to a quorum before returning. */
  wroteBack: boolean;
}

/** A Store over n replicas: put = write, get = read (null if absent/tombstone), remove = tombstone write, list = live names. */
export interface RobustStore extends Store {
  readonly n: number;
  readonly t: number;
  readonly q: number;
  readonly variant: Variant;
  readonly schedule: Schedule;
  readonly clientId: string;
  /** Writes `value` to `register`; resolves with the timestamp chosen. */
  write(register: string, value: Uint8Array, opts?: CallOptions): Promise<WriteResult>;
  /** Reads `register`, with the timestamp returned and how the read went. */
  read(register: string, opts?: CallOptions): Promise<ReadResult>;
  /** Resolves when this client's background GC and lingering calls have all settled (for quiescence). */
  settled(): Promise<void>;
}
