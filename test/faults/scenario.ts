/**
 * A process that runs fault scenarios for test/faults/support.ts, so that the test can see what a
 * process is left holding once its stores are closed, and whether it then exits on its own.
 *
 * It reads commands, one JSON object per stdin line, and answers one JSON object per stdout line
 * prefixed with `RKVS-FAULTS `:
 *
 * - `{"cmd":"run","spec":{...}}`: builds the cloud adapters of the scenario (their endpoints point
 *   at fault proxies run by the parent) and a robust store per client over them; for each phase
 *   says `ready`, waits for `{"cmd":"go"}` (the parent changes the faults in between) and runs the
 *   clients' operations concurrently, recording them; then closes every store and reports the
 *   history, how long close() took and what keeps the event loop alive right after (only the stdio
 *   pipes may). Then says `idle`.
 * - `{"cmd":"exit"}`: lets go of stdin and does nothing more: the process must exit on its own.
 *   Its 'exit' handler reports how long after the last close() that happened.
 */
import { createInterface } from 'node:readline';
import { createAzureBlobStore } from '../../src/adapters/azure-blob.js';
import { createGcsStore } from '../../src/adapters/gcs.js';
import { createS3Store } from '../../src/adapters/s3.js';
import type { OperationRecord } from '../../src/check/history.js';
import { QuorumError, describeCause } from '../../src/errors.js';
import { createRobustStore, type RobustStore } from '../../src/register/index.js';
import type { Store } from '../../src/store.js';
import { Random } from '../../src/util/random.js';
import type { QuorumProbe, ReplicaSpec, ScenarioCommand, ScenarioMessage, ScenarioSpec } from './support.js';

function say(m: ScenarioMessage): void {
  process.stdout.write(`RKVS-FAULTS ${JSON.stringify(m)}\n`);
}

function replica(spec: ScenarioSpec, r: ReplicaSpec): Store {
  const t = { ...spec.timeouts, maxAttempts: spec.maxAttempts, name: r.name, createBucketIfMissing: false };
  if (r.kind === 's3') {
    return createS3Store({
      ...t,
      bucket: r.bucket,
      endpoint: r.endpoint,
      region: r.region,
      forcePathStyle: true,
      checksums: 'when_required',
      credentials: { accessKeyId: r.accessKeyId ?? '', secretAccessKey: r.secretAccessKey ?? '' },
      maxValueBytes: r.maxValueBytes,
    });
  }
  if (r.kind === 'azure') return createAzureBlobStore({ ...t, container: r.bucket, connectionString: r.connectionString });
  return createGcsStore({ ...t, bucket: r.bucket, apiEndpoint: r.endpoint, projectId: r.projectId });
}

const lines = createInterface({ input: process.stdin });
const commands: ScenarioCommand[] = [];
let wake: (() => void) | undefined;
lines.on('line', (l) => {
  if (!l.trim()) return;
  commands.push(JSON.parse(l) as ScenarioCommand);
  wake?.();
});
async function nextCommand(): Promise<ScenarioCommand> {
  while (commands.length === 0) await new Promise<void>((r) => (wake = r));
  return commands.shift() as ScenarioCommand;
}

const t0 = performance.now();
const now = () => Math.round((performance.now() - t0) * 1000) / 1000;

async function run(spec: ScenarioSpec): Promise<Extract<ScenarioMessage, { type: 'closed' }>> {
  const replicas = spec.replicas.map((r) => replica(spec, r));
  const clients: RobustStore[] = Array.from({ length: spec.clients }, (_, i) =>
    createRobustStore({ replicas, variant: spec.variant, faults: spec.faults, clientId: `c${i}`, operationTimeoutMs: spec.operationTimeoutMs }),
  );
  const history: OperationRecord[] = [];
  const failures: string[] = [];
  const quorum: QuorumProbe[] = [];
  const timings: string[] = [];

  const runClient = async (store: RobustStore, index: number, phase: number): Promise<void> => {
    const random = new Random(spec.seed * 1000 + index * 17 + phase);
    for (let n = 0; n < spec.opsPerPhase; n++) {
      const register = `${spec.prefix}/r${random.int(0, spec.registers - 1)}`;
      const roll = random.next();
      const op: 'write' | 'read' = roll < 0.5 ? 'write' : 'read';
      const remove = op === 'write' && roll < 0.08;
      const value = `${store.clientId}:${phase}:${n}`;
      const rec: OperationRecord = { client: store.clientId, op, register, input: op === 'write' && !remove ? value : null, call: now(), return: null };
      history.push(rec);
      const started = performance.now();
      try {
        if (op === 'write') {
          if (remove) await store.remove(register);
          else await store.put(register, new TextEncoder().encode(value));
        } else {
          const got = await store.get(register);
          rec.output = got === null ? null : new TextDecoder().decode(got);
        }
        rec.return = now();
        if (spec.expect === 'quorum') failures.push(`phase ${phase}: ${op} on ${register} completed although more than t replicas are faulty`);
      } catch (e) {
        rec.return = now();
        rec.error = describeCause(e);
        if (spec.expect === 'quorum') {
          quorum.push({
            op,
            elapsedMs: performance.now() - started,
            isQuorumError: e instanceof QuorumError,
            replicas: e instanceof QuorumError ? e.failures.map((f) => f.replica) : [],
            message: (e as Error).message,
          });
        } else {
          failures.push(`phase ${phase}: ${op} on ${register} failed: ${(e as Error).message}`);
        }
      }
    }
  };

  for (const [i, phase] of spec.phases.entries()) {
    say({ type: 'ready', phase });
    const cmd = await nextCommand();
    if (cmd.cmd !== 'go') throw new Error(`expected "go", got ${JSON.stringify(cmd)}`);
    const start = performance.now();
    await Promise.all(clients.map((c, k) => runClient(c, k, i)));
    timings.push(`${phase} ${(performance.now() - start).toFixed(0)} ms`);
  }

  const closing = performance.now();
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(replicas.map((r) => r.close()));
  const closeMs = performance.now() - closing;
  // Right after close(): only stdin, stdout and stderr may keep this process alive.
  const holding = process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
  return { type: 'closed', closeMs, holding, history, failures, quorum, timings };
}

let lastClose = performance.now();
say({ type: 'idle', startedMs: performance.now() });
for (;;) {
  const cmd = await nextCommand();
  if (cmd.cmd === 'exit') break;
  if (cmd.cmd !== 'run') throw new Error(`expected "run" or "exit", got ${JSON.stringify(cmd)}`);
  const report = await run(cmd.spec);
  lastClose = performance.now();
  say(report);
  say({ type: 'idle', startedMs: 0 });
}

// Nothing more to read: let go of stdin. When nothing keeps the event loop alive any more, Node
// emits 'exit'; report how long after the last close() (a synchronous write: stdout is a pipe).
lines.close();
process.stdin.destroy();
process.on('exit', () => say({ type: 'exit', afterCloseMs: performance.now() - lastClose }));
