/** How the S3 adapter reads the SDK's answers: wire failures, every attempt's answer (for the permanence rule), URL-encoded keys. */
import { findNodeErrorCode, isPermanentServerError, type AttemptAnswer, type WireFailure } from './errors-map.js';

interface S3LikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  Reason?: unknown;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  [ATTEMPTS]?: AttemptAnswer[];
}

/** Where `recordAttempt` leaves every attempt's answer on the error of the latest attempt. */
const ATTEMPTS = Symbol('rkvs.s3.attempts');

function answerOf(e: unknown): AttemptAnswer {
  const err = (e ?? {}) as S3LikeError;
  return {
    status: err.$metadata?.httpStatusCode ?? err.$response?.statusCode,
    code: err.Code ?? err.name,
    message: err.message,
    reason: typeof err.Reason === 'string' ? err.Reason : undefined,
  };
}

/**
 * Adds the answer of a failed attempt to `answers` (every attempt of one call) and leaves the list
 * on the error, so that a permanent server error can be told from a transient one
 * (`isPermanentServerError`, read by `wireFailure`).
 */
export function recordAttempt(e: unknown, answers: AttemptAnswer[]): void {
  answers.push(answerOf(e));
  if (e && typeof e === 'object') Object.defineProperty(e, ATTEMPTS, { value: [...answers], configurable: true });
}

export function wireFailure(e: unknown): WireFailure {
  const err = (e ?? {}) as S3LikeError;
  const status = err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
  const nodeCode = findNodeErrorCode(e);
  let code = err.Code ?? (err.name && err.name !== 'Error' && err.name !== 'S3ServiceException' ? err.name : undefined);
  if (nodeCode) code = nodeCode;
  const attempts = err[ATTEMPTS] ?? [];
  return {
    status,
    code,
    message: err.message,
    ...(typeof err.Reason === 'string' ? { reason: err.Reason } : {}),
    ...(!nodeCode && isPermanentServerError(attempts) ? { permanent: { attempts: attempts.length } } : {}),
  };
}

/** A HEAD answer carries no body: the SDK then names the error `Unknown` / `UnknownError`. */
export function bodiless(f: WireFailure): boolean {
  return f.code === undefined || f.code === 'Unknown' || f.code === 'UnknownError' || /^\d+$/.test(f.code);
}

/**
 * Decodes a key (or prefix) of a listing the server URL-encoded (`EncodingType: url`): AWS encodes
 * like an HTML form, a space as `+` and a `+` as `%2B`, so `+` is turned back into a space before
 * the percent escapes are decoded (as botocore and the AWS SDK for Java do). Servers that encode a
 * space as `%20` (Swift) never leave a bare `+`, so the same decoding fits them.
 */
export function decodeListedKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/** The region AWS names in a 301 answer (`x-amz-bucket-region`), if any. */
export function bucketRegionOf(e: unknown): string | undefined {
  return (e as S3LikeError | undefined)?.$response?.headers?.['x-amz-bucket-region'];
}
