/**
 * RobustStore (SPEC §5): the register per key, offered as a Store so it stacks like any layer.
 * put = write, get = read (null when absent or deleted), remove = tombstone write, list = live names.
 */
import { ConfigError } from '../errors.js';
import { checkKeyArgs, checkPutArgs, guardStoreCalls } from '../store-args.js';
import type { CallOptions, Store, StoreCapabilities } from '../store.js';
import { DEFAULT_POLICY, resolvePolicy } from './policy.js';
import { ReplicaSet } from './quorum.js';
import { RegisterClient } from './register.js';
import { randomClientId, validateClientId } from './timestamp.js';
import type { ReadResult, RobustStore, RobustStoreOptions, Schedule, Variant, WriteResult } from './types.js';

/** Bytes the eternal key adds in front of the value (upper bound, for maxValueBytes). */
const ETERNAL_OVERHEAD = 512;

class RobustStoreImpl implements RobustStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly n: number;
  readonly t: number;
  readonly q: number;
  readonly variant: Variant;
  readonly schedule: Schedule;
  readonly clientId: string;
  private readonly client: RegisterClient;
  private readonly rs: ReplicaSet;
  private readonly replicas: readonly Store[];
  private readonly closeReplicas: boolean;
  private closing: Promise<void> | null = null;

  constructor(opts: RobustStoreOptions) {
    const replicas = validate(opts);
    this.replicas = replicas;
    this.n = replicas.length;
    this.t = opts.faults ?? Math.floor((this.n - 1) / 2);
    const policy = resolvePolicy(opts.policy);
    this.q = policy.quorum(this.n, this.t);
    if (!Number.isInteger(this.q) || this.q < 1 || this.q > this.n) {
      throw new ConfigError('policy.quorum', `gave ${this.q} for n = ${this.n}, t = ${this.t}; it must be an integer from 1 to n`);
    }
    this.variant = opts.variant;
    this.schedule = opts.schedule ?? 'fast';
    this.clientId = opts.clientId ?? randomClientId();
    this.name = opts.name ?? `robust(${replicas.map((r) => r.name).join(',')})`;
    this.closeReplicas = opts.closeReplicas ?? false;
    this.capabilities = Object.freeze({
      sortedList: true,
      linearizable: this.variant === 'atomic',
      persistent: replicas.every((r) => r.capabilities.persistent),
      maxKeyBytes: Number.POSITIVE_INFINITY,
      maxValueBytes: Math.max(0, Math.min(...replicas.map((r) => r.capabilities.maxValueBytes)) - ETERNAL_OVERHEAD),
    });
    this.rs = new ReplicaSet(replicas, this.name);
    this.client = new RegisterClient({
      rs: this.rs,
      t: this.t,
      q: this.q,
      variant: this.variant,
      schedule: this.schedule,
      clientId: this.clientId,
      gc: opts.gc ?? 'background',
      operationTimeoutMs: opts.operationTimeoutMs,
      policy,
    });
    // put/get/list/remove check their arguments before anything reaches the replicas.
    guardStoreCalls(this);
  }

  async write(register: string, value: Uint8Array, opts?: CallOptions): Promise<WriteResult> {
    checkPutArgs(this.name, register, value, opts, 'write');
    return this.client.write(register, value, opts, 'write');
  }

  async read(register: string, opts?: CallOptions): Promise<ReadResult> {
    checkKeyArgs(this.name, 'read', register, opts);
    return this.client.read(register, opts, 'read');
  }

  settled(): Promise<void> {
    return this.rs.settled();
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    await this.client.write(key, value, opts, 'put');
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const r = await this.client.read(key, opts, 'get');
    return r.tombstone ? null : r.value;
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    await this.client.write(key, new Uint8Array(0), { ...opts, tombstone: true }, 'remove');
  }

  list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.client.listNames(prefix, opts);
  }

  /** Aborts every call still in flight (lingering puts, background GC); closes the replicas when `closeReplicas`. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.rs.close();
      if (this.closeReplicas) await Promise.all(this.replicas.map((r) => r.close()));
    })();
    return this.closing;
  }
}

function validate(opts: RobustStoreOptions): Store[] {
  if (opts === null || typeof opts !== 'object') throw new ConfigError('options', 'pass { replicas, variant, ... }');
  const { replicas } = opts;
  if (!Array.isArray(replicas) || replicas.length === 0) {
    throw new ConfigError('replicas', 'must be a non-empty array of stores (n >= 2t + 1, e.g. 3 stores for t = 1)');
  }
  replicas.forEach((r, i) => {
    if (r === null || typeof r !== 'object' || typeof r.put !== 'function' || typeof r.list !== 'function') {
      throw new ConfigError(`replicas[${i}]`, 'is not a Store (needs put/get/list/remove/close)');
    }
  });
  if (new Set(replicas).size !== replicas.length) {
    throw new ConfigError('replicas', 'contains the same store object twice; each replica must be a distinct store');
  }
  if (opts.variant !== 'regular' && opts.variant !== 'atomic') {
    throw new ConfigError('variant', `is ${JSON.stringify(opts.variant)}; use 'regular' or 'atomic'`);
  }
  if (opts.schedule !== undefined && opts.schedule !== 'classic' && opts.schedule !== 'fast') {
    throw new ConfigError('schedule', `is ${JSON.stringify(opts.schedule)}; use 'classic' or 'fast'`);
  }
  if (opts.gc !== undefined && opts.gc !== 'background' && opts.gc !== 'sync') {
    throw new ConfigError('gc', `is ${JSON.stringify(opts.gc)}; use 'background' or 'sync'`);
  }
  const n = replicas.length;
  if (opts.faults !== undefined) {
    const t = opts.faults;
    if (!Number.isInteger(t) || t < 0) throw new ConfigError('faults', `is ${String(t)}; use a whole number >= 0`);
    if (n < 2 * t + 1) {
      throw new ConfigError(
        'faults',
        `t = ${t} needs n >= 2t + 1 = ${2 * t + 1} replicas, but ${n} were given; add replicas or lower faults to at most ${Math.floor((n - 1) / 2)}`,
      );
    }
  }
  if (opts.operationTimeoutMs !== undefined && !(Number.isFinite(opts.operationTimeoutMs) && opts.operationTimeoutMs > 0)) {
    throw new ConfigError('operationTimeoutMs', `is ${String(opts.operationTimeoutMs)}; use a positive number of milliseconds`);
  }
  if (opts.clientId !== undefined) validateClientId(opts.clientId);
  return [...replicas];
}

/** Creates a robust store over `opts.replicas` (see RobustStoreOptions). */
export function createRobustStore(opts: RobustStoreOptions): RobustStore {
  return new RobustStoreImpl(opts);
}
