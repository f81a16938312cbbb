/**
 * Storage overhead: lists every replica directly (not through the register) and counts the
 * objects and bytes a run left there, at the peak during the run (sampled) and at quiescence.
 */
import { setMaxListeners } from 'node:events';
import type { Store } from '../../store.js';
import { describeCause } from '../../errors.js';

export interface ReplicaUsage {
  objects: number;
  stored_bytes: number;
}

/** Largest listing whose sizes the peak sampler fetches (beyond that, bytes are estimated). */
const MAX_SIZED_OBJECTS = 20_000;

/**
 * Counts the objects under `ns` at `replica` and, when `withBytes`, sums their sizes (one get per
 * object, 8 at a time). Objects removed between the list and the get count as zero bytes.
 */
export async function measureReplica(
  replica: Store,
  ns: string,
  opts: { withBytes?: boolean; signal?: AbortSignal } = {},
): Promise<ReplicaUsage> {
  const keys = await replica.list(ns, { signal: opts.signal });
  if (opts.withBytes === false) return { objects: keys.length, stored_bytes: 0 };
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const k = keys[next++] as string;
      const v = await replica.get(k, { signal: opts.signal });
      bytes += v?.byteLength ?? 0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, keys.length) }, worker));
  return { objects: keys.length, stored_bytes: bytes };
}

/** Derived overhead figures of one replica. */
export function overheadFigures(
  usage: ReplicaUsage,
  registers: number,
  logicalBytes: number,
): { copies_per_register: number; overhead_ratio: number } {
  return {
    copies_per_register: registers > 0 ? usage.objects / registers : 0,
    overhead_ratio: logicalBytes > 0 ? usage.stored_bytes / logicalBytes : 0,
  };
}

/**
 * Samples every replica's listing under a namespace while a cell runs and keeps the largest
 * object count seen per replica (with its bytes, fetched when a new maximum is seen).
 */
export class PeakSampler {
  readonly peak: ReplicaUsage[];
  readonly errors: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly ac = new AbortController();

  constructor(
    private readonly replicas: readonly Store[],
    private readonly ns: string,
    private readonly intervalMs: number,
  ) {
    this.peak = replicas.map(() => ({ objects: 0, stored_bytes: 0 }));
    // every concurrent list and get of a sample listens to this signal
    setMaxListeners(0, this.ac.signal);
  }

  start(): void {
    if (this.intervalMs <= 0) return;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.sample().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  /** One sample of every replica (also called once at the end of the measured phase). */
  async sample(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (r, i) => {
        try {
          const keys = await r.list(this.ns, { signal: this.ac.signal });
          const cur = this.peak[i] as ReplicaUsage;
          if (keys.length > cur.objects) {
            const withBytes = keys.length <= MAX_SIZED_OBJECTS;
            const u = withBytes ? await measureReplica(r, this.ns, { signal: this.ac.signal }) : { objects: keys.length, stored_bytes: 0 };
            if (u.objects >= cur.objects) this.peak[i] = u;
          }
        } catch (e) {
          if (!this.ac.signal.aborted && this.errors.length < 5) this.errors.push(describeCause(e));
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Aborts a sample in flight (used on interrupt). */
  abort(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ac.abort();
  }
}
