/**
 * Sharded runs (`rkvs bench --shard i/N`): the same suite runs on N machines (a Kubernetes Indexed
 * Job, a Slurm job array, a CI matrix, ...), each shard running its share of every cell's clients,
 * and `rkvs merge` combines their report directories into one. This file says which shard this
 * process is.
 *
 * Shard indexes are 0-based (0 <= i < N), like Kubernetes' JOB_COMPLETION_INDEX.
 *
 * When the configuration's replicas are shared (real buckets, a directory, a server every shard
 * reaches), the shards also contend on the same registers: they use the same run prefix (the run id
 * given by --run-id) and meet at a barrier kept on a quorum of the replicas (barrier.ts) before
 * and after every cell, so every cell runs on every shard at the same time.
 */
import { ConfigError } from '../../errors.js';

export interface ShardSpec {
  index: number;
  count: number;
}

const INT = /^\d+$/;

/** Where a shard's index and count came from. */
export type ShardSource = '--shard' | 'RKVS_SHARD_INDEX' | 'JOB_COMPLETION_INDEX' | 'SLURM_ARRAY_TASK_ID';

const set = (v: string | undefined): v is string => v !== undefined && v !== '';

/**
 * The shard of this process, in this order:
 * - `--shard i/N`;
 * - `--shard-count N` / RKVS_SHARD_COUNT with the index from RKVS_SHARD_INDEX, JOB_COMPLETION_INDEX
 *   (a Kubernetes Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm job array);
 * - a Slurm job array on its own: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT tasks.
 * A Slurm array's task ids become 0-based indexes relative to SLURM_ARRAY_TASK_MIN (step
 * SLURM_ARRAY_TASK_STEP), so `--array=1-3` is shards 0..2. Undefined when the run is not sharded
 * (`--shard 0/1` runs unsharded inside a job array).
 */
export function resolveShard(flags: { shard?: string; shardCount?: string }, env: NodeJS.ProcessEnv = process.env): ShardSpec | undefined {
  return resolveShardSource(flags, env)?.shard;
}

/** resolveShard, with where the index came from. */
export function resolveShardSource(
  flags: { shard?: string; shardCount?: string },
  env: NodeJS.ProcessEnv = process.env,
): { shard: ShardSpec; source: ShardSource } | undefined {
  if (flags.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(flags.shard.trim());
    if (!m) throw new ConfigError('--shard', `expected i/N with 0 <= i < N (0-based, like JOB_COMPLETION_INDEX), e.g. --shard 0/3; got ${JSON.stringify(flags.shard)}`);
    return { shard: checkShard('--shard', Number(m[1]), Number(m[2])), source: '--shard' };
  }
  const countText = flags.shardCount ?? env.RKVS_SHARD_COUNT;
  if (!set(countText)) {
    if (set(env.RKVS_SHARD_INDEX)) throw new ConfigError('RKVS_SHARD_INDEX', 'is set but the number of shards is not: set RKVS_SHARD_COUNT or give --shard-count N');
    if (set(env.SLURM_ARRAY_TASK_ID)) {
      const slurm = slurmArrayShard(env);
      return slurm ? { shard: slurm, source: 'SLURM_ARRAY_TASK_ID' } : undefined;
    }
    return undefined;
  }
  const countFlag = flags.shardCount !== undefined ? '--shard-count' : 'RKVS_SHARD_COUNT';
  if (!INT.test(countText.trim()) || Number(countText) < 1) throw new ConfigError(countFlag, `expected an integer >= 1, got ${JSON.stringify(countText)}`);
  const count = Number(countText);
  if (set(env.RKVS_SHARD_INDEX)) return { shard: indexFrom('RKVS_SHARD_INDEX', env.RKVS_SHARD_INDEX, count), source: 'RKVS_SHARD_INDEX' };
  if (set(env.JOB_COMPLETION_INDEX)) return { shard: indexFrom('JOB_COMPLETION_INDEX', env.JOB_COMPLETION_INDEX, count), source: 'JOB_COMPLETION_INDEX' };
  if (set(env.SLURM_ARRAY_TASK_ID)) {
    const index = slurmArrayIndex(env);
    return { shard: checkShard('SLURM_ARRAY_TASK_ID', index, count), source: 'SLURM_ARRAY_TASK_ID' };
  }
  throw new ConfigError(
    countFlag,
    'a shard count needs the shard index: give --shard i/N, or set RKVS_SHARD_INDEX (or run as a Kubernetes Indexed Job, which sets JOB_COMPLETION_INDEX, or a Slurm job array, which sets SLURM_ARRAY_TASK_ID)',
  );
}

function indexFrom(variable: string, text: string, count: number): ShardSpec {
  if (!INT.test(text.trim())) throw new ConfigError(variable, `expected a 0-based integer index, got ${JSON.stringify(text)}`);
  return checkShard(variable, Number(text), count);
}

/** An integer Slurm variable, or a ConfigError naming it. */
function slurmInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (!set(v)) return undefined;
  if (!INT.test(v.trim())) throw new ConfigError(name, `expected a non-negative integer (set by Slurm for a job array), got ${JSON.stringify(v)}`);
  return Number(v);
}

/** The 0-based position of this task in its Slurm job array (task ids MIN, MIN+STEP, ...). */
function slurmArrayIndex(env: NodeJS.ProcessEnv): number {
  const id = slurmInt(env, 'SLURM_ARRAY_TASK_ID') as number;
  const min = slurmInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const step = slurmInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  if (step < 1 || id < min || (id - min) % step !== 0)
    throw new ConfigError(
      'SLURM_ARRAY_TASK_ID',
      `task ${id} is not on the job array's range (SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_STEP=${step}); submit the shards as one contiguous array, e.g. sbatch --array=0-2, or give --shard i/N`,
    );
  return (id - min) / step;
}

/** A Slurm job array as shards: task SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (undefined for one task). */
function slurmArrayShard(env: NodeJS.ProcessEnv): ShardSpec | undefined {
  const count = slurmInt(env, 'SLURM_ARRAY_TASK_COUNT');
  if (count === undefined)
    throw new ConfigError('SLURM_ARRAY_TASK_COUNT', 'is not set although SLURM_ARRAY_TASK_ID is (Slurm 18.08 or newer sets both): give --shard i/N or --shard-count N');
  const index = slurmArrayIndex(env);
  const max = slurmInt(env, 'SLURM_ARRAY_TASK_MAX');
  const step = slurmInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const min = slurmInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  if (max !== undefined && (max - min) / step + 1 !== count)
    throw new ConfigError(
      'SLURM_ARRAY_TASK_COUNT',
      `the job array is not one contiguous range (${count} tasks from ${min} to ${max} by ${step}): submit the shards as e.g. sbatch --array=0-${count - 1}, or give --shard i/N`,
    );
  if (count <= 1) return undefined;
  return checkShard('SLURM_ARRAY_TASK_ID', index, count);
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

export { StoreBarrier, type BarrierMarker } from './barrier.js';
