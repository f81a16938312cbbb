/**
 * Spreading one cell over several processes (worker processes on this machine, shards on other
 * machines) and putting the pieces back together exactly:
 *
 * - `clientRange` / `shareOf` split a cell's clients, measured operations, warm-up operations and
 *   open-loop rate so the parts add up to the cell (every client and every operation exactly once);
 * - `encodeOutcome` / `decodeOutcome` carry a part's outcome between processes (histograms as
 *   HdrHistogram's compressed encoding, never as percentiles);
 * - `mergeOutcomes` adds the parts: histograms by histogram addition, counters by sums, and the
 *   measured window as the union of the parts' windows (earliest start to latest end), and the
 *   per-second series aligned on the earliest part's start (to the nearest second).
 */
import { decodeHistogram, encodeHistogram, mergeHistograms, type Histogram } from './histogram.js';
import { emptyOutcome, parsePerSecondKey, perSecondKey, type CellOutcome, type SecondBucket } from './runner.js';
import type { LogicalOp, Workload } from '../config/workload.js';

/** Clients `[first, end)` of part `i` of `parts` (earlier parts get the extra client). */
export function clientRange(clients: number, i: number, parts: number): [number, number] {
  return [Math.ceil((i * clients) / parts), Math.ceil(((i + 1) * clients) / parts)];
}

/**
 * Clients `[first, end)` of a cell that shard `i` of `shards` runs. A cell with at least as many
 * clients as shards gives every shard a share (`clientRange`); one with fewer runs one client on
 * each of `clients` shards, starting at shard `offset mod shards` (the cell's position in the
 * plan), so consecutive small cells land on different shards and every shard gets work.
 */
export function shardRange(clients: number, i: number, shards: number, offset = 0): [number, number] {
  if (clients >= shards) return clientRange(clients, i, shards);
  const pos = (((i - offset) % shards) + shards) % shards;
  return pos < clients ? [pos, pos + 1] : [clients, clients];
}

/** The share of `total` that clients `[a, b)` of `clients` run; the shares of a partition sum to `total`. */
export function shareOf(total: number, clients: number, a: number, b: number): number {
  if (clients <= 0) return 0;
  return Math.floor((total * b) / clients) - Math.floor((total * a) / clients);
}

/** How a cell's clients are spread: this process's shard, and the workers inside it. */
export interface Spread {
  shard: { index: number; count: number };
  workers: number;
  /** The cell's position in the plan (0-based): which shards a cell with fewer clients than shards uses. */
  offset?: number;
}

/** One process's part of a cell: which clients it runs and how much work. */
export interface PartPlan {
  /** Worker index in this process (0 when the cell runs in-process). */
  worker: number;
  /** First global client index and number of clients. */
  first: number;
  count: number;
  /** Client id prefix (`s1w0`): ids stay unique across shards and workers. */
  idPrefix: string;
  /** The workload with this part's warm-up and open-loop rate. */
  workload: Workload;
  /** This part's stop condition: measured operations, or a duration. */
  ops?: number;
  durationS?: number;
}

/**
 * The parts of a cell this process runs. `ops` / `durationS` are the run's overrides (else the
 * workload's). Parts with no client are left out; a part with clients but no measured operation
 * (more clients than operations) is kept so its clients still warm up.
 */
export function planParts(
  cell: { workload: Workload; clients: number },
  spread: Spread,
  stop: { ops?: number; durationS?: number },
): PartPlan[] {
  const C = cell.clients;
  const w = cell.workload;
  const [sa, sb] = shardRange(C, spread.shard.index, spread.shard.count, spread.offset ?? 0);
  const out: PartPlan[] = [];
  const n = sb - sa;
  for (let j = 0; j < spread.workers; j++) {
    const a = sa + Math.ceil((j * n) / spread.workers);
    const b = sa + Math.ceil(((j + 1) * n) / spread.workers);
    if (b <= a) continue;
    const durationS = stop.durationS ?? (stop.ops === undefined && w.ops === undefined ? w.durationS : undefined);
    const totalOps = durationS === undefined ? (stop.ops ?? w.ops ?? 0) : undefined;
    const mode: Workload['mode'] = w.mode === 'closed' ? 'closed' : { openRate: (w.mode.openRate * (b - a)) / C };
    const idPrefix = `${spread.shard.count > 1 ? `s${spread.shard.index}` : ''}${spread.workers > 1 ? `w${j}` : ''}`;
    out.push({
      worker: j,
      first: a,
      count: b - a,
      idPrefix,
      workload: { ...w, warmupOps: shareOf(w.warmupOps, C, a, b), mode },
      ...(totalOps !== undefined ? { ops: shareOf(totalOps, C, a, b) } : { durationS }),
    });
  }
  return out;
}

/** A CellOutcome as JSON (histograms encoded). */
export interface EncodedOutcome {
  ok: [string, string][];
  failed: [string, string][];
  errors: [string, number][];
  errorsBySeries: [string, number][];
  measured: [LogicalOp, number][];
  rounds: [string, { sum: number; n: number }][];
  lastWritten: [string, number][];
  startEpochMs: number;
  endEpochMs: number;
  /** Measured window length, from the process's monotonic clock. */
  elapsedMs: number;
  interrupted: boolean;
  perSecond: [string, { ok: string; errors: number }][];
  loopStartEpochMs: number;
  loopSpanMs: number;
}

const encodeMap = (m: Map<string, Histogram>): [string, string][] => [...m].map(([k, h]) => [k, encodeHistogram(h)]);
const decodeMap = (l: [string, string][]): Map<string, Histogram> => new Map(l.map(([k, e]) => [k, decodeHistogram(e)]));

export function encodeOutcome(o: CellOutcome): EncodedOutcome {
  return {
    ok: encodeMap(o.ok),
    failed: encodeMap(o.failed),
    errors: [...o.errors],
    errorsBySeries: [...o.errorsBySeries],
    measured: [...o.measured],
    rounds: [...o.rounds],
    lastWritten: [...o.lastWritten],
    startEpochMs: o.startEpochMs,
    endEpochMs: o.endEpochMs,
    elapsedMs: Math.max(0, o.endMs - o.startMs),
    interrupted: o.interrupted,
    perSecond: [...o.perSecond].map(([k, b]) => [k, { ok: encodeHistogram(b.ok), errors: b.errors }]),
    loopStartEpochMs: o.loopStartEpochMs,
    loopSpanMs: o.loopSpanMs,
  };
}

/** Decodes an outcome; its window is expressed on the wall clock (startMs = startEpochMs). */
export function decodeOutcome(e: EncodedOutcome): CellOutcome {
  return {
    ok: decodeMap(e.ok),
    failed: decodeMap(e.failed),
    errors: new Map(e.errors),
    errorsBySeries: new Map(e.errorsBySeries),
    measured: new Map(e.measured),
    rounds: new Map(e.rounds.map(([k, v]) => [k, { ...v }])),
    lastWritten: new Map(e.lastWritten),
    startMs: e.startEpochMs,
    endMs: e.startEpochMs + e.elapsedMs,
    startEpochMs: e.startEpochMs,
    endEpochMs: e.startEpochMs + e.elapsedMs,
    interrupted: e.interrupted,
    perSecond: new Map(e.perSecond.map(([k, b]) => [k, { ok: decodeHistogram(b.ok), errors: b.errors }])),
    loopStartEpochMs: e.loopStartEpochMs,
    loopSpanMs: e.loopSpanMs,
  };
}

function measuredCount(o: CellOutcome): number {
  let n = 0;
  for (const v of o.measured.values()) n += v;
  return n;
}

/**
 * Adds the outcomes of the parts of one cell. The window is the union of the windows of the parts
 * that measured something (wall clock, so parts in other processes line up); a register's logical
 * size is the largest any part wrote last.
 */
export function mergeOutcomes(parts: readonly CellOutcome[]): CellOutcome {
  if (parts.length === 1) return parts[0] as CellOutcome;
  const out: CellOutcome = { ...emptyOutcome(), interrupted: parts.some((p) => p.interrupted) };
  const addHist = (into: Map<string, Histogram>, from: Map<string, Histogram>) => {
    for (const [k, h] of from) {
      const cur = into.get(k);
      into.set(k, cur ? mergeHistograms([cur, h]) : mergeHistograms([h]));
    }
  };
  let start = Infinity;
  let end = -Infinity;
  for (const p of parts) {
    addHist(out.ok, p.ok);
    addHist(out.failed, p.failed);
    for (const [k, n] of p.errors) out.errors.set(k, (out.errors.get(k) ?? 0) + n);
    for (const [k, n] of p.errorsBySeries) out.errorsBySeries.set(k, (out.errorsBySeries.get(k) ?? 0) + n);
    for (const [k, n] of p.measured) out.measured.set(k, (out.measured.get(k) ?? 0) + n);
    for (const [k, r] of p.rounds) {
      const cur = out.rounds.get(k) ?? { sum: 0, n: 0 };
      out.rounds.set(k, { sum: cur.sum + r.sum, n: cur.n + r.n });
    }
    for (const [k, v] of p.lastWritten) out.lastWritten.set(k, Math.max(v, out.lastWritten.get(k) ?? 0));
    if (measuredCount(p) > 0) {
      start = Math.min(start, p.startEpochMs);
      end = Math.max(end, p.startEpochMs + Math.max(0, p.endMs - p.startMs));
    }
  }
  if (start !== Infinity) {
    out.startMs = out.startEpochMs = start;
    out.endMs = out.endEpochMs = end;
  }
  mergePerSecond(out, parts);
  return out;
}

/**
 * Adds the parts' per-second series: second 0 is the earliest part's start, a later part's
 * seconds are shifted by its start's distance from it (to the nearest second; parts start together).
 */
function mergePerSecond(out: CellOutcome, parts: readonly CellOutcome[]): void {
  const started = parts.filter((p) => p.perSecond.size > 0);
  if (!started.length) return;
  const t0 = Math.min(...started.map((p) => p.loopStartEpochMs));
  out.loopStartEpochMs = t0;
  for (const p of started) {
    const shift = Math.round((p.loopStartEpochMs - t0) / 1000);
    // to the part's real end, and at least to the end of its last (shifted) second
    out.loopSpanMs = Math.max(out.loopSpanMs, p.loopStartEpochMs - t0 + p.loopSpanMs, shift * 1000 + p.loopSpanMs);
    for (const [k, b] of p.perSecond) {
      const x = parsePerSecondKey(k);
      const key = perSecondKey(x.second + shift, x.phase, x.op, x.valueBytes);
      const cur: SecondBucket | undefined = out.perSecond.get(key);
      out.perSecond.set(key, cur ? { ok: mergeHistograms([cur.ok, b.ok]), errors: cur.errors + b.errors } : { ok: mergeHistograms([b.ok]), errors: b.errors });
    }
  }
}
