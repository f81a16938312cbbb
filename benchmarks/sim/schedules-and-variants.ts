/**
 * Classic vs fast schedule x regular vs atomic: latency, requests and bytes per operation, and the
 * request cost per million operations with a price table, on n = 3 heterogeneous replicas
 * (Azure, AWS, GCS). Writes and reads are measured in separate phases, so each request is
 * attributed to the operation that made it (a write's GC removes included).
 */
import { floorTolerance, idealLatency } from '../../src/simulate/floor.js';
import { round } from '../../src/simulate/report.js';
import { computeCosts, describePrices } from '../../src/bench/analyze/cost.js';
import { DEFAULT_PRICES } from '../../src/bench/config/prices.js';
import type { ReplicaCounters } from '../../src/simulate/replica.js';
import { Cluster, createClients, latencies, runWorkload } from '../../src/simulate/run.js';
import { check, CHECK_MEANING, type Scenario, type ScenarioCheck } from '../../src/simulate/scenario.js';
import type { Schedule, Variant } from '../../src/simulate/register.js';

/** Request cost per million operations (price table of src/bench/prices.ts) from per-replica requests per operation. */
export function costPerMillion(names: string[], perOp: ReplicaCounters[]): { cost: number; keys: string } {
  const { rows } = computeCosts({
    requests: perOp.map((c, i) => ({
      run_id: 'sim', config: 'sim', variant: 'sim', schedule: 'sim', op: 'op', value_bytes: 0, clients: 1, registers: 1, workers: 1, workload: 'sim', mode: 'closed', open_rate: 0, fault: '', replica: names[i],
      puts: c.puts, gets: c.gets, lists: c.lists, removes: c.removes, bytes_up: c.bytesUp, bytes_down: c.bytesDown,
    })),
    overhead: [],
    replicas: {},
    prices: { ...DEFAULT_PRICES },
  });
  const row = rows[0];
  return { cost: typeof row?.cost_per_million_ops === 'number' ? row.cost_per_million_ops : Number.NaN, keys: String(row?.price_keys ?? '') };
}

const scenario: Scenario = {
  name: 'schedules-and-variants',
  title: 'Schedules and variants',
  description:
    'Classic vs fast x regular vs atomic on n = 3 (Azure, AWS, GCS presets), 1 KiB values, one client: ' +
    'p50/p99, requests and bytes per operation, and request cost per million operations (illustrative price table).',
  clocks: ['virtual'],
  async run(ctx) {
    const ops = ctx.small ? 100 : 500;
    const valueBytes = 1024;
    const n = 3;
    const { names, models } = ctx.lineup(n);
    const checks: ScenarioCheck[] = [];
    const rows: Array<Record<string, string | number>> = [];
    for (const schedule of ['classic', 'fast'] as Schedule[]) {
      for (const variant of ['regular', 'atomic'] as Variant[]) {
        const config = `n3-${schedule}`;
        const cluster = new Cluster({ models, names, seed: ctx.seed * 17 + rows.length });
        const clients = await createClients(cluster, 1, { variant, schedule });
        for (const op of ['write', 'read'] as const) {
          const res = await runWorkload(cluster, clients, { opsPerClient: ops, writeFraction: op === 'write' ? 1 : 0, valueBytes, seed: ctx.seed + rows.length });
          const lat = latencies(res.records, op);
          const s = ctx.report.addLatency({
            config, variant, schedule, op, valueBytes, clients: 1, latenciesMs: lat, errors: res.records.length - lat.length, durationMs: res.endMs - res.startMs,
          });
          ctx.report.addRequests({ config, variant, schedule, op, valueBytes, clients: 1 }, names, res.counters, res.records.length);
          ctx.report.addErrors({ config, variant, schedule, valueBytes, clients: 1 }, res.errors);
          const per = res.counters.map((c) => ({
            puts: c.puts / ops, gets: c.gets / ops, lists: c.lists / ops, removes: c.removes / ops, bytesUp: c.bytesUp / ops, bytesDown: c.bytesDown / ops,
          }));
          const sum = (f: (c: ReplicaCounters) => number) => per.reduce((a, c) => a + f(c), 0);
          const floor = idealLatency({ models, q: n - 1, valueBytes }, op, variant, schedule, { seed: ctx.seed }).p50;
          const tol = floorTolerance(s.count);
          const rounds = res.records.filter((r) => r.rounds !== undefined).map((r) => r.rounds as number);
          rows.push({
            schedule, variant, op,
            p50_ms: round(s.p50_ms), p99_ms: round(s.p99_ms), floor_p50_ms: round(floor),
            mean_rounds: rounds.length ? round(rounds.reduce((a, b) => a + b, 0) / rounds.length, 2) : '',
            requests_per_op: round(sum((c) => c.puts + c.gets + c.lists + c.removes), 2),
            puts: round(sum((c) => c.puts), 2), gets: round(sum((c) => c.gets), 2), lists: round(sum((c) => c.lists), 2), removes: round(sum((c) => c.removes), 2),
            bytes_up_per_op: round(sum((c) => c.bytesUp), 0), bytes_down_per_op: round(sum((c) => c.bytesDown), 0),
            usd_per_million_ops: round(costPerMillion(names, per).cost, 2),
          });
          checks.push(check(`${schedule}/${variant} ${op} p50 >= floor`, s.p50_ms >= floor * (1 - tol), `p50 ${s.p50_ms.toFixed(2)} ms, floor p50 ${floor.toFixed(2)} ms (sampling tolerance ${(tol * 100).toFixed(0)}%)`, {
            measured: `p50 ${s.p50_ms.toFixed(2)} ms`,
            bound: `>= floor p50 ${floor.toFixed(2)} ms, less ${(tol * 100).toFixed(0)}% sampling tolerance`,
            meaning: CHECK_MEANING.floor,
          }));
          checks.push(check(`${schedule}/${variant} ${op} no errors`, res.errors.size === 0, `${res.errors.size} error kinds`, { measured: `${res.errors.size} error kinds`, bound: 'none', meaning: CHECK_MEANING.noErrors }));
        }
        ctx.log(`${schedule}/${variant}: done`);
      }
    }
    for (const r of rows) ctx.report.summary.push(r);
    const cost = `cost: request prices of src/bench/prices.ts (${describePrices(DEFAULT_PRICES).filter((d) => /^(s3|azure|gcs):/.test(d)).join('; ')})`;
    ctx.report.notes.push(cost);
    const line = (op: string) =>
      rows.filter((r) => r.op === op).map((r) => `${r.schedule}/${r.variant} ${r.p50_ms} ms, ${r.requests_per_op} req, $${r.usd_per_million_ops}/M`).join('; ');
    return { headline: [`write: ${line('write')}`, `read: ${line('read')}`, cost], checks, data: { rows } };
  },
};

export default scenario;
