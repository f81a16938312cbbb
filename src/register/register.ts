/**
 * The robust multi-writer register of SPEC.md: write (§3) with garbage collection under the
 * acknowledgement rule, read (§4) in the classic and fast schedules, regular and atomic.
 *
 * One RegisterClient is one client (one clientId) over the n replicas; it serves every register name.
 */
import { StoreError } from '../errors.js';
import type { CallOptions } from '../store.js';
import { abortError, anySignal } from '../util/abort.js';
import {
  decodeEternal,
  decodeRegister,
  encodeEternal,
  encodeRegister,
  eternalKey,
  isHashedRegister,
  listPrefixFor,
  parseKey,
  parseTempListing,
  tempKey,
  tempPrefix,
  type EternalRecord,
  type TempEntry,
} from './keys.js';
import { ReplicaSet, Round, Waiter, quorumError, type OpContext, type Outcome } from './quorum.js';
import { compareTs, compareTsOrNull, type Timestamp } from './timestamp.js';
import type { GcMode, ReadResult, RegisterPolicy, Schedule, Variant, WriteResult } from './types.js';

const EMPTY = new Uint8Array(0);

export interface RegisterClientConfig {
  rs: ReplicaSet;
  t: number;
  q: number;
  variant: Variant;
  schedule: Schedule;
  clientId: string;
  gc: GcMode;
  operationTimeoutMs?: number;
  policy: RegisterPolicy;
}

/** A value chosen by a read. */
interface Chosen {
  ts: Timestamp;
  value: Uint8Array;
  tombstone: boolean;
}

/** Largest entry of a list of temporary keys (null when empty). */
function newest(entries: readonly TempEntry[]): TempEntry | null {
  let best: TempEntry | null = null;
  for (const e of entries) if (best === null || compareTs(e.ts, best.ts) > 0) best = e;
  return best;
}

/**
 * One temporary-key put of this client (a write's own key or an atomic read's write-back) that has not
 * settled at every replica yet.
 */
interface OwnPut {
  ts: Timestamp;
  key: string;
  /** Per replica: the put has not settled there yet. */
  inflight: boolean[];
  /** Per replica: a later write's GC there wants the key removed once the put settles. */
  removeOnSettle: boolean[];
}

/**
 * This client's temporary-key puts still in flight, per register. A later write's list at replica x
 * can be answered before such a put lands at x; the later write's GC then does not see the key, and
 * without this record it would stay behind as a third copy after quiescence. The later write removes
 * it at x itself, under the same rule as every GC removal: only once x acknowledged the later (larger)
 * key, so x's largest temporary key never decreases.
 */
class OwnPuts {
  private readonly byRegister = new Map<string, Set<OwnPut>>();

  constructor(private readonly rs: ReplicaSet) {}

  /** Records a put of `key` issued to all n replicas; call the returned function as each settles. */
  track(reg: string, key: string, ts: Timestamp): (i: number) => void {
    const put: OwnPut = { ts, key, inflight: new Array<boolean>(this.rs.n).fill(true), removeOnSettle: new Array<boolean>(this.rs.n).fill(false) };
    let set = this.byRegister.get(reg);
    if (set === undefined) this.byRegister.set(reg, (set = new Set()));
    set.add(put);
    let left = this.rs.n;
    return (i: number) => {
      if (!put.inflight[i]) return;
      put.inflight[i] = false;
      if (put.removeOnSettle[i] && !this.rs.closed) this.rs.call(i, (store, signal) => store.remove(put.key, { signal }), () => undefined);
      if (--left === 0) {
        set.delete(put);
        if (set.size === 0 && this.byRegister.get(reg) === set) this.byRegister.delete(reg);
      }
    };
  }

  /** Per replica, the puts of `reg` in flight there right now (taken just before a write lists). */
  inflightAt(reg: string): OwnPut[][] {
    const out: OwnPut[][] = Array.from({ length: this.rs.n }, () => []);
    for (const p of this.byRegister.get(reg) ?? []) for (let i = 0; i < this.rs.n; i++) if (p.inflight[i]) out[i]?.push(p);
    return out;
  }
}

/** Per-replica GC of one write: remove the keys x listed below ts once x acked tempKey(ts) and the eternal put reached q. */
class WriteGc {
  ts: Timestamp | null = null;
  eternalAtQuorum = false;
  /** Per replica: this client's own puts that were in flight when this write listed there. */
  ownInflight: OwnPut[][] = [];
  readonly listed: (TempEntry[] | undefined)[];
  readonly acked: boolean[];
  readonly done: boolean[];
  /** Replicas whose GC has finished (all removes settled, or nothing to remove). */
  finished = 0;

  constructor(
    private readonly rs: ReplicaSet,
    private readonly waitsForOwnAck: boolean,
    private readonly waiter: Waiter,
  ) {
    this.listed = new Array<TempEntry[] | undefined>(rs.n).fill(undefined);
    this.acked = new Array<boolean>(rs.n).fill(false);
    this.done = new Array<boolean>(rs.n).fill(false);
  }

  tryAll(): void {
    for (let i = 0; i < this.rs.n; i++) this.tryAt(i);
  }

  tryAt(i: number): void {
    const ts = this.ts;
    const listed = this.listed[i];
    if (ts === null || this.done[i] || listed === undefined || !this.eternalAtQuorum) return;
    if (this.waitsForOwnAck && !this.acked[i]) return;
    if (this.rs.closed) return;
    this.done[i] = true;
    const below = listed.filter((e) => compareTs(e.ts, ts) < 0);
    // own older keys the listing may have missed because their put was still on its way to x
    const unseen = (this.ownInflight[i] ?? []).filter((p) => compareTs(p.ts, ts) < 0 && !listed.some((e) => compareTs(e.ts, p.ts) === 0));
    for (const p of unseen) {
      if (p.inflight[i]) p.removeOnSettle[i] = true;
      else below.push({ ts: p.ts, key: p.key, tombstone: false });
    }
    let left = below.length;
    const oneDone = () => {
      if (--left > 0) return;
      this.finished++;
      this.waiter.wake();
    };
    if (left === 0) {
      left = 1;
      oneDone();
    }
    for (const e of below) this.rs.call(i, (store, signal) => store.remove(e.key, { signal }), oneDone);
  }
}

export class RegisterClient {
  readonly rs: ReplicaSet;
  readonly n: number;
  readonly t: number;
  readonly q: number;
  readonly variant: Variant;
  readonly schedule: Schedule;
  readonly clientId: string;
  readonly gc: GcMode;
  readonly policy: RegisterPolicy;
  private readonly operationTimeoutMs?: number;
  private readonly ownPuts: OwnPuts;

  constructor(cfg: RegisterClientConfig) {
    this.rs = cfg.rs;
    this.n = cfg.rs.n;
    this.t = cfg.t;
    this.q = cfg.q;
    this.variant = cfg.variant;
    this.schedule = cfg.schedule;
    this.clientId = cfg.clientId;
    this.gc = cfg.gc;
    this.policy = cfg.policy;
    this.operationTimeoutMs = cfg.operationTimeoutMs;
    this.ownPuts = new OwnPuts(cfg.rs);
  }

  /**
   * The context of one operation serving the user's call `op(key)`: the signal it waits under (the
   * caller's, the operation timeout and close). A closed store, or a caller's signal that has
   * already fired, fails the call here, before any replica is asked anything.
   */
  private opContext(op: string, key: string, opts?: CallOptions): OpContext {
    if (this.rs.closed) {
      throw new StoreError({ kind: 'Unavailable', store: this.rs.storeName, op, key, retryable: false, detail: 'the robust store is closed' });
    }
    const caller = opts?.signal;
    if (caller?.aborted) throw abortError({ store: this.rs.storeName, op, key }, caller);
    const timeout = this.operationTimeoutMs !== undefined ? AbortSignal.timeout(this.operationTimeoutMs) : undefined;
    return { op, key, caller, timeout, timeoutMs: this.operationTimeoutMs, signal: anySignal(caller, timeout, this.rs.closeSignal) };
  }

  /** Waits until `round` has q successes (QuorumError when impossible, timed out or aborted). */
  private awaitQuorum(w: Waiter, round: Round<unknown>, ctx: OpContext): Promise<true> {
    return w.until(() => round.reached(this.q), ctx.signal, () => round.error(this.q, true));
  }

  // -------------------------------------------------------------------------------------------
  // Write (SPEC §3)

  /** Writes `value` (or a tombstone) to `register`; `call` is the user's call, named in errors (put, remove, write). */
  async write(register: string, value: Uint8Array, opts?: CallOptions & { tombstone?: boolean }, call = 'write'): Promise<WriteResult> {
    const tombstone = opts?.tombstone ?? false;
    const reg = encodeRegister(register);
    const ctx = this.opContext(call, register, opts);
    const signal = ctx.signal;
    const payload = tombstone ? EMPTY : value.slice(); // lingering puts must not see the caller reuse its buffer
    const w = new Waiter();
    const gc = new WriteGc(this.rs, this.policy.gcWaitsForOwnAck, w);
    gc.ownInflight = this.ownPuts.inflightAt(reg);

    // Round 1: timestamp.
    const lists = new Round<string[]>(this.rs, ctx, 'list', (s, _i, sig) => s.list(tempPrefix(reg), { signal: sig }), w, (i, o) => {
      if (o.ok) {
        gc.listed[i] = parseTempListing(reg, o.value);
        gc.tryAt(i);
      }
    });
    await this.awaitQuorum(w, lists, ctx);
    let max: Timestamp | null = null;
    for (const { i } of lists.values()) {
      const top = newest(gc.listed[i] ?? []);
      if (top && compareTsOrNull(top.ts, max) > 0) max = top.ts;
    }
    const ts = this.policy.nextTimestamp(max, this.clientId);
    gc.ts = ts;

    // Store round(s).
    const tk = tempKey(reg, ts, tombstone);
    const eternalBytes = encodeEternal({
      ts,
      tombstone,
      value: payload,
      ...(isHashedRegister(reg) ? { name: register } : {}),
    });
    const putTemp = () => {
      const settledAt = this.ownPuts.track(reg, tk, ts);
      return new Round<void>(this.rs, ctx, 'put', (s, _i, sig) => s.put(tk, payload, { signal: sig }), w, (i, o) => {
        settledAt(i);
        if (o.ok) {
          gc.acked[i] = true;
          gc.tryAt(i);
        }
      });
    };
    const putEternal = () => {
      const r: Round<void> = new Round<void>(this.rs, ctx, 'put', (s, _i, sig) => s.put(eternalKey(reg), eternalBytes, { signal: sig }), w, () => {
        if (!gc.eternalAtQuorum && r.ok >= this.q) {
          gc.eternalAtQuorum = true;
          gc.tryAll();
        }
      });
      return r;
    };
    if (this.schedule === 'fast') {
      const temp = putTemp();
      const eternal = putEternal();
      await w.until(
        () => {
          const a = temp.reached(this.q);
          const b = eternal.reached(this.q);
          return a && b ? true : undefined;
        },
        signal,
        () => (temp.ok < this.q ? temp : eternal).error(this.q, true),
      );
    } else {
      const temp = putTemp();
      await this.awaitQuorum(w, temp, ctx);
      const eternal = putEternal();
      await this.awaitQuorum(w, eternal, ctx);
    }

    if (this.policy.testExtraRequest || this.policy.testExtraRound) await this.injected(reg, w, ctx);

    // Synchronous GC: wait until GC has finished at q replicas (never for a particular one, so the
    // write stays wait-free); the other replicas follow in the background. A timeout or abort here
    // does not fail the write, which has already taken effect.
    if (this.gc === 'sync') {
      await w
        .until(() => (gc.finished >= this.q ? true : undefined), signal, () => new Error('gc wait aborted'))
        .catch(() => undefined);
    }
    return { ts };
  }

  // -------------------------------------------------------------------------------------------
  // Read (SPEC §4)

  /** Reads `register`; `call` is the user's call, named in errors (get, read). */
  async read(register: string, opts?: CallOptions, call = 'read'): Promise<ReadResult> {
    const reg = encodeRegister(register);
    const ctx = this.opContext(call, register, opts);
    const signal = ctx.signal;
    const w = new Waiter();
    const q = this.q;
    let rounds = 0;
    /** Largest temporary key each replica listed during this read (its largest key never decreases). */
    const listedMax: (Timestamp | null | undefined)[] = new Array<Timestamp | null | undefined>(this.n).fill(undefined);
    const onList = (i: number, o: Outcome<string[]>) => {
      if (!o.ok) return;
      const top = newest(parseTempListing(reg, o.value));
      const cur = listedMax[i];
      listedMax[i] = cur === undefined ? (top?.ts ?? null) : compareTsOrNull(top?.ts ?? null, cur) > 0 ? (top?.ts ?? null) : cur;
    };
    const listRound = () => new Round<string[]>(this.rs, ctx, 'list', (s, _i, sig) => s.list(tempPrefix(reg), { signal: sig }), w, onList);
    const tsrOf = (round: Round<string[]>): TempEntry | null => {
      let best: TempEntry | null = null;
      for (const { value } of round.values()) {
        const top = newest(parseTempListing(reg, value));
        if (top && (best === null || compareTs(top.ts, best.ts) > 0)) best = top;
      }
      return best;
    };

    let chosen: Chosen | null = null;
    let lists = listRound();
    rounds = 1;
    let tsr: TempEntry | null;
    if (this.schedule === 'fast') {
      const eternals = new Round<EternalRecord | null>(this.rs, ctx, 'get', async (s, _i, sig) => {
        const b = await s.get(eternalKey(reg), { signal: sig });
        return b === null ? null : decodeEternal(b);
      }, w);
      await w.until(
        () => {
          const a = lists.reached(q);
          const b = eternals.reached(q);
          return a && b ? true : undefined;
        },
        signal,
        () => (lists.ok < q ? lists : eternals).error(q, true),
      );
      tsr = tsrOf(lists);
      let top: EternalRecord | null = null;
      for (const { value } of eternals.values()) if (value && (top === null || compareTs(value.ts, top.ts) > 0)) top = value;
      if (top && this.policy.acceptEternal(top.ts, tsr?.ts ?? null)) chosen = { ts: top.ts, value: top.value, tombstone: top.tombstone };
    } else {
      await this.awaitQuorum(w, lists, ctx);
      tsr = tsrOf(lists);
    }

    // Classic steps: get tempKey(tsr) everywhere (eternal where it is gone); retry with a fresh list.
    if (chosen === null && tsr !== null) {
      let found: { chosen: Chosen; depth: number } | null = null;
      const phase = (entry: TempEntry) => {
        const state = { negative: 0, failed: 0, answered: 0 };
        const outcomes: (Outcome<unknown> | undefined)[] = new Array<Outcome<unknown> | undefined>(this.n).fill(undefined);
        for (let i = 0; i < this.n; i++) {
          const settleNegative = (o: Outcome<unknown>) => {
            outcomes[i] = o;
            state.answered++;
            if (o.ok) state.negative++;
            else state.failed++;
            w.wake();
          };
          this.rs.call(i, (s, sig) => s.get(entry.key, { signal: sig }), (o) => {
            if (o.ok && o.value !== null) {
              outcomes[i] = { ok: true, value: null };
              state.answered++;
              if (found === null) found = { chosen: { ts: entry.ts, value: o.value, tombstone: entry.tombstone }, depth: 1 };
              w.wake();
              return;
            }
            if (!o.ok) return settleNegative(o);
            // The temporary key is gone at i: ask i for the eternal key.
            this.rs.call(i, async (s, sig) => {
              const b = await s.get(eternalKey(reg), { signal: sig });
              return b === null ? null : decodeEternal(b);
            }, (e) => {
              if (e.ok && e.value !== null && this.policy.acceptEternal(e.value.ts, entry.ts)) {
                outcomes[i] = { ok: true, value: null };
                state.answered++;
                if (found === null) found = { chosen: { ts: e.value.ts, value: e.value.value, tombstone: e.value.tombstone }, depth: 2 };
                w.wake();
                return;
              }
              settleNegative(e);
            });
          });
        }
        return { state, outcomes };
      };

      let ph: ReturnType<typeof phase> | null = null;
      let phKey = '';
      for (;;) {
        if (ph !== null && phKey === tsr.key && ph.state.answered < this.n) {
          // The fresh list names the same key and this attempt still has answers outstanding: wait for
          // one of them (or a late answer from any attempt) instead of asking again at once.
          const cur: ReturnType<typeof phase> = ph;
          const before = cur.state.answered;
          await w.until(
            () => (found !== null || cur.state.answered > before ? true : undefined),
            signal,
            () => quorumError(this.rs, ctx, 'get', q, cur.state.negative, cur.outcomes, true),
          );
          if (found !== null) {
            rounds += 1;
            break;
          }
        } else {
          ph = phase(tsr);
          phKey = tsr.key;
          const cur: ReturnType<typeof phase> = ph;
          const verdict = await w.until<'found' | 'retry'>(
            () => {
              if (found !== null) return 'found';
              if (cur.state.negative >= q) return 'retry';
              if (cur.state.answered === this.n) {
                throw quorumError(this.rs, ctx, 'get', q, cur.state.negative, cur.outcomes, false);
              }
              return undefined;
            },
            signal,
            () => quorumError(this.rs, ctx, 'get', q, cur.state.negative, cur.outcomes, true),
          );
          if (verdict === 'found') {
            rounds += (found as { depth: number } | null)?.depth ?? 1;
            break;
          }
          rounds += 2;
        }
        lists = listRound();
        rounds += 1;
        await this.awaitQuorum(w, lists, ctx);
        if (found !== null) {
          break; // a late answer from an earlier attempt arrived meanwhile
        }
        const fresh = tsrOf(lists);
        if (fresh === null) break; // the keys seen before were only at replicas that dropped out: empty
        tsr = fresh;
      }
      chosen = (found as { chosen: Chosen } | null)?.chosen ?? null;
    }

    // Atomic: make sure ts* is at a quorum before returning.
    let wroteBack = false;
    if (chosen !== null && this.variant === 'atomic' && this.policy.atomicWriteBack) {
      const ts = chosen.ts;
      const seenAt = listedMax.filter((m) => m !== undefined && m !== null && compareTs(m, ts) >= 0).length;
      if (this.schedule === 'classic' || seenAt < q) {
        const key = tempKey(reg, ts, chosen.tombstone);
        const bytes = chosen.tombstone ? EMPTY : chosen.value.slice();
        const settledAt = this.ownPuts.track(reg, key, ts);
        const wb = new Round<void>(this.rs, ctx, 'put', (s, _i, sig) => s.put(key, bytes, { signal: sig }), w, (i) => settledAt(i));
        await this.awaitQuorum(w, wb, ctx);
        rounds += 1;
        wroteBack = true;
      }
    }

    if (this.policy.testExtraRequest || this.policy.testExtraRound) rounds += await this.injected(reg, w, ctx);

    if (chosen === null) return { ts: null, value: null, tombstone: false, rounds, wroteBack };
    return {
      ts: chosen.ts,
      value: chosen.tombstone ? null : chosen.value,
      tombstone: chosen.tombstone,
      rounds,
      wroteBack,
    };
  }

  /**
   * TEST ONLY (policy.testExtraRequest / testExtraRound, src/util/test-inject.ts): the regressions
   * the gate's tests inject. An extra request is one background get per replica; an extra round is
   * one more list round the operation waits for at a quorum. Returns the rounds it added.
   */
  private async injected(reg: string, w: Waiter, ctx: OpContext): Promise<number> {
    if (this.policy.testExtraRequest) {
      for (let i = 0; i < this.n; i++) this.rs.call(i, (s, sig) => s.get(eternalKey(reg), { signal: sig }), () => undefined);
    }
    if (!this.policy.testExtraRound) return 0;
    const again = new Round<string[]>(this.rs, ctx, 'list', (s, _i, sig) => s.list(tempPrefix(reg), { signal: sig }), w);
    await this.awaitQuorum(w, again, ctx);
    return 1;
  }

  // -------------------------------------------------------------------------------------------
  // Listing of live register names (SPEC §5)

  async listNames(prefix: string, opts?: CallOptions): Promise<string[]> {
    const ctx = this.opContext('list', prefix, opts);
    const w = new Waiter();
    const lists = new Round<string[]>(this.rs, ctx, 'list', (s, _i, sig) => s.list(listPrefixFor(prefix), { signal: sig }), w);
    await this.awaitQuorum(w, lists, ctx);
    const top = new Map<string, TempEntry>();
    for (const { value } of lists.values()) {
      for (const key of value) {
        const p = parseKey(key);
        if (p === null || p.kind !== 'temp') continue;
        const cur = top.get(p.register);
        if (cur === undefined || compareTs(p.entry.ts, cur.ts) > 0) top.set(p.register, p.entry);
      }
    }
    const names: string[] = [];
    const hashed: string[] = [];
    for (const [reg, entry] of top) {
      if (entry.tombstone) continue;
      const d = decodeRegister(reg);
      if (d === null) continue;
      if ('name' in d) {
        if (d.name.startsWith(prefix)) names.push(d.name);
      } else if (d.readablePrefix.startsWith(prefix) || prefix.startsWith(d.readablePrefix)) {
        hashed.push(reg);
      }
    }
    const full = await Promise.all(hashed.map((reg) => this.hashedName(reg, ctx)));
    for (const name of full) if (name !== null && name.startsWith(prefix)) names.push(name);
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The full name of a hashed register, from the header of its eternal key (null if none is readable yet). */
  private async hashedName(reg: string, ctx: OpContext): Promise<string | null> {
    const w = new Waiter();
    let name: string | null = null;
    const round = new Round<EternalRecord | null>(this.rs, ctx, 'get', async (s, _i, sig) => {
      const b = await s.get(eternalKey(reg), { signal: sig });
      return b === null ? null : decodeEternal(b);
    }, w, (_i, o) => {
      if (name === null && o.ok && o.value?.name !== undefined && encodeRegister(o.value.name) === reg) name = o.value.name;
    });
    await w.until(
      () => (name !== null || round.ok >= this.q || round.pending === 0 ? true : undefined),
      ctx.signal,
      () => round.error(this.q, true),
    );
    return name;
  }
}
