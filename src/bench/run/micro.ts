/**
 * The `micro` suite: the register's own CPU cost per operation, measured with tinybench on
 * memory replicas without any latency, reported in the latency.csv schema (config "memory-cpu",
 * workload "micro").
 */
import { Bench } from 'tinybench';
import { createMemoryStore } from '../../adapters/memory.js';
import type { Store } from '../../store.js';
import type { Cell } from '../config/cell.js';
import type { Suite } from '../config/suite.js';
import type { BenchSchedule, BenchVariant } from '../config/workload.js';
import { createHistogram } from './histogram.js';
import type { MeasurementSink } from './measurement.js';
import type { Progress } from './progress.js';
import type { CreateRobustStore } from './register.js';
import { registerName } from './workload.js';

export const MICRO_CONFIG = 'memory-cpu';

export async function runMicro(o: {
  suite: Suite;
  sink: MeasurementSink;
  progress: Progress;
  createRobustStore: CreateRobustStore | null;
  variants: BenchVariant[];
  schedules: BenchSchedule[];
  signal?: AbortSignal;
}): Promise<void> {
  const m = o.suite.micro;
  const bench = new Bench({ name: o.suite.name, time: m.timeMs, warmupTime: Math.min(200, m.timeMs), retainSamples: true, signal: o.signal });
  const meta = new Map<string, { cell: Cell; op: string }>();
  for (const variant of o.variants) {
    for (const schedule of variant === 'raw' ? (['none'] as const) : o.schedules) {
      for (const size of m.valueBytes) {
        const replicas: Store[] = Array.from({ length: variant === 'raw' ? 1 : m.n }, (_, i) => createMemoryStore({ name: `mem${i}` }));
        let store: Store & { settled?: () => Promise<void> };
        if (variant === 'raw') store = replicas[0] as Store;
        else if (o.createRobustStore) store = o.createRobustStore({ replicas, variant, schedule: schedule as BenchSchedule, clientId: 'micro', gc: 'sync' });
        else continue;
        const value = new Uint8Array(size).fill(7);
        let i = 0;
        for (let r = 0; r < m.registers; r++) await store.put(registerName(r), value);
        await store.settled?.();
        for (const op of ['write', 'read'] as const) {
          const name = `${variant}/${schedule}/${op}/${size}`;
          const cell: Cell = { config: MICRO_CONFIG, variant, schedule, value_bytes: size, clients: 1, registers: m.registers, workers: 1, workload: 'micro', mode: 'closed', open_rate: 0, fault: '' };
          meta.set(name, { cell, op });
          bench.add(name, async () => {
            const reg = registerName(i++ % m.registers);
            if (op === 'write') await store.put(reg, value);
            else await store.get(reg);
          });
        }
      }
    }
  }
  o.progress.log(`micro: ${bench.tasks.length} tasks, ${m.timeMs} ms each`);
  const start = Date.now();
  await bench.run();
  const end = Date.now();
  let n = 0;
  for (const task of bench.tasks) {
    const k = meta.get(task.name);
    const res = task.result as { state: string; latency?: { samples?: number[]; samplesCount: number } } | undefined;
    if (!k || !res?.latency) continue;
    const h = createHistogram();
    // tinybench samples are in ms; the histogram stores microseconds with 3 significant digits
    for (const s of res.latency.samples ?? []) h.recordValue(Math.max(0, Math.round(s * 1000)));
    const elapsedMs = (res.latency.samples ?? []).reduce((a, b) => a + b, 0);
    // one measurement per task: each op's throughput is over its own samples' time
    o.sink({
      cell: k.cell,
      cellId: `micro${String(++n).padStart(4, '0')}`,
      repeat: 0,
      window: { startEpochMs: start, endEpochMs: end, elapsedMs },
      series: [{ key: { ...k.cell, op: k.op }, ok: h, errors: new Map() }],
      requests: [],
      storage: [],
      history: [],
      ran: true,
      interrupted: false,
    });
    o.progress.log(`micro ${task.name}: ${h.totalCount} samples, mean ${(h.mean).toFixed(1)} us`);
  }
}
