/**
 * Faults injected into a benchmark (`rkvs bench --fault`): the flag's syntax, its canonical text
 * (the `fault` field of the cell key) and its resolution against a configuration's replicas.
 *
 *   --fault 'replica=<name|index>,<fault>,at=<time>[,for=<duration>]'
 *
 * `<fault>` is a fault-proxy spec as `parseFault` reads it (`blackhole`, `delay=200ms,jitter=50ms`,
 * `reset`, `refuse`, `drop=4096`, `throttle=64KiB/s`). Several faults put in force together in one
 * cell run are separated by `;`; each `--fault` flag is a scenario of its own (docs/benchmarks.md).
 */
import { ConfigError } from '../../errors.js';
import { formatFault, parseFault, type Fault } from '../../net/fault-proxy.js';
import type { ReplicaSpec } from './schema.js';

/** One fault of a scenario: on which replica, what, from when and for how long. */
export interface FaultItem {
  /** The replica as given: a name, a provider (or emulator kind) naming one replica, or a 0-based index. */
  replica: string;
  fault: Fault;
  /** Time from the start of the faulty cell run to the fault, ms. */
  atMs: number;
  /** How long the fault lasts, ms; undefined: until the cell's measured phase ends. */
  forMs?: number;
}

/** What one `--fault` flag asks for: faults put in force together in each faulty cell run. */
export interface FaultScenario {
  items: FaultItem[];
}

/** A fault item whose replica was found in a configuration. */
export interface ResolvedFaultItem extends FaultItem {
  /** Index of the replica in the configuration. */
  index: number;
  /** Its name (the report label). */
  name: string;
}

/** A scenario resolved against one configuration; `key` is the cell key's `fault` field. */
export interface ResolvedFaultScenario {
  key: string;
  items: ResolvedFaultItem[];
}

const SYNTAX = "replica=<name or index>,<fault>,at=<time>[,for=<duration>], e.g. --fault 'replica=s3,blackhole,at=10s'";

/** Parses a time such as `10s`, `500ms`, `1.5s`, `2m` or `0`, in ms; a unit is required for anything but 0. */
export function parseFaultTime(v: string, where: string): number {
  const t = v.trim();
  if (t === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(t);
  if (!m) {
    if (/^\d+(?:\.\d+)?$/.test(t)) throw new ConfigError(where, `"${v}" needs a unit: ${t}s or ${t}ms`);
    throw new ConfigError(where, `"${v}" is not a time; use e.g. 10s, 500ms or 1.5s`);
  }
  const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 's' ? 1000 : 1);
  if (!Number.isFinite(ms) || ms > 24 * 3600_000) throw new ConfigError(where, `"${v}" is out of range (at most 24 hours)`);
  return Math.round(ms);
}

/** A time as the canonical text writes it: `10s` when a whole number of seconds, else `1500ms`. */
export function formatFaultTime(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Parses one fault item: `replica=..., <fault spec>, at=...[, for=...]` (the parts in any order). */
function parseItem(text: string, flag: string): FaultItem {
  const rest: string[] = [];
  const own = new Map<string, string>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq > 0 ? part.slice(0, eq).trim().toLowerCase() : '';
    if (k === 'replica' || k === 'at' || k === 'for') {
      if (own.has(k)) throw new ConfigError(flag, `"${k}" is given twice in "${text}"; give each of replica, at and for once`);
      own.set(k, part.slice(eq + 1).trim());
    } else rest.push(part);
  }
  const replica = own.get('replica');
  if (replica === undefined || replica === '') throw new ConfigError(flag, `"${text}" names no replica; start it with replica=<replica name or 0-based index>: ${SYNTAX}`);
  const at = own.get('at');
  if (at === undefined)
    throw new ConfigError(flag, `"${text}" has no at=<time>: when the fault strikes, counted from the start of each faulty cell run (at=0s: from its first operation); e.g. '${text},at=0s'`);
  if (rest.length === 0) throw new ConfigError(flag, `"${text}" names no fault; add one, e.g. blackhole, delay=200ms, reset, refuse, drop=4096 or throttle=64KiB/s: ${SYNTAX}`);
  const fault = parseFault(rest.join(','), flag);
  if (fault.mode === 'pass') throw new ConfigError(flag, `"${text}": pass is no fault (healthy cells are measured anyway); name a fault such as blackhole or delay=200ms`);
  const item: FaultItem = { replica, fault, atMs: parseFaultTime(at, `${flag} at`) };
  const dur = own.get('for');
  if (dur !== undefined) {
    item.forMs = parseFaultTime(dur, `${flag} for`);
    if (item.forMs === 0) throw new ConfigError(`${flag} for`, 'must be more than 0; leave for= out to keep the fault until the end of the cell');
  }
  return item;
}

/** Parses the text of one `--fault` flag (items separated by `;`). A ConfigError (exit 2) names the flag and the fix. */
export function parseFaultFlag(text: string, flag = '--fault'): FaultScenario {
  const parts = String(text)
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError(flag, `is empty; give ${SYNTAX}`);
  const items = parts.map((p) => parseItem(p, flag));
  const seen = new Set<string>();
  for (const i of items) {
    if (seen.has(i.replica)) throw new ConfigError(flag, `replica ${i.replica} is named twice in "${text}"; give one fault per replica in a scenario (or a --fault flag per scenario)`);
    seen.add(i.replica);
  }
  return { items };
}

/** The canonical text of a resolved scenario: the `fault` field of its cells. */
export function faultKey(items: readonly (Omit<FaultItem, 'replica'> & { name: string })[]): string {
  return items
    .map((i) => `replica=${i.name},${formatFault(i.fault)},at=${formatFaultTime(i.atMs)}${i.forMs !== undefined ? `,for=${formatFaultTime(i.forMs)}` : ''}`)
    .join(';');
}

/** What resolution needs of a configuration: its name and replica specs. */
export interface FaultTarget {
  name: string;
  replicas: readonly ReplicaSpec[];
  /** Tolerated faults. */
  t: number;
}

function replicaList(c: FaultTarget): string {
  return c.replicas.map((r, i) => `${i} ${r.name ?? `replica-${i}`}`).join(', ');
}

function findReplica(c: FaultTarget, ref: string, flag: string): number {
  if (/^\d+$/.test(ref)) {
    const i = Number(ref);
    if (i >= c.replicas.length) throw new ConfigError(flag, `replica=${ref}: configuration ${c.name} has ${c.replicas.length} replicas (0-based: ${replicaList(c)})`);
    return i;
  }
  const byName = c.replicas.findIndex((r) => r.name === ref);
  if (byName >= 0) return byName;
  const kindOf = (r: ReplicaSpec) => (r.provider === 'emulator' ? r.kind : r.provider);
  const byKind = c.replicas.flatMap((r, i) => (kindOf(r) === ref ? [i] : []));
  if (byKind.length === 1) return byKind[0] as number;
  if (byKind.length > 1)
    throw new ConfigError(flag, `replica=${ref} is ambiguous in configuration ${c.name}: ${byKind.length} replicas are ${ref} (${replicaList(c)}); name one or give its index`);
  throw new ConfigError(flag, `configuration ${c.name} has no replica "${ref}"; its replicas are ${replicaList(c)} (a name, a provider naming one replica, or a 0-based index)`);
}

function httpOrRefuse(url: string | undefined, c: FaultTarget, name: string, flag: string, from: string): void {
  const tls = `the fault proxy forwards bytes and cannot sit in front of TLS; --fault works with the emulators and plain-HTTP endpoints (MinIO, Azurite, any http:// endpoint)`;
  if (url === undefined || url.trim() === '') throw new ConfigError(flag, `replica ${name} of configuration ${c.name} has no endpoint (${from}): it reaches its provider over HTTPS, and ${tls}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return; // the adapter reports a bad URL when the configuration opens
  }
  if (u.protocol !== 'http:') throw new ConfigError(flag, `replica ${name} of configuration ${c.name} uses ${u.protocol}//${u.host} (${from}): ${tls}`);
}

/** `BlobEndpoint` of an Azure connection string, if any. */
export function blobEndpointOf(connectionString: string): string | undefined {
  for (const part of connectionString.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim().toLowerCase() === 'blobendpoint') return part.slice(i + 1).trim();
  }
  return undefined;
}

/** Checks that a replica can be put behind the fault proxy: a network endpoint over plain HTTP. */
function checkProxyable(c: FaultTarget, spec: ReplicaSpec, name: string, flag: string): void {
  if (spec.provider === 'emulator') return;
  if (spec.provider === 'memory' || spec.provider === 'fs')
    throw new ConfigError(flag, `replica ${name} of configuration ${c.name} is a ${spec.provider} store inside this process: a fault at the socket needs a network endpoint (run against the emulators, or a configuration with s3, azure, gcs or emulator replicas)`);
  const endpoint = spec.endpoint ?? (spec.endpointEnv ? process.env[spec.endpointEnv] : undefined);
  const from = spec.endpoint ? 'its endpoint' : spec.endpointEnv ? `${spec.endpointEnv}` : 'no endpoint given';
  if (spec.provider === 'azure' && endpoint === undefined) {
    // a connection string named by the file, or AZURE_STORAGE_CONNECTION_STRING when the file gives no credentials
    const csEnv = spec.credentials ? spec.credentials.connectionStringEnv : 'AZURE_STORAGE_CONNECTION_STRING';
    const cs = csEnv ? process.env[csEnv] : undefined;
    if (csEnv && cs === undefined) return; // opening the configuration names the missing variable
    if (csEnv && cs !== undefined) {
      httpOrRefuse(blobEndpointOf(cs), c, name, flag, `BlobEndpoint of ${csEnv}`);
      return;
    }
  }
  if (spec.endpointEnv && endpoint === undefined) return; // opening the configuration names the missing variable
  httpOrRefuse(endpoint, c, name, flag, from);
}

/** Resolves a scenario against a configuration: finds each replica, checks it can be proxied. */
export function resolveFaultScenario(s: FaultScenario, c: FaultTarget, flag = '--fault'): ResolvedFaultScenario {
  const items = s.items.map((i) => {
    const index = findReplica(c, i.replica, flag);
    const spec = c.replicas[index] as ReplicaSpec;
    const name = spec.name ?? `replica-${index}`;
    checkProxyable(c, spec, name, flag);
    return { ...i, index, name };
  });
  const indexes = new Set(items.map((i) => i.index));
  if (indexes.size < items.length) throw new ConfigError(flag, `two faults of one scenario name the same replica of configuration ${c.name}; give one fault per replica`);
  return { key: faultKey(items), items };
}
