import { setMaxListeners } from 'node:events';
import { StoreError, type StoreOp } from '../errors.js';

/** Where a call is made, for building errors. */
export interface CallSite {
  store: string;
  op: StoreOp | string;
  key: string;
}

/** The StoreError thrown when a call's AbortSignal fired. */
export function abortError(site: CallSite, signal?: AbortSignal): StoreError {
  const reason = signal?.reason;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new StoreError({
    ...site,
    kind: 'Timeout',
    aborted: true,
    retryable: false,
    detail: isTimeout ? 'timed out (AbortSignal.timeout)' : 'aborted by the caller',
    cause: reason,
  });
}

/** Throws a Timeout StoreError when `signal` has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined, site: CallSite): void {
  if (signal?.aborted) throw abortError(site, signal);
}

/**
 * Resolves after `ms` milliseconds, or rejects with a Timeout StoreError as soon as `signal` fires.
 * Leaves no timer or listener behind either way.
 */
export function sleep(ms: number, signal?: AbortSignal, site?: CallSite): Promise<void> {
  const where = site ?? { store: 'sleep', op: 'sleep', key: '' };
  if (signal?.aborted) return Promise.reject(abortError(where, signal));
  if (ms <= 0 && !signal) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(where, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise that never settles on its own, but rejects when `signal` fires (a hung call). */
export function hangUntilAborted(signal: AbortSignal | undefined, site: CallSite): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (!signal) return; // hangs forever: the caller asked for it by passing no signal
    if (signal.aborted) return reject(abortError(site, signal));
    signal.addEventListener('abort', () => reject(abortError(site, signal)), { once: true });
  });
}

/** An AbortSignal that fires when any of the given signals fires (undefined entries ignored). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  const any = AbortSignal.any(present);
  // one operation's many replica calls all listen to it: no listener cap
  setMaxListeners(0, any);
  return any;
}

/**
 * Resolves or rejects as `p` does, or rejects with "<what> did not answer within <ms/1000> s" after
 * `ms` milliseconds (for waits on something that has no signal of its own, e.g. a child process).
 */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
