/**
 * Checking one register: the polynomial checker first, the search where it cannot decide, and the
 * minimisation of a violation. The same code runs in the calling thread and in the worker threads
 * of parallel.ts.
 */
import { isComplete, partitionByRegister, type CheckModel, type DecidedBy, type Operation, type Verdict } from './history.js';
import { searchRegister } from './linearizability.js';
import { minimizeWitness, type Violates } from './minimize.js';
import { regularCheck } from './regularity.js';
import { buildModel } from './sources.js';
import { zonesCheck } from './zones.js';

/** Which algorithm to use: the polynomial checker with the search as fallback, or one of them only. */
export type CheckMethod = 'auto' | 'polynomial' | 'search';
export const CHECK_METHODS: readonly CheckMethod[] = ['auto', 'polynomial', 'search'];

export interface CheckOptions {
  /**
   * Time limit for the whole check (every register, minimising included), in milliseconds; past
   * it the verdict is `unknown`, or a violation whose witness is not minimal.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * Shrink a violation to a minimal set of operations.
   * @default true
   */
  minimize?: boolean;
  /**
   * `auto`: the polynomial checker, and the search where it cannot decide; `polynomial` or
   * `search` alone (a register the polynomial checker cannot decide is then `unknown`).
   * @default 'auto'
   */
  method?: CheckMethod;
}

export interface RegisterOptions {
  /** Date.now() value past which the check gives up. */
  deadline: number;
  minimize: boolean;
  method: CheckMethod;
}

/** The outcome for one register. */
export type RegisterVerdict =
  | { register: string; result: 'ok'; decidedBy: 'polynomial' | 'search' }
  | {
      register: string;
      result: 'violation';
      decidedBy: 'polynomial' | 'search';
      operations: Operation[];
      message: string;
      minimal: boolean;
    }
  | {
      register: string;
      result: 'unknown';
      decidedBy: 'polynomial' | 'search';
      message: string;
      /** `time`: the time limit ran out; `undecided`: the polynomial checker alone cannot decide it. */
      reason: 'time' | 'undecided';
    };

type Decision =
  | { result: 'ok'; decidedBy: 'polynomial' | 'search' }
  | { result: 'violation'; decidedBy: 'polynomial' | 'search'; operations: Operation[]; message: string }
  | { result: 'unknown'; decidedBy: 'polynomial' | 'search'; message: string; reason: 'time' | 'undecided' };

const LIN_MESSAGE = 'no order consistent with real time in which every read returns the latest write';

function decideLinearizable(register: string, ops: readonly Operation[], deadline: number, method: CheckMethod): Decision {
  let reason = '';
  if (method !== 'search') {
    const m = buildModel(register, ops);
    const p = zonesCheck(m);
    if (p.result === 'ok') return { result: 'ok', decidedBy: 'polynomial' };
    if (p.result === 'violation') return { result: 'violation', decidedBy: 'polynomial', operations: p.operations, message: p.message };
    reason = p.reason;
    if (method === 'polynomial') {
      return {
        result: 'unknown',
        decidedBy: 'polynomial',
        reason: 'undecided',
        message: `the polynomial checker cannot decide register ${JSON.stringify(register)} (${reason}); use --method auto`,
      };
    }
  } else {
    // the search needs every returned value to have been written
    const written = new Set<string>();
    for (const o of ops) if (o.op === 'write' && o.input !== null) written.add(o.input);
    const phantom = ops.find((o) => o.op === 'read' && isComplete(o) && o.output !== null && !written.has(o.output));
    if (phantom) {
      return { result: 'violation', decidedBy: 'search', operations: [phantom], message: `read returned ${JSON.stringify(phantom.output)}, which no write wrote` };
    }
  }
  const r = searchRegister(ops, deadline);
  if (r === 'ok') return { result: 'ok', decidedBy: 'search' };
  if (r === 'violation') {
    return { result: 'violation', decidedBy: 'search', operations: relevant(ops), message: LIN_MESSAGE };
  }
  return {
    result: 'unknown',
    decidedBy: 'search',
    reason: 'time',
    message: `time limit reached while searching register ${JSON.stringify(register)}${reason ? ` (the polynomial checker could not decide it: ${reason})` : ''}`,
  };
}

function decideRegular(register: string, ops: readonly Operation[], deadline: number): Decision {
  const r = regularCheck(buildModel(register, ops), deadline);
  if (r.result === 'violation') return { result: 'violation', decidedBy: r.decidedBy, operations: r.operations, message: r.message };
  if (r.result === 'unknown') return { ...r, reason: r.message.startsWith('time limit') ? 'time' : 'undecided' };
  return r;
}

function relevant(ops: readonly Operation[]): Operation[] {
  return ops.filter((o) => o.op === 'write' || isComplete(o));
}

/** Checks one register's operations against a model. */
export function checkRegister(model: CheckModel, register: string, ops: readonly Operation[], o: RegisterOptions): RegisterVerdict {
  if (Date.now() > o.deadline) {
    return {
      register,
      result: 'unknown',
      decidedBy: o.method === 'search' ? 'search' : 'polynomial',
      reason: 'time',
      message: `time limit reached before register ${JSON.stringify(register)} was checked`,
    };
  }
  const decide = (x: readonly Operation[]): Decision =>
    model === 'linearizable' ? decideLinearizable(register, x, o.deadline, o.method) : decideRegular(register, x, o.deadline);
  const d = decide(ops);
  if (d.result !== 'violation') return { register, ...d };
  if (!o.minimize) {
    return { register, result: 'violation', decidedBy: d.decidedBy, operations: sortOps(d.operations), message: d.message, minimal: false };
  }
  const violates: Violates = (x) => {
    const v = decide(x);
    return v.result === 'unknown' ? 'unknown' : v.result === 'violation';
  };
  let start = d.operations;
  // a witness from the polynomial checker is small; make sure it violates on its own
  if (start.length < relevant(ops).length && violates(start) !== true) start = relevant(ops);
  const min = minimizeWitness(start, violates, o.deadline);
  // the shrunk witness, decided again, gets the most specific explanation
  const again = Date.now() <= o.deadline ? decide(min.operations) : d;
  return {
    register,
    result: 'violation',
    decidedBy: d.decidedBy,
    operations: sortOps(min.operations),
    message: again.result === 'violation' ? again.message : d.message,
    minimal: min.minimal,
  };
}

function sortOps(ops: readonly Operation[]): Operation[] {
  return [...ops].sort((a, b) => a.id - b.id);
}

/** Folds per-register outcomes (in partition order) into one verdict. */
export function combineVerdicts(model: CheckModel, verdicts: readonly RegisterVerdict[], operations: number, timeoutMs: number): Verdict {
  const violation = verdicts.find((v) => v.result === 'violation');
  if (violation && violation.result === 'violation') {
    return {
      result: 'violation',
      model,
      register: violation.register,
      operations: violation.operations,
      message: violation.message,
      decidedBy: violation.decidedBy,
      minimal: violation.minimal,
    };
  }
  const methods = new Set(verdicts.map((v) => v.decidedBy));
  const decidedBy: DecidedBy = methods.size === 2 ? 'polynomial+search' : methods.has('search') ? 'search' : 'polynomial';
  const unknown = verdicts.filter((v) => v.result === 'unknown');
  if (unknown.length > 0) {
    const first = unknown[0] as Extract<RegisterVerdict, { result: 'unknown' }>;
    const timedOut = unknown.some((v) => v.result === 'unknown' && v.reason === 'time');
    return {
      result: 'unknown',
      model,
      decidedBy: unknown.every((v) => v.decidedBy === 'polynomial') ? 'polynomial' : 'search',
      message:
        `${unknown.length === 1 ? first.message : `${unknown.length} registers undecided (${unknown.map((v) => JSON.stringify(v.register)).join(', ')}); first: ${first.message}`}` +
        (timedOut ? `; time limit ${timeoutMs} ms, raise --timeout` : ''),
    };
  }
  return { result: 'ok', model, operations, decidedBy };
}

/** Checks a whole history in the calling thread, register by register (stops at the first violation). */
export function checkHistorySync(history: readonly Operation[], model: CheckModel, opts: CheckOptions = {}): Verdict {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ro: RegisterOptions = { deadline: Date.now() + timeoutMs, minimize: opts.minimize ?? true, method: opts.method ?? 'auto' };
  const out: RegisterVerdict[] = [];
  for (const [register, ops] of partitionByRegister(history)) {
    const v = checkRegister(model, register, ops, ro);
    out.push(v);
    if (v.result === 'violation') break;
  }
  return combineVerdicts(model, out, history.length, timeoutMs);
}

/** Checks that a history of register operations is linearizable (the atomic register). */
export function checkLinearizable(history: readonly Operation[], opts: CheckOptions = {}): Verdict {
  return checkHistorySync(history, 'linearizable', opts);
}

/** Checks that a history of register operations is regular (multi-writer regular register). */
export function checkRegular(history: readonly Operation[], opts: CheckOptions = {}): Verdict {
  return checkHistorySync(history, 'regular', opts);
}

/** Checks a history against a model, in the calling thread. */
export function checkHistory(history: readonly Operation[], model: CheckModel, opts: CheckOptions = {}): Verdict {
  return checkHistorySync(history, model, opts);
}
