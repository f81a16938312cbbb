/**
 * Stragglers and crashes: wait-freedom in numbers. On n heterogeneous replicas, compare a healthy
 * cluster with: the fastest replica 10x slower; t replicas crashed (the fastest ones, the worst
 * case); one replica flapping (down 150 ms of every 400 ms, failing its calls); and all of these at
 * once within t faults (a shorter flap). Latency must stay at the q-th fastest live replica's, with no errors.
 */
import { floorTolerance, idealLatency } from '../../src/simulate/floor.js';
import { round } from '../../src/simulate/report.js';
import type { ReplicaFaults } from '../../src/simulate/replica.js';
import { Cluster, createClients, latencies, runWorkload } from '../../src/simulate/run.js';
import { check, CHECK_MEANING, type Scenario, type ScenarioCheck } from '../../src/simulate/scenario.js';
import { distributionFor, distributionMedian } from '../../src/simulate/models.js';

/** p50 must stay within this factor of the floor of the faulty cluster (the q-th fastest live replica). */
export const STAYS_AT_FLOOR_FACTOR = 1.6;

const scenario: Scenario = {
  name: 'stragglers-and-crashes',
  title: 'Stragglers, crashes and flapping replicas',
  description:
    'Sequential reads and writes from two clients on n = 5 (t = 2) heterogeneous replicas (n = 3, t = 1 with --small): healthy, ' +
    'one replica 10x slower, t crashed, one flapping, and combined; p50/p99 vs the q-th fastest live replica, and errors.',
  clocks: ['virtual'],
  async run(ctx) {
    const n = ctx.small ? 3 : 5;
    const t = Math.floor((n - 1) / 2);
    const q = n - t;
    const ops = ctx.small ? 150 : 600;
    const valueBytes = 1024;
    const { names, models } = ctx.lineup(n);
    // Rank replicas by their median list latency: index 0 is the fastest.
    const rank = models.map((m, i) => ({ i, m: distributionMedian(distributionFor(m, 'list')) })).sort((a, b) => a.m - b.m).map((x) => x.i);
    const flap: ReplicaFaults = { flap: { upMs: 250, downMs: 150, phaseMs: 100 } };
    const cases: Array<{ name: string; faults: (ReplicaFaults | undefined)[] }> = [
      { name: 'healthy', faults: [] },
      { name: 'straggler-10x', faults: setAt(n, rank[0], { slowFactor: 10 }) },
      { name: `crashed-${t}`, faults: rank.slice(0, t).reduce((f, i) => setAt(n, i, { crashed: true }, f), [] as (ReplicaFaults | undefined)[]) },
      { name: 'flapping', faults: setAt(n, rank[0], flap) },
    ];
    if (t >= 2) {
      // Within t faults: one crashed, one flapping, plus a straggler (a straggler is not a fault).
      // While the flapping replica is down only q replicas answer, the straggler among them, so
      // operations then wait for the straggler: its flap is short (down 50 ms of every 400 ms),
      // keeping the p50 away from the cliff between the two modes; the p99 shows the slow mode.
      let f = setAt(n, rank[0], { crashed: true });
      f = setAt(n, rank[1], { flap: { upMs: 350, downMs: 50, phaseMs: 100 } }, f);
      f = setAt(n, rank[2], { slowFactor: 10 }, f);
      cases.push({ name: 'crash+flap+straggler', faults: f });
    }
    const checks: ScenarioCheck[] = [];
    const rows: Array<Record<string, string | number>> = [];
    const healthyP50: Record<string, number> = {};
    for (const c of cases) {
      const config = `n${n}-${c.name}`;
      const cluster = new Cluster({ models, names, t, faults: c.faults, seed: ctx.seed * 13 + rows.length });
      const clients = await createClients(cluster, 2, { variant: 'regular', schedule: 'fast' });
      const res = await runWorkload(cluster, clients, { opsPerClient: ops, writeFraction: 0.5, registers: 2, valueBytes, seed: ctx.seed });
      ctx.report.addErrors({ config, variant: 'regular', schedule: 'fast', valueBytes, clients: 2, registers: 2 }, res.errors);
      const errs = [...res.errors.values()].reduce((a, b) => a + b, 0);
      for (const op of ['write', 'read'] as const) {
        const lat = latencies(res.records, op);
        const s = ctx.report.addLatency({
          config, variant: 'regular', schedule: 'fast', op, valueBytes, clients: 2, registers: 2, latenciesMs: lat,
          errors: res.records.filter((r) => r.op === op && !r.ok).length, durationMs: res.endMs - res.startMs,
        });
        // Crashed replicas never answer; a flapping one answers while it is up (see idealLatency).
        const floor = idealLatency({ models, faults: c.faults, q, valueBytes }, op, 'regular', 'fast', { seed: ctx.seed }).p50;
        const tol = floorTolerance(s.count);
        if (c.name === 'healthy') healthyP50[op] = s.p50_ms;
        rows.push({
          config, case: c.name, op, p50_ms: round(s.p50_ms), p99_ms: round(s.p99_ms), floor_p50_ms: round(floor),
          p50_over_floor: round(s.p50_ms / floor), p50_over_healthy: round(s.p50_ms / healthyP50[op]), errors: errs,
        });
        checks.push(check(`${config} ${op} p50 >= floor`, s.p50_ms >= floor * (1 - tol), `p50 ${s.p50_ms.toFixed(2)} ms, floor p50 ${floor.toFixed(2)} ms (sampling tolerance ${(tol * 100).toFixed(0)}%)`, {
            measured: `p50 ${s.p50_ms.toFixed(2)} ms`,
            bound: `>= floor p50 ${floor.toFixed(2)} ms, less ${(tol * 100).toFixed(0)}% sampling tolerance`,
            meaning: CHECK_MEANING.floor,
          }));
        checks.push(
          check(`${config} ${op} p50 stays at the q-th fastest`, s.p50_ms <= floor * STAYS_AT_FLOOR_FACTOR, `p50 ${s.p50_ms.toFixed(2)} ms <= ${STAYS_AT_FLOOR_FACTOR} x floor ${floor.toFixed(2)} ms`, {
            measured: `p50 ${s.p50_ms.toFixed(2)} ms`,
            bound: `<= ${STAYS_AT_FLOOR_FACTOR} x floor ${floor.toFixed(2)} ms = ${(STAYS_AT_FLOOR_FACTOR * floor).toFixed(2)} ms`,
            meaning: CHECK_MEANING.staysAtFloor,
          }),
        );
      }
      checks.push(check(`${config} no errors`, errs === 0, `${errs} failed operations`, { measured: `${errs} failed operations`, bound: 'none', meaning: CHECK_MEANING.noErrors }));
      ctx.log(`${config}: done`);
    }
    for (const r of rows) ctx.report.summary.push(r);
    const fmt = (op: string) => rows.filter((r) => r.op === op).map((r) => `${r.case} ${r.p50_ms} ms`).join(', ');
    return {
      headline: [`n=${n} t=${t} write p50: ${fmt('write')}`, `read p50: ${fmt('read')}; errors: ${rows.reduce((a, r) => a + (r.errors as number), 0) / 2}`],
      checks,
      data: { rows },
    };
  },
};

function setAt(n: number, i: number, f: ReplicaFaults, base: (ReplicaFaults | undefined)[] = []): (ReplicaFaults | undefined)[] {
  const out = Array.from({ length: n }, (_, j) => base[j]);
  out[i] = { ...(out[i] ?? {}), ...f };
  return out;
}

export default scenario;
