/**
 * A simulated network of in-memory key-value stores. Each client talks to each replica through its
 * own `SimPort` (a `Store`); every call becomes two scheduler events: the effect, applied at the
 * replica (the call's linearization point: a get or list reads the state at that instant), and the
 * reply, delivered to the caller later. A strategy picks both delays, so replies can come long after
 * effects, effects can land after the caller moved on (lingering puts and removes), and a crashed
 * replica never answers (or answers with errors). A crashed client issues nothing more and hears
 * nothing more, while the calls it already sent may still land.
 */
import { setMaxListeners } from 'node:events';
import { StoreError, type StoreOp } from '../errors.js';
import { parseKey } from '../register/index.js';
import { DEFAULT_CAPABILITIES, sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { guardStoreCalls } from '../store-args.js';
import { abortError } from '../util/abort.js';
import type { Scheduler } from './scheduler.js';

export type KeyKind = 'temp' | 'eternal' | 'other';

/** Everything a strategy may look at to delay a call. */
export interface CallInfo {
  /** Sequence number of the call in the whole simulation. */
  seq: number;
  client: string;
  clientIndex: number;
  replica: number;
  op: StoreOp;
  /** Key, or list prefix. */
  key: string;
  keyKind: KeyKind;
  /** The client's operation that issued the call, or `background` after it returned (GC). */
  phase: 'write' | 'read' | 'remove' | 'background';
  /** Index of that operation in the client's sequence. */
  opIndex: number;
  /** Virtual time of the call. */
  at: number;
}

/** Delays of one call; Infinity: never. */
export interface CallDelays {
  /** From the call to its effect at the replica. */
  effect: number;
  /** From the effect to the reply at the caller. */
  reply: number;
}

export type CrashMode = 'hang' | 'error';

export interface NetworkHooks {
  delays(call: CallInfo): CallDelays;
  /** Told of every effect applied at a replica (for space accounting). */
  onEffect?(call: CallInfo, replica: SimReplica): void;
  /** Told of every call issued and settled (for operation accounting). */
  onCall?(call: CallInfo, event: 'issued' | 'effect' | 'settled'): void;
}

/** One simulated key-value store: a sorted map, and whether (and how) it crashed. */
export class SimReplica {
  readonly data = new Map<string, Uint8Array>();
  crashed: CrashMode | null = null;
  /** Per key: the call whose put last created or overwrote it. */
  readonly writer = new Map<string, CallInfo>();
  constructor(
    readonly index: number,
    readonly name: string,
  ) {}

  keysOf(register?: string): string[] {
    const out: string[] = [];
    for (const k of this.data.keys()) {
      if (register === undefined) out.push(k);
      else {
        const p = parseKey(k);
        if (p && p.register === register) out.push(k);
      }
    }
    return out;
  }
}

/** Classifies a replica key of the register layout. */
export function keyKind(key: string): KeyKind {
  const p = parseKey(key);
  return p ? p.kind : 'other';
}

export class SimNetwork {
  readonly replicas: SimReplica[];
  private seq = 0;
  /** Calls issued, effects applied, replies delivered. */
  readonly stats = { calls: 0, effects: 0, replies: 0, lostToCrash: 0 };

  constructor(
    readonly scheduler: Scheduler,
    n: number,
    readonly hooks: NetworkHooks,
  ) {
    this.replicas = Array.from({ length: n }, (_, i) => new SimReplica(i, `kvs${String.fromCharCode(65 + i)}`));
  }

  crashReplica(i: number, mode: CrashMode): void {
    this.replicas[i].crashed = mode;
  }

  /** Issues a call from a port; resolves or rejects on delivery of the reply. */
  call<T>(port: SimPort, op: StoreOp, key: string, apply: (r: SimReplica) => T, opts?: CallOptions): Promise<T> {
    const site = { store: port.name, op, key };
    if (opts?.signal?.aborted) return Promise.reject(abortError(site, opts.signal));
    const client = port.client;
    if (client.crashed) return new Promise<T>(() => {}); // a crashed client issues nothing
    const info: CallInfo = {
      seq: this.seq++,
      client: client.id,
      clientIndex: client.index,
      replica: port.replica.index,
      op,
      key,
      keyKind: op === 'list' ? 'other' : keyKind(key),
      phase: client.phase,
      opIndex: client.opIndex,
      at: this.scheduler.now,
    };
    this.stats.calls++;
    this.hooks.onCall?.(info, 'issued');
    const d = this.hooks.delays(info);
    const replica = port.replica;
    const label = `${client.id}>${replica.name} ${op} ${key} #${info.seq}`;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        this.hooks.onCall?.(info, 'settled');
        reject(abortError(site, opts?.signal));
      };
      if (opts?.signal) {
        // one operation's signal covers many calls, some of which never return (crashed replicas)
        setMaxListeners(0, opts.signal);
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      const deliver = (fn: () => void) => {
        if (settled) return;
        if (client.crashed) return; // the client is gone: it hears nothing
        settled = true;
        opts?.signal?.removeEventListener('abort', onAbort);
        this.stats.replies++;
        this.hooks.onCall?.(info, 'settled');
        fn();
      };
      this.scheduler.after(
        d.effect,
        `effect ${label}`,
        () => {
          if (replica.crashed === 'hang') {
            this.stats.lostToCrash++;
            this.hooks.onCall?.(info, 'settled');
            return;
          }
          if (replica.crashed === 'error') {
            this.scheduler.after(d.reply, `error ${label}`, () =>
              deliver(() =>
                reject(new StoreError({ kind: 'Unavailable', store: port.name, op, key, detail: 'simulated replica crash' })),
              ),
            );
            return;
          }
          const result = apply(replica);
          this.stats.effects++;
          this.hooks.onCall?.(info, 'effect');
          if (op === 'put') replica.writer.set(key, info);
          this.hooks.onEffect?.(info, replica);
          this.scheduler.after(d.reply, `reply ${label}`, () => {
            if (replica.crashed === 'hang') {
              this.hooks.onCall?.(info, 'settled');
              return; // crashed before answering
            }
            deliver(() => resolve(result));
          });
        },
        false,
      );
    });
  }
}

/** What the network needs to know about a client. */
export interface SimClientState {
  readonly id: string;
  readonly index: number;
  crashed: boolean;
  phase: CallInfo['phase'];
  opIndex: number;
}

/** One client's connection to one replica: a Store. */
export class SimPort implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities = DEFAULT_CAPABILITIES;
  constructor(
    readonly network: SimNetwork,
    readonly replica: SimReplica,
    readonly client: SimClientState,
  ) {
    this.name = replica.name;
    // the same argument checks as every real store: a bad call never becomes a scheduler event
    guardStoreCalls(this);
  }

  put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const copy = value.slice();
    return this.network.call(this, 'put', key, (r) => {
      r.data.set(key, copy);
    }, opts);
  }

  get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    return this.network.call(this, 'get', key, (r) => {
      const v = r.data.get(key);
      return v === undefined ? null : v.slice();
    }, opts);
  }

  list(prefix: string, opts?: CallOptions): Promise<string[]> {
    return this.network.call(this, 'list', prefix, (r) => {
      const out: string[] = [];
      for (const k of r.data.keys()) if (k.startsWith(prefix)) out.push(k);
      return sortKeys(out);
    }, opts);
  }

  remove(key: string, opts?: CallOptions): Promise<void> {
    return this.network.call(this, 'remove', key, (r) => {
      r.data.delete(key);
    }, opts);
  }

  async close(): Promise<void> {}
}
