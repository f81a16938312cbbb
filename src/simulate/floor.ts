/**
 * The latency floor of an operation: the sum, over the rounds of its common case, of the latency of
 * the replica whose reply completes the round (the q-th fastest for a quorum round, the fastest for
 * "first qualifying answer" rounds). `latencyFloor` uses each replica's median latency (a quick
 * estimate); `idealLatency` draws the whole distribution of that ideal operation (the floor the
 * scenarios check against). Slow-down factors apply; crashed replicas never answer and are skipped.
 */
import type { StoreOp } from '../errors.js';
import { Random } from '../util/random.js';
import { distributionFor, distributionMedian, sampleLatency, type LatencyModel } from './models.js';
import type { Schedule, Variant } from './register.js';
import type { ReplicaFaults } from './replica.js';

/** A round: the calls issued together (the round ends when each has `k` replies), and `k`. */
export interface Round {
  ops: StoreOp[];
  /** 'q' for a quorum, 1 for the first answer. */
  k: 'q' | 1;
}

/** The rounds of an operation's common case (no concurrency, no failures), per SPEC §3-§4. */
export function commonCaseRoundsOf(op: 'read' | 'write', variant: Variant, schedule: Schedule): Round[] {
  if (op === 'write') {
    return schedule === 'fast'
      ? [{ ops: ['list'], k: 'q' }, { ops: ['put', 'put'], k: 'q' }] // temporary and eternal puts together
      : [{ ops: ['list'], k: 'q' }, { ops: ['put'], k: 'q' }, { ops: ['put'], k: 'q' }];
  }
  if (schedule === 'fast') return [{ ops: ['list', 'get'], k: 'q' }];
  const rounds: Round[] = [{ ops: ['list'], k: 'q' }, { ops: ['get'], k: 1 }];
  if (variant === 'atomic') rounds.push({ ops: ['put'], k: 'q' });
  return rounds;
}

/** The k-th smallest of a list (1-based); Infinity when there are fewer than k values. */
export function kthSmallest(values: number[], k: number): number {
  const s = values.slice().sort((a, b) => a - b);
  return k >= 1 && k <= s.length ? s[k - 1] : Number.POSITIVE_INFINITY;
}

export interface FloorInput {
  models: LatencyModel[];
  faults?: (ReplicaFaults | undefined)[];
  q: number;
  valueBytes: number;
}

/** Median latency of one call at replica i (ms), or undefined if it is crashed. */
export function replicaMedian(input: FloorInput, i: number, op: StoreOp): number | undefined {
  const f = input.faults?.[i];
  if (f?.crashed) return undefined;
  const m = input.models[i];
  const bytes = op === 'put' || op === 'get' ? input.valueBytes : 0;
  return (distributionMedian(distributionFor(m, op)) + ((m.perKiBMs ?? 0) * bytes) / 1024) * (f?.slowFactor ?? 1);
}

/** The floor (ms) of an operation: sum over rounds of the k-th fastest median among live replicas. */
export function latencyFloor(input: FloorInput, op: 'read' | 'write', variant: Variant, schedule: Schedule): number {
  let total = 0;
  for (const round of commonCaseRoundsOf(op, variant, schedule)) {
    const k = round.k === 'q' ? input.q : 1;
    let roundMs = 0;
    for (const call of round.ops) {
      const meds: number[] = [];
      for (let i = 0; i < input.models.length; i++) {
        const m = replicaMedian(input, i, call);
        if (m !== undefined) meds.push(m);
      }
      roundMs = Math.max(roundMs, kthSmallest(meds, k));
    }
    total += roundMs;
  }
  return total;
}

/**
 * The floor as a distribution: Monte Carlo draws of an ideal operation that, in every round, waits
 * exactly for the k-th fastest live replica (fresh latency samples per call) and does nothing else.
 * Returns its p50 and p99 (ms). Deterministic for a seed.
 */
export function idealLatency(
  input: FloorInput,
  op: 'read' | 'write',
  variant: Variant,
  schedule: Schedule,
  opts: { seed?: number; draws?: number } = {},
): { p50: number; p99: number } {
  const rng = new Random(opts.seed ?? 12345);
  const draws = opts.draws ?? 4000;
  const rounds = commonCaseRoundsOf(op, variant, schedule);
  const totals: number[] = [];
  for (let d = 0; d < draws; d++) {
    let total = 0;
    // A flapping replica: the operation starts at a uniformly random phase of its cycle; a round's
    // calls fail when they are issued while it is down.
    const phase = input.models.map((_, i) => {
      const flap = input.faults?.[i]?.flap;
      return flap ? rng.uniform(0, flap.upMs + flap.downMs) : 0;
    });
    for (const round of rounds) {
      const downNow = input.models.map((_, i) => {
        const flap = input.faults?.[i]?.flap;
        return flap ? (phase[i] + total) % (flap.upMs + flap.downMs) >= flap.upMs : false;
      });
      const k = round.k === 'q' ? input.q : 1;
      let roundMs = 0;
      for (const call of round.ops) {
        const lat: number[] = [];
        for (let i = 0; i < input.models.length; i++) {
          const f = input.faults?.[i];
          if (f?.crashed || downNow[i]) continue;
          const bytes = call === 'put' || call === 'get' ? input.valueBytes : 0;
          lat.push(sampleLatency(input.models[i], call, bytes, rng) * (f?.slowFactor ?? 1));
        }
        roundMs = Math.max(roundMs, kthSmallest(lat, k));
      }
      total += roundMs;
    }
    totals.push(total);
  }
  totals.sort((a, b) => a - b);
  const at = (p: number) => totals[Math.min(totals.length, Math.max(1, Math.ceil(p * totals.length))) - 1];
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * How far below the ideal p50 a measured p50 of `count` operations may fall by sampling noise
 * alone: 1/sqrt(count), between 3% and 20%.
 */
export function floorTolerance(count: number): number {
  return Math.min(0.2, Math.max(0.03, 1 / Math.sqrt(Math.max(1, count))));
}
