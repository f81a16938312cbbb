/**
 * `rkvs bench --workers N`: N worker processes on this machine (child_process.fork, IPC). The parent
 * keeps the run: it opens every configuration itself (so the embedded emulators are started once and
 * shared), asks the workers to open the same configuration, and for every cell
 *
 *   1. sends each worker its part (clients [a, b), its share of operations): `prepare`;
 *   2. once every worker has built its clients, starts them together: `go`;
 *   3. collects each worker's encoded histograms, counters, request counts and history: `done`;
 *
 * then merges them exactly (see distribute.ts). Storage overhead sampling, the quiescent listing and
 * the cell's cleanup stay in the parent, after every worker has finished the cell.
 *
 * Workers exit when the parent dies (their IPC channel closes) and ignore Ctrl-C: on interrupt the
 * parent sends `abort` and still collects what each worker measured. Starting them is abortable
 * (an interrupt while they load kills those already forked), and a parent that exits for any
 * reason (a second Ctrl-C, an uncaught error) kills every worker still running on its way out.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CellPartResult, CellPartTask } from './cell-part.js';
import type { EmulatorEndpoint } from '../config/open.js';
import { decodeOutcome, type EncodedOutcome } from './distribute.js';
import type { ConfigurationOrigin } from '../config/types.js';

export type ParentMessage =
  | { t: 'init'; worker: number; origins: ConfigurationOrigin[]; emulators: EmulatorEndpoint[]; epochAbsMs: number }
  | { t: 'open'; cfg: number; prefix: string }
  | { t: 'close'; cfg: number }
  | { t: 'prepare'; cfg: number; task: CellPartTask }
  | { t: 'discard' }
  | { t: 'go' }
  | { t: 'abort' }
  | { t: 'exit' };

export interface EncodedPartResult {
  outcome: EncodedOutcome;
  requests: CellPartResult['requests'];
  history: string[];
}

export type WorkerMessage =
  | { t: 'ok'; for: string }
  | { t: 'error'; for: string; message: string }
  | { t: 'ops'; n: number }
  | { t: 'done'; result: EncodedPartResult };

const ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

/** Workers of this process still running: killed when the process exits, whatever the reason. */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        // gone
      }
    }
  });
}

/** How long a worker may take to stop a running part after `abort`. */
const ABORT_GRACE_MS = 30_000;

class WorkerHandle {
  private pending: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void; expect: string } | undefined;
  private exited: Error | undefined;
  onOps: (n: number) => void = () => {};

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    child.on('message', (m: WorkerMessage) => {
      if (m.t === 'ops') return this.onOps(m.n);
      const p = this.pending;
      if (!p) return;
      this.pending = undefined;
      if (m.t === 'error') p.reject(new Error(`worker ${index}: ${m.message}`));
      else p.resolve(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`worker ${index} exited unexpectedly (${signal ? `signal ${signal}` : `code ${code}`})`);
      this.pending?.reject(this.exited);
      this.pending = undefined;
    });
    child.on('error', (e) => {
      this.pending?.reject(new Error(`worker ${index}: ${e.message}`));
      this.pending = undefined;
    });
  }

  /** Waits for the next answer (`ok`/`done`) to a message, or the worker's error. */
  expect(expect: string): Promise<WorkerMessage> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, expect };
    });
  }

  send(m: ParentMessage): void {
    if (this.exited || !this.child.connected) return;
    this.child.send(m);
  }

  async request(m: ParentMessage): Promise<WorkerMessage> {
    const answer = this.expect(m.t);
    this.send(m);
    return answer;
  }

  get alive(): boolean {
    return !this.exited;
  }
}

export interface WorkerPoolOptions {
  workers: number;
  origins: ConfigurationOrigin[];
  emulators: EmulatorEndpoint[];
  /** performance.timeOrigin + the run's epoch: workers time their history from the same origin. */
  epochAbsMs: number;
  /** Aborts the start: the workers forked so far are stopped and start() rejects. */
  signal?: AbortSignal;
}

export class WorkerPool {
  private constructor(private readonly handles: WorkerHandle[]) {}

  get size(): number {
    return this.handles.length;
  }

  /** Forks the workers and waits until each has loaded the harness. */
  static async start(o: WorkerPoolOptions): Promise<WorkerPool> {
    o.signal?.throwIfAborted();
    const handles: WorkerHandle[] = [];
    const pool = new WorkerPool(handles);
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(o.signal?.reason instanceof Error ? o.signal.reason : new Error('interrupted'));
    });
    aborted.catch(() => undefined);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (let i = 0; i < o.workers && !o.signal?.aborted; i++) {
        const child = fork(ENTRY, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], env: { ...process.env, RKVS_WORKER: String(i) } });
        track(child);
        handles.push(new WorkerHandle(i, child));
      }
      o.signal?.throwIfAborted();
      await Promise.race([Promise.all(handles.map((h) => h.expect('start'))), aborted]);
      await Promise.race([
        Promise.all(handles.map((h) => h.request({ t: 'init', worker: h.index, origins: o.origins, emulators: o.emulators, epochAbsMs: o.epochAbsMs }))),
        aborted,
      ]);
    } catch (e) {
      await pool.stop();
      throw e;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
    return pool;
  }

  async open(cfg: number, prefix: string): Promise<void> {
    await Promise.all(this.handles.map((h) => h.request({ t: 'open', cfg, prefix })));
  }

  async close(cfg: number): Promise<void> {
    await Promise.allSettled(this.handles.filter((h) => h.alive).map((h) => h.request({ t: 'close', cfg })));
  }

  /**
   * Runs the parts of one cell, part i on worker `parts[i].worker`, all started at the same time.
   * Resolves with every part's result; on abort, with what the parts measured until they stopped.
   */
  async runParts(cfg: number, parts: { worker: number; task: CellPartTask }[], o: { signal?: AbortSignal; onOps?: (n: number) => void }): Promise<CellPartResult[]> {
    const used = parts.map((p) => {
      const h = this.handles[p.worker];
      if (!h) throw new Error(`no worker ${p.worker} (the pool has ${this.handles.length})`);
      return h;
    });
    try {
      await Promise.all(parts.map((p, i) => used[i]!.request({ t: 'prepare', cfg, task: p.task })));
    } catch (e) {
      await Promise.allSettled(used.filter((h) => h.alive).map((h) => h.request({ t: 'discard' })));
      throw e;
    }
    for (const h of used) h.onOps = o.onOps ?? (() => {});
    const done = used.map((h) => h.expect('done'));
    for (const h of used) h.send({ t: 'go' });
    let graceTimer: NodeJS.Timeout | undefined;
    let rejectGrace: (e: Error) => void = () => {};
    const grace = new Promise<never>((_, reject) => (rejectGrace = reject));
    grace.catch(() => undefined);
    const onAbort = () => {
      for (const h of used) h.send({ t: 'abort' });
      graceTimer ??= setTimeout(() => rejectGrace(new Error(`workers did not stop within ${ABORT_GRACE_MS / 1000} s of the interrupt`)), ABORT_GRACE_MS);
    };
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const answers = await Promise.race([Promise.all(done), grace]);
      return answers.map((m) => {
        const r = (m as Extract<WorkerMessage, { t: 'done' }>).result;
        return { outcome: decodeOutcome(r.outcome), requests: r.requests, history: r.history };
      });
    } finally {
      clearTimeout(graceTimer);
      o.signal?.removeEventListener('abort', onAbort);
      for (const h of used) h.onOps = () => {};
    }
  }

  /** Asks every worker to exit, and kills those that do not within 5 s. */
  async stop(): Promise<void> {
    await Promise.all(
      this.handles.map(
        (h) =>
          new Promise<void>((resolve) => {
            if (!h.alive || h.child.exitCode !== null) return resolve();
            const kill = setTimeout(() => h.child.kill('SIGKILL'), 5000);
            h.child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            h.send({ t: 'exit' });
            if (!h.child.connected) h.child.kill('SIGTERM');
          }),
      ),
    );
  }
}
