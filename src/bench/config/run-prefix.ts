/**
 * Run prefixes: where a run's objects live in a bucket, and who owns them.
 *
 * - Every key a bench run writes lives under `runPrefix(prefixRoot, runId)` =
 *   `<prefixRoot>bench/<run-id>/` (`rkvs-bench/<run-id>/` with the default root `rkvs-`), and a
 *   probe's under `<prefixRoot>probe-<run-id>/`: always inside the configuration's
 *   `defaults.prefixRoot`, so the bucket guard of the next run sees nothing foreign.
 * - A run owns its prefix: before it writes anything else it puts an owner marker
 *   `_owner/<slot>/<nonce>` under it on every replica (the nonce is random per process), then lists
 *   `_owner/`: a marker of any other run means the prefix is taken, and this run withdraws its
 *   marker and stops without touching anything else. The shards of one run (`--shard i/N`, one
 *   run id) share the prefix: their slots `shard-<i>-of-<N>` are compatible with each other, and
 *   with nothing else. Two processes that put their markers at the same time both see both and both
 *   stop: never both go on.
 * - `checkCleanPrefix` accepts only whole run prefixes for `rkvs clean --prefix`.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ConfigError, describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import { DEFAULT_PREFIX_ROOT } from './schema.js';
import type { ConfigurationHandle } from './types.js';

/** A run id: 1-128 letters, digits, `_ . -`, starting with a letter or digit (a key part and a directory name). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The key prefix of bench run `runId` under `prefixRoot`: `<prefixRoot>bench/<runId>/`. */
export function runPrefix(prefixRoot: string, runId: string): string {
  if (!RUN_ID_PATTERN.test(runId)) throw new ConfigError('run id', `${JSON.stringify(runId)} cannot be a run id: use 1-128 letters, digits, _ . - (starting with a letter or digit)`);
  return `${prefixRoot}bench/${runId}/`;
}

/** The key prefix of probe run `runId` under `prefixRoot`: `<prefixRoot>probe-<runId>/`. */
export function probeRunPrefix(prefixRoot: string, runId: string): string {
  return `${prefixRoot}probe-${runId}/`;
}

/** The prefix root of a configuration: its file's `defaults.prefixRoot`, else `rkvs-`. */
export function prefixRootOf(h: ConfigurationHandle): string {
  const root = (h as { prefixRoot?: unknown }).prefixRoot;
  return typeof root === 'string' && root !== '' ? root : DEFAULT_PREFIX_ROOT;
}

/** `rkvs clean` command line that removes `prefix` from the replicas of configuration `h`. */
export function cleanCommand(h: ConfigurationHandle, prefix: string): string {
  const file = h.origin?.kind === 'file' ? h.origin.file : undefined;
  const config = file ? `--config ${shellWord(file)} --configs ${shellWord(h.name)}` : h.origin?.kind === 'emulators' ? '' : '--config FILE';
  return `rkvs clean ${config}${config ? ' ' : ''}--prefix ${shellWord(prefix)}`;
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./+:=@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Checks a `rkvs clean --prefix` value: a whole run prefix ending in `/`, i.e. `<root>bench/<run-id>/`
 * or `<root>probe-<run-id>/` under the configuration's prefix root (anything else could also match
 * other runs' objects: `rkvs-bench/run1` would remove `rkvs-bench/run1-2/...` too). A prefix
 * outside the root (left by a run of another root) needs `--yes`, and must end in `/` all the same.
 */
export function checkCleanPrefix(prefix: string | undefined, prefixRoot = DEFAULT_PREFIX_ROOT, yes = false): string {
  const eg = `${prefixRoot}bench/<run-id>/`;
  if (prefix === undefined || prefix === '')
    throw new ConfigError('--prefix', `required: the run prefix to remove, e.g. --prefix ${eg} (bench runs print theirs; see reports/<run-id>/meta.json)`);
  if (!prefix.startsWith(prefixRoot)) {
    if (!yes)
      throw new ConfigError(
        '--prefix',
        `${JSON.stringify(prefix)} is outside the prefix root "${prefixRoot}" of the configuration, so it may hold objects rkvs did not write; give a run prefix such as ${eg}, or check it and rerun with --yes`,
      );
    if (!prefix.endsWith('/')) throw new ConfigError('--prefix', `${JSON.stringify(prefix)} does not end in "/", so it would also remove keys of other prefixes that start the same way; add the "/"`);
    return prefix;
  }
  const rest = prefix.slice(prefixRoot.length);
  const m = /^(?:bench\/|probe-)([^/]*)(\/?)$/.exec(rest);
  if (m && RUN_ID_PATTERN.test(m[1]!) && m[2] === '/') return prefix;
  if (m && RUN_ID_PATTERN.test(m[1]!))
    throw new ConfigError(
      '--prefix',
      `${JSON.stringify(prefix)} does not end in "/", so it would also remove other runs whose id starts the same way (${prefix}-2/..., ${prefix}X/...); give the whole run prefix: --prefix ${prefix}/`,
    );
  throw new ConfigError(
    '--prefix',
    `${JSON.stringify(prefix)} is not the prefix of one run; give a whole run prefix ending in "/": ${eg} for a bench run, ${prefixRoot}probe-<run-id>/ for a probe`,
  );
}

/** Who holds a run prefix: one marker per process of the run. */
export interface OwnerMarker {
  run_id: string;
  nonce: string;
  /** `run`, or `shard-<i>-of-<N>` for a shard. */
  slot: string;
  host: string;
  pid: number;
  start: string;
}

/** The owner marker of this process for a run (random nonce). */
export function ownerMarker(runId: string, shard?: { index: number; count: number }): OwnerMarker {
  return {
    run_id: runId,
    nonce: randomBytes(8).toString('hex'),
    slot: shard && shard.count > 1 ? `shard-${shard.index}-of-${shard.count}` : 'run',
    host: os.hostname(),
    pid: process.pid,
    start: new Date().toISOString(),
  };
}

const OWNER_DIR = '_owner/';
/** Time limit of each call of a claim. */
const CLAIM_CALL_MS = 15_000;
const markerKey = (m: OwnerMarker) => `${OWNER_DIR}${m.slot}/${m.nonce}`;

/** True when processes in slots `a` and `b` may share a prefix: shards of one run (same N, other index). */
function compatible(a: string, b: string): boolean {
  const pa = /^shard-(\d+)-of-(\d+)$/.exec(a);
  const pb = /^shard-(\d+)-of-(\d+)$/.exec(b);
  return !!pa && !!pb && pa[2] === pb[2] && pa[1] !== pb[1];
}

/** Markers (slot/nonce) under `_owner/` of a prefixed store that are not ours and not compatible with us. */
async function rivals(store: Store, me: OwnerMarker, signal?: AbortSignal): Promise<string[]> {
  const keys = await store.list(OWNER_DIR, { signal });
  return keys
    .map((k) => k.slice(OWNER_DIR.length))
    .filter((k) => {
      const [slot, nonce] = k.split('/');
      return nonce !== me.nonce && !compatible(me.slot, slot ?? '');
    });
}

function takenMessage(prefix: string, where: string, found: string[], fix: string): string {
  return (
    `the run prefix ${prefix} is in use by another run (${where} holds its owner marker${found.length > 1 ? 's' : ''} ${found.map((f) => `_owner/${f}`).join(', ')}): ` +
    `two runs must never share a prefix, or one's cleanup removes the other's objects. Give this run another --run-id (or none: the default is unique), ` +
    `or, if that run is over (killed), remove its leftovers with: ${fix}`
  );
}

/**
 * Before a run: throws a ConfigError (exit 2) when another run holds `prefix` on any of `replicas`
 * (raw stores, unprefixed). Reads only.
 */
export async function checkPrefixFree(
  replicas: { name: string; store: Store }[],
  prefix: string,
  me: OwnerMarker,
  o: { signal?: AbortSignal; fix: string },
): Promise<void> {
  // every replica is listed at once; one that cannot be listed holds nothing to check here: up to
  // t may be down, and the run's preflight names every unreachable one
  const settled = await Promise.allSettled(replicas.map((r) => r.store.list(prefix + OWNER_DIR, { signal: o.signal })));
  o.signal?.throwIfAborted();
  settled.forEach((s, i) => {
    if (s.status === 'rejected') return;
    const keys = s.value;
    const found = keys
      .map((k) => k.slice(prefix.length + OWNER_DIR.length))
      .filter((k) => {
        const [slot, nonce] = k.split('/');
        return nonce !== me.nonce && !compatible(me.slot, slot ?? '');
      });
    if (found.length) throw new ConfigError('--run-id', takenMessage(prefix, `replica ${replicas[i]!.name}`, found, o.fix));
  });
}

/**
 * Claims a run prefix on the replicas (stores opened under the prefix): puts this process's owner
 * marker on each, then lists the markers on each. Up to `t` replicas may fail either step (they are
 * down, and the run goes on without them), so the marker is on at least n - t replicas and n - t
 * listings were read: any two such sets meet, so of two runs claiming at once at least one sees
 * the other. Another run's marker anywhere: withdraws ours and throws a ConfigError naming the
 * replica and the fix; nothing else is written or removed. More than `t` failures: withdraws ours
 * and throws, naming every replica that failed. Returns the function that withdraws the markers at
 * the end of the run (cleanup removes them too).
 */
export async function claimRunPrefix(
  replicas: Store[],
  prefix: string,
  me: OwnerMarker,
  o: { signal?: AbortSignal; fix: string; labels?: string[]; t?: number },
): Promise<() => Promise<void>> {
  const body = new TextEncoder().encode(JSON.stringify(me));
  const t = o.t ?? 0;
  const label = (i: number) => o.labels?.[i] ?? replicas[i]!.name;
  const release = async () => {
    const signal = AbortSignal.timeout(15_000);
    await Promise.allSettled(replicas.map((r) => r.remove(markerKey(me), { signal })));
  };
  const atQuorum = <T>(step: string, settled: PromiseSettledResult<T>[]): (T | undefined)[] => {
    o.signal?.throwIfAborted();
    const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [`replica ${label(i)}: ${describeCause(s.reason)}`] : []));
    if (failed.length > t || failed.length === replicas.length)
      throw new Error(`${step} failed on ${failed.length} of ${replicas.length} replica(s), more than t = ${t}: ${failed.join('; ')}`);
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  };
  // every call is bounded, as the preflight's: a replica that hangs counts as down
  const bounded = () => (o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(CLAIM_CALL_MS)]) : AbortSignal.timeout(CLAIM_CALL_MS));
  try {
    atQuorum('putting the owner marker', await Promise.allSettled(replicas.map((r) => r.put(markerKey(me), body, { signal: bounded() }))));
    const seen = atQuorum('listing the owner markers', await Promise.allSettled(replicas.map((r) => rivals(r, me, bounded()))));
    const i = seen.findIndex((s) => s !== undefined && s.length > 0);
    if (i >= 0) throw new ConfigError('--run-id', takenMessage(prefix, `replica ${label(i)}`, seen[i]!, o.fix));
  } catch (e) {
    await release();
    if (e instanceof ConfigError) throw e;
    throw new Error(`cannot claim the run prefix ${prefix}: ${describeCause(e)}`, { cause: e });
  }
  return release;
}
