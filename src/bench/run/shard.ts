/**
 * Sharded runs (`rkvs bench --shard i/N`): the same suite runs on N machines (a Kubernetes Indexed
 * Job, a CI matrix, ...), each shard running its share of every cell's clients, and `rkvs merge`
 * combines their report directories into one.
 *
 * Shard indexes are 0-based (0 <= i < N), like Kubernetes' JOB_COMPLETION_INDEX.
 *
 * When the configuration's replicas are shared (real buckets, a directory, a server every shard
 * reaches), the shards also contend on the same registers: they use the same run prefix (the run id
 * given by --run-id) and meet at a barrier kept in the store itself before and after every cell,
 * so every cell runs on every shard at the same time.
 */
import { ConfigError, describeCause } from '../../errors.js';
import type { Store } from '../../store.js';
import { sleep } from '../../util/abort.js';

export interface ShardSpec {
  index: number;
  count: number;
}

const INT = /^\d+$/;

/**
 * The shard of this process from `--shard i/N`, else `--shard-count N` / RKVS_SHARD_COUNT with the
 * index from RKVS_SHARD_INDEX or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). Undefined when
 * the run is not sharded.
 */
export function resolveShard(flags: { shard?: string; shardCount?: string }, env: NodeJS.ProcessEnv = process.env): ShardSpec | undefined {
  if (flags.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.shard.trim());
    if (!m) throw new ConfigError('--shard', `expected i/N with 0 <= i < N (0-based, like JOB_COMPLETION_INDEX), e.g. --shard 0/3; got ${JSON.stringify(flags.shard)}`);
    return checkShard('--shard', Number(m[1]), Number(m[2]));
  }
  const countText = flags.shardCount ?? env.RKVS_SHARD_COUNT;
  if (countText === undefined || countText === '') {
    if (env.RKVS_SHARD_INDEX !== undefined && env.RKVS_SHARD_INDEX !== '')
      throw new ConfigError('RKVS_SHARD_INDEX', 'is set but the number of shards is not: set RKVS_SHARD_COUNT or give --shard-count N');
    return undefined;
  }
  const countFlag = flags.shardCount !== undefined ? '--shard-count' : 'RKVS_SHARD_COUNT';
  if (!INT.test(countText.trim()) || Number(countText) < 1) throw new ConfigError(countFlag, `expected an integer >= 1, got ${JSON.stringify(countText)}`);
  const [indexVar, indexText] =
    env.RKVS_SHARD_INDEX !== undefined && env.RKVS_SHARD_INDEX !== ''
      ? ['RKVS_SHARD_INDEX', env.RKVS_SHARD_INDEX]
      : env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_INDEX !== ''
        ? ['JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX]
        : [undefined, undefined];
  if (indexText === undefined)
    throw new ConfigError(countFlag, 'a shard count needs the shard index: give --shard i/N, or set RKVS_SHARD_INDEX (or run as a Kubernetes Indexed Job, which sets JOB_COMPLETION_INDEX)');
  if (!INT.test(indexText.trim())) throw new ConfigError(indexVar as string, `expected a 0-based integer index, got ${JSON.stringify(indexText)}`);
  return checkShard(indexVar as string, Number(indexText), Number(countText));
}

function checkShard(flag: string, index: number, count: number): ShardSpec {
  if (count < 1) throw new ConfigError(flag, `the number of shards must be at least 1, got ${count}`);
  if (index >= count) throw new ConfigError(flag, `shard index ${index} is out of range for ${count} shard(s): indexes are 0-based, 0..${count - 1}`);
  return { index, count };
}

/** Checks a `--run-id` (it becomes a key prefix and a directory name). */
export function checkRunId(flag: string, id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(id))
    throw new ConfigError(flag, `${JSON.stringify(id)} cannot be a run id: use 1-128 letters, digits, _ . - (starting with a letter or digit)`);
  return id;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A marker a shard leaves at a barrier. */
export interface BarrierMarker<T = unknown> {
  shard: number;
  /** The shard's wall clock when it arrived (ms since the epoch). */
  at: number;
  payload: T;
}

/**
 * A barrier between the N shards kept in a store every shard reaches: each shard puts
 * `_sync/<name>/<index>` and polls the listing until all N markers are there. No coordinator
 * process: the store the benchmark measures is the meeting point.
 */
export class StoreBarrier {
  constructor(
    private readonly store: Store,
    private readonly shard: ShardSpec,
    private readonly opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
  ) {}

  /**
   * Arrives at barrier `name` and waits for every shard (with `wait: 'none'`, only arrives).
   * Returns the markers of every shard when `read` is set (else an empty list).
   */
  async arrive<T>(name: string, payload: T, o: { wait?: 'all' | 'none'; read?: boolean } = {}): Promise<BarrierMarker<T>[]> {
    const dir = `_sync/${name}/`;
    const mine: BarrierMarker<T> = { shard: this.shard.index, at: Date.now(), payload };
    await this.store.put(`${dir}${this.shard.index}`, enc.encode(JSON.stringify(mine)), { signal: this.opts.signal });
    if (o.wait === 'none') return [];
    const deadline = Date.now() + this.opts.timeoutMs;
    const poll = this.opts.pollMs ?? 100;
    for (;;) {
      let keys: string[] = [];
      try {
        keys = await this.store.list(dir, { signal: this.opts.signal });
      } catch (e) {
        if (this.opts.signal?.aborted) throw e;
        if (Date.now() > deadline) throw new Error(`shard ${this.shard.index}/${this.shard.count}: cannot list the barrier ${name}: ${describeCause(e)}`);
      }
      const present = new Set(keys.map((k) => Number(k.slice(dir.length))));
      if (present.size >= this.shard.count) {
        if (!o.read) return [];
        const out: BarrierMarker<T>[] = [];
        for (let i = 0; i < this.shard.count; i++) {
          const v = await this.store.get(`${dir}${i}`, { signal: this.opts.signal });
          if (v) out.push(JSON.parse(dec.decode(v)) as BarrierMarker<T>);
        }
        return out;
      }
      if (Date.now() > deadline) {
        const missing = Array.from({ length: this.shard.count }, (_, i) => i).filter((i) => !present.has(i));
        throw new Error(
          `shard ${this.shard.index}/${this.shard.count} waited ${Math.round(this.opts.timeoutMs / 1000)} s at barrier ${name} for shard(s) ${missing.join(', ')}; ` +
            'check that every shard runs the same suite and options with the same --run-id (or raise --sync-timeout)',
        );
      }
      await sleep(poll, this.opts.signal);
    }
  }
}
