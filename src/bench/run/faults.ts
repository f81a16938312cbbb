/**
 * Faults injected into a running benchmark (`rkvs bench --fault`, docs/benchmarks.md "Faults").
 *
 * - `FaultInjector` (one per opened configuration): puts a fault proxy (src/net/fault-proxy.ts) in
 *   front of every replica a scenario names, when the configuration opens, in pass mode: healthy
 *   cells go through it too, so a healthy cell and its faulty runs differ only by the fault.
 * - `CellFaultRun` (one per faulty cell run): puts each fault of the scenario in force `at` after
 *   the cell's first operation, opens the runner's measure gate once the first is in force (the
 *   measured phase starts with the next operation issued), and heals each fault after `for`, or
 *   when the measured phase ends at the latest — before the cell's quiescence, storage listing and
 *   key removal, which therefore see a healthy replica.
 */
import { formatFault, startFaultProxy, type Fault, type FaultProxy } from '../../net/fault-proxy.js';
import type { ResolvedFaultItem, ResolvedFaultScenario } from '../config/fault.js';
import type { EndpointRoute } from '../config/types.js';

const PASS: Fault = { mode: 'pass' };

/** The fault proxies of one opened configuration. */
export class FaultInjector {
  private readonly proxies = new Map<number, FaultProxy>();
  private readonly faulted: ReadonlySet<number>;

  constructor(private readonly scenarios: readonly ResolvedFaultScenario[]) {
    this.faulted = new Set(scenarios.flatMap((s) => s.items.map((i) => i.index)));
  }

  /** Routes each replica a scenario names through a fault proxy of its own (started in pass mode). */
  readonly route: EndpointRoute = async (replica, endpoint) => {
    if (!this.faulted.has(replica)) return undefined;
    const old = this.proxies.get(replica);
    if (old) await old.close();
    const proxy = await startFaultProxy({ target: endpoint });
    this.proxies.set(replica, proxy);
    return proxy.url(endpoint);
  };

  /** The schedule of one run of a cell under scenario `k` (1-based, as `PlannedCell.fault`). */
  cellRun(k: number): CellFaultRun {
    const s = this.scenarios[k - 1];
    if (!s) throw new Error(`no fault scenario ${k} (${this.scenarios.length} given)`);
    const proxies = s.items.map((i) => {
      const p = this.proxies.get(i.index);
      if (!p) throw new Error(`replica ${i.name} was opened without its fault proxy`);
      return p;
    });
    return new CellFaultRun(s, proxies);
  }

  /** Stops every proxy (closing the connections through it). */
  async close(): Promise<void> {
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.allSettled(all.map((p) => p.close()));
  }
}

/** When one fault of a cell run was in force, ms from the start of the cell run. */
export interface FaultWindow {
  replica: string;
  fault: string;
  fromMs?: number;
  toMs?: number;
}

/** The faults of one cell run: put in force on schedule, healed when it ends. */
export class CellFaultRun {
  /** The cell key's `fault` field. */
  readonly key: string;
  /** Opened once the first fault is in force: the runner measures from the next operation. */
  readonly gate = { open: false };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly windows: FaultWindow[];
  private readonly chains: Promise<void>[];
  private t0 = 0;
  private healed = false;

  constructor(
    private readonly scenario: ResolvedFaultScenario,
    private readonly proxies: readonly FaultProxy[],
  ) {
    this.key = scenario.key;
    this.windows = scenario.items.map((i) => ({ replica: i.name, fault: formatFault(i.fault) }));
    this.chains = scenario.items.map(() => Promise.resolve());
  }

  /** Call right before the cell's first operation: faults at `at=0` are in force when it returns. */
  async start(): Promise<void> {
    this.t0 = performance.now();
    const now: Promise<void>[] = [];
    this.scenario.items.forEach((item, k) => {
      if (item.atMs === 0) now.push(this.strike(item, k));
      else this.after(item.atMs, () => void this.strike(item, k));
    });
    await Promise.all(now);
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Changes the fault of item `k`'s proxy, after any change still under way. */
  private set(k: number, fault: Fault): Promise<void> {
    const proxy = this.proxies[k] as FaultProxy;
    const next = (this.chains[k] as Promise<void>).then(() => proxy.set(fault));
    this.chains[k] = next.catch(() => undefined);
    return next;
  }

  private async strike(item: ResolvedFaultItem, k: number): Promise<void> {
    if (this.healed) return;
    await this.set(k, item.fault);
    const w = this.windows[k] as FaultWindow;
    w.fromMs = performance.now() - this.t0;
    this.gate.open = true;
    if (item.forMs !== undefined) this.after(item.forMs, () => void this.heal1(k));
  }

  private async heal1(k: number): Promise<void> {
    const w = this.windows[k] as FaultWindow;
    if (w.fromMs === undefined || w.toMs !== undefined) return;
    await this.set(k, PASS);
    w.toMs = performance.now() - this.t0;
  }

  /** Cancels the faults still to come and heals those in force. Idempotent. */
  async heal(): Promise<void> {
    if (this.healed) {
      await Promise.all(this.chains);
      return;
    }
    this.healed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.chains);
    await Promise.all(this.scenario.items.map((_, k) => this.heal1(k)));
  }

  /** When each fault was in force, ms from the start of the cell run. */
  timeline(): FaultWindow[] {
    return this.windows.map((w) => ({ ...w }));
  }

  /** One line for the progress output: `s3-emulator blackhole from 0.0 s to 12.3 s`. */
  describe(): string {
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    return this.windows
      .map((w) => (w.fromMs === undefined ? `${w.replica} ${w.fault}: not reached (the cell ended first)` : `${w.replica} ${w.fault} from ${s(w.fromMs)} to ${w.toMs === undefined ? 'the end' : s(w.toMs)}`))
      .join('; ');
  }
}

/** A warning for scenarios putting more than t replicas at fault in a configuration. */
export function overQuorumWarning(config: string, t: number, s: ResolvedFaultScenario): string | undefined {
  if (s.items.length <= t) return undefined;
  return (
    `warning: --fault ${s.key}: ${s.items.length} faulty replicas in configuration ${config}, which tolerates t = ${t}: ` +
    `operations may fail (QuorumError) once the adapters' timeouts pass (RKVS_REQUEST_TIMEOUT_MS)`
  );
}
