/**
 * One deterministic simulation run: n simulated replicas, a few concurrent clients running the real
 * register code (createRobustStore) over them, crashes of up to t replicas and of clients, all driven
 * by one seed. The run records a history, checks it (atomic: linearizable; regular: regular), checks
 * that every operation of a correct client completed, and checks the space claims of SPEC §6.
 */
import { checkLinearizable, checkRegular, type Operation, type Verdict, formatVerdict, formatHistory } from '../check/index.js';
import { describeCause } from '../errors.js';
import {
  createRobustStore,
  encodeRegister,
  parseKey,
  type GcMode,
  type RegisterPolicy,
  type RobustStore,
  type Schedule,
  type Variant,
} from '../register/index.js';
import { fromUtf8, utf8 } from '../store.js';
import { Random } from '../util/random.js';
import { findMutant } from './mutants.js';
import { SimNetwork, SimPort, type CallInfo, type CrashMode, type SimClientState, type SimReplica } from './network.js';
import { Scheduler } from './scheduler.js';
import { SCENARIOS } from './scenarios.js';
import { pickStrategy, type Strategy } from './strategies.js';

export interface SimOptions {
  seed: number;
  variant: Variant;
  schedule: Schedule;
  /** Replicas; default: 3 or 5, drawn from the seed. */
  n?: number;
  /** Concurrent clients; default 2-4 from the seed. */
  clients?: number;
  /** Operations per client; default 2-5 from the seed. */
  opsPerClient?: number;
  /** Registers used; default 1-2 from the seed. */
  registers?: number;
  /** Delay strategy name, or `mixed` (one per seed). @default 'mixed' */
  strategy?: string;
  /** Replicas that crash (at most t); default 0..t from the seed. */
  replicaCrashes?: number;
  /** How crashed replicas fail; default drawn per replica (hang twice as often as error). */
  replicaCrashMode?: CrashMode;
  /** Clients that crash mid-run; default 0-1 from the seed. */
  clientCrashes?: number;
  /** GC mode; default drawn from the seed. */
  gc?: GcMode;
  /** Name of a broken variant (see mutants.ts). */
  mutant?: string;
  /** Extra policy overrides (tests). */
  policy?: Partial<RegisterPolicy>;
  /** Record every event (for determinism tests and replays). */
  trace?: boolean;
  /** Stop after this many events (a livelock guard). @default 200000 */
  maxEvents?: number;
  /** Check the space claims. @default true */
  checkSpace?: boolean;
}

/** Every choice a run made, so a report can say exactly what ran. */
export interface ResolvedConfig {
  seed: number;
  variant: Variant;
  schedule: Schedule;
  n: number;
  t: number;
  clients: number;
  opsPerClient: number;
  registers: string[];
  strategy: string;
  gc: GcMode;
  replicaCrashes: { replica: number; at: number; mode: CrashMode }[];
  clientCrashes: { client: number; at: number }[];
  mutant: string | null;
  /** The options the run was started with (for the replay command). */
  options: Omit<SimOptions, 'policy'>;
}

export interface SpaceReport {
  /** Largest (keys of a register at a replica) - (operations on it in flight + 2) seen during the run; <= 0 is within the claim. */
  maxExcess: number;
  /** Where the largest excess was seen. */
  worst: string;
  /** Per live replica and register, keys held after quiescence and a final write: must be exactly 2. */
  afterQuiescence: { replica: string; register: string; keys: number }[];
}

export interface SimResult {
  config: ResolvedConfig;
  history: Operation[];
  verdict: Verdict;
  space: SpaceReport;
  /** Failures found (empty: the run passed). */
  failures: string[];
  events: number;
  trace: string[] | null;
}

interface OpRecord extends Operation {
  clientIndex: number;
  opIndex: number;
}

const RESERVED_CLIENT = 'final';

export async function runSimulation(opts: SimOptions): Promise<SimResult> {
  const rnd = new Random(opts.seed);
  const cfgRnd = rnd.fork('config');
  const scenario = opts.strategy !== undefined ? SCENARIOS[opts.strategy] : undefined;
  const n = scenario?.n ?? opts.n ?? cfgRnd.pick([3, 3, 5]);
  const t = Math.floor((n - 1) / 2);
  const clients = scenario?.clients ?? opts.clients ?? cfgRnd.int(2, 4);
  const opsPerClient = opts.opsPerClient ?? cfgRnd.int(2, 5);
  const registers = Array.from({ length: scenario ? 1 : (opts.registers ?? cfgRnd.int(1, 2)) }, (_, i) => `reg${i}`);
  const gc: GcMode = opts.gc ?? cfgRnd.pick(['background', 'sync'] as const);
  const nReplicaCrashes = scenario ? 0 : Math.min(opts.replicaCrashes ?? cfgRnd.int(0, t), t);
  const crashedReplicas = cfgRnd.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, nReplicaCrashes);
  const replicaCrashes = crashedReplicas.map((replica) => ({
    replica,
    at: cfgRnd.chance(0.3) ? 0 : cfgRnd.uniform(0, 60),
    mode: opts.replicaCrashMode ?? cfgRnd.pick(['hang', 'hang', 'error'] as const),
  }));
  const nClientCrashes = scenario ? 0 : Math.min(opts.clientCrashes ?? (cfgRnd.chance(0.4) ? 1 : 0), clients);
  const clientCrashes = cfgRnd
    .shuffle(Array.from({ length: clients }, (_, i) => i))
    .slice(0, nClientCrashes)
    .map((client) => ({ client, at: cfgRnd.uniform(0, 60) }));
  const mutant = opts.mutant ? findMutant(opts.mutant) : null;
  const policy = { ...(mutant?.policy ?? {}), ...(opts.policy ?? {}) };
  const strategy: Strategy = scenario
    ? scenario.strategy(rnd.fork('strategy'))
    : pickStrategy(opts.strategy ?? 'mixed', { rnd: rnd.fork('strategy'), n, clients });
  const config: ResolvedConfig = {
    seed: opts.seed,
    variant: opts.variant,
    schedule: opts.schedule,
    n,
    t,
    clients,
    opsPerClient,
    registers,
    strategy: strategy.name,
    gc,
    replicaCrashes,
    clientCrashes,
    mutant: mutant?.name ?? null,
    options: (({ policy: _p, ...rest }) => rest)(opts),
  };

  const sched = new Scheduler({ trace: opts.trace });
  const history: OpRecord[] = [];
  const checkSpace = opts.checkSpace ?? true;
  const space: SpaceReport = { maxExcess: Number.NEGATIVE_INFINITY, worst: '', afterQuiescence: [] };

  // operation accounting for the space claim: an operation is in flight until it returned and
  // every call it issued to a live replica has been answered
  const outstanding = new Map<string, number>(); // `${client}/${opIndex}` -> calls in flight
  const settledCalls = new Set<number>();
  const lingering = new Map<SimReplica, Set<string>>(); // keys whose last put landed after its operation returned
  const opOf = (clientIndex: number, opIndex: number) => history.find((o) => o.clientIndex === clientIndex && o.opIndex === opIndex);
  const encoded = new Map<string, string>(); // encoded register -> name

  const network = new SimNetwork(sched, n, {
    delays: (c) => strategy.delays(c),
    onCall: (c: CallInfo, ev) => {
      const k = `${c.clientIndex}/${c.opIndex}`;
      if (ev === 'issued') outstanding.set(k, (outstanding.get(k) ?? 0) + 1);
      else if (ev === 'settled' && !settledCalls.has(c.seq)) {
        settledCalls.add(c.seq);
        outstanding.set(k, (outstanding.get(k) ?? 1) - 1);
      }
    },
    onEffect: (c, replica) => {
      if (!checkSpace) return;
      let ling = lingering.get(replica);
      if (!ling) lingering.set(replica, (ling = new Set()));
      if (c.op === 'put') {
        const op = opOf(c.clientIndex, c.opIndex);
        // a put that lands after its operation returned lingers: SPEC §6 sets those aside
        if (op && op.return !== null) ling.add(c.key);
        else ling.delete(c.key);
      } else if (c.op === 'remove') ling.delete(c.key);
      const p = parseKey(c.key);
      if (!p) return;
      const reg = p.register;
      let keys = 0;
      for (const key of replica.data.keys()) {
        const q = parseKey(key);
        if (q && q.register === reg && !ling.has(key)) keys++;
      }
      const name = encoded.get(reg) ?? reg;
      let inFlight = 0;
      for (const o of history) {
        if (o.register !== name) continue;
        if (o.return === null || (outstanding.get(`${o.clientIndex}/${o.opIndex}`) ?? 0) > 0) inFlight++;
      }
      const excess = keys - (inFlight + 2);
      if (excess > space.maxExcess) {
        space.maxExcess = excess;
        space.worst = `${replica.name} held ${keys} keys of ${name} at time ${sched.now.toFixed(3)} with ${inFlight} operations in flight`;
      }
    },
  });
  for (const rc of replicaCrashes) sched.at(rc.at, `crash ${network.replicas[rc.replica].name} (${rc.mode})`, () => network.crashReplica(rc.replica, rc.mode), false);

  const makeClient = (index: number, id: string): { state: SimClientState; store: RobustStore } => {
    const state: SimClientState = { id, index, crashed: false, phase: 'background', opIndex: -1 };
    const ports = network.replicas.map((r) => new SimPort(network, r, state));
    const store = createRobustStore({ replicas: ports, variant: opts.variant, schedule: opts.schedule, faults: t, clientId: id, gc, policy, name: `robust-${id}` });
    return { state, store };
  };

  const workRnd = rnd.fork('workload');
  const clientStates: SimClientState[] = [];
  const loops: Promise<void>[] = [];

  const runOp = async (
    c: { state: SimClientState; store: RobustStore },
    opIndex: number,
    kind: 'write' | 'read' | 'remove',
    register: string,
  ): Promise<void> => {
    const { state, store } = c;
    state.phase = kind;
    state.opIndex = opIndex;
    const rec: OpRecord = {
      id: history.length,
      client: state.id,
      op: kind === 'read' ? 'read' : 'write',
      register,
      input: kind === 'write' ? `${state.id}:${opIndex}` : null,
      output: null,
      call: sched.now,
      return: null,
      clientIndex: state.index,
      opIndex,
    };
    history.push(rec);
    try {
      if (kind === 'write') await store.write(register, utf8(rec.input!));
      else if (kind === 'remove') await store.remove(register);
      else {
        const r = await store.read(register);
        rec.output = r.value === null ? null : fromUtf8(r.value);
      }
    } catch (e) {
      if (state.crashed) return;
      rec.error = describeCause(e);
    }
    if (state.crashed) return;
    rec.return = sched.now;
    state.phase = 'background';
  };

  for (let i = 0; i < clients; i++) {
    const c = makeClient(i, `c${i}`);
    clientStates.push(c.state);
    // each step: wait `think` after the previous operation (random workload) or until `at` (script)
    const plan = scenario
      ? scenario.script
          .filter((s) => s.client === i)
          .map((s) => ({ at: s.at, think: 0, kind: s.kind, register: registers[0] }))
      : Array.from({ length: opsPerClient }, () => ({
          at: -1,
          think: workRnd.uniform(0, 25),
          kind: workRnd.chance(0.1) ? ('remove' as const) : workRnd.chance(0.5) ? ('write' as const) : ('read' as const),
          register: workRnd.pick(registers),
        }));
    loops.push(
      (async () => {
        for (let k = 0; k < plan.length; k++) {
          const step = plan[k];
          await sched.sleep(step.at >= 0 ? Math.max(0, step.at - sched.now) : step.think, `think c${i}`);
          if (c.state.crashed) return;
          await runOp(c, k, step.kind, step.register);
          if (c.state.crashed) return;
        }
      })(),
    );
  }
  for (const cc of clientCrashes) {
    sched.at(cc.at, `crash client c${cc.client}`, () => {
      clientStates[cc.client].crashed = true;
    }, false);
  }
  for (const r of registers) encoded.set(encodeRegister(r), r);

  const maxEvents = opts.maxEvents ?? 200_000;
  const failures: string[] = [];
  let quiet = await sched.run(maxEvents);
  if (!quiet) failures.push(`no quiescence after ${maxEvents} events (livelock?)`);

  // every operation of a correct client completed (wait-freedom with at most t crashed replicas)
  for (const o of history) {
    if (o.return === null && !clientStates[o.clientIndex].crashed) failures.push(`operation never completed: ${o.client} ${o.op} on ${o.register} called at ${o.call.toFixed(3)}`);
    if (o.error !== undefined && !clientStates[o.clientIndex].crashed) failures.push(`operation failed: ${o.client} ${o.op} on ${o.register}: ${o.error}`);
  }

  // space after quiescence: one more write per register by a fresh client, then exactly 2 keys per register
  if (checkSpace && quiet) {
    const finalClient = makeClient(clients, RESERVED_CLIENT);
    const used = [...new Set(history.map((o) => o.register))];
    for (const r of used) {
      const done = runOp(finalClient, used.indexOf(r), 'write', r);
      quiet = await sched.run(maxEvents);
      await done;
    }
    if (quiet) {
      for (const replica of network.replicas) {
        if (replica.crashed) continue;
        for (const r of used) {
          const keys = replica.keysOf(encodeRegister(r)).length;
          space.afterQuiescence.push({ replica: replica.name, register: r, keys });
          if (keys !== 2) failures.push(`space: ${replica.name} holds ${keys} keys of register ${r} after quiescence (expected exactly 2): ${replica.keysOf(encodeRegister(r)).join(', ')}`);
        }
      }
    }
  }

  const ops: Operation[] = history.map(({ clientIndex: _c, opIndex: _o, ...o }) => o);
  const verdict = opts.variant === 'atomic' ? checkLinearizable(ops, { timeoutMs: 20_000 }) : checkRegular(ops);
  if (verdict.result !== 'ok') failures.unshift(formatVerdict(verdict));
  return { config, history: ops, verdict, space, failures, events: sched.fired, trace: sched.trace };
}

/** The command that replays one run. */
export function replayCommand(c: ResolvedConfig): string {
  const o = c.options;
  const parts = ['node bin/rkvs.js soak', `--variant ${c.variant}`, `--schedule ${c.schedule}`, `--start ${c.seed}`, '--seeds 1'];
  if (o.strategy) parts.push(`--strategy ${o.strategy}`);
  if (o.mutant) parts.push(`--mutant ${o.mutant}`);
  if (o.n !== undefined) parts.push(`--replicas ${o.n}`);
  if (o.clients !== undefined) parts.push(`--clients ${o.clients}`);
  if (o.opsPerClient !== undefined) parts.push(`--ops ${o.opsPerClient}`);
  if (o.registers !== undefined) parts.push(`--registers ${o.registers}`);
  if (o.replicaCrashes !== undefined) parts.push(`--replica-crashes ${o.replicaCrashes}`);
  if (o.clientCrashes !== undefined) parts.push(`--client-crashes ${o.clientCrashes}`);
  if (o.gc !== undefined) parts.push(`--gc ${o.gc}`);
  if (o.replicaCrashMode !== undefined) parts.push(`--crash-mode ${o.replicaCrashMode}`);
  parts.push('--verbose');
  return parts.join(' ');
}

/** A multi-line report of a failed run: config, failures, history. */
export function describeRun(r: SimResult): string {
  return [
    `seed ${r.config.seed}: ${JSON.stringify(r.config)}`,
    ...r.failures,
    `replay: ${replayCommand(r.config)}`,
    'history:',
    formatHistory(r.history).trimEnd(),
  ].join('\n');
}
