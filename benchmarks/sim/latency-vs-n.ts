/**
 * Latency vs n and t: n = 3, 5, 7, 9 heterogeneous replicas (providers/regions cycled), t = 1 and
 * t = (n-1)/2. Measured p50/p99 of reads and writes against the floor: the q-th fastest replica's
 * latency per round, summed over the rounds (src/simulate/floor.ts). The n = 3 cell also runs in
 * real time over memory stores with the latency layer, to validate the simulator (ratio of p50s).
 */
import { floorTolerance, idealLatency } from '../../src/simulate/floor.js';
import { round } from '../../src/simulate/report.js';
import { runRealTimeValidation } from '../../src/simulate/realtime.js';
import { Cluster, createClients, latencies, runWorkload } from '../../src/simulate/run.js';
import { check, CHECK_MEANING, type Scenario, type ScenarioCheck } from '../../src/simulate/scenario.js';

const scenario: Scenario = {
  name: 'latency-vs-n',
  title: 'Latency vs n and t',
  description:
    'One client, sequential reads and writes (fast/regular) on n = 3, 5, 7, 9 heterogeneous replicas with t = 1 and t = (n-1)/2; ' +
    'p50/p99 against the floor (q-th fastest replica x rounds). n = 3 is also run in real time to validate the simulator.',
  clocks: ['virtual', 'real'],
  async run(ctx) {
    const ns = ctx.small ? [3, 5] : [3, 5, 7, 9];
    const ops = ctx.small ? 200 : 1000;
    const valueBytes = 1024;
    const checks: ScenarioCheck[] = [];
    const rows: Array<Record<string, number | string>> = [];
    for (const n of ns) {
      const ts = [...new Set([1, Math.floor((n - 1) / 2)])];
      for (const t of ts) {
        const q = n - t;
        const config = `n${n}-t${t}`;
        const { names, models } = ctx.lineup(n);
        const cluster = new Cluster({ models, names, t, seed: ctx.seed * 31 + n * 10 + t });
        const clients = await createClients(cluster, 1, { variant: 'regular', schedule: 'fast' });
        const res = await runWorkload(cluster, clients, { opsPerClient: ops, writeFraction: 0.5, valueBytes, seed: ctx.seed + n * 100 + t });
        ctx.report.addErrors({ config, variant: 'regular', schedule: 'fast', valueBytes, clients: 1 }, res.errors);
        for (const op of ['write', 'read'] as const) {
          const lat = latencies(res.records, op);
          const s = ctx.report.addLatency({
            config, variant: 'regular', schedule: 'fast', op, valueBytes, clients: 1, latenciesMs: lat,
            errors: res.records.filter((r) => r.op === op && !r.ok).length, durationMs: res.endMs - res.startMs,
          });
          const ideal = idealLatency({ models, q, valueBytes }, op, 'regular', 'fast', { seed: ctx.seed });
          const tol = floorTolerance(s.count);
          rows.push({
            config, n, t, q, op, p50_ms: round(s.p50_ms), p99_ms: round(s.p99_ms), floor_p50_ms: round(ideal.p50), floor_p99_ms: round(ideal.p99),
            p50_over_floor: round(s.p50_ms / ideal.p50), p99_over_floor: round(s.p99_ms / ideal.p99),
          });
          checks.push(check(`${config} ${op} p50 >= floor`, s.p50_ms >= ideal.p50 * (1 - tol), `p50 ${s.p50_ms.toFixed(2)} ms, floor p50 ${ideal.p50.toFixed(2)} ms (sampling tolerance ${(tol * 100).toFixed(0)}%)`, {
            measured: `p50 ${s.p50_ms.toFixed(2)} ms`,
            bound: `>= floor p50 ${ideal.p50.toFixed(2)} ms, less ${(tol * 100).toFixed(0)}% sampling tolerance`,
            meaning: CHECK_MEANING.floor,
          }));
        }
        checks.push(check(`${config} no errors`, res.errors.size === 0, `${res.errors.size} error kinds`, { measured: `${res.errors.size} error kinds`, bound: 'none', meaning: CHECK_MEANING.noErrors }));
        ctx.log(`${config}: done`);
      }
    }
    for (const r of rows) ctx.report.summary.push(r);

    // Real time vs virtual time on the n = 3 cell.
    const validation = await runRealTimeValidation({ n: 3, lineup: ctx.lineup(3), ops: ctx.small ? 100 : 300, seed: ctx.seed, valueBytes, report: ctx.report, log: ctx.log });
    for (const v of validation.rows) ctx.report.summary.push(v);
    for (const v of validation.rows) {
      const ratio = v.p50_ratio as number;
      // Real timers only fire late, so real time cannot be much faster than the simulation; how much
      // slower depends on the machine's load (reported, bounded generously).
      // Sampling noise of the real side's p50 (its own random draws): about 1/sqrt(count) each way.
      const lower = Math.max(0.7, 1 - 2.5 / Math.sqrt(Math.max(1, v.real_count as number)));
      const measured = `real/virtual p50 ratio ${ratio}`;
      checks.push(
        check(`real vs virtual ${v.op}: real p50 >= ${lower.toFixed(2)} x simulated`, ratio >= lower, `${measured} (${v.real_count} real operations)`, {
          measured,
          bound: `>= ${lower.toFixed(2)} (sampling noise of ${v.real_count} real operations)`,
          meaning: CHECK_MEANING.realVsVirtual,
        }),
      );
      checks.push(
        check(`real vs virtual ${v.op}: real p50 <= 2.5 x simulated (load-sensitive)`, ratio <= 2.5, measured, {
          measured,
          bound: '<= 2.5 (real timers fire late on a loaded machine)',
          meaning: CHECK_MEANING.realVsVirtual,
        }),
      );
    }

    const byN = (op: string) =>
      rows.filter((r) => r.op === op && r.t === Math.floor(((r.n as number) - 1) / 2)).map((r) => `n=${r.n}: ${r.p50_ms} ms (floor ${r.floor_p50_ms}, x${r.p50_over_floor})`).join(', ');
    const headline = [
      `write p50 (t=(n-1)/2): ${byN('write')}`,
      `read p50 (t=(n-1)/2): ${byN('read')}`,
      `simulator vs real time (n=3, latency layer): p50 ratio ${validation.rows.map((v) => `${v.op} ${v.p50_ratio}`).join(', ')}`,
    ];
    return { headline, checks, data: { rows, validation: validation.rows } };
  },
};

export default scenario;
