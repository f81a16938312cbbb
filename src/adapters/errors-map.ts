/**
 * Maps provider SDK errors (S3, Azure Blob, GCS) and Node network errors onto our error kinds.
 * Logic reads the kind; the message keeps the provider's status, code and text for people.
 */
import { StoreError, describeCause, type ErrorKind } from '../errors.js';
import { abortError, type CallSite } from '../util/abort.js';

/** What an adapter extracted from a provider error. */
export interface WireFailure {
  /** HTTP status, when the server answered. */
  status?: number;
  /** Provider error code (`NoSuchKey`, `ContainerNotFound`, `notFound`) or a Node error code (`ECONNREFUSED`). */
  code?: string;
  message?: string;
}

/** Node/network error codes that mean "the endpoint cannot be reached right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'ECONNABORTED',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'REQUEST_SEND_ERROR',
  'NetworkingError',
  'ServiceUnavailable',
]);

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'OperationTimedOut',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const RATE_LIMIT_CODES = new Set([
  'SlowDown',
  'ServerBusy',
  'TooManyRequests',
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'rateLimitExceeded',
  'userRateLimitExceeded',
]);

const PERMISSION_CODES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'InvalidAuthenticationInfo',
  'forbidden',
  'unauthorized',
]);

/** Walks `cause` chains and wrapped errors to find a Node system error code such as ECONNREFUSED. */
export function findNodeErrorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let depth = 0; depth < 8 && cur && typeof cur === 'object'; depth++) {
    const o = cur as { code?: unknown; errno?: unknown; cause?: unknown; errors?: unknown };
    if (typeof o.code === 'string' && (UNAVAILABLE_CODES.has(o.code) || TIMEOUT_CODES.has(o.code))) return o.code;
    if (Array.isArray(o.errors)) {
      for (const inner of o.errors) {
        const c = findNodeErrorCode(inner);
        if (c) return c;
      }
    }
    cur = o.cause;
  }
  return undefined;
}

/** Chooses the error kind for a wire failure. */
export function classify(f: WireFailure): ErrorKind {
  const { status, code } = f;
  if (code && RATE_LIMIT_CODES.has(code)) return 'RateLimited';
  if (status === 429) return 'RateLimited';
  if (code && PERMISSION_CODES.has(code)) return 'PermissionDenied';
  if (status === 401 || status === 403) return 'PermissionDenied';
  if (status === 404) return 'NotFound';
  if (code && TIMEOUT_CODES.has(code)) return 'Timeout';
  if (status === 408 || status === 504) return 'Timeout';
  if (code && UNAVAILABLE_CODES.has(code)) return 'Unavailable';
  if (status === 503) return 'RateLimited'; // S3 SlowDown / GCS and Azure "server busy" use 503
  if (status !== undefined && status >= 500) return 'Unavailable';
  return 'Unexpected';
}

/**
 * Builds the StoreError for a failed call. An abort of the caller's signal always wins, so an
 * aborted call reports `Timeout` with `aborted: true` whatever the SDK threw.
 */
export function toStoreError(
  e: unknown,
  site: CallSite,
  f: WireFailure,
  opts: { signal?: AbortSignal; hint?: string } = {},
): StoreError {
  if (opts.signal?.aborted) return abortedCallError(site, opts.signal);
  if (e instanceof StoreError) return e;
  const kind = classify(f);
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`HTTP ${f.status}`);
  if (f.code) parts.push(f.code);
  const msg = f.message || describeCause(e);
  let detail = parts.length ? `${parts.join(' ')}: ${msg}` : msg;
  if (kind === 'Unavailable' && f.code && UNAVAILABLE_CODES.has(f.code)) {
    detail += ' (is the endpoint running and reachable?)';
  }
  if (kind === 'PermissionDenied') detail += ' (check the credentials and their permissions)';
  if (opts.hint) detail += ` ${opts.hint}`;
  return new StoreError({ ...site, kind, detail, cause: e });
}

/** The abort reason of a call cut short because its store was closed. */
export class StoreClosedError extends Error {
  constructor(readonly store: string) {
    super(`the store ${store} was closed`);
    this.name = 'StoreClosedError';
  }
}

/** The error of a call that ended because its store was closed while it was in flight. */
export function storeClosedError(site: CallSite): StoreError {
  return new StoreError({
    ...site,
    kind: 'Unavailable',
    retryable: false,
    aborted: true,
    detail: 'the store was closed while the call was in flight',
  });
}

/**
 * The error of a call whose signal fired: `Timeout` with `aborted: true` when the caller aborted
 * (or its `AbortSignal.timeout` fired), the closed-store error when `close()` did.
 */
export function abortedCallError(site: CallSite, signal: AbortSignal): StoreError {
  return signal.reason instanceof StoreClosedError ? storeClosedError(site) : abortError(site, signal);
}

/** The ConfigInvalid error for a bucket or container that does not exist. */
export function missingBucketError(
  site: CallSite,
  what: 'bucket' | 'container',
  bucket: string,
  howToCreate: string,
  cause?: unknown,
): StoreError {
  return new StoreError({
    ...site,
    kind: 'ConfigInvalid',
    retryable: false,
    detail: `${what} "${bucket}" does not exist. Create it (${howToCreate}) or pass createBucketIfMissing: true`,
    cause,
  });
}

/**
 * Settles with `p`, or rejects with the abort error as soon as `signal` fires (the underlying work
 * may still finish in the background; use only where the SDK takes no signal or the work is shared).
 */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined, site: CallSite): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(abortedCallError(site, signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => {});
      reject(abortedCallError(site, signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Re-labels a StoreError raised by shared set-up work (bucket check) with the call that waited for it. */
export function relabel(e: unknown, site: CallSite): unknown {
  if (!(e instanceof StoreError) || (e.op === site.op && e.key === site.key)) return e;
  const detail = e.message.replace(/^[A-Za-z]+: /, '');
  return new StoreError({ ...site, kind: e.kind, retryable: e.retryable, aborted: e.aborted, detail, cause: e });
}
