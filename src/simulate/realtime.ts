/**
 * Validation of the simulator against real time: the same replica line-up and workload run once in
 * virtual time (simulated replicas) and once in real time over in-memory stores wrapped in the
 * latency layer (src/layers/latency.ts, an independent implementation of the same distributions,
 * on the process's real timers). The ratio of the p50s says how closely they agree.
 */
import events from 'node:events';
import { createMemoryStore } from '../adapters/memory.js';
import { LatencyStore, type DelayDistribution, type LatencyOptions } from '../layers/latency.js';
import type { StoreOp } from '../errors.js';
import type { Store } from '../store.js';
import { Random } from '../util/random.js';
import { heterogeneousCluster } from './presets.js';
import { loadRegister } from './register.js';
import { round, type SimReport } from './report.js';
import { Cluster, createClients, latencies, runWorkload, uniqueValue } from './run.js';
import type { Distribution, LatencyModel } from './models.js';

/** The latency layer's form of a distribution. */
export function toDelayDistribution(d: Distribution): DelayDistribution {
  switch (d.kind) {
    case 'fixed':
      return { kind: 'fixed', ms: d.ms };
    case 'uniform':
      return { kind: 'uniform', minMs: d.min, maxMs: d.max };
    case 'normal':
      return { kind: 'normal', meanMs: d.mean, stddevMs: d.stddev };
    case 'lognormal':
      if (d.min) throw new Error('the latency layer has no shifted lognormal; use min = 0 for real-time runs');
      return { kind: 'lognormal', medianMs: d.median, sigma: d.sigma };
    case 'exponential':
      throw new Error('the latency layer has no exponential distribution; use it for think times only');
    case 'samples':
      return { kind: 'samples', samplesMs: d.samples };
    case 'quantiles': {
      const samples: number[] = [];
      const pts = d.points;
      for (let i = 0; i < 1000; i++) {
        const u = (i + 0.5) / 1000;
        let v = pts[pts.length - 1][1];
        for (let j = 1; j < pts.length; j++)
          if (u <= pts[j][0]) {
            const [q0, v0] = pts[j - 1];
            const [q1, v1] = pts[j];
            v = q1 === q0 ? v1 : v0 + ((v1 - v0) * (u - q0)) / (q1 - q0);
            break;
          }
        samples.push(v);
      }
      return { kind: 'samples', samplesMs: samples };
    }
  }
}

/** Latency layer options equivalent to a simulation model. */
export function toLayerOptions(model: LatencyModel, seed: number): LatencyOptions {
  const perOp: Partial<Record<StoreOp, DelayDistribution>> = {};
  for (const [op, d] of Object.entries(model.perOp ?? {})) perOp[op as StoreOp] = toDelayDistribution(d as Distribution);
  return { delay: toDelayDistribution(model.default), perOp, msPerKiB: model.perKiBMs ?? 0, seed };
}

export interface ValidationOptions {
  n: number;
  /** The replicas (default: provider presets). */
  lineup?: { names: string[]; models: LatencyModel[] };
  ops: number;
  seed: number;
  valueBytes: number;
  report: SimReport;
  log(message: string): void;
}

/** Runs the n-replica heterogeneous cell in virtual and in real time; rows: op, p50s and their ratio. */
export async function runRealTimeValidation(o: ValidationOptions): Promise<{ rows: Array<Record<string, string | number>> }> {
  const { names, models } = o.lineup ?? heterogeneousCluster(o.n);
  const t = Math.floor((o.n - 1) / 2);

  // Virtual time.
  const cluster = new Cluster({ models, names, t, seed: o.seed });
  const vClients = await createClients(cluster, 1, { variant: 'regular', schedule: 'fast' });
  // Many virtual operations (they are cheap), so the sampling noise is on the real side only.
  const v = await runWorkload(cluster, vClients, { opsPerClient: Math.max(2000, o.ops), writeFraction: 0.5, valueBytes: o.valueBytes, seed: o.seed });

  // Real time: memory stores behind the latency layer.
  const replicas: Store[] = models.map((m, i) => new LatencyStore(createMemoryStore({ name: names[i] }), toLayerOptions(m, o.seed * 101 + i)));
  const create = await loadRegister();
  const client = create({ replicas, variant: 'regular', schedule: 'fast', faults: t, clientId: 'c0000' });
  const rng = new Random(o.seed).fork('real');
  const real: Record<'write' | 'read', number[]> = { write: [], read: [] };
  let errors = 0;
  o.log(`validating the simulator in real time (${o.ops} operations, n = ${o.n})...`);
  const start = performance.now();
  // Every call of an operation listens on the operation's signal (n replicas x calls).
  const defaultMax = events.defaultMaxListeners;
  events.setMaxListeners(1000);
  try {
  for (let k = 0; k < o.ops; k++) {
    const op = rng.chance(0.5) ? 'write' : 'read';
    const s = performance.now();
    try {
      if (op === 'write') await client.write('reg0', uniqueValue(0, k, o.valueBytes));
      else await client.read('reg0');
      real[op].push(performance.now() - s);
    } catch {
      errors++;
    }
  }
  } finally {
    events.setMaxListeners(defaultMax);
  }
  const realDuration = performance.now() - start;
  await client.settled();
  await Promise.all(replicas.map((r) => r.close()));

  const rows: Array<Record<string, string | number>> = [];
  for (const op of ['write', 'read'] as const) {
    const virt = latencies(v.records, op);
    const sv = o.report.addLatency({
      config: `validate-n${o.n}-virtual`, variant: 'regular', schedule: 'fast', op, valueBytes: o.valueBytes, clients: 1,
      latenciesMs: virt, errors: v.records.filter((r) => r.op === op && !r.ok).length, durationMs: v.endMs - v.startMs,
    });
    const sr = o.report.addLatency({
      config: `validate-n${o.n}-real`, variant: 'regular', schedule: 'fast', op, valueBytes: o.valueBytes, clients: 1,
      latenciesMs: real[op], errors, durationMs: realDuration,
    });
    rows.push({
      config: `validate-n${o.n}`,
      op,
      virtual_p50_ms: round(sv.p50_ms),
      real_p50_ms: round(sr.p50_ms),
      p50_ratio: round(sr.p50_ms / sv.p50_ms),
      virtual_p99_ms: round(sv.p99_ms),
      real_p99_ms: round(sr.p99_ms),
      real_count: real[op].length,
      real_errors: errors,
    });
  }
  return { rows };
}
