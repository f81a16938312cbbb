/**
 * Errors of robust-kvs. Logic reads `kind` and `retryable`, never message text.
 * Every message names the store, the call and the key, so a user knows where to look.
 * Every message, and the message and stack of every cause they keep, passes through `redact`
 * (src/util/redact.ts): no credential reaches a terminal or a log through an error.
 */
import { redact, redactErrorInPlace } from './util/redact.js';

/** The small set of error kinds every adapter maps its wire errors onto. */
export const ERROR_KINDS = [
  'NotFound',
  'PermissionDenied',
  'RateLimited',
  'Unavailable',
  'Timeout',
  'ConfigInvalid',
  'IntegrityError',
  'Unexpected',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The store calls, as named in errors, metrics and reports. */
export type StoreOp = 'put' | 'get' | 'list' | 'remove';

/** Kinds that are worth retrying by default. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['RateLimited', 'Unavailable', 'Timeout']);

export interface StoreErrorInit {
  kind: ErrorKind;
  /** Name of the store that failed (its `name`, which shows the layer stack). */
  store: string;
  /** The call that failed. */
  op: StoreOp | string;
  /** The key (or list prefix) of the call. */
  key: string;
  /** Extra detail appended to the generated message (what happened, how to fix). */
  detail?: string;
  /** Overrides the default retryability of the kind. */
  retryable?: boolean;
  /** True when the call ended because its AbortSignal fired. */
  aborted?: boolean;
  cause?: unknown;
}

/** Every failure of a store call. */
export class StoreError extends Error {
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly store: string;
  readonly op: string;
  readonly key: string;
  readonly aborted: boolean;

  constructor(init: StoreErrorInit) {
    const detail = init.detail ?? describeCause(init.cause);
    redactErrorInPlace(init.cause);
    super(
      redact(`${init.kind}: ${init.op}(${JSON.stringify(init.key)}) on store ${init.store} failed` + (detail ? `: ${detail}` : '')),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = 'StoreError';
    this.kind = init.kind;
    this.store = init.store;
    this.op = init.op;
    this.key = init.key;
    this.aborted = init.aborted ?? false;
    this.retryable = init.retryable ?? RETRYABLE_BY_DEFAULT.has(init.kind);
  }
}

/** One replica's failure inside a quorum operation. */
export interface ReplicaFailure {
  replica: string;
  error: unknown;
}

/**
 * A robust-store operation could not gather a quorum of replies before its timeout or abort.
 * `failures` lists every replica's error (or that it had not answered yet).
 */
export class QuorumError extends StoreError {
  readonly needed: number;
  readonly received: number;
  readonly failures: readonly ReplicaFailure[];

  constructor(init: {
    store: string;
    op: string;
    key: string;
    needed: number;
    received: number;
    failures: readonly ReplicaFailure[];
    aborted?: boolean;
    cause?: unknown;
    /**
     * Unavailable (default) when too few replicas answered or the store was closed; Timeout when
     * the caller's signal or the operation timeout ended the wait.
     */
    kind?: 'Unavailable' | 'Timeout';
    /** The replica round the operation was waiting for (`list`, `put`, `get`), named in the message. */
    round?: string;
    /** Why the wait ended early (`aborted by the caller`, ...), put in front of the counts. */
    reason?: string;
    /** @default true unless `aborted`: a call the caller aborted, or a closed store, is never retried. */
    retryable?: boolean;
  }) {
    const perReplica = init.failures.map((f) => `${f.replica}: ${describeCause(f.error)}`).join('; ');
    const counts = `needed ${init.needed} replies${init.round ? ` in its ${init.round} round` : ''}, got ${init.received}`;
    super({
      kind: init.kind ?? 'Unavailable',
      store: init.store,
      op: init.op,
      key: init.key,
      aborted: init.aborted,
      retryable: init.retryable ?? !init.aborted,
      cause: init.cause,
      detail: `${init.reason ? `${init.reason}: ` : ''}${counts}${perReplica ? ` (${perReplica})` : ''}`,
    });
    this.name = 'QuorumError';
    this.needed = init.needed;
    this.received = init.received;
    this.failures = init.failures.map((f) => {
      redactErrorInPlace(f.error);
      return typeof f.error === 'string' ? { ...f, error: redact(f.error) } : f;
    });
  }
}

/**
 * Bad configuration or usage. `path` names the config field, option or variable,
 * and the message says how to fix it. CLI usage errors exit with code 2.
 */
export class ConfigError extends Error {
  readonly kind = 'ConfigInvalid' as const;
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    redactErrorInPlace(options?.cause);
    // The path names a field or an argument, never a secret; only the explanation is redacted
    // (so `azure.accountKey: account "a" needs ...` keeps its words).
    super(path ? `${path}: ${redact(message)}` : redact(message), options);
    this.name = 'ConfigError';
    this.path = path;
  }
}

/** A short, one-line description of any thrown value, with credentials masked. */
export function describeCause(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  if (cause instanceof Error) return redact(cause.message.split('\n')[0] ?? cause.name);
  return redact(String(cause));
}

export function isStoreError(e: unknown): e is StoreError {
  return e instanceof StoreError;
}
