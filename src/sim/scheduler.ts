/**
 * The deterministic scheduler: a virtual clock and a queue of events ordered by (time, insertion).
 * Nothing runs on real timers. `run()` fires one event at a time and, after every event that may
 * resume client code, lets all pending promise continuations run (one macrotask turn drains the
 * microtask queue) before the next event, so the same seed always gives the same interleaving.
 */
import { setImmediate as immediate } from 'node:timers/promises';

export interface SimEvent {
  time: number;
  seq: number;
  label: string;
  /** True when firing may resume awaiting code (a reply, a client step): microtasks are drained after it. */
  wakes: boolean;
  fire: () => void;
}

/** Lets every queued promise continuation run. */
export function drainMicrotasks(): Promise<void> {
  return immediate();
}

export class Scheduler {
  /** Virtual time now. */
  now = 0;
  /** Events fired so far. */
  fired = 0;
  private seq = 0;
  private readonly heap: SimEvent[] = [];
  /** When set, every fired event's label is appended (for replay and determinism tests). */
  readonly trace: string[] | null;

  constructor(opts: { trace?: boolean } = {}) {
    this.trace = opts.trace ? [] : null;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Schedules `fire` at virtual time `at` (not before now). Infinity: never. */
  at(time: number, label: string, fire: () => void, wakes = true): void {
    if (!(time < Number.POSITIVE_INFINITY)) return;
    const ev: SimEvent = { time: Math.max(time, this.now), seq: this.seq++, label, wakes, fire };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (less(h[p], ev)) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
  }

  /** Schedules `fire` after `delay` virtual time units. */
  after(delay: number, label: string, fire: () => void, wakes = true): void {
    this.at(this.now + delay, label, fire, wakes);
  }

  /** A promise resolved at virtual time now + delay. */
  sleep(delay: number, label = 'sleep'): Promise<void> {
    return new Promise((resolve) => this.after(delay, label, resolve));
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < h.length && less(h[l], best)) {
          m = l;
          best = h[l];
        }
        if (r < h.length && less(h[r], best)) m = r;
        if (m === i) break;
        h[i] = h[m];
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  /**
   * Fires events until none is left (quiescence) or `maxEvents` fired.
   * Returns false when it stopped at the event limit.
   */
  async run(maxEvents = 1_000_000): Promise<boolean> {
    await drainMicrotasks();
    let budget = maxEvents;
    while (this.heap.length > 0) {
      if (budget-- <= 0) return false;
      const ev = this.pop()!;
      this.now = ev.time;
      this.fired++;
      if (this.trace) this.trace.push(`${ev.time.toFixed(3)} ${ev.label}`);
      ev.fire();
      if (ev.wakes) await drainMicrotasks();
    }
    return true;
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
