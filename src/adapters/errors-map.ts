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
  /** A further explanation the server sent (Swift's s3api puts the exception text in `Reason`). */
  reason?: string;
  /**
   * The server gave this same error to every attempt and it names a specific cause: retrying
   * will not help (see `isPermanentServerError`).
   */
  permanent?: { attempts: number };
}

/** One attempt's answer, as the SDK saw it. */
export interface AttemptAnswer {
  status?: number;
  code?: string;
  message?: string;
  reason?: string;
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

/**
 * Codes that mean the store is configured for another place than the server: a region the server
 * does not serve, or a bucket that lives elsewhere. Retrying does not help; the configuration does.
 */
const CONFIG_CODES = new Set([
  'AuthorizationHeaderMalformed', // SigV4 scope names the wrong region (AWS, Swift s3api)
  'AuthorizationQueryParametersError',
  'PermanentRedirect', // the bucket is in another region (AWS, HTTP 301)
  'IllegalLocationConstraintException',
  'InvalidRegion', // MinIO
]);

/** True for the codes of a region or endpoint mismatch (mapped to ConfigInvalid). */
export function isRegionMismatch(code: string | undefined): boolean {
  return code !== undefined && CONFIG_CODES.has(code);
}

/** The text S3 (and servers copying it) sends with a transient 500: it names no cause. */
const GENERIC_500_MESSAGE = /please try again/i;

/**
 * The rule for a permanent server error. An HTTP 500 is permanent when
 * 1. every attempt of the call got it (at least two attempts: one answer proves nothing),
 * 2. with the same code, message and reason each time, and
 * 3. it names a specific cause in its body: a `Reason` (Swift's s3api sends the exception there,
 *    e.g. "All strings must be XML compatible"), or a message other than S3's generic "We
 *    encountered an internal error. Please try again." (an answer without a body, such as a
 *    HEAD's, names nothing).
 * Such a request fails the same way however often it is sent, so it is reported `Unexpected`,
 * not retryable. 502, 503 and 504, a 500 that changed between attempts, and S3's generic 500
 * (which AWS documents as transient) stay retryable.
 */
export function isPermanentServerError(attempts: readonly AttemptAnswer[]): boolean {
  if (attempts.length < 2) return false;
  const [first] = attempts;
  if (!first || first.status !== 500) return false;
  const same = attempts.every(
    (a) => a.status === first.status && a.code === first.code && a.message === first.message && a.reason === first.reason,
  );
  if (!same) return false;
  if (first.reason) return true;
  const named = first.code !== undefined && first.code !== 'Unknown' && first.code !== 'UnknownError';
  return named && !!first.message && first.message !== 'UnknownError' && !GENERIC_500_MESSAGE.test(first.message);
}

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
  if (code && CONFIG_CODES.has(code)) return 'ConfigInvalid';
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
  const kind = f.permanent ? 'Unexpected' : classify(f);
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`HTTP ${f.status}`);
  if (f.code) parts.push(f.code);
  let msg = f.message || describeCause(e);
  if (f.reason && f.reason !== msg) msg += ` (${f.reason})`;
  let detail = parts.length ? `${parts.join(' ')}: ${msg}` : msg;
  if (kind === 'Unavailable' && f.code && UNAVAILABLE_CODES.has(f.code)) {
    detail += ' (is the endpoint running and reachable?)';
  }
  if (kind === 'PermissionDenied') detail += ' (check the credentials and their permissions)';
  if (f.permanent) detail += ` — the same answer to all ${f.permanent.attempts} attempts: a permanent server error, not retried`;
  if (opts.hint) detail += ` ${opts.hint}`;
  return new StoreError({ ...site, kind, detail, cause: e, ...(f.permanent ? { retryable: false } : {}) });
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
