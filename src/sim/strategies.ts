/**
 * Delay strategies: how the adversary schedules each call's effect and reply. Uniform random delays
 * rarely produce the interleavings that break a wrong register (SPEC §6), so besides `uniform` there
 * are targeted strategies that make specific shapes likely: one starved replica, GC removes that
 * overtake puts, one writer whose puts linger, and per-link speeds fixed for a whole run.
 */
import type { Random } from '../util/random.js';
import type { CallDelays, CallInfo } from './network.js';

export interface Strategy {
  readonly name: string;
  delays(call: CallInfo): CallDelays;
}

export interface StrategyContext {
  rnd: Random;
  n: number;
  clients: number;
}

export type StrategyFactory = (ctx: StrategyContext) => Strategy;

/** A base delay: mostly short, sometimes long (heavy tail). */
function base(rnd: Random): number {
  const d = rnd.uniform(0.5, 10);
  return rnd.chance(0.05) ? d * rnd.uniform(5, 40) : d;
}

export const STRATEGIES: Record<string, StrategyFactory> = {
  /** Independent delays, heavy-tailed. */
  uniform: ({ rnd }) => ({
    name: 'uniform',
    delays: () => ({ effect: base(rnd), reply: base(rnd) }),
  }),

  /** One replica is very slow: it is rarely in a quorum and its effects land late. */
  starve: ({ rnd, n }) => {
    const victim = rnd.int(0, n - 1);
    const factor = rnd.uniform(10, 80);
    return {
      name: `starve(kvs${String.fromCharCode(65 + victim)})`,
      delays: (c) =>
        c.replica === victim ? { effect: base(rnd) * factor, reply: base(rnd) * factor } : { effect: base(rnd), reply: base(rnd) },
    };
  },

  /** GC removes are delivered almost at once; puts are slow and spread out. */
  'gc-early': ({ rnd }) => ({
    name: 'gc-early',
    delays: (c) => {
      if (c.op === 'remove') return { effect: rnd.uniform(0.05, 0.5), reply: rnd.uniform(0.05, 0.5) };
      if (c.op === 'put') return { effect: rnd.chance(0.3) ? rnd.uniform(20, 200) : base(rnd), reply: base(rnd) };
      return { effect: base(rnd), reply: base(rnd) };
    },
  }),

  /** One writer's puts linger: they land long after the others moved on. */
  'slow-writer': ({ rnd, clients }) => {
    const victim = rnd.int(0, clients - 1);
    return {
      name: `slow-writer(c${victim})`,
      delays: (c) => {
        if (c.clientIndex === victim && c.op === 'put') {
          return { effect: rnd.chance(0.6) ? rnd.uniform(30, 400) : base(rnd), reply: base(rnd) };
        }
        return { effect: base(rnd), reply: base(rnd) };
      },
    };
  },

  /**
   * Every (client, replica, call kind) link gets a fixed speed for the run, and removes are often
   * fast: the adversary of SPEC §6 (one client's puts slow to one replica while its GC there is fast).
   */
  links: ({ rnd, n, clients }) => {
    const speeds = [1, 1, 1, 6, 40];
    const table = new Map<string, number>();
    const fastRemoves = rnd.chance(0.7);
    const speed = (k: string) => {
      let s = table.get(k);
      if (s === undefined) table.set(k, (s = rnd.pick(speeds)));
      return s;
    };
    // fix the table up front so the draw order does not depend on call order
    for (let c = 0; c < clients; c++) {
      for (let r = 0; r < n; r++) for (const k of ['put-temp', 'put-eternal', 'get', 'list', 'remove']) speed(`${c}/${r}/${k}`);
    }
    return {
      name: 'links',
      delays: (c) => {
        const kind = c.op === 'put' ? (c.keyKind === 'eternal' ? 'put-eternal' : 'put-temp') : c.op;
        if (c.op === 'remove' && fastRemoves) return { effect: rnd.uniform(0.05, 0.5), reply: rnd.uniform(0.05, 0.5) };
        const s = speed(`${c.clientIndex}/${c.replica}/${kind}`);
        return { effect: rnd.uniform(0.5, 3) * s, reply: rnd.uniform(0.5, 3) };
      },
    };
  },
};

export const STRATEGY_NAMES = Object.keys(STRATEGIES);

/** `mixed`: one of the strategies above, drawn per run. */
export function pickStrategy(name: string, ctx: StrategyContext): Strategy {
  const chosen = name === 'mixed' ? ctx.rnd.pick(STRATEGY_NAMES) : name;
  const f = STRATEGIES[chosen];
  if (!f) throw new Error(`unknown strategy ${JSON.stringify(name)}; use one of mixed, ${STRATEGY_NAMES.join(', ')}`);
  return f(ctx);
}
