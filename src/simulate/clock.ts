/**
 * Clocks for simulations. A `VirtualClock` runs callbacks in virtual time: it keeps a queue of
 * timed events, delivers them one at a time in (time, insertion) order and lets every promise
 * continuation run between two events, so the code under test (the register) runs unchanged and
 * a run is deterministic for a given seed. A `RealClock` runs the same callbacks on real timers,
 * which is how a scenario is validated against the event loop of a real process.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** A scheduled callback; `cancel()` is idempotent. */
export interface Scheduled {
  cancel(): void;
}

/** What a simulated replica and the workload need from time. */
export interface Clock {
  /** Whether time is virtual (deterministic) or real. */
  readonly kind: 'virtual' | 'real';
  /** Milliseconds since the clock started. */
  now(): number;
  /** Runs `fn` after `delayMs` milliseconds (clamped at 0). */
  schedule(delayMs: number, fn: () => void): Scheduled;
  /** Resolves when `promise` settles, advancing time as needed; returns its value or throws its error. */
  drive<T>(promise: Promise<T>): Promise<T>;
}

interface QueuedEvent {
  time: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Thrown when a virtual run can make no progress (every pending operation waits for a call that never returns). */
export class SimulationStalledError extends Error {
  constructor(readonly at: number) {
    super(
      `the simulation stalled at virtual time ${at.toFixed(3)} ms: no event is pending but the awaited work has not finished ` +
        `(more replicas are crashed or down than the register tolerates, or an operation awaits a call that never returns)`,
    );
    this.name = 'SimulationStalledError';
  }
}

/** Options of a virtual clock. */
export interface VirtualClockOptions {
  /**
   * Stops a run that would process more events than this (a runaway simulation).
   * @default 50_000_000
   */
  maxEvents?: number;
}

/** Event-driven virtual time. Not re-entrant: one `drive` at a time. */
export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  private heap: QueuedEvent[] = [];
  private seq = 0;
  private time = 0;
  private driving = false;
  /** Events delivered so far (for reports and tests). */
  eventsProcessed = 0;
  private readonly maxEvents: number;

  constructor(opts: VirtualClockOptions = {}) {
    this.maxEvents = opts.maxEvents ?? 50_000_000;
  }

  now(): number {
    return this.time;
  }

  /** Number of events still queued (cancelled ones included until they surface). */
  get pending(): number {
    return this.heap.length;
  }

  schedule(delayMs: number, fn: () => void): Scheduled {
    const ev: QueuedEvent = { time: this.time + Math.max(0, Number.isFinite(delayMs) ? delayMs : 0), seq: this.seq++, fn, cancelled: false };
    this.push(ev);
    return {
      cancel: () => {
        ev.cancelled = true;
      },
    };
  }

  async drive<T>(promise: Promise<T>): Promise<T> {
    if (this.driving) throw new Error('VirtualClock.drive is not re-entrant: await the previous drive first');
    this.driving = true;
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    promise.then(
      (v) => {
        done = true;
        value = v;
      },
      (e) => {
        done = true;
        failed = true;
        error = e;
      },
    );
    try {
      await yieldToLoop();
      while (!done) {
        const ev = this.pop();
        if (!ev) {
          // Let any continuation that was queued by the last event schedule more work.
          await yieldToLoop();
          if (done || this.heap.length > 0) continue;
          throw new SimulationStalledError(this.time);
        }
        if (ev.cancelled) continue;
        this.time = ev.time;
        this.eventsProcessed++;
        if (this.eventsProcessed > this.maxEvents) throw new Error(`the simulation exceeded ${this.maxEvents} events; reduce the scenario size`);
        ev.fn();
        await yieldToLoop();
      }
    } finally {
      this.driving = false;
    }
    if (failed) throw error;
    return value as T;
  }

  /** Delivers every remaining event (lingering calls landing after the workload ended). */
  async drain(): Promise<void> {
    await this.drive(Promise.resolve()).catch(() => undefined);
    while (this.heap.length > 0) {
      const ev = this.pop();
      if (!ev || ev.cancelled) continue;
      this.time = ev.time;
      this.eventsProcessed++;
      ev.fn();
      await yieldToLoop();
    }
    await yieldToLoop();
  }

  private push(ev: QueuedEvent): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): QueuedEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as QueuedEvent;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Real time on the process's timers (for validating the virtual clock). */
export class RealClock implements Clock {
  readonly kind = 'real' as const;
  private readonly start = performance.now();

  now(): number {
    return performance.now() - this.start;
  }

  schedule(delayMs: number, fn: () => void): Scheduled {
    const timer = setTimeout(fn, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(timer) };
  }

  drive<T>(promise: Promise<T>): Promise<T> {
    return promise;
  }
}
