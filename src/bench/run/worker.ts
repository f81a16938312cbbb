/**
 * A `rkvs bench --workers N` worker process. The parent (`WorkerPool` in workers.ts) tells it which
 * configuration to open and which part of which cell to run; it answers with its encoded histograms,
 * counters and request counts. It never prints results and never touches the report directory.
 *
 * It exits when the parent goes away (IPC channel closed), and ignores Ctrl-C: the terminal sends
 * SIGINT to the whole process group, and the parent decides (it asks running parts to stop and
 * still collects what they measured).
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describeCause } from '../../errors.js';
import { preparePart, type PreparedPart } from './cell-part.js';
import { attachEmulators } from '../config/open.js';
import { configurationFromOrigin } from '../config/configurations.js';
import { encodeOutcome } from './distribute.js';
import { loadRegister } from './register.js';
import type { OpenedConfiguration } from '../config/types.js';
import type { ParentMessage, WorkerMessage } from './workers.js';

const send = (m: WorkerMessage) => {
  if (process.connected) process.send?.(m);
};

process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(0));

let state: Extract<ParentMessage, { t: 'init' }> | undefined;
const opened = new Map<number, OpenedConfiguration>();
let prepared: { part: PreparedPart; ac: AbortController } | undefined;
let createRobustStore: Awaited<ReturnType<typeof loadRegister>> = null;

async function handle(m: ParentMessage): Promise<void> {
  switch (m.t) {
    case 'init': {
      state = m;
      await attachEmulators(m.emulators);
      createRobustStore = await loadRegister();
      return send({ t: 'ok', for: 'init' });
    }
    case 'open': {
      if (!state) throw new Error('not initialised');
      const handle = await configurationFromOrigin(state.origins[m.cfg]!);
      opened.set(m.cfg, await handle.open({ prefix: m.prefix }));
      return send({ t: 'ok', for: 'open' });
    }
    case 'close': {
      const o = opened.get(m.cfg);
      opened.delete(m.cfg);
      await o?.close();
      return send({ t: 'ok', for: 'close' });
    }
    case 'prepare': {
      const o = opened.get(m.cfg);
      if (!o) throw new Error(`configuration ${m.task.config} is not open in this worker`);
      const ac = new AbortController();
      setMaxListeners(0, ac.signal);
      prepared = { part: preparePart(m.task, o.replicas, createRobustStore), ac };
      return send({ t: 'ok', for: 'prepare' });
    }
    case 'go': {
      const p = prepared;
      prepared = undefined;
      if (!p) throw new Error('no prepared cell');
      current = p.ac;
      let ops = 0;
      const timer = setInterval(() => {
        if (ops > 0) send({ t: 'ops', n: ops });
        ops = 0;
      }, 200);
      try {
        const epochMs = (state?.epochAbsMs ?? performance.timeOrigin) - performance.timeOrigin;
        const r = await p.part.run({ signal: p.ac.signal, epochMs, onOp: () => ops++ });
        if (ops > 0) send({ t: 'ops', n: ops });
        return send({ t: 'done', result: { outcome: encodeOutcome(r.outcome), requests: r.requests, history: r.history } });
      } finally {
        clearInterval(timer);
        current = undefined;
      }
    }
    case 'discard': {
      const p = prepared;
      prepared = undefined;
      await p?.part.discard();
      return send({ t: 'ok', for: 'discard' });
    }
    case 'abort':
      current?.abort(new Error('interrupted'));
      prepared?.ac.abort(new Error('interrupted'));
      return;
    case 'exit':
      await Promise.allSettled([...opened.values()].map((o) => o.close()));
      process.exit(0);
  }
}

let current: AbortController | undefined;
process.on('message', (m: ParentMessage) => {
  handle(m).catch((e: unknown) => send({ t: 'error', for: m.t, message: describeCause(e) }));
});
send({ t: 'ok', for: 'start' });
