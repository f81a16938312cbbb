/**
 * Clock offsets of this machine measured against the replicas, so `rkvs merge` can put the shards
 * of a run on one timeline (cell windows, start skew, history times) and say how far apart their
 * clocks are, with a bound, instead of guessing from start times.
 *
 * A replica's clock is read where the replica stamps time itself: the `Date` header of any answer
 * of an HTTP store (S3, Azure Blob, GCS and their emulators: 1 s resolution), or the modification
 * time of a file written into a directory replica (the file server's clock: resolution taken as
 * 10 ms, the kernel's coarse clock). One probe between local times t0 and t1 that reads stamp S of
 * resolution R says the replica's clock read somewhere in [S, S + R) at some instant of [t0, t1],
 * so offset = replica - local lies in [S - t1, S + R - t0]. Probes are intersected; each next probe
 * is timed for the replica's next predicted tick, so every probe about halves the interval until
 * it is about one round trip wide (a probe budget bounds the time spent). The result is the middle
 * of the interval and its half-width, the bound: the true offset is within offset_ms ± bound_ms.
 */
import { open, stat, unlink } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { describeCause } from '../../errors.js';
import { sleep } from '../../util/abort.js';
import { isProviderConfiguration } from '../config/file.js';
import type { ReplicaSpec } from '../config/schema.js';
import type { ConfigurationHandle } from '../config/types.js';

/** One replica's clock against this machine's, as meta.json `clock_offsets` records it. */
export interface ClockOffset {
  config: string;
  /** Replica label (as in every report row). */
  replica: string;
  /** When in the configuration's run it was measured. */
  phase: 'start' | 'end';
  /** Replica clock minus this machine's clock, ms: the middle of the interval the probes allow. */
  offset_ms?: number;
  /** Half-width of that interval: the true offset is within offset_ms ± bound_ms. */
  bound_ms?: number;
  /** Resolution of the replica's stamps, ms. */
  resolution_ms?: number;
  source?: 'date-header' | 'file-mtime';
  /** What was probed (an endpoint URL without credentials, or a directory). */
  target?: string;
  samples?: number;
  /** This machine's wall clock when measured (ISO). */
  at: string;
  /** Why it could not be measured. */
  error?: string;
}

/** Reads a replica's clock once: its stamp and the stamp's resolution. */
export interface ClockTarget {
  source: 'date-header' | 'file-mtime';
  target: string;
  resolutionMs: number;
  read(signal: AbortSignal): Promise<number>;
}

/** This machine's wall clock, the one the shards' windows are read from (whole ms, truncated). */
const now = () => Date.now();

const PROBE_TIMEOUT_MS = 5_000;

/** The URL an HTTP replica answers on (default endpoints of the providers when none is given). */
function endpointOf(spec: ReplicaSpec): string | undefined {
  const env = (name?: string) => (name ? process.env[name] : undefined) || undefined;
  switch (spec.provider) {
    case 's3':
      return spec.endpoint ?? env(spec.endpointEnv) ?? `https://s3.${spec.region ?? 'us-east-1'}.amazonaws.com/`;
    case 'gcs':
      return spec.endpoint ?? env(spec.endpointEnv) ?? 'https://storage.googleapis.com/';
    case 'azure': {
      const given = spec.endpoint ?? env(spec.endpointEnv);
      if (given) return given;
      const cs = env(spec.credentials?.connectionStringEnv) ?? (spec.credentials ? undefined : env('AZURE_STORAGE_CONNECTION_STRING'));
      const blob = cs && /(?:^|;)\s*BlobEndpoint=([^;]+)/i.exec(cs)?.[1];
      if (blob) return blob;
      const account = (cs && /(?:^|;)\s*AccountName=([^;]+)/i.exec(cs)?.[1]) ?? env(spec.credentials?.accountNameEnv) ?? env('AZURE_STORAGE_ACCOUNT');
      return account ? `https://${account}.blob.core.windows.net/` : undefined;
    }
    default:
      return undefined;
  }
}

/** The `Date` header of a HEAD request to `url` (any status: every HTTP answer is stamped). */
function dateHeader(url: string, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    // no agent: the socket closes with the answer, nothing is left open when the run ends
    const req = mod.request(u, { method: 'HEAD', agent: false, signal, headers: { connection: 'close' } }, (res) => {
      res.resume();
      const d = res.headers.date ? Date.parse(res.headers.date) : NaN;
      if (Number.isFinite(d)) resolve(d);
      else reject(new Error(`${u.origin} answered ${res.statusCode} without a Date header`));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The modification time the directory's file system gives a file written now. */
async function fileMtime(dir: string, signal: AbortSignal): Promise<number> {
  // a dot-file: not a key of the directory store (its listing skips names it did not encode)
  const file = path.join(dir, `.rkvs-clock-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fh = await open(file, 'wx');
  try {
    await fh.writeFile('clock probe', { signal });
  } finally {
    await fh.close();
  }
  try {
    return (await stat(file)).mtimeMs;
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

function targetOf(spec: ReplicaSpec): ClockTarget | undefined {
  if (spec.provider === 'fs') return { source: 'file-mtime', target: spec.dir, resolutionMs: 10, read: (s) => fileMtime(spec.dir, s) };
  const url = endpointOf(spec);
  if (!url) return undefined;
  const shown = (() => {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  })();
  return { source: 'date-header', target: shown, resolutionMs: 1000, read: (s) => dateHeader(url, s) };
}

/** The interval of offsets one probe allows. */
async function probeOnce(t: ClockTarget, signal?: AbortSignal): Promise<[number, number, number]> {
  const callSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) : AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const t0 = now();
  const stamp = await t.read(callSignal);
  // Date.now() truncates: the instant it read lies within the next millisecond
  const t1 = now() + 1;
  return [stamp - t1, stamp + t.resolutionMs - t0, t1 - t0];
}

/**
 * Measures one replica's offset: probes until the interval is about a round trip wide, at most
 * `maxProbes` probes and `budgetMs` of waiting.
 */
export async function measureOffset(
  t: ClockTarget,
  o: { maxProbes?: number; budgetMs?: number; signal?: AbortSignal } = {},
): Promise<{ offsetMs: number; boundMs: number; samples: number }> {
  const maxProbes = o.maxProbes ?? 12;
  const end = now() + (o.budgetMs ?? 4_000);
  let lo = -Infinity;
  let hi = Infinity;
  let rtt = Infinity;
  let samples = 0;
  while (samples < maxProbes) {
    if (samples > 0 && t.resolutionMs > 1) {
      // the next tick of the replica's clock, as the interval predicts it, on the local clock
      const mid = (lo + hi) / 2;
      const local = now();
      const target = Math.ceil((local + mid) / t.resolutionMs) * t.resolutionMs - mid - rtt / 2;
      if (target - local > end - local) break;
      if (target > local) await sleep(target - local, o.signal);
    }
    const [a, b, r] = await probeOnce(t, o.signal);
    samples++;
    rtt = Math.min(rtt, r);
    if (a > hi || b < lo) {
      // the clocks moved (a step of either clock): start over from this probe
      lo = a;
      hi = b;
    } else {
      lo = Math.max(lo, a);
      hi = Math.min(hi, b);
    }
    if (hi - lo <= Math.max(2 * rtt, 2) || now() >= end) break;
  }
  return { offsetMs: (lo + hi) / 2, boundMs: (hi - lo) / 2, samples };
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * The clock offset of every replica of a configuration whose replicas every shard shares (for
 * replicas that live in this process, memory and embedded emulators, there is nothing to compare).
 * Replicas are probed at once; one that cannot be probed gets an `error`, never a failure.
 */
export async function measureClocks(
  h: ConfigurationHandle,
  labels: readonly string[],
  phase: 'start' | 'end',
  signal?: AbortSignal,
): Promise<ClockOffset[]> {
  if (!isProviderConfiguration(h)) return [];
  const at = new Date().toISOString();
  return Promise.all(
    h.spec.replicas.map(async (spec, i): Promise<ClockOffset> => {
      const base = { config: h.name, replica: labels[i] ?? spec.name ?? `#${i}`, phase, at };
      const t = targetOf(spec);
      if (!t) return { ...base, error: `a ${spec.provider} replica has no clock of its own to read` };
      try {
        const m = await measureOffset(t, { signal });
        return { ...base, offset_ms: round(m.offsetMs), bound_ms: round(m.boundMs), resolution_ms: t.resolutionMs, source: t.source, target: t.target, samples: m.samples };
      } catch (e) {
        if (signal?.aborted) throw e;
        return { ...base, source: t.source, target: t.target, error: describeCause(e) };
      }
    }),
  );
}
