/**
 * Safety for real accounts:
 * - `guardConfiguration` (called by the harness before a run, and by probe): refuses, unless the
 *   user said `--yes`, to touch a bucket that holds objects outside the prefix root (`rkvs-`);
 * - `cleanupOpened` removes everything a run wrote under its prefix (called after each run);
 * - `cleanPrefix` (`rkvs clean --prefix P`) removes leftovers of earlier runs.
 */
import { ConfigError, describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import { isProviderConfiguration, type ProviderConfiguration } from './file.js';
import { missingVariablesError, requiredVariables, unsetVariables } from './open.js';
import { checkCleanPrefix } from './run-prefix.js';
import type { ConfigurationHandle, OpenedConfiguration } from './types.js';

export { checkCleanPrefix } from './run-prefix.js';

/**
 * Refuses configurations whose replicas read environment variables that are unset: one
 * ConfigError (exit 2) naming every such variable of every configuration, with the field naming it.
 */
export function checkVariables(handles: readonly ConfigurationHandle[]): void {
  const missing = handles.flatMap((h) =>
    isProviderConfiguration(h) ? unsetVariables(h.spec.replicas.flatMap((r, i) => requiredVariables(r, `configurations.${h.name}.replicas[${i}]`))) : [],
  );
  if (missing.length) throw missingVariablesError(missing);
}

/** Objects of one replica that lie outside the prefix root. */
export interface ForeignObjects {
  replica: string;
  /** Number of keys not starting with the prefix root. */
  count: number;
  /** Up to 3 of them, to show the user. */
  examples: string[];
}

/** Lists a (raw, unprefixed) store and counts keys outside `prefixRoot`. */
export async function findForeignObjects(
  store: Store,
  prefixRoot: string,
  opts: { signal?: AbortSignal; replica?: string } = {},
): Promise<ForeignObjects> {
  const keys = await store.list('', { signal: opts.signal });
  const foreign = keys.filter((k) => !k.startsWith(prefixRoot));
  return { replica: opts.replica ?? store.name, count: foreign.length, examples: foreign.slice(0, 3) };
}

/** The message asking for `--yes`, naming the buckets and what they hold. */
export function foreignObjectsMessage(config: string, found: ForeignObjects[], prefixRoot: string): string {
  const parts = found
    .filter((f) => f.count > 0)
    .map((f) => `${f.replica} holds ${f.count} object(s) outside "${prefixRoot}" (e.g. ${f.examples.map((e) => JSON.stringify(e)).join(', ')})`);
  return (
    `configuration ${config}: ${parts.join('; ')}. ` +
    `rkvs only writes and removes keys under its own run prefix, but use a dedicated bucket/container, ` +
    `or rerun with --yes to proceed anyway`
  );
}

/**
 * Before a run: checks every replica of a configuration for objects outside its prefix root and
 * throws a ConfigError (exit 2) asking for `--yes` when there are any. Configurations whose
 * replicas live only for the run (memory, embedded emulators) are not checked. Handles not built
 * by config.ts cannot be inspected and pass.
 */
export async function guardConfiguration(
  handle: ConfigurationHandle,
  opts: { yes?: boolean; signal?: AbortSignal } = {},
): Promise<ForeignObjects[]> {
  if (opts.yes || !isProviderConfiguration(handle) || handle.ephemeral) return [];
  const raw = await handle.openRaw({ signal: opts.signal });
  try {
    const found = await Promise.all(
      // an unreachable replica holds nothing to protect here: the run's preflight reports it
      raw.replicas.map((r) =>
        findForeignObjects(r.store, handle.prefixRoot, { signal: opts.signal, replica: r.spec.name ?? r.store.name }).catch(() => ({ replica: r.spec.name ?? r.store.name, count: 0, examples: [] })),
      ),
    );
    opts.signal?.throwIfAborted();
    if (found.some((f) => f.count > 0)) throw new ConfigError('--yes', foreignObjectsMessage(handle.name, found, handle.prefixRoot));
    return found;
  } finally {
    await raw.close();
  }
}

/** What cleanup did on one replica. */
export interface CleanResult {
  config: string;
  replica: string;
  /** Keys found under the prefix. */
  found: number;
  removed: number;
  errors: number;
  /** First error message, if any. */
  firstError?: string;
}

/** Removes `keys` from `store` with bounded concurrency; counts failures instead of stopping. */
async function removeAll(
  store: Store,
  keys: string[],
  opts: { signal?: AbortSignal; concurrency?: number },
): Promise<{ removed: number; errors: number; firstError?: string }> {
  let next = 0;
  let removed = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async () => {
    while (next < keys.length) {
      if (opts.signal?.aborted) return;
      const k = keys[next++];
      try {
        await store.remove(k, { signal: opts.signal });
        removed++;
      } catch (e) {
        errors++;
        firstError ??= describeCause(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 16, keys.length)) }, worker));
  return { removed, errors, firstError };
}

/**
 * After a run: removes every key the run wrote, through the opened (prefixed) replicas.
 * Never throws for a failing replica; the results say what was left.
 */
export async function cleanupOpened(
  opened: Pick<OpenedConfiguration, 'replicas'>,
  opts: { signal?: AbortSignal; config?: string; concurrency?: number } = {},
): Promise<CleanResult[]> {
  return Promise.all(
    opened.replicas.map(async (store) => {
      const base = { config: opts.config ?? '', replica: store.name };
      try {
        const keys = await store.list('', { signal: opts.signal });
        const r = await removeAll(store, keys, opts);
        return { ...base, found: keys.length, ...r };
      } catch (e) {
        return { ...base, found: 0, removed: 0, errors: 1, firstError: describeCause(e) };
      }
    }),
  );
}

/**
 * `rkvs clean`: removes every key starting with `prefix` on every replica of a configuration.
 * With `dryRun`, only counts them.
 */
export async function cleanPrefix(
  handle: ProviderConfiguration,
  prefix: string,
  opts: { yes?: boolean; dryRun?: boolean; signal?: AbortSignal; concurrency?: number } = {},
): Promise<CleanResult[]> {
  checkCleanPrefix(prefix, handle.prefixRoot, opts.yes);
  const each = await handle.openEach({ signal: opts.signal });
  try {
    return await Promise.all(
      each.replicas.map(async (r, i) => {
        const base = { config: handle.name, replica: r.spec.name ?? `replica-${i}` };
        if (!r.store) return { ...base, found: 0, removed: 0, errors: 1, firstError: describeCause(r.error) };
        try {
          const keys = await r.store.list(prefix, { signal: opts.signal });
          if (opts.dryRun) return { ...base, found: keys.length, removed: 0, errors: 0 };
          const res = await removeAll(r.store, keys, opts);
          return { ...base, found: keys.length, ...res };
        } catch (e) {
          return { ...base, found: 0, removed: 0, errors: 1, firstError: describeCause(e) };
        }
      }),
    );
  } finally {
    await each.close();
  }
}
