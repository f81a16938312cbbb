/**
 * The simulation engine: a cluster of simulated replicas on one clock, register clients driven by
 * closed-loop workloads, and the measurements the scenarios report (latencies, errors, requests,
 * copies per replica over time, point contention).
 */
import { describeCause, StoreError } from '../errors.js';
import { Random } from '../util/random.js';
import { RealClock, SimulationStalledError, VirtualClock, type Clock } from './clock.js';
import { sampleDistribution, type Distribution, type LatencyModel } from './models.js';
import { loadRegister, type Schedule, type SimRegisterClient, type Variant } from './register.js';
import { SimReplica, zeroCounters, type ReplicaCounters, type ReplicaFaults } from './replica.js';

export interface ClusterSpec {
  /** One latency model per replica (n = models.length). */
  models: LatencyModel[];
  /** Faults per replica (same index as models). */
  faults?: (ReplicaFaults | undefined)[];
  /** Tolerated faults t (default floor((n-1)/2)). */
  t?: number;
  seed: number;
  /** Virtual (default) or real time. */
  clock?: 'virtual' | 'real';
  /** See SimReplicaOptions.effectFraction. */
  effectFraction?: number;
  /** Names of the replicas (default r0..r{n-1}). */
  names?: string[];
}

/** A point of the space time series. */
export interface SpaceSample {
  timeMs: number;
  replica: string;
  objects: number;
  /** Objects without lingering temporary keys (see SimReplica.peakInOrder). */
  objectsInOrder: number;
  bytes: number;
  concurrentWrites: number;
}

export class Cluster {
  readonly clock: Clock;
  readonly replicas: SimReplica[];
  readonly n: number;
  readonly t: number;
  readonly q: number;
  /** Writes in progress now, and the largest number seen (point contention). */
  concurrentWrites = 0;
  maxConcurrentWrites = 0;
  /** Space samples, recorded on every change when `trackSpace` is on. */
  readonly space: SpaceSample[] = [];
  trackSpace = false;
  /** Writes that have returned, as `<num>:<clientId>`. */
  readonly returnedWrites = new Set<string>();
  private readonly rng: Random;

  constructor(readonly spec: ClusterSpec) {
    this.clock = spec.clock === 'real' ? new RealClock() : new VirtualClock();
    this.rng = new Random(spec.seed);
    this.n = spec.models.length;
    if (this.n < 1) throw new Error('a cluster needs at least one replica model');
    this.t = spec.t ?? Math.floor((this.n - 1) / 2);
    if (this.n < 2 * this.t + 1) throw new Error(`n = ${this.n} replicas cannot tolerate t = ${this.t} faults: the register needs n >= 2t + 1`);
    this.q = this.n - this.t;
    this.replicas = spec.models.map(
      (model, i) =>
        new SimReplica({
          name: spec.names?.[i] ?? `r${i}`,
          clock: this.clock,
          model,
          seed: this.rng.fork(`replica-${i}`).nextUint32(),
          faults: spec.faults?.[i],
          effectFraction: spec.effectFraction,
          writeReturned: (suffix) => this.returnedWrites.has(writeKey(suffix)),
          onChange: (r) => {
            if (this.trackSpace)
              this.space.push({ timeMs: this.clock.now(), replica: r.name, objects: r.objects, objectsInOrder: r.objectsInOrder, bytes: r.bytes, concurrentWrites: this.concurrentWrites });
          },
        }),
    );
  }

  /** A fresh seed derived from the cluster's seed (for clients and workloads). */
  fork(label: string): Random {
    return this.rng.fork(label);
  }

  /** Sleeps on the cluster's clock. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.schedule(ms, resolve));
  }

  /** Per-replica counters, copied. */
  counters(): ReplicaCounters[] {
    return this.replicas.map((r) => ({ ...r.counters }));
  }

  resetCounters(): void {
    for (const r of this.replicas) r.resetCounters();
  }

  /** Drives `work` to completion on the clock (virtual: as fast as events allow). */
  drive<T>(work: Promise<T>): Promise<T> {
    return this.clock.drive(work);
  }

  /** Waits until every client's background work has settled and no lingering call is in flight. */
  async quiesce(clients: SimRegisterClient[]): Promise<void> {
    try {
      await this.drive(Promise.all(clients.map((c) => c.settled())));
    } catch (e) {
      // Calls to a crashed replica never settle: once nothing else can happen, the system is quiescent.
      if (!(e instanceof SimulationStalledError && this.replicas.some((r) => r.isDown(this.clock.now())))) throw e;
    }
    if (this.clock instanceof VirtualClock) await this.clock.drain();
    else await new Promise((r) => setTimeout(r, 50));
  }
}

/** `<num>:<clientId>` of a temporary key suffix `<zero-padded num>-<clientId>[.d]`. */
export function writeKey(suffix: string): string {
  const dash = suffix.indexOf('-');
  const id = suffix.slice(dash + 1).replace(/\.d$/, '');
  return `${Number(suffix.slice(0, dash))}:${id}`;
}

/** Differences of two counter snapshots. */
export function diffCounters(after: ReplicaCounters[], before: ReplicaCounters[]): ReplicaCounters[] {
  return after.map((a, i) => {
    const b = before[i] ?? zeroCounters();
    return {
      puts: a.puts - b.puts,
      gets: a.gets - b.gets,
      lists: a.lists - b.lists,
      removes: a.removes - b.removes,
      bytesUp: a.bytesUp - b.bytesUp,
      bytesDown: a.bytesDown - b.bytesDown,
    };
  });
}

export interface ClientSetOptions {
  variant: Variant;
  schedule: Schedule;
  gc?: 'background' | 'sync';
  /** Prefix of client ids (`<prefix>-<i>`). */
  idPrefix?: string;
}

/** Creates `count` register clients sharing the cluster's replicas. */
export async function createClients(cluster: Cluster, count: number, opts: ClientSetOptions): Promise<SimRegisterClient[]> {
  const create = await loadRegister();
  const out: SimRegisterClient[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      create({
        replicas: cluster.replicas,
        variant: opts.variant,
        schedule: opts.schedule,
        faults: cluster.t,
        clientId: `${opts.idPrefix ?? 'c'}${String(i).padStart(4, '0')}`,
        gc: opts.gc,
      }),
    );
  return out;
}

export type LogicalOp = 'write' | 'read';

export interface WorkloadOptions {
  /** Operations per client. */
  opsPerClient: number;
  /** Fraction of writes (0..1). */
  writeFraction: number;
  /** Number of registers the clients spread over (uniformly). @default 1 */
  registers?: number;
  /** Register name prefix (names are `<prefix><i>`). @default "reg" */
  registerPrefix?: string;
  /** Use exactly this register name instead (overrides `registers` and `registerPrefix`). */
  register?: string;
  /** Value size in bytes. @default 1024 */
  valueBytes?: number;
  /** Think time between a client's operations. @default none */
  think?: Distribution;
  /** Delay before each client starts, spread uniformly in [0, startSpreadMs). @default 0 */
  startSpreadMs?: number;
  /**
   * After each write, wait for the client's background GC to settle before its next operation,
   * and count the write as in progress until then (point contention includes its GC).
   * @default false
   */
  settleAfterWrite?: boolean;
  seed: number;
}

/** One completed (or failed) operation. */
export interface OpRecord {
  client: number;
  op: LogicalOp;
  register: string;
  startMs: number;
  endMs: number;
  /** When the client's background work after this write had settled (with `settleAfterWrite`). */
  settledMs?: number;
  ok: boolean;
  errorKind?: string;
  rounds?: number;
}

export interface WorkloadResult {
  records: OpRecord[];
  startMs: number;
  endMs: number;
  /** Requests made to each replica during the workload (background GC included once quiescent). */
  counters: ReplicaCounters[];
  errors: Map<string, number>;
}

/** A value unique to (client, op number) and padded to `bytes` (regularity needs unique values). */
export function uniqueValue(client: number, k: number, bytes: number): Uint8Array {
  const tag = new TextEncoder().encode(`v:${client}:${k}:`);
  const out = new Uint8Array(Math.max(bytes, tag.byteLength));
  out.set(tag);
  for (let i = tag.byteLength; i < out.byteLength; i++) out[i] = (i * 31 + client) & 0xff;
  return out;
}

/**
 * Runs a closed-loop workload: every client performs `opsPerClient` operations one after another.
 * Errors are counted, never fatal. Returns when all operations are done and the system is quiescent.
 */
export async function runWorkload(cluster: Cluster, clients: SimRegisterClient[], w: WorkloadOptions): Promise<WorkloadResult> {
  const rng = new Random(w.seed);
  const registers = w.registers ?? 1;
  const prefix = w.registerPrefix ?? 'reg';
  const bytes = w.valueBytes ?? 1024;
  const records: OpRecord[] = [];
  const errors = new Map<string, number>();
  const before = cluster.counters();
  const startMs = cluster.clock.now();
  const runOne = async (ci: number) => {
    const c = clients[ci];
    const r = rng.fork(`client-${ci}`);
    if (w.startSpreadMs) await cluster.sleep(r.uniform(0, w.startSpreadMs));
    for (let k = 0; k < w.opsPerClient; k++) {
      if (w.think && k > 0) await cluster.sleep(sampleDistribution(w.think, r));
      const op: LogicalOp = r.chance(w.writeFraction) ? 'write' : 'read';
      const register = w.register ?? `${prefix}${registers > 1 ? r.int(0, registers - 1) : 0}`;
      const s = cluster.clock.now();
      let ok = true;
      let errorKind: string | undefined;
      let rounds: number | undefined;
      if (op === 'write') {
        cluster.concurrentWrites++;
        if (cluster.concurrentWrites > cluster.maxConcurrentWrites) cluster.maxConcurrentWrites = cluster.concurrentWrites;
      }
      try {
        if (op === 'write') {
          const { ts } = await c.write(register, uniqueValue(ci, k, bytes));
          cluster.returnedWrites.add(`${ts.num}:${ts.clientId}`);
        }
        else rounds = (await c.read(register)).rounds;
      } catch (e) {
        ok = false;
        errorKind = e instanceof StoreError ? e.kind : e instanceof Error ? e.name : 'Unexpected';
        const key = `${op}:${errorKind}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
        if (!(e instanceof StoreError)) process.stderr.write(`simulation: unexpected ${op} failure: ${describeCause(e)}\n`);
      }
      const endMs = cluster.clock.now();
      let settledMs: number | undefined;
      if (op === 'write') {
        if (w.settleAfterWrite) {
          await c.settled();
          settledMs = cluster.clock.now();
        }
        cluster.concurrentWrites--;
      }
      records.push({ client: ci, op, register, startMs: s, endMs, settledMs, ok, errorKind, rounds });
    }
  };
  await cluster.drive(Promise.all(clients.map((_, i) => runOne(i))));
  const endMs = cluster.clock.now();
  await cluster.quiesce(clients);
  return { records, startMs, endMs, counters: diffCounters(cluster.counters(), before), errors };
}

/**
 * Overlap contention at time `at`: the writes in progress at `at` (until their GC settled), plus
 * the writes that overlapped any of them. Keys left by a concurrent round that the next round's GC
 * has not removed yet belong to such overlapping writes.
 */
export function overlapContention(writes: Array<{ startMs: number; endMs: number }>, at: number): number {
  const active = writes.filter((w) => w.startMs <= at && at < w.endMs);
  if (active.length === 0) return 0;
  let n = 0;
  for (const w of writes) if (active.some((a) => w.startMs < a.endMs && a.startMs < w.endMs)) n++;
  return n;
}

/** Latencies (ms) of successful records of one op. */
export function latencies(records: OpRecord[], op?: LogicalOp): number[] {
  return records.filter((r) => r.ok && (op === undefined || r.op === op)).map((r) => r.endMs - r.startMs);
}
