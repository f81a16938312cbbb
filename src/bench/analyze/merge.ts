/**
 * `rkvs merge DIR...`: combines the report directories of the shards of one run (`rkvs bench
 * --shard i/N --run-id ID`, one per machine) into one report directory, in the same format as
 * `rkvs bench` writes.
 *
 * - Checks first: every directory is a shard of the same run (run id, suite and its hash,
 *   configurations, the options that change what is measured, shard count), no index twice, and
 *   every index 0..N-1 present (unless allowPartial). A mismatch is a ConfigError naming the
 *   directory and the field (exit code 2).
 * - Histograms are added (HdrHistogram addition of the encoded histograms in histograms.jsonl),
 *   never averaged; counters (operations, errors, requests, rounds) are summed from counters.json;
 *   the measured window of a cell is the union of the shards' windows (earliest start to latest
 *   end, wall clock), so ops_per_s = all shards' operations / that window.
 * - Puts the shards on the clock of the lowest shard, through the clock offsets each measured
 *   against the replicas they share (timeline.ts): windows, start skew and the merged history.jsonl
 *   (when every shard ran with --history), whose operations are widened by each shard's bound.
 * - Warns when a shard measured nothing, when a clock is further than `maxSkewMs` from the
 *   reference even at its bound, and when the shards started the same cell further apart than
 *   `maxSkewMs` (they did not run at the same time).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, describeCause } from '../../errors.js';
import { cellId, cellKeyString, cellOf, type CellKey } from '../config/cell.js';
import type { RunMeta } from '../record/meta.js';
import { checkReportFormat } from '../record/read.js';
import { BenchResults, type CountersFile, type HistogramLine, type SecondEntry, type SeriesRecord, type SummaryCheck } from '../record/results.js';
import { REPORT_FORMAT } from '../record/schema.js';
import { decodeHistogram, mergeHistograms, type Histogram } from '../run/histogram.js';
import type { ClockOffset } from '../run/clock.js';
import { quiescentChecks } from './checks.js';
import { describeClocks, mergeHistories, shardClocks, type ShardClock } from './timeline.js';

export interface ShardDir {
  dir: string;
  meta: RunMeta;
  counters: CountersFile;
  lines: HistogramLine[];
  /** history.jsonl, one operation a line (a shard run with --history). */
  history?: string[];
}

/** Options whose difference makes shards measure different things. */
export const MERGE_OPTIONS = ['ops', 'duration', 'clients', 'repeat', 'interleave', 'variants', 'schedules', 'history', 'checks', 'configs'] as const;

async function readJson<T>(file: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot read ${what} (${describeCause(e)}); give report directories written by rkvs bench --shard i/N`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ConfigError(file, `is not valid JSON (${describeCause(e)})`);
  }
}

/** Reads what merge needs from one shard's report directory. */
export async function readShardDir(dir: string): Promise<ShardDir> {
  const abs = path.resolve(dir);
  if (!existsSync(abs)) throw new ConfigError(dir, 'no such report directory');
  const meta = await readJson<RunMeta>(path.join(abs, 'meta.json'), 'meta.json');
  checkReportFormat(abs, meta as Record<string, unknown>, null, dir);
  const counters = await readJson<CountersFile>(path.join(abs, 'counters.json'), 'counters.json (written by rkvs bench since shards and workers exist)');
  if (counters.format !== REPORT_FORMAT)
    throw new ConfigError(path.join(abs, 'counters.json'), `is in format ${JSON.stringify(counters.format ?? 1)} but meta.json says ${REPORT_FORMAT}; run the shard again`);
  let text: string;
  try {
    text = await readFile(path.join(abs, 'histograms.jsonl'), 'utf8');
  } catch (e) {
    throw new ConfigError(path.join(abs, 'histograms.jsonl'), `cannot read (${describeCause(e)})`);
  }
  const lines: HistogramLine[] = [];
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as HistogramLine);
    } catch (e) {
      throw new ConfigError(`${path.join(abs, 'histograms.jsonl')}:${n}`, `is not JSON (${describeCause(e)})`);
    }
  }
  let history: string[] | undefined;
  if (existsSync(path.join(abs, 'history.jsonl'))) history = (await readFile(path.join(abs, 'history.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  return { dir: abs, meta, counters, lines, ...(history ? { history } : {}) };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));

/**
 * Checks that the directories are the shards of one run. Throws a ConfigError naming the
 * directory and the field that differs; returns warnings for what does not prevent merging.
 */
export function checkShards(shards: readonly ShardDir[], o: { allowPartial?: boolean } = {}): string[] {
  if (shards.length === 0) throw new ConfigError('DIR', 'give the report directories of the shards to merge');
  const warnings: string[] = [];
  for (const s of shards)
    if (!s.meta.shard || !Number.isInteger(s.meta.shard.index) || !Number.isInteger(s.meta.shard.count))
      throw new ConfigError(s.dir, 'meta.json has no shard field: this directory was not written by rkvs bench --shard i/N');
  const ref = [...shards].sort((a, b) => a.meta.shard!.index - b.meta.shard!.index)[0] as ShardDir;
  const differs = (s: ShardDir, field: string, a: unknown, b: unknown) =>
    new ConfigError(s.dir, `${field} is ${show(a)} but ${show(b)} in ${ref.dir} (shard ${ref.meta.shard!.index}): these are not shards of the same run`);
  for (const s of shards) {
    if (s === ref) continue;
    const m = s.meta;
    const r = ref.meta;
    if (m.run_id !== r.run_id) throw differs(s, 'run_id', m.run_id, r.run_id);
    if (m.suite !== r.suite) throw differs(s, 'suite', m.suite, r.suite);
    if (!same(m.suite_hash, r.suite_hash)) throw differs(s, 'suite_hash (the suite definition)', m.suite_hash, r.suite_hash);
    if (m.shard!.count !== r.shard!.count) throw differs(s, 'shard count', m.shard!.count, r.shard!.count);
    if (!same(m.seeds, r.seeds)) throw differs(s, 'seeds', m.seeds, r.seeds);
    // every cell key says how many worker processes a shard spread its clients over: the same on every shard
    if (!same(m.workers ?? 1, r.workers ?? 1)) throw differs(s, 'workers (give every shard the same --workers N, not auto on machines of different sizes)', m.workers ?? 1, r.workers ?? 1);
    if (!same(m.configurations, r.configurations))
      throw new ConfigError(s.dir, `configurations differ from ${ref.dir} (shard ${r.shard!.index}): ${configDiff(m.configurations, r.configurations)}`);
    for (const k of MERGE_OPTIONS) if (!same(m.options?.[k], r.options?.[k])) throw differs(s, `option --${k}`, m.options?.[k], r.options?.[k]);
    if (m.tool_version !== r.tool_version || m.git_commit !== r.git_commit)
      warnings.push(`${s.dir} ran rkvs ${m.tool_version} (${m.git_commit ?? 'no commit'}) but ${ref.dir} ran ${r.tool_version} (${r.git_commit ?? 'no commit'})`);
  }
  const byIndex = new Map<number, ShardDir>();
  for (const s of shards) {
    const i = s.meta.shard!.index;
    const prev = byIndex.get(i);
    if (prev) throw new ConfigError(s.dir, `shard index ${i} is also the index of ${prev.dir}: each shard index must appear once`);
    byIndex.set(i, s);
  }
  const count = ref.meta.shard!.count;
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) {
    const msg = `shard(s) ${missing.join(', ')} of ${count} missing (indexes are 0-based)`;
    if (!o.allowPartial) throw new ConfigError('DIR', `${msg}; give every shard's directory, or --allow-partial to merge what is there`);
    warnings.push(`${msg}: the merged report covers only part of the run's clients`);
  }
  for (const s of shards) {
    if (s.meta.interrupted) warnings.push(`${s.dir} (shard ${s.meta.shard!.index}) was interrupted: its cells are partial`);
    if (!s.counters.series.some((x) => x.ok + x.errors > 0))
      warnings.push(
        `${s.dir} (shard ${s.meta.shard!.index}) measured nothing: no operation in any cell (no client of any cell on this shard, or every cell failed); ` +
          'the merged report is the other shards\' alone: run fewer shards or give the cells more clients (--clients)',
      );
  }
  return warnings;
}

function configDiff(a: unknown, b: unknown): string {
  const la = Array.isArray(a) ? a : [];
  const lb = Array.isArray(b) ? b : [];
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const x = la[i] as Record<string, unknown> | undefined;
    const y = lb[i] as Record<string, unknown> | undefined;
    if (same(x, y)) continue;
    if (!x || !y) return `configuration #${i} is ${x ? show(x.name) : 'absent'} here and ${y ? show(y.name) : 'absent'} there`;
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)]))
      if (!same(x[k], y[k])) return `configuration ${show(x.name)} field ${k} is ${show(x[k])} here and ${show(y[k])} there`;
  }
  return 'they differ';
}

export interface MergeResult {
  results: BenchResults;
  meta: RunMeta;
  warnings: string[];
  /** Largest difference between the shards' start times of one cell (on the reference clock), ms. */
  maxSkewMs: number;
  /** Each shard's clock against the reference shard's (the lowest index), measured through the replicas. */
  clocks: ShardClock[];
  /** One line per shard: its clock offset and bound. */
  clockLines: string[];
  /** The merged history.jsonl lines, when every shard recorded one. */
  history?: string[];
}

/** Merges checked shards into one run's results (see the module comment). */
export function mergeShards(shards: readonly ShardDir[], o: { maxSkewMs?: number } = {}): MergeResult {
  const sorted = [...shards].sort((a, b) => a.meta.shard!.index - b.meta.shard!.index);
  const ref = sorted[0] as ShardDir;
  const maxSkew = o.maxSkewMs ?? 2000;
  const clocks = shardClocks(sorted.map((s) => ({ index: s.meta.shard!.index, clocks: s.meta.clock_offsets as ClockOffset[] | undefined })));
  const measured = sorted.some((s) => Array.isArray(s.meta.clock_offsets) && s.meta.clock_offsets.length > 0);
  const { lines: clockLines, warnings } = measured ? describeClocks(clocks, maxSkew) : { lines: [], warnings: [] };
  const offsets = new Map(clocks.map((c) => [c.shard, c.offset_ms]));
  const results = new BenchResults(ref.meta.run_id, ref.meta.suite);
  const starts = mergeSeries(sorted, results, offsets);
  const { maxSkewMs, warning } = startSkew(starts, maxSkew);
  if (warning) warnings.push(warning);
  mergeCounters(sorted, results, offsets);
  const history = mergeHistory(sorted, clocks, warnings);
  const meta = mergedMeta(sorted, results, maxSkewMs);
  if (measured) meta.clock_offsets = clocks.map((c) => ({ ...c, max_skew_ms: maxSkew }));
  if (history) meta.history_epoch_ms = Math.min(...sorted.map((s, i) => (s.meta.history_epoch_ms as number) - (clocks[i]?.offset_ms ?? 0)));
  return { results, meta, warnings, maxSkewMs, clocks, clockLines, ...(history ? { history } : {}) };
}

/** The shards' histories on the reference clock, when every shard recorded one (else a warning when some did). */
function mergeHistory(sorted: readonly ShardDir[], clocks: readonly ShardClock[], warnings: string[]): string[] | undefined {
  const withHistory = sorted.filter((s) => s.history);
  if (!withHistory.length) return undefined;
  const noEpoch = sorted.filter((s) => !s.history || typeof s.meta.history_epoch_ms !== 'number');
  if (noEpoch.length) {
    warnings.push(
      `history.jsonl not merged: ${noEpoch.map((s) => `${s.dir} (shard ${s.meta.shard!.index})`).join(', ')} ${noEpoch.some((s) => !s.history) ? 'has no history.jsonl' : 'has no history_epoch_ms in meta.json (an older rkvs)'}; run every shard with --history`,
    );
    return undefined;
  }
  const merged = mergeHistories(
    sorted.map((s, i) => ({ shard: s.meta.shard!.index, dir: s.dir, epochMs: s.meta.history_epoch_ms as number, lines: s.history ?? [], clock: clocks[i] as ShardClock })),
  );
  warnings.push(...merged.warnings);
  return merged.lines;
}

/** When each shard started one repetition of one cell. */
interface CellStarts {
  label: string;
  starts: Map<number, number>;
}

/** One series across shards: the cell it belongs to, its key and the repetition. */
const seriesId = (x: CellKey & { cell_id?: string; repeat: number }) => `${x.cell_id ?? ''}\u0000${cellId(x)}\u0000${x.repeat}`;

/**
 * Adds the shards' series: histograms by HdrHistogram addition, counters by sums, the window as
 * the union of the shards' windows. Returns each cell's start time on each shard.
 */
function mergeSeries(sorted: readonly ShardDir[], results: BenchResults, offsets: ReadonlyMap<number, number>): Map<string, CellStarts> {
  const hists = new Map<string, { ok: Histogram[]; error: Histogram[] }>();
  for (const s of sorted)
    for (const l of s.lines) {
      const h = hists.get(seriesId(l)) ?? { ok: [], error: [] };
      try {
        (l.outcome === 'error' ? h.error : h.ok).push(decodeHistogram(l.encoded));
      } catch (e) {
        throw new ConfigError(path.join(s.dir, 'histograms.jsonl'), `a histogram cannot be decoded (${describeCause(e)})`);
      }
      hists.set(seriesId(l), h);
    }
  // series: one per (cell, key, repeat), in the order the first shard measured them
  const groups = new Map<string, { series: SeriesRecord[]; shards: number[] }>();
  for (const s of sorted)
    for (const raw of s.counters.series) {
      // windows on the reference shard's clock
      const off = offsets.get(s.meta.shard!.index) ?? 0;
      const x = off ? { ...raw, start_ms: raw.start_ms - off, end_ms: raw.end_ms - off } : raw;
      const g = groups.get(seriesId(x)) ?? { series: [], shards: [] };
      g.series.push(x);
      g.shards.push(s.meta.shard!.index);
      groups.set(seriesId(x), g);
    }
  const cellStarts = new Map<string, CellStarts>();
  for (const [k, g] of groups) {
    const first = g.series[0]!;
    const active = g.series.filter((x) => x.ok + x.errors > 0);
    const start = active.length ? Math.min(...active.map((x) => x.start_ms)) : first.start_ms;
    const end = active.length ? Math.max(...active.map((x) => x.end_ms)) : first.end_ms;
    const h = hists.get(k);
    const ok = h?.ok.length ? mergeHistograms(h.ok) : undefined;
    const failed = h?.error.length ? mergeHistograms(h.error) : undefined;
    const errors = g.series.reduce((a, x) => a + x.errors, 0);
    const rounds = { sum: g.series.reduce((a, x) => a + x.rounds_sum, 0), n: g.series.reduce((a, x) => a + x.rounds_n, 0) };
    const { repeat: _r, cell_id: _c, start_ms: _s, end_ms: _e, elapsed_ms: _el, ok: _o, errors: _er, rounds_sum: _rs, rounds_n: _rn, ...key } = first;
    const elapsed = active.length > 1 ? Math.max(0, end - start) : (active[0]?.elapsed_ms ?? 0);
    results.addSeries(key, first.repeat, ok, failed, errors, { startEpochMs: start, endEpochMs: end, elapsedMs: elapsed }, rounds.n ? rounds : undefined, first.cell_id);
    const cellKey = `${first.cell_id ?? ''}\u0000${cellId(cellOf(first))}\u0000${first.repeat}`;
    const entry = cellStarts.get(cellKey) ?? { label: `${first.cell_id ?? 'cell'} (${cellKeyString(cellOf(first))})`, starts: new Map<number, number>() };
    g.series.forEach((x, i) => {
      if (x.ok + x.errors === 0) return;
      const shard = g.shards[i] as number;
      entry.starts.set(shard, Math.min(x.start_ms, entry.starts.get(shard) ?? Infinity));
    });
    cellStarts.set(cellKey, entry);
  }
  return cellStarts;
}

/** The largest difference between the shards' start times of one cell, and a warning beyond `maxSkew`. */
function startSkew(cellStarts: Map<string, CellStarts>, maxSkew: number): { maxSkewMs: number; warning?: string } {
  let maxSkewMs = 0;
  const skewed: string[] = [];
  for (const { label, starts } of cellStarts.values()) {
    if (starts.size < 2) continue;
    const v = [...starts.values()];
    const spread = Math.max(...v) - Math.min(...v);
    maxSkewMs = Math.max(maxSkewMs, spread);
    if (spread > maxSkew) skewed.push(`${label} ${(spread / 1000).toFixed(2)} s`);
  }
  if (!skewed.length) return { maxSkewMs };
  return {
    maxSkewMs,
    warning:
      `the shards started ${skewed.length} cell(s) more than ${(maxSkew / 1000).toFixed(1)} s apart (${skewed.slice(0, 3).join('; ')}${skewed.length > 3 ? '; ...' : ''}): ` +
      "the machines' clocks differ (check NTP) or the shards did not run the cells at the same time; throughput is computed over the union of the windows",
  };
}

/**
 * The shards' per-second series on one time line per cell and repetition: each shard's seconds count
 * from its own loop start, so they are shifted (to the nearest second) by that start's distance, on
 * the reference clock, from the earliest shard's; start_ms is put on the reference clock.
 */
function alignSeconds(sorted: readonly ShardDir[], offsets: ReadonlyMap<number, number>): SecondEntry[] {
  const entries = sorted.flatMap((s) => {
    const off = offsets.get(s.meta.shard!.index) ?? 0;
    return (s.counters.per_second ?? []).map(({ encoded, ...x }) => ({ shard: s.meta.shard!.index, loop: x.start_ms - off - x.second * 1000, e: { ...x, ok: decodeHistogram(encoded) } }));
  });
  const series = (x: (typeof entries)[number]) => [x.e.cell_id ?? '', cellId(x.e), x.e.repeat].join('\u0000');
  const t0 = new Map<string, number>();
  for (const x of entries) t0.set(series(x), Math.min(t0.get(series(x)) ?? Infinity, x.loop));
  return entries.map((x) => {
    const start = t0.get(series(x))!;
    const second = x.e.second + Math.round((x.loop - start) / 1000);
    return { ...x.e, second, start_ms: Math.round(start + second * 1000) };
  });
}

/** Adds the shards' errors, requests, storage and quiescent copies, per-second series, failures and checks. */
function mergeCounters(sorted: readonly ShardDir[], results: BenchResults, offsets: ReadonlyMap<number, number>): void {
  for (const e of alignSeconds(sorted, offsets)) results.addSecond(e);
  for (const s of sorted) {
    const c = s.counters;
    for (const { kind, count, ...key } of c.errors ?? []) results.addError(key, kind, count);
    for (const { replica, puts, gets, lists, removes, bytes_up, bytes_down, ...key } of c.requests) results.addRequests(key, replica, { puts, gets, lists, removes, bytes_up, bytes_down });
    for (const e of c.storage) results.addStorage(e);
    results.quiescent.push(...c.quiescent);
    results.cellsMeasured = Math.max(results.cellsMeasured, c.cells_measured);
    for (const f of s.meta.failures ?? []) results.failures.push(`shard ${s.meta.shard!.index}: ${f}`);
  }
  const seen = new Set<string>();
  for (const s of sorted)
    for (const c of (s.meta.checks as SummaryCheck[] | undefined) ?? []) {
      if (c.name.startsWith('copies per register at quiescence') || seen.has(c.name)) continue;
      seen.add(c.name);
      results.checks.push(c);
    }
  results.checks.push(...quiescentChecks(results.quiescent));
}

/** meta.json of the merged run: the first shard's, with the shards' times and where each came from. */
function mergedMeta(sorted: readonly ShardDir[], results: BenchResults, maxSkewMs: number): RunMeta {
  const ref = sorted[0] as ShardDir;
  const starts = sorted.map((s) => s.meta.start).filter(Boolean).sort();
  const ends = sorted.map((s) => s.meta.end).filter((x): x is string => !!x).sort();
  const { shard: _shard, host: _host, ...base } = ref.meta;
  const options = { ...(ref.meta.options ?? {}) };
  for (const k of ['shard', 'shardCount', 'out', 'progress']) delete options[k];
  const meta: RunMeta = {
    ...base,
    start: starts[0] ?? ref.meta.start,
    end: ends[ends.length - 1] ?? null,
    options,
    checks: results.checks,
    shards: ref.meta.shard!.count,
    merged_from: sorted.map((s) => ({
      dir: s.dir,
      shard: s.meta.shard!.index,
      host: s.meta.host ?? null,
      start: s.meta.start,
      end: s.meta.end,
      workers: s.meta.workers ?? 1,
      ...(s.meta.interrupted ? { interrupted: true } : {}),
    })),
    max_start_skew_ms: Math.round(maxSkewMs),
  };
  delete meta.failures;
  delete meta.interrupted;
  if (results.failures.length) meta.failures = results.failures;
  if (sorted.some((s) => s.meta.interrupted)) meta.interrupted = true;
  return meta;
}
