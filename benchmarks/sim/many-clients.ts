/**
 * Many clients: 1..1000 simulated clients on one machine in virtual time, each doing reads and
 * writes (50/50) with exponential think time on a small set of registers; throughput, latency and
 * contention effects (point contention, reads needing more than one round, peak copies), and how
 * much faster than real time the simulation ran.
 */
import { round } from '../../src/simulate/report.js';
import { Cluster, createClients, latencies, runWorkload } from '../../src/simulate/run.js';
import { check, CHECK_MEANING, type Scenario, type ScenarioCheck } from '../../src/simulate/scenario.js';

/** Mean think time between a client's operations. */
const THINK_MS = 1000;

const scenario: Scenario = {
  name: 'many-clients',
  title: 'Many clients',
  description:
    '1..1000 clients, 50% writes, exponential think time (mean 1 s: one operation per client per second), 8 registers, n = 3 heterogeneous replicas, fast/regular: ' +
    'throughput, p50/p99, contention effects, and simulated time vs wall-clock time.',
  clocks: ['virtual'],
  async run(ctx) {
    const counts = ctx.small ? [1, 10, 50] : [1, 10, 100, 1000];
    const opsPerClient = ctx.small ? 6 : 20;
    const registers = 8;
    const valueBytes = 1024;
    const { names, models } = ctx.lineup(3);
    const checks: ScenarioCheck[] = [];
    const rows: Array<Record<string, string | number>> = [];
    for (const clientsN of counts) {
      const config = `clients-${clientsN}`;
      const cluster = new Cluster({ models, names, seed: ctx.seed * 7 + clientsN });
      const clients = await createClients(cluster, clientsN, { variant: 'regular', schedule: 'fast' });
      const wall0 = performance.now();
      const res = await runWorkload(cluster, clients, {
        opsPerClient,
        writeFraction: 0.5,
        registers,
        valueBytes,
        think: { kind: 'exponential', mean: THINK_MS },
        startSpreadMs: THINK_MS,
        seed: ctx.seed + clientsN,
      });
      const wallMs = performance.now() - wall0;
      const events = 'eventsProcessed' in cluster.clock ? (cluster.clock.eventsProcessed as number) : 0;
      const simMs = res.endMs - res.startMs;
      const errs = [...res.errors.values()].reduce((a, b) => a + b, 0);
      ctx.report.addErrors({ config, variant: 'regular', schedule: 'fast', valueBytes, clients: clientsN, registers }, res.errors);
      const total = res.records.filter((r) => r.ok).length;
      const summaries: Record<string, { p50: number; p99: number }> = {};
      for (const op of ['write', 'read'] as const) {
        const lat = latencies(res.records, op);
        const s = ctx.report.addLatency({
          config, variant: 'regular', schedule: 'fast', op, valueBytes, clients: clientsN, registers, latenciesMs: lat,
          errors: res.records.filter((r) => r.op === op && !r.ok).length, durationMs: simMs,
        });
        summaries[op] = { p50: s.p50_ms, p99: s.p99_ms };
      }
      // Reads and writes are mixed here, so requests are reported per operation of the mix.
      ctx.report.addRequests({ config, variant: 'regular', schedule: 'fast', op: 'mixed', valueBytes, clients: clientsN, registers }, names, res.counters, res.records.length);
      const reads = res.records.filter((r) => r.op === 'read' && r.ok);
      const slowReads = reads.filter((r) => (r.rounds ?? 1) > 1).length;
      let peak = 0;
      const residual = Math.max(...cluster.replicas.map((r) => r.objects));
      // Quiescent claim (common case): one more write per written register, without concurrency.
      const written = [...new Set(res.records.filter((r) => r.op === 'write' && r.ok).map((r) => r.register))].sort();
      for (const reg of written) {
        const one = await runWorkload(cluster, clients.slice(0, 1), { opsPerClient: 1, writeFraction: 1, register: reg, valueBytes, seed: ctx.seed });
        if (one.errors.size > 0) res.errors.set('write:final', one.errors.size);
      }
      for (const r of cluster.replicas) {
        peak = Math.max(peak, r.peakObjects);
        const cell = { config, variant: 'regular', schedule: 'fast', valueBytes, clients: clientsN, registers, replica: r.name, registersWritten: written.length };
        ctx.report.addOverhead({ ...cell, phase: 'peak', objects: Math.max(r.peakObjects, r.objects), storedBytes: Math.max(r.peakBytes, r.bytes) });
        ctx.report.addOverhead({ ...cell, phase: 'quiescent', objects: r.objects, storedBytes: r.bytes });
        checks.push(
          check(`${config} ${r.name} quiescent copies = 2 per register`, r.objects === 2 * written.length, `${r.objects} objects for ${written.length} written registers`, {
            measured: `${r.objects} objects for ${written.length} registers`,
            bound: `exactly ${2 * written.length} (2 per register)`,
            meaning: CHECK_MEANING.quiescent,
          }),
        );
      }
      rows.push({
        config, clients: clientsN, ops: total, sim_seconds: round(simMs / 1000, 2), wall_seconds: round(wallMs / 1000, 2),
        speedup_vs_real_time: round(simMs / Math.max(1, wallMs), 1), events, throughput_ops_s: round((total * 1000) / simMs, 1),
        write_p50_ms: round(summaries.write.p50), write_p99_ms: round(summaries.write.p99), read_p50_ms: round(summaries.read.p50), read_p99_ms: round(summaries.read.p99),
        max_concurrent_writes: cluster.maxConcurrentWrites, reads_needing_fallback_pct: round((100 * slowReads) / Math.max(1, reads.length), 2),
        peak_objects_per_replica: peak, residual_objects_after_burst: residual, registers_written: written.length, errors: errs,
      });
      checks.push(check(`${config} no errors`, errs === 0, `${errs} failed operations`, { measured: `${errs} failed operations`, bound: 'none', meaning: CHECK_MEANING.noErrors }));
      ctx.log(`${config}: ${total} ops in ${round(simMs / 1000, 2)} simulated s, ${round(wallMs / 1000, 2)} wall s`);
    }
    for (const r of rows) ctx.report.summary.push(r);
    const last = rows[rows.length - 1];
    return {
      headline: [
        `throughput: ${rows.map((r) => `${r.clients} clients ${r.throughput_ops_s} ops/s (write p50 ${r.write_p50_ms} ms)`).join(', ')}`,
        `${last.clients} clients: ${last.ops} operations, ${last.sim_seconds} simulated s in ${last.wall_seconds} wall s; ` +
          `max ${last.max_concurrent_writes} concurrent writes, ${last.reads_needing_fallback_pct}% of reads needed the fallback`,
      ],
      checks,
      data: { rows },
    };
  },
};

export default scenario;
