/**
 * The extra cells behind the suite's summary checks: the latency model (memory replicas with a
 * fixed delay d per call, one register written then read) and the harness's own overhead (a raw
 * memory store whose put calls are timed). Their measurements go to the sink like any other cell;
 * analyze/checks.ts turns them into verdicts.
 */
import { performance } from 'node:perf_hooks';
import type { CallOptions, Store } from '../../store.js';
import { ForwardingStore } from '../../layers/forwarding.js';
import { sleep } from '../../util/abort.js';
import { memoryConfiguration } from '../config/configurations.js';
import { ScopedStore } from '../config/stores.js';
import type { Suite } from '../config/suite.js';
import type { OpenedConfiguration } from '../config/types.js';
import { workloadSchema, type BenchSchedule, type BenchVariant } from '../config/workload.js';
import { runPlannedCell, type CellRunContext } from './cell.js';
import { withOp } from './counting.js';
import type { PlannedCell } from './plan.js';
import type { CreateRobustStore } from './register.js';

/** The harness-overhead cell's raw figures: time inside the store's puts vs the whole cycle. */
export interface HarnessTiming {
  delayMs: number;
  /** Measured operations and the wall time they took. */
  ops: number;
  windowMs: number;
  /** Time spent inside the store's put calls of the measured operations. */
  inStoreMs: number;
  calls: number;
  /** Mean latency the harness recorded for those operations. */
  recordedMeanMs: number;
}

/** What the check cells leave for the analysis besides their measurements. */
export interface CheckRuns {
  latencyModel?: { delayMs: number };
  harness?: HarnessTiming;
}

type Checks = Suite['checks'];

/** How many cells `runCheckCells` will run (for the run's overall progress). */
export function checkCellCount(checks: Checks, variants: readonly BenchVariant[], schedules: readonly BenchSchedule[], withRegister: boolean): number {
  const model = checks.latencyModel && withRegister ? 2 * variants.filter((v) => v !== 'raw').length * schedules.length : 0;
  return model + (checks.harnessOverhead ? 1 : 0);
}

/** Runs the cells of the suite's checks (none with `skipChecks`). */
export async function runCheckCells(
  ctx: CellRunContext,
  o: { checks: Checks; variants: BenchVariant[]; schedules: BenchSchedule[]; createRobustStore: CreateRobustStore | null },
): Promise<CheckRuns> {
  const out: CheckRuns = {};
  const saved = { ops: ctx.ops, durationS: ctx.durationS, history: ctx.history, sampleMs: ctx.sampleMs };
  // the checks run their own fixed operation counts, without history
  Object.assign(ctx, { ops: undefined, durationS: undefined, history: false });
  try {
    const model = o.checks.latencyModel;
    if (model && o.createRobustStore) {
      await runLatencyModel(ctx, model, o.variants, o.schedules, o.createRobustStore);
      out.latencyModel = { delayMs: model.delayMs };
    }
    const ho = o.checks.harnessOverhead;
    if (ho && !ctx.signal?.aborted) out.harness = await runHarnessOverhead(ctx, ho);
  } finally {
    Object.assign(ctx, saved);
  }
  return out;
}

/** For each register variant and schedule: a write cell, then a read cell of the register it wrote. */
async function runLatencyModel(
  ctx: CellRunContext,
  model: NonNullable<Checks['latencyModel']>,
  variants: BenchVariant[],
  schedules: BenchSchedule[],
  createRobustStore: CreateRobustStore,
): Promise<void> {
  const d = model.delayMs;
  const opened = await memoryConfiguration({ name: 'latency-model', n: model.n, delayMs: d }).open({ prefix: '' });
  ctx.progress.log(`latency model: memory replicas with d = ${d} ms per call`);
  const pairs = variants.filter((v): v is 'regular' | 'atomic' => v !== 'raw').flatMap((variant) => schedules.map((schedule) => ({ variant, schedule })));
  const cell = (variant: BenchVariant, schedule: BenchSchedule, op: 'write' | 'read'): PlannedCell => ({
    variant,
    schedule,
    workload: workloadSchema.parse({
      name: `model-${op}`,
      mix: op === 'write' ? { write: 1 } : { read: 1 },
      valueBytes: [1024],
      registers: 1,
      ops: model.ops,
      warmupOps: op === 'read' ? 0 : 2,
    }),
    valueBytes: 1024,
    clients: 1,
    repeat: 0,
  });
  try {
    for (let i = 0; i < pairs.length; i++) {
      if (ctx.signal?.aborted) break;
      const { variant, schedule } = pairs[i]!;
      const count = pairs.length * 2;
      await runPlannedCell(ctx, 'latency-model', opened, cell(variant, schedule, 'write'), createRobustStore, 2 * i + 1, count);
      // the read cell's register is written once (unmeasured) under the namespace it will use
      await prewrite(opened, `cell${String(ctx.cellCounter.n + 1).padStart(4, '0')}/`, variant, schedule, createRobustStore);
      await runPlannedCell(ctx, 'latency-model', opened, cell(variant, schedule, 'read'), createRobustStore, 2 * i + 2, count);
    }
  } finally {
    await opened.close();
  }
}

async function prewrite(opened: OpenedConfiguration, ns: string, variant: 'regular' | 'atomic', schedule: BenchSchedule, createRobustStore: CreateRobustStore): Promise<void> {
  const scoped = opened.replicas.map((r) => new ScopedStore(r, ns));
  const rs = createRobustStore({ replicas: scoped, variant, schedule, clientId: 'prewrite' });
  await withOp({ op: 'prewrite', measured: false }, () => rs.write('r000000', new Uint8Array(1024)));
  await rs.settled();
  await rs.close();
  await sleep(1);
}

/** One raw write cell on a memory store with delay d; the store's own put time is measured apart. */
async function runHarnessOverhead(ctx: CellRunContext, ho: NonNullable<Checks['harnessOverhead']>): Promise<HarnessTiming> {
  const d = ho.delayMs;
  ctx.progress.log(`harness overhead: raw memory store with d = ${d} ms per call`);
  const opened = await memoryConfiguration({ name: 'harness-overhead', n: 1, delayMs: d }).open({ prefix: '' });
  try {
    const timed = new PutTimingStore(opened.replicas[0] as Store);
    const timedOpened: OpenedConfiguration = { replicas: [timed], t: 0, close: async () => {} };
    const workload = workloadSchema.parse({ name: 'overhead', mix: { write: 1 }, valueBytes: [1024], registers: 16, ops: ho.ops, warmupOps: Math.min(200, ho.ops) });
    const planned: PlannedCell = { variant: 'raw', schedule: 'none', workload, valueBytes: 1024, clients: 1, repeat: 0 };
    ctx.sampleMs = 0;
    const m = await runPlannedCell(ctx, 'harness-overhead', timedOpened, planned, null, 1, 1);
    const ops = m.series.reduce((a, s) => a + (s.ok?.totalCount ?? 0) + (s.failed?.totalCount ?? 0), 0);
    const calls = Math.min(timed.calls, ops);
    const write = m.series.find((s) => s.key.op === 'write')?.ok;
    return { delayMs: d, ops, windowMs: m.window.elapsedMs, inStoreMs: timed.lastMs(calls), calls, recordedMeanMs: write && write.totalCount ? write.mean / 1000 : 0 };
  } finally {
    await opened.close();
  }
}

/** Times every put call of the inner store (to separate the store's time from the harness's own). */
class PutTimingStore extends ForwardingStore {
  private readonly durations: number[] = [];
  constructor(inner: Store) {
    super(inner, 'timed');
  }
  get calls(): number {
    return this.durations.length;
  }
  /** Total time of the last `n` puts. */
  lastMs(n: number): number {
    let s = 0;
    for (const d of this.durations.slice(-n)) s += d;
    return s;
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const t0 = performance.now();
    try {
      return await this.inner.put(key, value, opts);
    } finally {
      this.durations.push(performance.now() - t0);
    }
  }
}
