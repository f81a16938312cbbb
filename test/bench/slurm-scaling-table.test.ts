/**
 * deploy/slurm/scaling-table.mjs, the table deploy/slurm/demo.sh prints: each cell's throughput at
 * every shard count and the ratio to the first, cells matched on their whole key, a cell missing
 * from a run left out and named, bad arguments refused.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const TABLE = path.resolve(import.meta.dirname, '../../deploy/slurm/scaling-table.mjs');
const HEAD = 'run_id,config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,count,errors,ops_per_s';

async function table(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TABLE, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

describe('deploy/slurm/scaling-table.mjs', () => {
  let tmp: string;
  const row = (variant: string, op: string, clients: number, count: number, errors: number, opsPerS: number) =>
    `r,c1,${variant},${variant === 'raw' ? 'none' : 'fast'},${op},1024,${clients},256,1,mixed,closed,0,${count},${errors},${opsPerS}`;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-scaling-table-'));
    const runs: Record<string, string[]> = {
      one: [row('raw', 'write', 16, 100, 0, 10), row('raw', 'read', 16, 100, 0, 30), row('regular', 'write', 16, 50, 0, 5), row('regular', 'read', 16, 50, 0, 3)],
      two: [row('raw', 'write', 16, 200, 2, 25), row('raw', 'read', 16, 200, 0, 35), row('regular', 'write', 16, 50, 0, 4), row('regular', 'read', 16, 50, 0, 4)],
      // the regular cell ran with another client count: a different cell
      three: [row('raw', 'write', 16, 200, 0, 40), row('raw', 'read', 16, 200, 0, 40), row('regular', 'write', 12, 50, 0, 9), row('regular', 'read', 12, 50, 0, 9)],
    };
    for (const [name, rows] of Object.entries(runs)) {
      await mkdir(path.join(tmp, name));
      await writeFile(path.join(tmp, name, 'latency.csv'), `${[HEAD, ...rows].join('\n')}\n`);
    }
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('sums a cell over its ops, divides by the first run, and keys cells by their whole key', async () => {
    const r = await table([`1 shard=${path.join(tmp, 'one')}`, `2 shards=${path.join(tmp, 'two')}`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toContain('| 1 shard ops/s | 2 shards ops/s | 2 shards / 1 shard |');
    expect(lines).toContain('| c1 raw none 1024 16 256 1 mixed closed 0 | 40.0 | 60.0 (2 errors) | x1.50 |');
    expect(lines).toContain('| c1 regular fast 1024 16 256 1 mixed closed 0 | 8.0 | 8.0 | x1.00 |');
  });

  it('leaves out a cell not measured in every run, and names it', async () => {
    const r = await table([`1 shard=${path.join(tmp, 'one')}`, `3 shards=${path.join(tmp, 'three')}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| c1 raw none 1024 16 256 1 mixed closed 0 | 40.0 | 80.0 | x2.00 |');
    expect(r.stdout).not.toMatch(/^\| c1 regular/m);
    expect(r.stdout).toContain('Left out, not measured in every run: `c1 regular fast 1024 16 256 1 mixed closed 0` (3 shards missing)');
  });

  it('refuses bad arguments (exit 2) and a directory without a report (exit 1), naming them', async () => {
    expect(await table([`x=${path.join(tmp, 'one')}`])).toMatchObject({ code: 2, stderr: expect.stringContaining('give at least two runs') });
    expect(await table(['one', 'two'])).toMatchObject({ code: 2, stderr: expect.stringContaining('expected LABEL=REPORT_DIR, got "one"') });
    const missing = await table([`a=${path.join(tmp, 'one')}`, `b=${path.join(tmp, 'nothing')}`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`b: cannot read ${path.join(tmp, 'nothing', 'latency.csv')}`);
  });
});
