/**
 * The shards of a run on one timeline: how far each shard's clock is from the reference shard's
 * (the lowest index merged), measured through the replicas they share, and the shards' histories
 * merged onto the reference clock so `rkvs check` can judge the whole run.
 *
 * Each shard measured `replica clock - its clock` as an interval (meta.json `clock_offsets`, see
 * run/clock.ts); two shards that measured the same replica give `shard clock - reference clock` as
 * an interval too (the difference of the two), and the replica with the narrowest one is used.
 * A shard's times move onto the reference clock by that offset, and its history's operations are
 * widened by the bound on both sides: every precedence left in the merged history is a real one,
 * so a checker can report no violation the clocks made up.
 */
import { ConfigError } from '../../errors.js';
import type { ClockOffset } from '../run/clock.js';

/** A shard's clock against the reference shard's, as merge reports it. */
export interface ShardClock {
  shard: number;
  /** Shard clock minus reference clock, ms (the middle of the interval). */
  offset_ms: number;
  /** Half-width of the interval; absent when no common replica was measured. */
  bound_ms?: number;
  /** The replica both measured (`config/replica`), absent for the reference itself. */
  via?: string;
}

type Interval = [number, number];

/** Per (config/replica), the interval of the replica's offset over every phase a shard measured. */
function intervals(clocks: readonly ClockOffset[] | undefined): Map<string, Interval> {
  const out = new Map<string, Interval>();
  for (const c of clocks ?? []) {
    if (c.offset_ms === undefined || c.bound_ms === undefined || c.error) continue;
    const k = `${c.config}/${c.replica}`;
    const cur = out.get(k);
    const lo = c.offset_ms - c.bound_ms;
    const hi = c.offset_ms + c.bound_ms;
    // the union over start and end: the clock may drift between them
    out.set(k, cur ? [Math.min(cur[0], lo), Math.max(cur[1], hi)] : [lo, hi]);
  }
  return out;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Every shard's clock against the reference shard (`shards[0]`). */
export function shardClocks(shards: readonly { index: number; clocks?: readonly ClockOffset[] }[]): ShardClock[] {
  const ref = shards[0];
  if (!ref) return [];
  const refIv = intervals(ref.clocks);
  return shards.map((s, i) => {
    if (i === 0) return { shard: s.index, offset_ms: 0, bound_ms: 0 };
    let best: { lo: number; hi: number; via: string } | undefined;
    for (const [k, [lo, hi]] of intervals(s.clocks)) {
      const r = refIv.get(k);
      if (!r) continue;
      // shard - ref = (replica - ref) - (replica - shard)
      const d = { lo: r[0] - hi, hi: r[1] - lo, via: k };
      if (!best || d.hi - d.lo < best.hi - best.lo) best = d;
    }
    if (!best) return { shard: s.index, offset_ms: 0 };
    return { shard: s.index, offset_ms: r2((best.lo + best.hi) / 2), bound_ms: r2((best.hi - best.lo) / 2), via: best.via };
  });
}

/** One line per shard, and warnings for clocks beyond `maxSkewMs` (or that cannot be judged). */
export function describeClocks(clocks: readonly ShardClock[], maxSkewMs: number): { lines: string[]; warnings: string[] } {
  const lines: string[] = [];
  const warnings: string[] = [];
  const ms = (x: number) => (Math.abs(x) >= 1000 ? `${(x / 1000).toFixed(3)} s` : `${x.toFixed(1)} ms`);
  const ref = clocks[0]?.shard ?? 0;
  for (const c of clocks.slice(1)) {
    if (c.bound_ms === undefined) {
      lines.push(`shard ${c.shard}: not measured (no replica both it and shard ${ref} could read the clock of)`);
      warnings.push(`the clock of shard ${c.shard} was not measured against a replica shard ${ref} also measured: its times are taken as they are`);
      continue;
    }
    lines.push(`shard ${c.shard}: ${c.offset_ms >= 0 ? '+' : '-'}${ms(Math.abs(c.offset_ms))} ± ${ms(c.bound_ms)} (via ${c.via})`);
    if (Math.abs(c.offset_ms) - c.bound_ms > maxSkewMs)
      warnings.push(
        `the clock of shard ${c.shard} is ${ms(c.offset_ms)} ± ${ms(c.bound_ms)} from shard ${ref}'s, more than --max-skew ${ms(maxSkewMs)} even at the bound (check NTP); merge put its times on shard ${ref}'s clock`,
      );
    else if (c.bound_ms > maxSkewMs) warnings.push(`the clock offset of shard ${c.shard} is known only to ± ${ms(c.bound_ms)}, more than --max-skew ${ms(maxSkewMs)}: skew cannot be judged`);
  }
  return { lines, warnings };
}

/** A shard's history, with what puts it on the reference clock. */
export interface ShardHistory {
  shard: number;
  dir: string;
  /** The wall-clock time its history times count from (meta.json `history_epoch_ms`). */
  epochMs: number;
  lines: string[];
  clock: ShardClock;
}

interface HistoryLine {
  client: string;
  call: number;
  return: number | null;
  [k: string]: unknown;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The shards' histories as one, times in ms from the earliest shard's start on the reference
 * clock, each operation of a shard widened by its clock bound. Client ids must be distinct across
 * shards (they are: `s<i>...`): the values written name their client, so a collision would make
 * the history ambiguous, and is an error.
 */
export function mergeHistories(histories: readonly ShardHistory[]): { lines: string[]; warnings: string[] } {
  const warnings: string[] = [];
  const owner = new Map<string, number>();
  const parsed: { shard: number; op: HistoryLine; shift: number; widen: number }[] = [];
  for (const h of histories) {
    const widen = h.clock.bound_ms ?? 0;
    if (h.clock.bound_ms === undefined && h !== histories[0]) warnings.push(`history of shard ${h.shard}: its clock offset was not measured, so its times are taken as they are`);
    // from this shard's clock to the reference clock: subtract the shard's offset
    const shift = h.epochMs - h.clock.offset_ms;
    h.lines.forEach((line, n) => {
      let op: HistoryLine;
      try {
        op = JSON.parse(line) as HistoryLine;
      } catch {
        throw new ConfigError(`${h.dir}/history.jsonl:${n + 1}`, 'is not JSON: give the history.jsonl rkvs bench --history wrote');
      }
      const prev = owner.get(op.client);
      if (prev !== undefined && prev !== h.shard)
        throw new ConfigError(
          `${h.dir}/history.jsonl`,
          `client id ${JSON.stringify(op.client)} is also in the history of shard ${prev}: client ids must be distinct across the shards of a run (rkvs bench --shard i/N gives them s<i>...)`,
        );
      owner.set(op.client, h.shard);
      parsed.push({ shard: h.shard, op, shift, widen });
    });
  }
  const base = Math.min(...histories.map((h) => h.epochMs - h.clock.offset_ms));
  const out = parsed.map(({ op, shift, widen }) => ({
    ...op,
    call: r3(op.call + shift - base - widen),
    return: op.return === null ? null : r3(op.return + shift - base + widen),
  }));
  out.sort((a, b) => a.call - b.call);
  return { lines: out.map((o) => JSON.stringify(o)), warnings };
}
