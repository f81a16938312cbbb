/**
 * Scripted adversaries: a fixed workload and per-link delivery times that build one precise
 * interleaving, jittered per seed. Used where random schedules almost never find the shape
 * (SPEC §6): GC without the acknowledgement rule, and atomic reads without write-back.
 */
import type { Random } from '../util/random.js';
import type { CallDelays, CallInfo, KeyKind } from './network.js';
import type { Strategy } from './strategies.js';

/** One scripted operation: client `client` starts it at virtual time `at`. */
export interface ScriptedOp {
  client: number;
  at: number;
  kind: 'write' | 'read' | 'remove';
}

/** A rule: calls matching it take effect at absolute virtual time `land`. */
interface Rule {
  client: number;
  replica: number;
  op: CallInfo['op'];
  keyKind?: KeyKind;
  land: number;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly n: number;
  readonly clients: number;
  readonly script: readonly ScriptedOp[];
  strategy(rnd: Random): Strategy;
}

function ruled(name: string, rules: readonly Rule[], rnd: Random): Strategy {
  // jitter every landing time a little per seed, so each seed is a different but similar schedule
  const jittered = rules.map((r) => ({ ...r, land: r.land * rnd.uniform(0.9, 1.1) }));
  return {
    name,
    delays(c: CallInfo): CallDelays {
      const rule = jittered.find(
        (r) => r.client === c.clientIndex && r.replica === c.replica && r.op === c.op && (r.keyKind === undefined || r.keyKind === c.keyKind),
      );
      const quick = () => rnd.uniform(0.2, 1.5);
      if (rule) return { effect: Math.max(0.1, rule.land - c.at), reply: quick() };
      return { effect: quick(), reply: quick() };
    },
  };
}

const A = 0;
const B = 1;
const C = 2;

export const SCENARIOS: Record<string, Scenario> = {
  /**
   * SPEC §6, n = 3: two early writes (c0, c1) leave eternal puts lingering towards A and C; write W
   * (c2) reaches A and B, its temporary put to C lingers; reader R (c3) lists C early and A late;
   * a newer write H (c4) reaches B and C, its temporary put to A lingers. With GC that does not wait
   * for the replica's own acknowledgement, R's lists at A and C are both empty, and its eternal
   * answers are the stale ones: R returns a value older than W, which completed before R began.
   */
  'gc-ack': {
    name: 'gc-ack',
    description: 'the GC-without-acknowledgement shape of SPEC §6',
    n: 3,
    clients: 5,
    script: [
      { client: 0, at: 0, kind: 'write' },
      { client: 1, at: 20, kind: 'write' },
      { client: 2, at: 40, kind: 'write' },
      { client: 3, at: 60, kind: 'read' },
      { client: 4, at: 70, kind: 'write' },
    ],
    strategy: (rnd) =>
      ruled(
        'gc-ack',
        [
          { client: 0, replica: A, op: 'put', keyKind: 'eternal', land: 500 },
          { client: 1, replica: C, op: 'put', keyKind: 'eternal', land: 500 },
          { client: 2, replica: C, op: 'put', keyKind: 'temp', land: 400 },
          { client: 2, replica: C, op: 'put', keyKind: 'eternal', land: 450 },
          { client: 3, replica: A, op: 'list', land: 150 },
          { client: 3, replica: B, op: 'list', land: 1000 },
          { client: 3, replica: A, op: 'get', land: 600 },
          { client: 3, replica: B, op: 'get', land: 1000 },
          { client: 3, replica: C, op: 'get', land: 600 },
          { client: 4, replica: A, op: 'put', keyKind: 'temp', land: 300 },
          { client: 4, replica: A, op: 'put', keyKind: 'eternal', land: 700 },
        ],
        rnd,
      ),
  },

  /**
   * New-old inversion, n = 3: write W (c0's second write) reaches only A quickly; read R1 (c1) hears
   * A and B and returns W's value; read R2 (c2), after R1, hears B and C. Without R1's write-back
   * to a quorum, R2 returns the older value.
   */
  inversion: {
    name: 'inversion',
    description: 'a read sees a write in progress, a later read must not miss it',
    n: 3,
    clients: 3,
    script: [
      { client: 0, at: 0, kind: 'write' },
      { client: 0, at: 20, kind: 'write' },
      { client: 1, at: 25, kind: 'read' },
      { client: 2, at: 45, kind: 'read' },
    ],
    strategy: (rnd) =>
      ruled(
        'inversion',
        [
          { client: 0, replica: B, op: 'put', land: 300 },
          { client: 0, replica: C, op: 'put', land: 300 },
          { client: 1, replica: C, op: 'list', land: 1000 },
          { client: 1, replica: C, op: 'get', land: 1000 },
          { client: 1, replica: C, op: 'put', land: 1000 },
          { client: 2, replica: A, op: 'list', land: 1000 },
          { client: 2, replica: A, op: 'get', land: 1000 },
        ],
        rnd,
      ),
  },

  /**
   * Stale eternal answers, n = 3 (fast schedule): two early writes (c0, c1) leave eternal puts
   * lingering towards A and C; write W (c2) completes everywhere; the stale eternal puts land; a
   * reader (c3) lists W's key but its eternal answers (A, C) are older. Accepting an eternal value
   * below the listed timestamp returns a value older than W.
   */
  'stale-eternal': {
    name: 'stale-eternal',
    description: 'eternal answers older than the newest listed key',
    n: 3,
    clients: 4,
    script: [
      { client: 0, at: 0, kind: 'write' },
      { client: 1, at: 20, kind: 'write' },
      { client: 2, at: 40, kind: 'write' },
      { client: 3, at: 320, kind: 'read' },
    ],
    strategy: (rnd) =>
      ruled(
        'stale-eternal',
        [
          { client: 0, replica: A, op: 'put', keyKind: 'eternal', land: 300 },
          { client: 1, replica: C, op: 'put', keyKind: 'eternal', land: 300 },
          { client: 3, replica: B, op: 'get', land: 1000 },
        ],
        rnd,
      ),
  },
};

export const SCENARIO_NAMES = Object.keys(SCENARIOS);
