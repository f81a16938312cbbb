/**
 * Runs fault scenarios (test/faults/scenario.ts) in a child process against the emulators, each
 * replica behind its own fault proxy in this process, and reports what happened: the recorded
 * history, how long close() took, what the process held right after, and how long after its last
 * close() it exited.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OperationRecord } from '../../src/check/history.js';
import { FAUXQS_MAX_VALUE_BYTES, type EmulatorKind, type RunningEmulator } from '../../src/emulators/index.js';
import type { SocketTimeouts } from '../../src/net/bounded-agent.js';
import { emulatorThroughProxy, startFaultProxy, type FaultProxy } from '../../src/net/fault-proxy.js';
import type { Variant } from '../../src/register/index.js';

/** A replica as the child builds it: an adapter pointed at a proxy. */
export interface ReplicaSpec {
  name: string;
  kind: EmulatorKind;
  bucket: string;
  endpoint: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  connectionString?: string;
  projectId?: string;
  maxValueBytes?: number;
}

export interface ScenarioSpec {
  seed: number;
  variant: Variant;
  /** t; default floor((n-1)/2). */
  faults?: number;
  replicas: ReplicaSpec[];
  clients: number;
  opsPerPhase: number;
  registers: number;
  /** Register names start with it (unique per scenario, so scenarios share buckets). */
  prefix: string;
  timeouts: SocketTimeouts;
  maxAttempts: number;
  operationTimeoutMs: number;
  phases: string[];
  /** `complete`: every operation must succeed; `quorum`: every operation must fail with a QuorumError. */
  expect: 'complete' | 'quorum';
}

export interface QuorumProbe {
  op: 'write' | 'read';
  elapsedMs: number;
  isQuorumError: boolean;
  replicas: string[];
  message: string;
}

export type ScenarioCommand = { cmd: 'run'; spec: ScenarioSpec } | { cmd: 'go' } | { cmd: 'exit' };

export type ScenarioMessage =
  | { type: 'idle'; startedMs: number }
  | { type: 'ready'; phase: string }
  | {
      type: 'closed';
      closeMs: number;
      /** What kept the event loop alive right after close(), besides the stdio pipes. */
      holding: string[];
      history: OperationRecord[];
      failures: string[];
      quorum: QuorumProbe[];
      timings: string[];
    }
  /** Written from the child's 'exit' handler: its event loop had nothing left to run. */
  | { type: 'exit'; afterCloseMs: number };

export type ScenarioReport = Extract<ScenarioMessage, { type: 'closed' }>;

export interface HostExit {
  /** From the last close() resolving to the child's 'exit' event (its event loop empty), in ms, measured by the child. */
  exitEventAfterCloseMs: number;
  /** From asking the child to exit to its exit as this process saw it (Node's teardown included), in ms. */
  exitMs: number;
  exitCode: number | null;
}

const SCENARIO = fileURLToPath(new URL('./scenario.ts', import.meta.url));

/** A child process that runs scenarios one after the other. */
export class ScenarioHost {
  private buf = '';
  private stderr = '';
  private waiters: ((m: ScenarioMessage) => void)[] = [];
  private queue: ScenarioMessage[] = [];
  private exited: Promise<number | null>;
  private dead: Error | undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      this.stderr = (this.stderr + c).slice(-20_000);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        if (!line.startsWith('RKVS-FAULTS ')) continue;
        const m = JSON.parse(line.slice('RKVS-FAULTS '.length)) as ScenarioMessage;
        const w = this.waiters.shift();
        if (w) w(m);
        else this.queue.push(m);
      }
    });
    child.stdin.on('error', () => {});
    // 'close': the process exited and its stdout was read to the end
    this.exited = new Promise((resolve) => child.once('close', (code: number | null) => resolve(code)));
    void this.exited.then((code) => {
      this.dead = new Error(`the scenario process exited (code ${code})\n--- its stderr (tail) ---\n${this.stderr.slice(-3000)}`);
      for (const w of this.waiters.splice(0)) w({ type: 'exit', afterCloseMs: Number.NaN });
    });
  }

  /** Starts the child and waits until it is ready for scenarios. */
  static async start(): Promise<ScenarioHost> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCENARIO], { stdio: ['pipe', 'pipe', 'pipe'] });
    const host = new ScenarioHost(child);
    const first = await host.next(120_000);
    if (first.type !== 'idle') throw new Error(`the scenario process said ${JSON.stringify(first)} first`);
    return host;
  }

  private next(timeoutMs: number): Promise<ScenarioMessage> {
    if (this.queue.length) return Promise.resolve(this.queue.shift() as ScenarioMessage);
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<ScenarioMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no word from the scenario process within ${timeoutMs} ms\n--- its stderr (tail) ---\n${this.stderr.slice(-3000)}`));
      }, timeoutMs);
      const w = (m: ScenarioMessage) => {
        clearTimeout(timer);
        if (m.type === 'exit' && Number.isNaN(m.afterCloseMs) && this.dead) reject(this.dead);
        else resolve(m);
      };
      this.waiters.push(w);
    });
  }

  private send(c: ScenarioCommand): void {
    this.child.stdin.write(`${JSON.stringify(c)}\n`);
  }

  /** Runs one scenario; `beforePhase(phase)` runs before each phase (set the faults there). */
  async run(spec: ScenarioSpec, beforePhase: (phase: string) => Promise<void>, timeoutMs = 120_000): Promise<ScenarioReport> {
    this.send({ cmd: 'run', spec });
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m.type === 'ready') {
        await beforePhase(m.phase);
        this.send({ cmd: 'go' });
      } else if (m.type === 'closed') {
        const idle = await this.next(timeoutMs);
        if (idle.type !== 'idle') throw new Error(`expected idle after a scenario, got ${JSON.stringify(idle)}`);
        return m;
      } else {
        throw new Error(`unexpected message from the scenario process: ${JSON.stringify(m)}`);
      }
    }
  }

  /**
   * Asks the child to stop reading and waits for it to exit on its own; kills it (and rejects) when
   * it is still alive after `withinMs`.
   */
  async finish(withinMs: number): Promise<HostExit> {
    const asked = performance.now();
    this.send({ cmd: 'exit' });
    this.child.stdin.end();
    const report = this.next(withinMs).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      this.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          reject(new Error(`the scenario process was still alive ${withinMs} ms after its stores were closed`));
        }, withinMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const exitMs = performance.now() - asked;
    const m = await report;
    if (!m || m.type !== 'exit' || Number.isNaN(m.afterCloseMs)) throw new Error(`the scenario process exited (code ${code}) without its exit report`);
    return { exitEventAfterCloseMs: m.afterCloseMs, exitMs, exitCode: code };
  }

  /** Kills the child if it still runs (cleanup after a failure). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** A proxy in front of an emulator, and the replica spec that goes through it. */
export async function proxiedReplica(e: RunningEmulator, name: string, bucket: string): Promise<{ proxy: FaultProxy; spec: ReplicaSpec }> {
  const proxy = await startFaultProxy({ target: e.endpoint });
  const via = emulatorThroughProxy(e, proxy);
  const spec: ReplicaSpec = {
    name,
    kind: e.kind,
    bucket,
    endpoint: via.endpoint,
    region: via.region,
    accessKeyId: via.accessKeyId,
    secretAccessKey: via.secretAccessKey,
    connectionString: via.connectionString,
    projectId: via.projectId,
    maxValueBytes: e.server === 'fauxqs' ? FAUXQS_MAX_VALUE_BYTES : undefined,
  };
  return { proxy, spec };
}
