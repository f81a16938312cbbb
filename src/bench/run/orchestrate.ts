/**
 * The run stage of a bench run: configurations x worker counts x planned cells, then the cells of
 * the suite's checks. Every cell's measurement goes to the sink as soon as it is taken, so whatever
 * happens (interrupt, failing configuration) what was measured is kept.
 *
 * A cell's clients may be spread over worker processes (`workers`, see workers.ts) and over shards
 * on other machines (`shard`, see shard.ts); the parts are merged exactly (distribute.ts).
 */
import { performance } from 'node:perf_hooks';
import { ConfigError, describeCause } from '../../errors.js';
import { withTimeout } from '../../util/abort.js';
import { describeInjections } from '../../util/test-inject.js';
import { checkVariables, cleanupOpened, guardConfiguration } from '../config/clean.js';
import { replicaScope } from '../config/configurations.js';
import { isProviderConfiguration } from '../config/file.js';
import { startSharedEmulators, type EmulatorEndpoint } from '../config/open.js';
import { checkPrefixFree, claimRunPrefix, cleanCommand } from '../config/run-prefix.js';
import type { ConfigurationHandle, OpenedConfiguration } from '../config/types.js';
import { replicaLabels } from './cell-part.js';
import { runPlannedCell, type CellRunContext } from './cell.js';
import { checkCellCount, runCheckCells, type CheckRuns } from './checks.js';
import { FaultInjector, overQuorumWarning } from './faults.js';
import type { MeasurementSink } from './measurement.js';
import type { RunOptions, RunPlan } from './plan.js';
import { loadRegister, type CreateRobustStore } from './register.js';
import { StoreBarrier } from './barrier.js';
import { measureClocks, type ClockOffset } from './clock.js';
import { WorkerPool } from './workers.js';

/** How the run stage ended. */
export interface RunOutcome {
  interrupted: boolean;
  /** Failures that stopped part of the run (a configuration could not open, ...), one line each. */
  failures: string[];
  /** What the reader of the report should know (meta.json `notes`). */
  notes: string[];
  checks: CheckRuns;
  /** An error that ended the run early (its message is among the failures). */
  crashed?: unknown;
  /** Clock offsets against the shared replicas, measured by a shard (meta.json `clock_offsets`). */
  clocks: ClockOffset[];
  /** The wall-clock time (ms since the Unix epoch) history times count from. */
  historyEpochMs: number;
}

/**
 * Before anything is written: refuses configurations whose environment variables are unset (all of
 * them named at once), then buckets holding foreign objects (unless `yes`).
 */
export async function guardConfigurations(o: RunOptions & { yes?: boolean }): Promise<void> {
  if (o.suite.kind !== 'latency') return;
  checkVariables(o.configurations);
  for (const h of o.configurations) await guardConfiguration(h, { yes: o.yes, signal: o.signal });
}

/**
 * Before anything is written: refuses a run whose key prefix another run holds on a shared
 * configuration (its owner marker is there; see config/run-prefix.ts). Reads only; the prefix is
 * claimed when the configuration is opened (claimRunPrefix), which also catches two runs that
 * start at the same moment.
 */
export async function checkRunPrefixes(o: RunOptions, plan: RunPlan): Promise<void> {
  if (o.suite.kind !== 'latency') return;
  for (const h of o.configurations) {
    if (!isProviderConfiguration(h) || replicaScope(h) !== 'shared') continue;
    const raw = await h.openRaw({ signal: o.signal });
    try {
      const prefix = plan.prefixOf(h);
      const replicas = raw.replicas.map((r, i) => ({ name: r.spec.name ?? `replica-${i}`, store: r.store }));
      await checkPrefixFree(replicas, prefix, plan.owner, { signal: o.signal, fix: cleanCommand(h, prefix) });
    } finally {
      await raw.close();
    }
  }
}

/** Runs every cell of the plan, then the cells of the suite's checks; measurements go to `sink`. */
export async function runPlan(o: RunOptions, plan: RunPlan, sink: MeasurementSink): Promise<RunOutcome> {
  const out: RunOutcome = { interrupted: false, failures: [], notes: [...plan.notes], checks: {}, clocks: [], historyEpochMs: 0 };
  for (const n of plan.notes) o.progress.log(`note: ${n}`);
  const createRobustStore = await loadRegister();
  const variants = createRobustStore ? plan.variants : plan.variants.filter((v) => v === 'raw');
  if (!createRobustStore && plan.variants.some((v) => v !== 'raw'))
    out.failures.push('the register (src/register) is not available in this build: only the raw baseline was measured');
  const ctx: CellRunContext = {
    progress: o.progress,
    signal: o.signal,
    history: o.history ?? false,
    epochMs: performance.now(),
    ops: o.ops,
    durationS: o.durationS,
    sampleMs: o.suite.sampleMs,
    seed: plan.seed,
    cellCounter: { n: 0 },
    sink,
    ...(o.cellProbe ? { cellProbe: o.cellProbe } : {}),
  };
  out.historyEpochMs = performance.timeOrigin + ctx.epochMs;
  let procs: Processes | undefined;
  try {
    const injected = describeInjections();
    if (injected) out.notes.push(`TEST-ONLY regressions were injected (${injected}; RKVS_TEST_INJECT or src/util/test-inject.ts): these figures are not the code's own`);
    if (o.suite.kind === 'micro') {
      const { runMicro } = await import('./micro.js');
      await runMicro({ suite: o.suite, sink, progress: o.progress, createRobustStore, variants, schedules: plan.schedules, signal: o.signal });
    } else if (o.suite.kind === 'model') {
      const { runModel } = await import('./model.js');
      await runModel({ suite: o.suite, cells: plan.cells, sink, progress: o.progress, createRobustStore, seed: plan.seed, ops: o.ops, durationS: o.durationS, signal: o.signal });
    } else {
      const checks = !o.skipChecks && (!plan.shard || plan.shard.index === 0) ? checkCellCount(o.suite.checks, variants, plan.schedules, !!createRobustStore) : 0;
      o.progress.plan(o.configurations.length * plan.counts.length * plan.cells.length + checks);
      procs = await startProcesses(o, plan, ctx, out.notes);
      for (let ci = 0; ci < o.configurations.length && plan.cells.length && !o.signal?.aborted; ci++)
        await runConfiguration(o, plan, ctx, ci, { procs, createRobustStore, out });
      if (!o.signal?.aborted && (!plan.shard || plan.shard.index === 0)) {
        const checks = o.skipChecks ? {} : o.suite.checks;
        out.checks = await runCheckCells(ctx, { checks, variants, schedules: plan.schedules, createRobustStore });
      }
    }
  } catch (e) {
    out.crashed = e;
    out.failures.push(describeCause(e));
  } finally {
    o.progress.stop();
    await procs?.pool?.stop();
    await procs?.shared?.stop();
  }
  out.interrupted = o.signal?.aborted ?? false;
  return out;
}

/** The worker processes of a run and the emulators started once for them. */
interface Processes {
  pool?: WorkerPool;
  shared?: { endpoints: EmulatorEndpoint[]; stop(): Promise<void> };
}

async function startProcesses(o: RunOptions, plan: RunPlan, ctx: CellRunContext, notes: string[]): Promise<Processes> {
  const maxWorkers = Math.max(...plan.counts);
  if (maxWorkers <= 1 || !plan.cells.length || !o.configurations.length) return {};
  const procs: Processes = {};
  const kinds = emulatorKinds(o.configurations);
  if (kinds.length) {
    const done = o.progress.wait(`starting the ${kinds.join(', ')} emulator(s) once for every worker`);
    procs.shared = await startSharedEmulators(kinds, o.signal);
    done();
  }
  const started = o.progress.wait(`starting ${maxWorkers} worker processes`);
  procs.pool = await WorkerPool.start({
    workers: maxWorkers,
    origins: o.configurations.map((c) => c.origin!),
    emulators: procs.shared?.endpoints ?? [],
    epochAbsMs: performance.timeOrigin + ctx.epochMs,
    signal: o.signal,
  });
  started();
  for (const c of o.configurations)
    if (hasPerProcessReplicas(c))
      notes.push(`configuration ${c.name}: its memory replicas live in each worker process, so workers do not contend on the same registers and storage overhead is not measured`);
  return procs;
}

/** Opens configuration `ci`, runs every planned cell at every worker count on it, and cleans up. */
async function runConfiguration(
  o: RunOptions,
  plan: RunPlan,
  ctx: CellRunContext,
  ci: number,
  env: { procs: Processes; createRobustStore: CreateRobustStore | null; out: RunOutcome },
): Promise<void> {
  const h = o.configurations[ci] as ConfigurationHandle;
  const { pool } = env.procs;
  const shard = plan.shard;
  const prefix = plan.prefixOf(h);
  let opened: OpenedConfiguration | undefined;
  let poolOpened = false;
  let release: (() => Promise<void>) | undefined;
  // --fault: a fault proxy in front of each replica a scenario names, for the whole configuration
  const faults = plan.faults?.[ci];
  const injector = faults ? new FaultInjector(faults) : undefined;
  try {
    const kinds = env.procs.shared ? [] : h.origin?.kind === 'emulators' ? (h.origin.kinds ?? ['s3', 'azure', 'gcs']) : emulatorKinds([h]);
    const done = o.progress.wait(`opening configuration ${h.name}${kinds.length ? `: starting the ${kinds.join(', ')} emulator(s)` : ''}`);
    opened = await h.open({ prefix, signal: o.signal, ...(injector ? { route: injector.route } : {}) }).finally(done);
    for (const s of faults ?? []) {
      const w = overQuorumWarning(h.name, opened.t ?? Math.floor((opened.replicas.length - 1) / 2), s);
      if (w) o.progress.log(w);
    }
    const down = await preflight(h.name, opened, o.signal);
    for (const d of down) {
      o.progress.log(`warning: configuration ${h.name}: ${d}`);
      env.out.notes.push(`configuration ${h.name}: ${d}`);
    }
    if (replicaScope(h) === 'shared') {
      // shared replicas: this run owns its prefix before it writes anything else there (on every
      // replica that answers, at least n - t of them)
      const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
      release = await claimRunPrefix(opened.replicas, prefix, plan.owner, { signal: o.signal, fix: cleanCommand(h, prefix), labels: replicaLabels(opened.replicas), t });
      o.progress.log(`configuration ${h.name}: run prefix ${prefix} (should this run be killed, remove what it leaves with: ${cleanCommand(h, prefix)})`);
    }
    if (pool) {
      await pool.open(ci, prefix);
      poolOpened = true;
    }
    const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
    const barrier =
      shard && replicaScope(h) === 'shared'
        ? new StoreBarrier(opened.replicas, shard, { t, labels: replicaLabels(opened.replicas), timeoutMs: (o.syncTimeoutS ?? 600) * 1000, signal: o.signal })
        : undefined;
    if (shard && !barrier && ci === 0)
      env.out.notes.push(`configuration ${h.name}: every shard has replicas of its own, so shards do not contend on the same registers and cells are not synchronised across shards`);
    if (barrier) env.out.clocks.push(...(await measureClocks(h, replicaLabels(opened.replicas), 'start', o.signal)));
    const sweep = plan.counts.length > 1;
    const total = plan.cells.length * plan.counts.length;
    let k = 0;
    for (const n of plan.counts)
      for (const cell of plan.cells) {
        if (o.signal?.aborted) break;
        const dist = { workers: n, pool: n > 1 || sweep ? pool : undefined, cfgIndex: ci, shard, barrier, visible: !hasPerProcessReplicas(h) };
        await runPlannedCell(ctx, h.name, opened, cell, env.createRobustStore, ++k, total, dist, cell.fault ? injector?.cellRun(cell.fault) : undefined);
      }
    if (barrier && !o.signal?.aborted) env.out.clocks.push(...(await measureClocks(h, replicaLabels(opened.replicas), 'end', o.signal)));
    await leaveConfiguration(o, plan, h, opened, ci, barrier);
  } catch (e) {
    // the prefix is another run's: leave everything there alone, and stop the run (exit 2)
    if (e instanceof ConfigError && !release) throw e;
    if (o.signal?.aborted) return;
    const msg = describeCause(e);
    env.out.failures.push(msg.startsWith('configuration ') ? msg : `configuration ${h.name}: ${msg}`);
    o.progress.log(`error: ${env.out.failures[env.out.failures.length - 1]}`);
    if (opened && !shard && release) await cleanup(o, h, opened, prefix);
  } finally {
    if (poolOpened) await pool?.close(ci);
    await release?.();
    await opened?.close().catch((e: unknown) => o.progress.log(`warning: closing ${h.name}: ${describeCause(e)}`));
    await injector?.close();
  }
}

/**
 * Removes the run prefix at the end of a configuration (cells remove their own keys as they end).
 * With shared replicas, shard 0 cleans up once every shard has left (the others only say they leave).
 */
async function leaveConfiguration(o: RunOptions, plan: RunPlan, h: ConfigurationHandle, opened: OpenedConfiguration, ci: number, barrier: StoreBarrier | undefined): Promise<void> {
  const shard = plan.shard;
  const prefix = plan.prefixOf(h);
  if (barrier && !o.signal?.aborted) await barrier.arrive(`cfg${ci}-exit`, null, { wait: shard?.index === 0 ? 'all' : 'none' });
  if (!barrier) await cleanup(o, h, opened, prefix);
  else if (shard?.index === 0 && !o.signal?.aborted) await cleanup(o, h, opened, prefix);
  else if (shard?.index === 0)
    // the other shards may still be running: leave their keys alone
    o.progress.log(`the run prefix was not removed (interrupted while other shards may still run); remove it afterwards with: ${cleanCommand(h, prefix)}`);
}

/**
 * Lists every replica once, so a missing bucket or a wrong endpoint fails fast with one line. Up to
 * t replicas may be unreachable (the register runs without them); they are returned, one line each.
 */
async function preflight(cfg: string, opened: OpenedConfiguration, signal?: AbortSignal): Promise<string[]> {
  const labels = replicaLabels(opened.replicas);
  const t = opened.t ?? Math.floor((opened.replicas.length - 1) / 2);
  const failed = (
    await Promise.all(
      opened.replicas.map(async (r, i) => {
        try {
          const callSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(15_000)]) : AbortSignal.timeout(15_000);
          await withTimeout(r.list('rkvs-preflight/', { signal: callSignal }), 20_000, `replica ${labels[i]}`);
          return undefined;
        } catch (e) {
          return `replica ${labels[i]} is unreachable (${describeCause(e)})`;
        }
      }),
    )
  ).filter((x): x is string => x !== undefined);
  // every unreachable replica is named, not only the first to fail
  if (failed.length > t || failed.length === opened.replicas.length)
    throw new Error(`configuration ${cfg}: ${failed.join('; ')}; check its endpoint, credentials and that the bucket/container exists (${failed.length} down, the configuration tolerates t = ${t})`);
  return failed.map((f) => `${f} at the start: the register runs on the other replicas (t = ${t}); raw cells use replica ${labels[0]}`);
}

/**
 * Removes what the run left under its prefix in a configuration (cells remove their own keys as
 * they end; this catches the rest: an interrupted cell, barrier markers). Bounded in time; a
 * leftover is reported with the command that removes it.
 */
async function cleanup(o: RunOptions, h: ConfigurationHandle, opened: OpenedConfiguration, prefix: string): Promise<void> {
  o.progress.log(`cleaning up ${prefix} on ${h.name} ...`);
  const res = await cleanupOpened(opened, { config: h.name, signal: AbortSignal.timeout(60_000) });
  const left = res.reduce((a, r) => a + (r.found - r.removed), 0);
  // a replica whose listing failed left an unknown number of objects: name it and what it did
  const labels = replicaLabels(opened.replicas);
  const unlisted = res.flatMap((r, i) => (r.errors > 0 && r.found === 0 ? [{ ...r, replica: labels[i] ?? r.replica }] : []));
  if (left > 0 || unlisted.length)
    o.progress.log(
      `warning: ${h.name}: ${[
        ...(left > 0 ? [`${left} object(s) under ${prefix} could not be removed (${res.find((r) => r.found > 0 && r.firstError)?.firstError ?? 'timed out'})`] : []),
        ...unlisted.map((r) => `replica ${r.replica}: the run's objects under ${prefix} could not be listed (${r.firstError ?? 'timed out'})`),
      ].join('; ')}; remove them with: ${cleanCommand(h, prefix)}`,
    );
}

/** Emulator kinds the configurations start (for --workers: started once, shared with the workers). */
function emulatorKinds(configurations: readonly ConfigurationHandle[]): ('s3' | 'azure' | 'gcs' | 'swift-s3')[] {
  const kinds = new Set<'s3' | 'azure' | 'gcs' | 'swift-s3'>();
  for (const h of configurations) if (isProviderConfiguration(h)) for (const r of h.spec.replicas) if (r.provider === 'emulator') kinds.add(r.kind);
  return [...kinds];
}

/** True when the configuration has replicas that live inside the process opening it (memory). */
function hasPerProcessReplicas(h: ConfigurationHandle): boolean {
  if (isProviderConfiguration(h)) return h.spec.replicas.some((r) => r.provider === 'memory');
  return h.origin?.kind !== 'emulators' && h.origin?.kind !== 'file';
}
