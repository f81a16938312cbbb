/**
 * Probes: what a replica is like before you benchmark on it. Per replica of a configuration:
 *
 * - `credentials`: the adapter could be built (environment variables set, endpoint valid);
 * - `access`: the bucket can be listed, and holds no objects outside the prefix root (each such
 *   object counts as an anomaly; probing stops there unless `yes`);
 * - `put`/`get`/`list`/`remove`: raw call latency by value size (list: over the probe's keys);
 * - consistency: `read-after-write` (a get right after an overwrite returns the new value),
 *   `list-after-write` (a list right after a put of a new key shows it), `read-after-remove`
 *   (a get right after a remove returns nothing); each violation is an anomaly.
 *
 * Everything is written under a unique probe prefix and removed afterwards. Percentiles use the
 * nearest-rank definition on the recorded samples: p = sorted[ceil(p/100 * count) - 1].
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'csv-stringify/sync';
import { ConfigError, describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import type { ReplicaSpec } from '../config/schema.js';
import { prefixStore } from '../config/open.js';
import type { ProviderConfiguration } from '../config/file.js';
import type { EndpointRoute } from '../config/types.js';
import { cleanupOpened, findForeignObjects } from '../config/clean.js';
import { probeRunPrefix } from '../config/run-prefix.js';
import { mkdirs } from '../../util/fs.js';

export const PROBE_COLUMNS = [
  'run_id',
  'config',
  'replica',
  'provider',
  'check',
  'value_bytes',
  'count',
  'errors',
  'anomalies',
  'p50_ms',
  'p99_ms',
  'mean_ms',
] as const;

export type ProbeCheck =
  | 'credentials'
  | 'access'
  | 'put'
  | 'get'
  | 'list'
  | 'remove'
  | 'read-after-write'
  | 'list-after-write'
  | 'read-after-remove';

export interface ProbeRow {
  run_id: string;
  config: string;
  replica: string;
  provider: string;
  check: ProbeCheck;
  value_bytes: number;
  count: number;
  errors: number;
  anomalies: number;
  p50_ms: number | '';
  p99_ms: number | '';
  mean_ms: number | '';
}

export interface ProbeOptions {
  runId: string;
  /**
   * Value sizes of the latency probes, in bytes.
   * @default [1024, 65536, 1048576]
   */
  sizes?: number[];
  /**
   * Calls per (call type, value size).
   * @default 5
   */
  samples?: number;
  /**
   * Trials per consistency probe.
   * @default 10
   */
  consistencyTrials?: number;
  /**
   * Per-call timeout in milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
  /** Proceed on buckets holding objects outside the prefix root. */
  yes?: boolean;
  signal?: AbortSignal;
  /** One line per problem found (errors, anomalies, skipped replicas). */
  log?: (line: string) => void;
  /**
   * Reaches replicas through other addresses (e.g. a fault proxy in pass mode, so the probe
   * measures the path a `--fault` benchmark takes); see `EndpointRoute`.
   */
  route?: EndpointRoute;
}

export const DEFAULT_PROBE_SIZES = [1024, 65536, 1048576];

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Accumulates one probe row. */
class Tally {
  readonly samples: number[] = [];
  errors = 0;
  anomalies = 0;
  firstError?: string;
  constructor(
    readonly check: ProbeCheck,
    readonly valueBytes: number,
  ) {}

  /** Times `fn`; a thrown error counts as an error (latency not recorded). */
  async time<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false }> {
    const t0 = performance.now();
    try {
      const value = await fn();
      this.samples.push(performance.now() - t0);
      return { ok: true, value };
    } catch (e) {
      this.errors++;
      this.firstError ??= describeCause(e);
      return { ok: false };
    }
  }

  row(base: Pick<ProbeRow, 'run_id' | 'config' | 'replica' | 'provider'>): ProbeRow {
    const s = [...this.samples].sort((a, b) => a - b);
    const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
    return {
      ...base,
      check: this.check,
      value_bytes: this.valueBytes,
      count: this.samples.length + this.errors,
      errors: this.errors,
      anomalies: this.anomalies,
      p50_ms: s.length ? r3(percentile(s, 50)) : '',
      p99_ms: s.length ? r3(percentile(s, 99)) : '',
      mean_ms: s.length ? r3(mean) : '',
    };
  }
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function providerOf(spec: ReplicaSpec): string {
  return spec.provider === 'emulator' ? `emulator:${spec.kind}` : spec.provider;
}

/** What the steps of a replica's probe share. */
interface ProbeRun {
  info: { config: string; replica: string; provider: string; prefixRoot: string; probePrefix: string };
  opts: ProbeOptions;
  base: Pick<ProbeRow, 'run_id' | 'config' | 'replica' | 'provider'>;
  rows: ProbeRow[];
  /** Options of one call: the run's signal and the per-call timeout. */
  call(): { signal: AbortSignal };
  log(line: string): void;
  /** Adds a tally's row and logs its errors and anomalies. */
  add(t: Tally): void;
}

/**
 * Probes one replica store (opened WITHOUT a prefix): access and foreign objects first, then
 * latency and consistency under `probePrefix`, then removes what it wrote.
 */
export async function probeReplica(
  raw: Store,
  info: { config: string; replica: string; provider: string; prefixRoot: string; probePrefix: string },
  opts: ProbeOptions,
): Promise<ProbeRow[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const log = opts.log ?? (() => {});
  const run: ProbeRun = {
    info,
    opts,
    base: { run_id: opts.runId, config: info.config, replica: info.replica, provider: info.provider },
    rows: [],
    call: () => ({ signal: opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) }),
    log,
    add(t) {
      this.rows.push(t.row(this.base));
      if (t.errors) log(`${info.config}/${info.replica}: ${t.check} (${t.valueBytes} B): ${t.errors} error(s), first: ${t.firstError}`);
      if (t.anomalies) log(`${info.config}/${info.replica}: ${t.check}: ${t.anomalies} anomaly(ies)`);
    },
  };
  const store = await probeAccess(raw, run);
  if (!store) return run.rows;
  try {
    for (const size of opts.sizes ?? DEFAULT_PROBE_SIZES) await probeLatency(store, size, run);
    await probeConsistency(store, run);
  } finally {
    const left = await cleanupOpened({ replicas: [store] }, { signal: opts.signal });
    for (const l of left) if (l.errors) log(`${info.config}/${info.replica}: cleanup left ${l.found - l.removed} key(s): ${l.firstError}`);
  }
  return run.rows;
}

/**
 * Access: lists the bucket root (objects outside the prefix root stop the probe unless --yes), then
 * a put/get/remove round trip under the probe prefix. Returns the prefixed store, or undefined when
 * the probe cannot go on.
 */
async function probeAccess(raw: Store, run: ProbeRun): Promise<Store | undefined> {
  const { info, opts } = run;
  const access = new Tally('access', 0);
  const listed = await access.time(() => findForeignObjects(raw, info.prefixRoot, { ...run.call(), replica: info.replica }));
  if (listed.ok && listed.value.count > 0) {
    if (!opts.yes) {
      // the listing is not counted as a probe call: the replica was not probed (count 0)
      access.anomalies = listed.value.count;
      run.rows.push({ ...access.row(run.base), count: 0, p50_ms: '', p99_ms: '', mean_ms: '' });
      run.log(
        `${info.config}/${info.replica}: bucket holds ${listed.value.count} object(s) outside "${info.prefixRoot}" ` +
          `(e.g. ${listed.value.examples.map((k) => JSON.stringify(k)).join(', ')}); skipped — use a dedicated bucket or rerun with --yes`,
      );
      return undefined;
    }
    // --yes: the user knows; probe writes and removes only under its own prefix
    run.log(`${info.config}/${info.replica}: bucket holds ${listed.value.count} object(s) outside "${info.prefixRoot}"; probing anyway under ${info.probePrefix} (--yes)`);
  }
  if (!listed.ok) {
    run.add(access);
    return undefined;
  }
  const store = await prefixStore(raw, info.probePrefix);
  const hello = new TextEncoder().encode('rkvs probe');
  const put = await access.time(() => store.put('access', hello, run.call()));
  const got = put.ok ? await access.time(() => store.get('access', run.call())) : { ok: false as const };
  if (got.ok && !sameBytes(got.value, hello)) access.anomalies++;
  await access.time(() => store.remove('access', run.call()));
  run.add(access);
  if (!access.errors) return store;
  await cleanupOpened({ replicas: [store] }, { signal: opts.signal });
  return undefined;
}

/** Latency of put, get, list and remove at one value size. */
async function probeLatency(store: Store, size: number, run: ProbeRun): Promise<void> {
  const samples = run.opts.samples ?? 5;
  const t = { put: new Tally('put', size), get: new Tally('get', size), list: new Tally('list', size), remove: new Tally('remove', size) };
  const value = randomBytes(size);
  const keys = Array.from({ length: samples }, (_, i) => `lat/${size}/${i}`);
  for (const k of keys) await t.put.time(() => store.put(k, value, run.call()));
  for (const k of keys) {
    const g = await t.get.time(() => store.get(k, run.call()));
    if (g.ok && !sameBytes(g.value, value)) t.get.anomalies++;
  }
  for (let i = 0; i < samples; i++) {
    const l = await t.list.time(() => store.list(`lat/${size}/`, run.call()));
    if (l.ok && l.value.length !== keys.length) t.list.anomalies++;
  }
  for (const k of keys) await t.remove.time(() => store.remove(k, run.call()));
  for (const x of Object.values(t)) run.add(x);
}

/** Read-after-write, list-after-write and read-after-remove, `consistencyTrials` times each. */
async function probeConsistency(store: Store, run: ProbeRun): Promise<void> {
  const raw1 = new Tally('read-after-write', 0);
  const law = new Tally('list-after-write', 0);
  const rar = new Tally('read-after-remove', 0);
  for (let i = 0; i < (run.opts.consistencyTrials ?? 10); i++) {
    const key = `cons/${i}`;
    const v1 = randomBytes(32);
    const v2 = randomBytes(32);
    // list-after-write: a brand-new key must be listed right after its put completes.
    const p1 = await law.time(async () => {
      await store.put(key, v1, run.call());
      return store.list('cons/', run.call());
    });
    if (p1.ok && !p1.value.includes(key)) law.anomalies++;
    // read-after-write (overwrite): the get after a completed put returns the new value.
    const g = await raw1.time(async () => {
      await store.put(key, v2, run.call());
      return store.get(key, run.call());
    });
    if (g.ok && !sameBytes(g.value, v2)) raw1.anomalies++;
    // read-after-remove: the get after a completed remove finds nothing.
    const r = await rar.time(async () => {
      await store.remove(key, run.call());
      return store.get(key, run.call());
    });
    if (r.ok && r.value !== null) rar.anomalies++;
  }
  for (const c of [raw1, law, rar]) run.add(c);
}

/** Probes every replica of a configuration (one after the other, so they do not disturb each other). */
export async function probeConfiguration(handle: ProviderConfiguration, opts: ProbeOptions): Promise<ProbeRow[]> {
  const rows: ProbeRow[] = [];
  const log = opts.log ?? (() => {});
  const each = await handle.openEach({ signal: opts.signal, ...(opts.route ? { route: opts.route } : {}) });
  try {
    for (let i = 0; i < each.replicas.length; i++) {
      const { spec, store, error } = each.replicas[i];
      const replica = spec.name ?? `replica-${i}`;
      const base = { run_id: opts.runId, config: handle.name, replica, provider: providerOf(spec) };
      const cred = new Tally('credentials', 0);
      if (!store) {
        // A ConfigError is a setup problem (variable unset, bad endpoint); anything else happened
        // while reaching the bucket (e.g. an emulator adapter that creates its bucket up front).
        const setup = error instanceof ConfigError;
        const failed = setup ? cred : new Tally('access', 0);
        failed.errors = 1;
        if (!setup) rows.push({ ...cred.row(base), count: 1 });
        rows.push(failed.row(base));
        log(`${handle.name}/${replica}: ${failed.check}: ${describeCause(error)}`);
        continue;
      }
      rows.push({ ...cred.row(base), count: 1 });
      const probePrefix = `${probeRunPrefix(handle.prefixRoot, opts.runId)}${replica}/`;
      rows.push(...(await probeReplica(store, { ...base, prefixRoot: handle.prefixRoot, probePrefix }, opts)));
    }
  } finally {
    await each.close();
  }
  return rows;
}

/** Writes probe.csv into `dir` (created if needed). */
export async function writeProbeCsv(dir: string, rows: readonly ProbeRow[]): Promise<string> {
  try {
    await mkdirs(dir);
    const file = path.join(dir, 'probe.csv');
    await writeFile(file, stringify(rows as ProbeRow[], { header: true, columns: [...PROBE_COLUMNS] }));
    return file;
  } catch (e) {
    throw new ConfigError('--out', `cannot write probe.csv into ${dir}: ${describeCause(e)}`);
  }
}

/** Parses a value size: `1024`, `1KiB`, `64k`, `1MiB`, `1MB` (k/KB/KiB = 1024). */
export function parseSize(s: string, where = '--sizes'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(s);
  if (!m) throw new ConfigError(where, `${JSON.stringify(s)} is not a size; use bytes or a unit, e.g. 1024, 64KiB, 1MiB`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Math.round(Number(m[1]) * mult);
  if (n < 0 || n > 512 * 1024 * 1024) throw new ConfigError(where, `${s} is out of range (0 B to 512 MiB)`);
  return n;
}

/** Fixed-width text table of probe rows. */
export function probeTable(rows: readonly ProbeRow[]): string {
  const header = ['config', 'replica', 'provider', 'check', 'bytes', 'count', 'errors', 'anomalies', 'p50 ms', 'p99 ms', 'mean ms'];
  const body = rows.map((r) => [
    r.config,
    r.replica,
    r.provider,
    r.check,
    String(r.value_bytes),
    String(r.count),
    String(r.errors),
    String(r.anomalies),
    r.p50_ms === '' ? '-' : r.p50_ms.toFixed(2),
    r.p99_ms === '' ? '-' : r.p99_ms.toFixed(2),
    r.mean_ms === '' ? '-' : r.mean_ms.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = (i: number) => i >= 4;
  const fmt = (cells: string[]) => cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)].join('\n');
}

/** `<YYYYMMDD-HHMMSS>-<suite>-<random>` in UTC, as every report directory is named. */
export { makeRunId } from './plan.js';
