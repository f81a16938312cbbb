/**
 * Entry of a checker worker thread (see parallel.ts): checks one register per message and answers
 * with its verdict, the witness as operation ids.
 */
import { parentPort } from 'node:worker_threads';
import { decodeOps, type WorkerAnswer, type WorkerTask } from './parallel.js';
import { checkRegister } from './register-check.js';

const port = parentPort;
if (!port) throw new Error('src/check/worker is the entry of a worker thread, not a module to import');
port.on('message', (t: WorkerTask) => {
  let answer: WorkerAnswer;
  try {
    const v = checkRegister(t.model, t.register, decodeOps(t.ops, t.register), t.options);
    if (v.result === 'violation') {
      const { operations, ...rest } = v;
      answer = { task: t.task, verdict: rest, witness: operations.map((o) => o.id) };
    } else answer = { task: t.task, verdict: v };
  } catch (e) {
    answer = { task: t.task, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(answer);
});
