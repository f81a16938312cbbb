/** Test doubles and fixtures for the register tests. */
import { createMemoryStore, type MemoryStore } from '../../src/adapters/memory.js';
import { InterceptingStore } from '../../src/layers/forwarding.js';
import type { CallOptions, Store } from '../../src/store.js';
import { abortError } from '../../src/util/abort.js';
import { parseKey } from '../../src/register/keys.js';

export type Op = 'put' | 'get' | 'list' | 'remove';
export type Pred = (op: Op, key: string) => boolean;

interface Held {
  op: Op;
  key: string;
  phase: 'request' | 'response';
  release: () => void;
}

/**
 * A store whose calls can be held by rule: at the `request` (the call has not reached the inner store)
 * or at the `response` (it took effect, the answer is held). Held calls are released by the test, and
 * reject when their signal fires. Every call is logged.
 */
export class GateStore extends InterceptingStore {
  private rules: { pred: Pred; phase: 'request' | 'response' }[] = [];
  readonly held: Held[] = [];
  readonly log: { op: Op; key: string }[] = [];

  constructor(inner: Store, label = 'gate') {
    super(inner, label);
  }

  /** Holds calls matching `pred` from now on; returns a function that removes the rule. */
  hold(pred: Pred, phase: 'request' | 'response' = 'request'): () => void {
    const rule = { pred, phase };
    this.rules.push(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  clearRules(): void {
    this.rules = [];
  }

  /** Releases held calls matching `pred` (all when omitted), oldest first; returns how many. */
  release(pred: Pred = () => true): number {
    const mine = this.held.filter((h) => pred(h.op, h.key));
    for (const h of mine) {
      this.held.splice(this.held.indexOf(h), 1);
      h.release();
    }
    return mine.length;
  }

  heldCount(pred: Pred = () => true): number {
    return this.held.filter((h) => pred(h.op, h.key)).length;
  }

  private gate(op: Op, key: string, phase: 'request' | 'response', signal?: AbortSignal): Promise<void> {
    if (!this.rules.some((r) => r.phase === phase && r.pred(op, key))) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const h: Held = {
        op,
        key,
        phase,
        release: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const idx = this.held.indexOf(h);
        if (idx >= 0) this.held.splice(idx, 1);
        reject(abortError({ store: this.name, op, key }, signal));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.held.push(h);
    });
  }

  protected override async around<T>(op: Op, key: string, opts: CallOptions | undefined, call: () => Promise<T>): Promise<T> {
    this.log.push({ op, key });
    await this.gate(op, key, 'request', opts?.signal);
    const r = await call();
    await this.gate(op, key, 'response', opts?.signal);
    return r;
  }

  override put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const copy = value.slice();
    return super.put(key, copy, opts);
  }
}

/** n memory stores (the raw data, for inspecting keys). */
export function memories(n: number): MemoryStore[] {
  return Array.from({ length: n }, (_, i) => createMemoryStore({ name: `m${i}` }));
}

/** Lets pending promise callbacks run (several macrotask turns). */
export async function flush(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Keys of a register at one memory store, split into temporary and eternal. */
export async function copiesAt(store: Store, encodedRegister?: string): Promise<{ temp: string[]; eternal: string[] }> {
  const keys = await store.list(encodedRegister ? `${encodedRegister}/` : '');
  const temp: string[] = [];
  const eternal: string[] = [];
  for (const k of keys) {
    const p = parseKey(k);
    if (p?.kind === 'temp') temp.push(k);
    else if (p?.kind === 'eternal') eternal.push(k);
  }
  return { temp, eternal };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

export const MATRIX = [
  { variant: 'regular', schedule: 'classic' },
  { variant: 'regular', schedule: 'fast' },
  { variant: 'atomic', schedule: 'classic' },
  { variant: 'atomic', schedule: 'fast' },
] as const;

export const isTemp = (reg: string): Pred => (_op, key) => key.startsWith(`${reg}/t/`);
export const isEternal = (reg: string): Pred => (_op, key) => key === `${reg}/e`;
