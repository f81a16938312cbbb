/**
 * The floor of a register operation, measured on the replicas themselves: an *ideal operation*
 * issues exactly the calls of the operation's common-case rounds (SPEC §3-§4, `commonCaseRoundsOf`),
 * to every replica at once as the register does, waits in each round for the k-th successful answer
 * of each call (k = q, or 1 for "first answer" rounds), and does nothing else: no timestamps, no
 * decoding, no retry. Its latency is "rounds × the call latency of the q-th fastest replica still
 * answering", taken with the calls issued in parallel, through the same proxies and under the same
 * fault as a benchmark cell, on the same machine: what any register making these rounds would take.
 * A cell's p50 over the ideal operation's p50 is then what the register adds by its own work or by
 * waiting for a replica it did not need (`npm run bench:faults`, reports/faults/).
 *
 * Like the register, calls an operation leaves behind keep running (a blackholed replica's hang
 * until `settle()` or `abort()`), and a write removes the temporary key its predecessor wrote on that
 * register, at each replica once it acked the new one and the eternal put reached q, in the
 * background, unawaited — the register's garbage collection, issued when the register issues it —
 * so listings stay the register's size (one or two keys) and the replicas carry the same calls at
 * the same moments. Only what the operation waits for differs: the q-th answer of each round.
 */
import { setMaxListeners } from 'node:events';
import { commonCaseRoundsOf } from '../../simulate/floor.js';
import type { Schedule, Variant } from '../../simulate/register.js';
import type { StoreOp } from '../../errors.js';
import type { Store } from '../../store.js';
import { anySignal, withTimeout } from '../../util/abort.js';
import { Random } from '../../util/random.js';
import { cellId, CELL_KEY_COLUMNS, keyOf, type CellKey } from '../config/cell.js';
import type { CellProbe, CellProbeContext, CellProbeRun } from './plan.js';

export interface IdealOptions {
  /** Answers each quorum round waits for (n − t). */
  q: number;
  variant: Variant;
  schedule: Schedule;
  /** Bytes of each value put. */
  valueBytes: number;
  /** Aborts the calls in flight, and the operation waiting for them. */
  signal?: AbortSignal;
  /** The first part of every key, so several ideal registers can share the stores. @default `ideal` */
  namespace?: string;
}

/** One ideal operation. */
export interface IdealSample {
  op: 'read' | 'write';
  /** Its latency, ms. */
  ms: number;
  /** Each round's latency, ms. */
  roundsMs: number[];
}

const pad = (n: number) => String(n).padStart(10, '0');

/**
 * Ideal operations over `stores` (prefixed replica stores: every key they write is under the
 * caller's prefix; remove them with `cleanupOpened`).
 */
export class IdealRegister {
  private inflight = new AbortController();
  /** The signal every call carries: the caller's and `abort()`'s. */
  private signal: AbortSignal;
  private readonly value: Uint8Array;
  private seq = 0;
  /** Every call not settled yet (lingering ones included). */
  private readonly pending = new Set<Promise<unknown>>();
  /** Per register: the temporary key of its last write (removed by the next write, unawaited). */
  private readonly lastTemp = new Map<string, string>();

  constructor(
    private readonly stores: readonly Store[],
    private readonly opts: IdealOptions,
  ) {
    if (!Number.isInteger(opts.q) || opts.q < 1 || opts.q > stores.length) throw new RangeError(`q: expected an integer from 1 to ${stores.length} (the replicas), got ${opts.q}`);
    this.value = new Uint8Array(opts.valueBytes).map((_, i) => (i * 31 + 7) & 0xff);
    this.signal = this.callSignal();
  }

  /** The caller's signal and `abort()`'s, which every call in flight (lingering ones included) listens to: no listener cap. */
  private callSignal(): AbortSignal {
    const s = anySignal(this.opts.signal, this.inflight.signal) as AbortSignal;
    setMaxListeners(0, s);
    return s;
  }

  /** The keys of register `r`. */
  private keys(r: string) {
    if (!/^[A-Za-z0-9_.-]+$/.test(r)) throw new RangeError(`register: expected letters, digits, _ . - only, got ${JSON.stringify(r)}`);
    const ns = this.opts.namespace ?? 'ideal';
    return { temp: `${ns}/${r}/t/`, eternal: `${ns}/${r}/e` };
  }

  /**
   * Issues `call` to every replica; resolves when `k` succeeded, rejects once `k` can no longer
   * succeed (naming the replicas' errors) or on abort. The calls not waited for keep running.
   */
  private round(call: (s: Store, signal: AbortSignal) => Promise<unknown>, k: number, onOk?: (i: number) => void): Promise<void> {
    const signal = this.signal;
    return new Promise<void>((resolve, reject) => {
      let ok = 0;
      let failed = 0;
      const errors: string[] = [];
      const n = this.stores.length;
      const onAbort = () => reject(signal.reason ?? new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.stores.forEach((s, i) => {
        const p = this.track(() => call(s, signal));
        p.then(
          () => {
            onOk?.(i);
            if (++ok === k) {
              signal.removeEventListener('abort', onAbort);
              resolve();
            }
          },
          (e: unknown) => {
            failed++;
            errors.push(`replica ${i} (${s.name}): ${(e as Error)?.message ?? String(e)}`);
            if (n - failed < k && ok < k) {
              signal.removeEventListener('abort', onAbort);
              reject(new Error(`ideal operation: only ${n - failed} of ${n} replicas can answer, ${k} needed: ${errors.join('; ')}`));
            }
          },
        );
      });
    });
  }

  /**
   * Runs the rounds of `op`'s common case (`commonCaseRoundsOf`): in each, the calls `call` issues
   * for its ops together, each waiting for its k-th answer (q, or 1 for "first answer" rounds).
   */
  private async rounds(op: 'read' | 'write', call: (kind: StoreOp, k: number) => Promise<void>): Promise<IdealSample> {
    const t0 = performance.now();
    const roundsMs: number[] = [];
    for (const round of commonCaseRoundsOf(op, this.opts.variant, this.opts.schedule)) {
      const k = round.k === 'q' ? this.opts.q : 1;
      const start = performance.now();
      await Promise.all(round.ops.map((kind) => call(kind, k)));
      roundsMs.push(performance.now() - start);
    }
    return { op, ms: performance.now() - t0, roundsMs };
  }

  /** One ideal write to `register`: the rounds of SPEC §3 (fast: list, then temporary and eternal puts together). */
  async write(register: string): Promise<IdealSample> {
    const { temp, eternal } = this.keys(register);
    const tk = `${temp}${pad(this.seq++)}`;
    // the register's garbage collection, when the register does it: the previous temporary key is
    // removed at a replica once that replica acked the new temporary key and the eternal put
    // reached q (SPEC §3), in the background — the write never waits for it
    const old = this.lastTemp.get(register);
    this.lastTemp.set(register, tk);
    const acked = new Set<number>();
    const collected = new Set<number>();
    let eternalOk = 0;
    const collect = (i: number) => {
      if (old === undefined || collected.has(i) || !acked.has(i) || eternalOk < this.opts.q) return;
      collected.add(i);
      const s = this.stores[i] as Store;
      this.track(() => s.remove(old, { signal: this.signal })).catch(() => undefined);
    };
    let puts = 0;
    return this.rounds('write', (kind, k) => {
      if (kind === 'list') return this.round((s, signal) => s.list(temp, { signal }), k);
      if (kind !== 'put') throw new Error(`ideal write: no call for ${kind}`);
      if (puts++ === 0) {
        return this.round((s, signal) => s.put(tk, this.value, { signal }), k, (i) => {
          acked.add(i);
          collect(i);
        });
      }
      return this.round((s, signal) => s.put(eternal, this.value, { signal }), k, () => {
        if (++eternalOk === this.opts.q) for (let i = 0; i < this.stores.length; i++) collect(i);
      });
    });
  }

  /**
   * One ideal read of `register`: the rounds of SPEC §4 (fast: list of the temporary keys and get
   * of the eternal key together). A register not written yet takes the SDKs' not-found path, as
   * the register's read of it does.
   */
  async read(register: string): Promise<IdealSample> {
    const { temp, eternal } = this.keys(register);
    return this.rounds('read', (kind, k) => {
      if (kind === 'list') return this.round((s, signal) => s.list(temp, { signal }), k);
      // the classic read gets the newest temporary key; the fast one the eternal key
      const got = this.opts.schedule === 'fast' ? eternal : (this.lastTemp.get(register) ?? eternal);
      if (kind === 'get') return this.round((s, signal) => s.get(got, { signal }), k);
      // the atomic classic read writes back
      if (kind === 'put') return this.round((s, signal) => s.put(eternal, this.value, { signal }), k);
      throw new Error(`ideal read: no call for ${kind}`);
    });
  }

  /** Runs one call, kept in `pending` until it settles. */
  private track<T>(call: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = call();
    } catch (e) {
      p = Promise.reject(e);
    }
    const settled: Promise<unknown> = p.then(
      () => this.pending.delete(settled),
      () => this.pending.delete(settled),
    );
    this.pending.add(settled);
    return p;
  }

  /** Calls in flight (lingering ones included). */
  get inflightCount(): number {
    return this.pending.size;
  }

  /**
   * Waits up to `timeoutMs` for the calls still in flight to settle — once a fault is healed, a
   * silent replica's calls are answered, as the register's lingering calls are — then aborts the
   * rest. Returns how many were aborted.
   */
  async settle(timeoutMs = 10_000): Promise<number> {
    const drained = (ms: number) => withTimeout(Promise.all(this.pending), ms, 'calls in flight').catch(() => undefined);
    await drained(timeoutMs);
    const left = this.pending.size;
    if (left) {
      this.abort();
      // an aborted call settles at once in every adapter; a bound all the same
      await drained(1_000);
    }
    return left;
  }

  /** Removes every key this register wrote, on every replica (awaited; with every replica answering). */
  async removeAll(): Promise<void> {
    const signal = this.signal;
    const ns = `${this.opts.namespace ?? 'ideal'}/`;
    await Promise.all(
      this.stores.map(async (s) => {
        for (const k of await s.list(ns, { signal })) await s.remove(k, { signal });
      }),
    );
  }

  /** Aborts every call still in flight (lingering ones included); later operations start afresh. */
  // (on a replica still silent: aborting a call whose bytes a healed proxy then forwards cuts an
  // upload short; prefer `settle()` once the replica answers again)
  abort(): void {
    this.inflight.abort(new Error('ideal operations aborted'));
    this.inflight = new AbortController();
    this.signal = this.callSignal();
  }
}

/** One ideal operation, as floor.csv holds it: the cell key it is the floor of, then its figures. */
export type IdealRow = CellKey & {
  run_id: string;
  /** 1-based, per cell key and repetition (the cell's runs are told apart by `rep`). */
  rep: number;
  sample: number;
  ms: number;
  /** Each round's latency, ms, `;`-separated. */
  rounds_ms: string;
};

/** floor.csv's columns: the run, the cell key, the repetition, the sample and its figures. */
export const IDEAL_COLUMNS = ['run_id', ...CELL_KEY_COLUMNS, 'rep', 'sample', 'ms', 'rounds_ms'] as const;

export interface IdealCellProbeOptions {
  runId: string;
  /** Seeds the coin that puts each ideal operation before or after the cell's. @default 1 */
  seed?: number;
  /** How long the calls left behind may take to settle once the fault is healed. @default 10000 */
  settleMs?: number;
  onRow(row: IdealRow): void;
  /** A problem (the cell then has fewer samples, or none). */
  log(line: string): void;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The measured floor of every register cell (`RunOptions.cellProbe`): beside each operation of the
 * cell — right before or right after it, a seeded coin deciding, so that both follow the same mix
 * of predecessors — one ideal operation of the same kind on the register of the same name (a write after a write, a read after a read; a read of a register the cell has not
 * written finds nothing in both), under the cell's variant, schedule, value size and fault, through
 * the same replicas and proxies. The two alternate, so whatever drifts on the machine (load, the
 * emulators warming up, the calls a silent replica holds) hits both alike; each ideal operation
 * after a measured one is a row keyed by the cell. Its keys live under `floor/<cell>/` beside the
 * cell's own, and are removed once the fault is healed and the calls left behind have settled.
 */
export function idealCellProbe(o: IdealCellProbeOptions): CellProbe {
  const reps = new Map<string, number>();
  return {
    start(ctx: CellProbeContext): CellProbeRun | undefined {
      const { cell } = ctx;
      if (cell.variant !== 'regular' && cell.variant !== 'atomic') return undefined;
      if (cell.schedule !== 'fast' && cell.schedule !== 'classic') return undefined;
      if (!(cell.value_bytes > 0)) {
        o.log(`${cell.variant}/${cell.schedule}: no floor for values drawn from a distribution`);
        return undefined;
      }
      const id = cellId(cell);
      const rep = (reps.get(id) ?? 0) + 1;
      reps.set(id, rep);
      const ideal = new IdealRegister(ctx.replicas, {
        q: ctx.replicas.length - ctx.t,
        variant: cell.variant,
        schedule: cell.schedule,
        valueBytes: cell.value_bytes,
        namespace: `floor/${ctx.cellNs.replace(/\/$/, '')}`,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const sample = { read: 0, write: 0 };
      const coin = new Random(`${o.seed ?? 1}\u0000${id}\u0000${rep}`);
      let first = false;
      let failed = false;
      let healed: Promise<void> | undefined;
      const where = `${cell.variant}/${cell.schedule}${cell.fault ? ` under ${cell.fault}` : ''}`;
      const run = async (op: string, measured: boolean, register: string) => {
        if (failed || (op !== 'read' && op !== 'write')) return;
        try {
          const s = op === 'write' ? await ideal.write(register) : await ideal.read(register);
          if (measured) o.onRow({ run_id: o.runId, ...keyOf(cell, s.op), rep, sample: ++sample[s.op], ms: r3(s.ms), rounds_ms: s.roundsMs.map(r3).join(';') });
        } catch (e) {
          failed = true;
          if (!ctx.signal?.aborted) o.log(`${where}: ideal operations stopped after ${sample.write + sample.read}: ${(e as Error)?.message ?? String(e)}`);
        }
      };
      return {
        // the ideal operation runs right before or right after the cell's, a seeded coin deciding
        // each time: each of the two then follows the same mix of operations (what is still in
        // flight from a write, say, slows the next one down)
        async beforeOp(op, measured, register) {
          first = coin.chance(0.5);
          if (first) await run(op, measured, register);
        },
        async afterOp(op, measured, register) {
          if (!first) await run(op, measured, register);
        },
        afterHeal() {
          healed ??= (async () => {
            // once healed, the calls left behind are answered (a client that gave up on them
            // mid-upload can leave an emulator stuck: the Azure emulator then stops answering puts)
            const settleMs = o.settleMs ?? 10_000;
            const aborted = await ideal.settle(settleMs);
            if (aborted) o.log(`${where}: ${aborted} ideal call(s) still unanswered ${settleMs} ms after the fault was healed: aborted`);
            if (ctx.signal?.aborted) return;
            await ideal.removeAll().catch((e: unknown) => o.log(`floor keys of ${ctx.cellNs} not removed: ${(e as Error)?.message ?? String(e)} (the run's cleanup removes them)`));
          })();
          return healed;
        },
      };
    },
  };
}
