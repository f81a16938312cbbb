/**
 * Histories of register operations, as recorded by the simulator, the emulator runs or a real
 * deployment, and as read by the checkers and by `rkvs check`.
 *
 * On disk a history is JSON lines: one operation per line,
 *
 *   {"client":"c1","op":"write","register":"k","input":"c1:1","output":null,"call":10,"return":42}
 *   {"client":"c2","op":"read","register":"k","input":null,"output":"c1:1","call":30,"return":55}
 *
 * - `op` is `write` or `read`. A remove is a write whose `input` is `null` (a tombstone).
 * - `input` is the written value (a string; unique per write for the regularity checker), or null.
 * - `output` is what a read returned: the value, or null when the register was absent or removed.
 * - `call` / `return` are timestamps on one clock (virtual time in simulation, ms in real runs).
 *   `return` is null when the operation never completed (its client crashed, or it is still
 *   running): such a write may or may not have taken effect; such a read tells nothing and is ignored.
 * - `error` (optional) marks an operation that failed: a failed write may or may not have taken
 *   effect (it is treated like one that never returned); a failed read is ignored.
 * - `register` is optional (default `""`): histories of several registers are checked per register.
 * - Blank lines and lines starting with `#` are skipped.
 */
import { ConfigError } from '../errors.js';

export type OpKind = 'write' | 'read';

/** One operation of a history. */
export interface Operation {
  /** Position in the history (0-based), used to name operations in verdicts. */
  id: number;
  client: string;
  op: OpKind;
  register: string;
  /** Written value (write), null for a remove; always null for a read. */
  input: string | null;
  /** Returned value (read), null when absent; always null for a write. */
  output: string | null;
  call: number;
  /** Null: the operation never returned. */
  return: number | null;
  /** Set when the operation failed with an error. */
  error?: string;
}

/** The operations as recorded; `id` is assigned from the position. */
export type OperationRecord = Omit<Operation, 'id' | 'register' | 'input' | 'output'> & {
  register?: string;
  input?: string | null;
  output?: string | null;
};

/** True when the operation completed normally (has a return and no error). */
export function isComplete(o: Operation): boolean {
  return o.return !== null && o.error === undefined;
}

/** Assigns ids and defaults, and validates every field. Throws ConfigError naming the bad operation. */
export function normalizeHistory(records: readonly OperationRecord[], source = 'history'): Operation[] {
  return records.map((r, i) => validateOperation(r, `${source}[${i}]`, i));
}

function validateOperation(raw: unknown, where: string, id: number): Operation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(where, 'expected a JSON object like {"client":"c1","op":"write","input":"v1","call":1,"return":2}');
  }
  const r = raw as Record<string, unknown>;
  const client = r.client;
  if (typeof client !== 'string' && typeof client !== 'number') {
    throw new ConfigError(`${where}.client`, 'missing or not a string: every operation names the client that issued it');
  }
  const op = r.op;
  if (op !== 'write' && op !== 'read') {
    throw new ConfigError(`${where}.op`, `must be "write" or "read", got ${JSON.stringify(op)} (a remove is a write with "input": null)`);
  }
  const register = r.register ?? r.key ?? '';
  if (typeof register !== 'string') throw new ConfigError(`${where}.register`, 'must be a string');
  const input = r.input ?? null;
  const output = r.output ?? null;
  if (input !== null && typeof input !== 'string') throw new ConfigError(`${where}.input`, 'must be a string or null');
  if (output !== null && typeof output !== 'string') throw new ConfigError(`${where}.output`, 'must be a string or null');
  if (op === 'read' && input !== null) throw new ConfigError(`${where}.input`, 'a read has no input; put the value read in "output"');
  if (op === 'write' && output !== null) throw new ConfigError(`${where}.output`, 'a write has no output; put the written value in "input"');
  const call = r.call;
  if (typeof call !== 'number' || !Number.isFinite(call)) throw new ConfigError(`${where}.call`, 'must be a finite number (the invocation time)');
  const ret = r.return ?? null;
  if (ret !== null && (typeof ret !== 'number' || !Number.isFinite(ret))) {
    throw new ConfigError(`${where}.return`, 'must be a finite number, or null when the operation never returned');
  }
  if (ret !== null && ret < call) throw new ConfigError(`${where}.return`, `returns (${ret}) before it was called (${call})`);
  const out: Operation = { id, client: String(client), op, register, input, output, call, return: ret };
  if (r.error !== undefined && r.error !== null) out.error = String(r.error);
  return out;
}

/** Parses a JSON-lines history. Errors name the line number. */
export function parseHistory(text: string, source = 'history'): Operation[] {
  const ops: Operation[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (e) {
      throw new ConfigError(`${source}:${i + 1}`, `not valid JSON (${(e as Error).message}); a history has one JSON object per line`);
    }
    ops.push(validateOperation(parsed, `${source}:${i + 1}`, ops.length));
  }
  return ops;
}

/** Serialises a history as JSON lines (stable field order, so equal histories are equal text). */
export function formatHistory(ops: readonly Operation[]): string {
  return ops.map((o) => formatOperation(o)).join('\n') + (ops.length ? '\n' : '');
}

export function formatOperation(o: Operation): string {
  const rec: Record<string, unknown> = {
    client: o.client,
    op: o.op,
    register: o.register,
    input: o.input,
    output: o.output,
    call: o.call,
    return: o.return,
  };
  if (o.error !== undefined) rec.error = o.error;
  return JSON.stringify(rec);
}

/** One line describing an operation, for verdicts. */
export function describeOperation(o: Operation): string {
  const what =
    o.op === 'write'
      ? `write(${o.input === null ? 'remove' : JSON.stringify(o.input)})`
      : `read() -> ${o.return === null || o.error !== undefined ? '?' : JSON.stringify(o.output)}`;
  const reg = o.register ? ` on ${JSON.stringify(o.register)}` : '';
  const end = o.error !== undefined ? `failed: ${o.error}` : o.return === null ? 'never returned' : String(o.return);
  return `#${o.id} ${o.client} ${what}${reg} [${o.call}, ${end}]`;
}

/** Groups operations by register, keeping history order within each group. */
export function partitionByRegister(ops: readonly Operation[]): Map<string, Operation[]> {
  const out = new Map<string, Operation[]>();
  for (const o of ops) {
    let g = out.get(o.register);
    if (!g) out.set(o.register, (g = []));
    g.push(o);
  }
  return out;
}

/**
 * Which algorithm decided a verdict: `polynomial` (the zone checker for linearizability, the write
 * order for regularity; O(n log n) per register), `search` (the exhaustive fallback: Wing & Gong's
 * search for linearizability, a search over the possible sources of ambiguous reads for
 * regularity), or `polynomial+search` when the registers of one history needed both.
 */
export type DecidedBy = 'polynomial' | 'search' | 'polynomial+search';

/** Verdict of a checker. */
export type Verdict =
  | { result: 'ok'; model: CheckModel; operations: number; decidedBy: DecidedBy }
  | {
      result: 'violation';
      model: CheckModel;
      register: string;
      /**
       * A set of operations that cannot be explained by the model. Minimal by fixpoint when
       * `minimal` is true: removing any one of them (a write together with the reads that
       * returned its value) leaves a history that satisfies the model.
       */
      operations: Operation[];
      message: string;
      decidedBy: DecidedBy;
      /** False when minimising was off or ran out of time (the set is still a witness). */
      minimal: boolean;
    }
  | { result: 'unknown'; model: CheckModel; message: string; decidedBy: DecidedBy };

export type CheckModel = 'linearizable' | 'regular';

/** Model names accepted by `rkvs check --model`: the consistency conditions and the register variants. */
export const MODEL_NAMES: Readonly<Record<string, CheckModel>> = {
  linearizable: 'linearizable',
  atomic: 'linearizable',
  regular: 'regular',
};

/** The model a name stands for (`atomic` is `linearizable`), or undefined. */
export function parseModel(name: string): CheckModel | undefined {
  return Object.hasOwn(MODEL_NAMES, name) ? MODEL_NAMES[name] : undefined;
}

/** Human-readable verdict, several lines. */
export function formatVerdict(v: Verdict): string {
  if (v.result === 'ok') return `ok: history of ${v.operations} operations is ${v.model}`;
  if (v.result === 'unknown') return `unknown: ${v.message}`;
  const lines = [`violation: not ${v.model}${v.register ? ` (register ${JSON.stringify(v.register)})` : ''}: ${v.message}`];
  lines.push(v.minimal ? 'operations involved (a minimal set):' : 'operations involved (not shrunk to a minimal set):');
  for (const o of [...v.operations].sort((a, b) => a.call - b.call || a.id - b.id)) lines.push(`  ${describeOperation(o)}`);
  return lines.join('\n');
}

/** Exit code of `rkvs check` for a verdict: 0 ok, 1 violation, 3 unknown. */
export function verdictExitCode(v: Verdict): number {
  return v.result === 'ok' ? 0 : v.result === 'violation' ? 1 : 3;
}
