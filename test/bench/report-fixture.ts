/**
 * A report directory with everything report.html draws: two configurations (one with long replica
 * names), two value sizes, two client counts, storage at 2.02 and 1.00 copies, requests, cost.csv
 * written by `writeCostCsv`, per-second.csv, probe.csv and checks in meta.json. Built from known
 * values so a test can hold every chart to the CSV rows beside it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { writeCostCsv } from '../../src/bench/analyze/cost.js';
import { PER_SECOND_COLUMNS } from '../../src/bench/record/schema.js';
import { lognormalSamples, writeSyntheticReport, type SyntheticCell } from '../../src/bench/report/synthetic.js';
import { PROBE_COLUMNS } from '../../src/bench/run/probe.js';
import { Random } from '../../src/util/random.js';

export const LONG_REPLICAS = ['aws-s3-eu-west-1-primary-bucket-for-robust-kvs', 'azure-blob-westeurope-storage-account-emulator', 'gcs-europe-west1-multi-region-bucket'];

export const CONFIGS = [
  { name: 'emulators', replicas: ['s3-emulator', 'azure-emulator', 'gcs-emulator'], base: 4 },
  { name: 'cloud-3', replicas: LONG_REPLICAS, base: 20 },
] as const;

const VARIANTS = [
  ['raw', 'none', 1],
  ['regular', 'fast', 2],
] as const;

/** Copies per register at quiescence, as the issue reported them: 2.02 for the register, 1.00 raw. */
export const QUIESCENT_COPIES: Record<string, number> = { raw: 1, regular: 2.02 };

export async function writeRichReport(dir: string, seed: number): Promise<string> {
  const rng = new Random(seed);
  const cells: SyntheticCell[] = [];
  const overhead: Record<string, string | number>[] = [];
  const requests: Record<string, string | number>[] = [];
  for (const c of CONFIGS)
    for (const [variant, schedule, rounds] of VARIANTS)
      for (const value_bytes of [1024, 65536])
        for (const clients of [1, 4]) {
          const replicas = variant === 'raw' ? [c.replicas[0]] : [...c.replicas];
          for (const op of ['write', 'read']) {
            const median = c.base * (op === 'write' ? rounds : 1) * (value_bytes > 1024 ? 1.5 : 1) * (clients > 1 ? 1.2 : 1);
            cells.push({ config: c.name, variant, schedule, op, value_bytes, clients, registers: 8, repeats: [0, 1].map(() => ({ samplesMs: lognormalSamples(rng, 300, median), durationMs: (300 * median) / clients })) });
            for (const replica of replicas)
              requests.push({ config: c.name, variant, schedule, op, value_bytes, clients, registers: 8, replica, ops: 600, puts: op === 'write' ? rounds - 1 || 1 : 0, gets: op === 'read' ? 1 : 0, lists: variant === 'raw' ? 0 : 1, removes: op === 'write' && variant !== 'raw' ? 1 : 0, bytes_up: op === 'write' ? value_bytes + 80 : 0, bytes_down: op === 'read' ? value_bytes + 80 : 0 });
          }
          for (const replica of replicas)
            for (const phase of ['peak', 'quiescent']) {
              const copies = phase === 'peak' ? (variant === 'raw' ? 1 : 3) : QUIESCENT_COPIES[variant]!;
              const written = value_bytes === 1024 ? 400 : 100;
              const objects = Math.round(copies * written);
              overhead.push({ config: c.name, variant, schedule, value_bytes, clients, registers: 8, replica, phase, repeat: 0, registers_written: written, objects, stored_bytes: objects * (value_bytes + 60), logical_bytes: written * value_bytes, copies_per_register: (objects / written).toFixed(2), overhead_ratio: ((objects * (value_bytes + 60)) / (written * value_bytes)).toFixed(3) });
            }
        }
  await writeSyntheticReport(dir, { runId: '20260101-000000-rich', suite: 'rich', cells, overhead, requests });

  // meta.json: the replicas (for prices) and the run's checks
  const metaFile = join(dir, 'meta.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as Record<string, unknown>;
  meta.configurations = CONFIGS.map((c) => ({ name: c.name, replicas: c.replicas.map((name) => ({ name, provider: /s3/.test(name) ? 's3' : /azure/.test(name) ? 'azure' : 'gcs' })) }));
  meta.checks = [
    { name: 'latency model regular/fast write', detail: 'x', pass: true, measured: 'p50 2.04 ms (+2.0%)', bound: '2.00 rounds x 1 ms = 2.0 ms, within 10%', meaning: 'A write takes the rounds the protocol prescribes.' },
    { name: 'latency model regular/fast read', detail: 'x', pass: false, measured: 'p50 1.30 ms (+30.0%)', bound: '1.00 rounds x 1 ms = 1.0 ms, within 10%', meaning: 'A write takes the rounds the protocol prescribes.' },
    { name: 'copies per register at quiescence, several clients', detail: 'between 2.00 and 2.02', pass: null, measured: 'between 2.00 and 2.02', meaning: 'Shown, not held to a bound.' },
  ];
  await writeFile(metaFile, JSON.stringify(meta, null, 2) + '\n');
  await writeCostCsv(dir);

  // per-second.csv: two cells of emulators over 12 s, the first 2 s warm-up
  const perSecond: Record<string, string | number>[] = [];
  for (const op of ['write', 'read'])
    for (let second = 0; second < 12; second++) {
      const phase = second < 2 ? 'warmup' : 'measured';
      const p50 = (op === 'write' ? 8 : 4) + (second < 2 ? 3 : 0) + second * 0.05;
      perSecond.push({ run_id: '20260101-000000-rich', config: 'emulators', variant: 'regular', schedule: 'fast', op, value_bytes: 1024, clients: 4, registers: 8, workers: 1, workload: 'synthetic', mode: 'closed', open_rate: 0, repeat: 0, second, phase, start_ms: 1767225600000 + second * 1000, span_s: 1, count: 400 + second, errors: 0, ops_per_s: 400 + second, mean_ms: p50 + 0.5, p50_ms: p50.toFixed(3), p99_ms: (p50 * 2.5).toFixed(3), max_ms: (p50 * 4).toFixed(3) });
    }
  await writeFile(join(dir, 'per-second.csv'), stringify(perSecond, { header: true, columns: [...PER_SECOND_COLUMNS] }));

  // probe.csv: every replica of both configurations, put/get/list/remove at two sizes
  const probe: Record<string, string | number>[] = [];
  for (const c of CONFIGS)
    for (const replica of c.replicas) {
      probe.push({ run_id: 'probe', config: c.name, replica, provider: 's3', check: 'credentials', value_bytes: 0, count: 1, errors: 0, anomalies: 0, p50_ms: '', p99_ms: '', mean_ms: '' });
      for (const check of ['put', 'get', 'list', 'remove'])
        for (const value_bytes of [1024, 65536]) {
          const p50 = c.base / 2 + (check === 'put' ? 1 : 0) + (value_bytes > 1024 ? 0.7 : 0);
          probe.push({ run_id: 'probe', config: c.name, replica, provider: 's3', check, value_bytes, count: 20, errors: 0, anomalies: 0, p50_ms: p50.toFixed(3), p99_ms: (p50 * 3).toFixed(3), mean_ms: (p50 * 1.2).toFixed(3) });
        }
    }
  await writeFile(join(dir, 'probe.csv'), stringify(probe, { header: true, columns: [...PROBE_COLUMNS] }));
  return dir;
}
