/**
 * Checking the registers of a history in parallel, on worker threads.
 *
 * A history is consistent iff each register's sub-history is, so registers are independent tasks.
 * Histories smaller than `parallelFrom` are checked in the calling thread (the polynomial checker
 * is faster than starting a worker on them); the registers of a larger history, and the registers
 * the polynomial checker leaves to the search, go to a pool of worker threads. Operations travel as typed arrays
 * (transferred, not copied) with one table of strings.
 *
 * The time limit bounds the whole call: every task gets the same deadline (the search and the
 * minimiser stop at it), and a worker still busy shortly after it is terminated and its register
 * reported unknown.
 *
 * The workers run the same modules as the caller: the compiled JavaScript next to this file, or,
 * when robust-kvs runs from its TypeScript sources (bin/rkvs.js, vitest), those sources through tsx.
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { partitionByRegister, type CheckModel, type Operation, type Verdict } from './history.js';
import { checkRegister, combineVerdicts, type CheckOptions, type RegisterOptions, type RegisterVerdict } from './register-check.js';

export interface ParallelOptions extends CheckOptions {
  /**
   * Worker threads at most; 0 checks everything in the calling thread.
   * @default os.availableParallelism()
   */
  workers?: number;
  /**
   * Histories with at least this many operations (and two registers or more) are checked on the
   * workers from the start; smaller ones only send them the registers left to the search. The
   * default weighs the workers' start-up: about 50 ms from compiled JavaScript, a second or more
   * from the TypeScript sources (each worker compiles them).
   * @default 200000 (compiled), 2000000 (TypeScript sources)
   */
  parallelFrom?: number;
  /** A pool to reuse across calls (closed by its owner); otherwise one is made and closed per call. */
  pool?: CheckPool;
}

const HERE = import.meta.url;
/** Running from the TypeScript sources (through tsx or vitest), not from compiled JavaScript. */
const FROM_SOURCES = HERE.endsWith('.ts');

/** Grace after the deadline before a busy worker is terminated. */
const GRACE_MS = 250;

/** Checks a history, registers in parallel where it pays. */
export async function checkHistoryParallel(history: readonly Operation[], model: CheckModel, opts: ParallelOptions = {}): Promise<Verdict> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const ro: RegisterOptions = { deadline: Date.now() + timeoutMs, minimize: opts.minimize ?? true, method: opts.method ?? 'auto' };
  const parts = [...partitionByRegister(history)];
  const workers = opts.workers ?? availableParallelism();
  const results: (RegisterVerdict | undefined)[] = new Array(parts.length);
  let pool = opts.pool;
  const own = pool === undefined;
  const getPool = () => (pool ??= new CheckPool(workers));
  try {
    const toWorkers: number[] = [];
    const large = parts.length >= 2 && history.length >= (opts.parallelFrom ?? (FROM_SOURCES ? 2_000_000 : 200_000));
    if (workers > 0 && parts.length >= 2 && (large || ro.method === 'search')) {
      toWorkers.push(...parts.map((_, i) => i));
    } else {
      // here: the polynomial checker; the registers it leaves to the search go to the workers
      // (or are searched here when there is only one, or no workers)
      const firstPass: RegisterOptions = { ...ro, method: ro.method === 'auto' && workers > 0 ? 'polynomial' : ro.method };
      for (let i = 0; i < parts.length; i++) {
        const v = checkRegister(model, parts[i][0], parts[i][1], firstPass);
        if (v.result === 'unknown' && v.reason === 'undecided' && firstPass.method !== ro.method) toWorkers.push(i);
        else results[i] = v;
        if (v.result === 'violation') break; // later registers cannot change the verdict
      }
      if (toWorkers.length === 1) {
        const i = toWorkers.pop()!;
        results[i] = checkRegister(model, parts[i][0], parts[i][1], ro);
      }
    }
    if (toWorkers.length > 0) {
      const p = getPool();
      let firstViolation = Number.POSITIVE_INFINITY;
      await Promise.all(
        toWorkers.map(async (i) => {
          const v = await p.run(model, parts[i][0], parts[i][1], ro, () => i > firstViolation);
          results[i] = v;
          if (v.result === 'violation') firstViolation = Math.min(firstViolation, i);
        }),
      );
    }
  } finally {
    if (own) await pool?.close();
  }
  const done: RegisterVerdict[] = [];
  for (const v of results) {
    if (!v) continue;
    done.push(v);
    if (v.result === 'violation') break;
  }
  return combineVerdicts(model, done, history.length, timeoutMs);
}

// --- encoding operations for the workers ---------------------------------------------------------

export interface EncodedOps {
  id: Int32Array;
  call: Float64Array;
  /** NaN: no return. */
  ret: Float64Array;
  /** 0 read, 1 write. */
  kind: Uint8Array;
  /** Index into `strings`, -1 for null / absent. */
  input: Int32Array;
  output: Int32Array;
  client: Int32Array;
  error: Int32Array;
  strings: string[];
}

export function encodeOps(ops: readonly Operation[]): EncodedOps {
  const n = ops.length;
  const table = new Map<string, number>();
  const strings: string[] = [];
  const str = (s: string | null | undefined) => {
    if (s === null || s === undefined) return -1;
    let k = table.get(s);
    if (k === undefined) {
      k = strings.length;
      strings.push(s);
      table.set(s, k);
    }
    return k;
  };
  const e: EncodedOps = {
    id: new Int32Array(n),
    call: new Float64Array(n),
    ret: new Float64Array(n),
    kind: new Uint8Array(n),
    input: new Int32Array(n),
    output: new Int32Array(n),
    client: new Int32Array(n),
    error: new Int32Array(n),
    strings,
  };
  for (let i = 0; i < n; i++) {
    const o = ops[i];
    e.id[i] = o.id;
    e.call[i] = o.call;
    e.ret[i] = o.return === null ? Number.NaN : o.return;
    e.kind[i] = o.op === 'write' ? 1 : 0;
    e.input[i] = str(o.input);
    e.output[i] = str(o.output);
    e.client[i] = str(o.client);
    e.error[i] = str(o.error);
  }
  return e;
}

export function decodeOps(e: EncodedOps, register: string): Operation[] {
  const out: Operation[] = new Array(e.id.length);
  const s = (k: number) => (k < 0 ? null : e.strings[k]);
  for (let i = 0; i < out.length; i++) {
    const o: Operation = {
      id: e.id[i],
      client: e.strings[e.client[i]],
      op: e.kind[i] === 1 ? 'write' : 'read',
      register,
      input: s(e.input[i]),
      output: s(e.output[i]),
      call: e.call[i],
      return: Number.isNaN(e.ret[i]) ? null : e.ret[i],
    };
    if (e.error[i] >= 0) o.error = e.strings[e.error[i]];
    out[i] = o;
  }
  return out;
}

export function transferList(e: EncodedOps): ArrayBuffer[] {
  return [e.id, e.call, e.ret, e.kind, e.input, e.output, e.client, e.error].map((a) => a.buffer as ArrayBuffer);
}

/** A task for a worker. */
export interface WorkerTask {
  task: number;
  model: CheckModel;
  register: string;
  ops: EncodedOps;
  options: RegisterOptions;
}

/** A worker's answer: the verdict with the witness as operation ids. */
export type WorkerAnswer =
  | { task: number; verdict: Exclude<RegisterVerdict, { result: 'violation' }> }
  | { task: number; verdict: Omit<Extract<RegisterVerdict, { result: 'violation' }>, 'operations'>; witness: number[] }
  | { task: number; error: string };

// --- the pool --------------------------------------------------------------------------------------


/** Starts one worker running worker.ts (through tsx) or worker.js (compiled). */
function startWorker(): Worker {
  if (FROM_SOURCES) {
    // tsx's ESM API, found through its exported CommonJS entry (its package.json is not exported)
    const api = new URL('./index.mjs', pathToFileURL(createRequire(HERE).resolve('tsx/esm/api'))).href;
    const entry = new URL('./worker.ts', HERE).href;
    const code =
      `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })` +
      `.catch((e) => { console.error(e); process.exit(70); });`;
    return new Worker(code, { eval: true });
  }
  return new Worker(new URL('./worker.js', HERE));
}

interface Job {
  msg: WorkerTask;
  ops: readonly Operation[];
  resolve: (v: RegisterVerdict) => void;
  reject: (e: Error) => void;
  skip: () => boolean;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

/** A pool of worker threads checking one register per task. */
export class CheckPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextTask = 0;
  private closed = false;
  /** Workers started so far, and tasks they answered. */
  started = 0;
  answered = 0;

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`a pool needs at least one worker, got ${size}`);
  }

  /** Checks one register on a worker; `skip()` (asked when a worker is free) drops a task no longer needed. */
  run(model: CheckModel, register: string, ops: readonly Operation[], options: RegisterOptions, skip: () => boolean = () => false): Promise<RegisterVerdict> {
    if (this.closed) throw new Error('CheckPool is closed');
    return new Promise((resolve, reject) => {
      this.queue.push({ msg: { task: this.nextTask++, model, register, ops: encodeOps(ops), options }, ops, resolve, reject, skip });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      if (job.skip()) {
        job.resolve({ register: job.msg.register, result: 'unknown', decidedBy: 'polynomial', reason: 'undecided', message: 'not checked: an earlier register violates' });
        continue;
      }
      slot.job = job;
      const wait = Math.max(0, job.msg.options.deadline - Date.now()) + GRACE_MS;
      slot.timer = setTimeout(() => this.expire(slot!), wait);
      slot.worker.postMessage(job.msg, transferList(job.msg.ops));
    }
  }

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(), job: null, timer: null };
    this.started++;
    slot.worker.unref();
    slot.worker.on('message', (a: WorkerAnswer) => this.answer(slot, a));
    slot.worker.on('error', (e) => this.fail(slot, `worker failed: ${e.message}`));
    slot.worker.on('exit', (code) => this.fail(slot, `worker exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot): Job | null {
    const job = slot.job;
    slot.job = null;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    return job;
  }

  private answer(slot: Slot, a: WorkerAnswer): void {
    const job = this.finish(slot);
    if (!job || a.task !== job.msg.task) return;
    this.answered++;
    if ('error' in a) job.reject(new Error(`checking register ${JSON.stringify(job.msg.register)} failed in a worker: ${a.error}`));
    else if (a.verdict.result === 'violation' && 'witness' in a) {
      const byId = new Map(job.ops.map((o) => [o.id, o]));
      job.resolve({ ...a.verdict, operations: a.witness.map((id) => byId.get(id)!) });
    } else job.resolve(a.verdict as RegisterVerdict);
    this.pump();
  }

  /** The worker died or was terminated: its job (if any) ends unknown, the slot is dropped. */
  private fail(slot: Slot, why: string): void {
    const job = this.finish(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (job) {
      const timedOut = Date.now() > job.msg.options.deadline;
      job.resolve({
        register: job.msg.register,
        result: 'unknown',
        decidedBy: job.msg.options.method === 'polynomial' ? 'polynomial' : 'search',
        reason: timedOut ? 'time' : 'undecided',
        message: timedOut ? `time limit reached while checking register ${JSON.stringify(job.msg.register)}` : `${why} while checking register ${JSON.stringify(job.msg.register)}`,
      });
    }
    if (!this.closed) this.pump();
  }

  private expire(slot: Slot): void {
    slot.timer = null;
    void slot.worker.terminate(); // 'exit' reports the job as unknown
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
