/**
 * Runs one part of a cell (some of its clients) against opened replicas: the same code in the
 * `rkvs bench` process and in each `--workers` worker process, so a part measures the same thing
 * wherever it runs.
 */
import type { Store } from '../../store.js';
import type { Cell } from '../config/cell.js';
import type { BenchRegisterStore, CreateRobustStore } from './register.js';
import { CountingStore, RequestCounter, type RequestEntry } from './counting.js';
import { withTimeout } from '../../util/abort.js';
import { runCell, type BenchClient, type CellOutcome, type HistoryEvent, type OpNeighbour } from './runner.js';
import { ScopedStore } from '../config/stores.js';
import type { BenchSchedule, BenchVariant, Workload } from '../config/workload.js';

/** Everything a process needs to run its part of a cell (JSON-safe, sent to workers). */
export interface CellPartTask {
  /** The cell this part belongs to (its key goes into every history line). */
  cell: Cell;
  /** Configuration name (history register names). */
  config: string;
  /** Key namespace of the cell, shared by every part so they contend on the same registers. */
  ns: string;
  variant: BenchVariant;
  schedule: BenchSchedule | 'none';
  workload: Workload;
  valueBytes: number | null;
  /** First global client index of the part, and its number of clients. */
  first: number;
  count: number;
  idPrefix: string;
  ops?: number;
  durationS?: number;
  seed: number;
  /** Tolerated faults of the configuration. */
  faults: number;
  /** Record the history (register names are prefixed with `<config>/<variant>/<schedule>/<ns>`). */
  history: boolean;
  /**
   * Inserted after the namespace in history register names (`w0/`) when this part's replicas are
   * its own (memory replicas inside a worker): its registers are then not the other parts' registers.
   */
  historyScope?: string;
}

export interface CellPartResult {
  outcome: CellOutcome;
  requests: RequestEntry[];
  history: string[];
}

/** Replica labels for reports: names, made unique with `#i` when they repeat. */
export function replicaLabels(replicas: readonly Store[]): string[] {
  // the run's own key prefix says nothing about the replica: show what is inside it
  const strip = (n: string): string => {
    const m = /^(?:prefixed\[[^\]]*\]|scoped)\((.*)\)$/.exec(n);
    return m ? strip(m[1] as string) : n;
  };
  const names = replicas.map((r) => strip(r.name));
  return names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : `${n}#${i}`));
}

function rawClient(id: string, store: Store): BenchClient {
  return {
    id,
    write: (reg, v, opts) => store.put(reg, v, opts),
    read: async (reg, opts) => ({ value: await store.get(reg, opts) }),
    remove: (reg, opts) => store.remove(reg, opts),
  };
}

function registerClient(rs: BenchRegisterStore): BenchClient {
  return {
    id: rs.clientId,
    write: async (reg, v, opts) => {
      await rs.write(reg, v, opts);
    },
    read: async (reg, opts) => {
      const r = await rs.read(reg, opts);
      return { value: r.tombstone ? null : r.value, rounds: r.rounds };
    },
    remove: (reg, opts) => rs.remove(reg, opts),
  };
}

/** A part with its clients built, ready to start. */
export interface PreparedPart {
  run(opts: {
    signal?: AbortSignal;
    epochMs: number;
    onOp?: () => void;
    afterRun?: () => Promise<void>;
    /** Awaited around each operation, in a closed loop (see `CellOptions.around`). */
    around?: OpNeighbour;
    /** Holds the measured phase back until open (see `CellOptions.measureGate`). */
    measureGate?: { readonly open: boolean };
  }): Promise<CellPartResult>;
  /** Releases the clients without running (the cell was cancelled). */
  discard(): Promise<void>;
}

/** Builds the clients of a part over `replicas` (the configuration's opened, run-prefixed replicas). */
export function preparePart(task: CellPartTask, replicas: readonly Store[], createRobustStore: CreateRobustStore | null): PreparedPart {
  const counter = new RequestCounter();
  const all = task.variant === 'raw' ? replicas.slice(0, 1) : replicas;
  const labels = replicaLabels(all);
  const wrapped = all.map((r, i) => new CountingStore(new ScopedStore(r, task.ns), labels[i] as string, counter));
  const clients: BenchClient[] = [];
  const robust: BenchRegisterStore[] = [];
  for (let k = task.first; k < task.first + task.count; k++) {
    const id = `${task.idPrefix}c${k}`;
    if (task.variant === 'raw') clients.push(rawClient(id, wrapped[0] as Store));
    else {
      if (!createRobustStore) throw new Error('the register (src/register) is not available in this build');
      const rs = createRobustStore({
        replicas: wrapped,
        variant: task.variant,
        schedule: task.schedule as BenchSchedule,
        faults: task.faults,
        clientId: id,
        name: `${task.variant}-${task.schedule}`,
      });
      robust.push(rs);
      clients.push(registerClient(rs));
    }
  }
  const closeAll = () => Promise.all(robust.map((rs) => rs.close().catch(() => undefined)));
  return {
    discard: async () => {
      await closeAll();
    },
    run: async (o) => {
      const history: string[] = [];
      const regPrefix = `${task.config}/${task.variant}/${task.schedule}/${task.ns}${task.historyScope ?? ''}`;
      const cellId = task.ns.replace(/\/$/, '');
      try {
        const outcome = await runCell({
          clients,
          workload: task.workload,
          valueBytes: task.valueBytes,
          seed: task.seed,
          ops: task.ops,
          durationS: task.durationS,
          signal: o.signal,
          epochMs: o.epochMs,
          clientOffset: task.first,
          history: task.history
            ? (e: HistoryEvent) => history.push(JSON.stringify({ ...e, register: regPrefix + e.register, cell_id: cellId, cell: task.cell }))
            : undefined,
          onOp: o.onOp,
          ...(o.around ? { around: o.around } : {}),
          measureGate: o.measureGate,
        });
        await o.afterRun?.();
        // quiescence: every client's background GC and lingering calls settled
        if (!o.signal?.aborted) {
          await Promise.all(robust.map((rs) => withTimeout(rs.settled(), 60_000, `client ${rs.clientId} settling`).catch(() => undefined)));
        }
        return { outcome, requests: counter.entries(), history };
      } finally {
        await closeAll();
      }
    },
  };
}
