/**
 * The README walkthrough, run here against emulator-backed configurations (benchmarks/configs/
 * local-compare.yaml): probe both configurations, benchmark them side by side in one report,
 * price the report, and clean up.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { writeCostCsv } from '../../src/bench/analyze/cost.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/rkvs.js');

describe('walkthrough: two configurations side by side on the emulators', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'rkvs-walkthrough-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('probe, bench, cost, clean', async () => {
    // 1. probe both configurations
    const probe = await run(process.execPath, [BIN, 'probe', '--config', 'local-compare', '--dir', path.join(out, 'probe'), '--sizes', '1KiB', '--samples', '2', '--trials', '2'], {
      timeout: 300_000,
    });
    expect(probe.stdout).toMatch(/mixed-3\s+gcs\s+emulator:gcs\s+read-after-write/);
    expect(probe.stdout).toMatch(/s3-only-3\s+s3-c\s+emulator:s3\s+read-after-write/);

    // 2. one bench run over both configurations: one report, rows side by side
    const bench = await run(
      process.execPath,
      [BIN, 'bench', '--suite', 'quick', '--config', 'local-compare', '--configs', 'mixed-3,s3-only-3', '--out', out, '--no-progress', '--no-checks', '--ops', '10', '--variants', 'regular,atomic', '--clients', '1'],
      { timeout: 420_000 },
    );
    expect(bench.stdout).toMatch(/mixed-3/);
    expect(bench.stdout).toMatch(/s3-only-3/);
    const runDir = (await readdir(out)).find((d) => /-quick-[a-z0-9]{6}$/.test(d));
    expect(runDir).toBeDefined();
    const dir = path.join(out, runDir!);
    const latency = parse(await readFile(path.join(dir, 'latency.csv'), 'utf8'), { columns: true }) as { config: string }[];
    expect(new Set(latency.map((r) => r.config))).toEqual(new Set(['mixed-3', 's3-only-3']));

    // 3. cost of both, priced as the providers the emulators stand for
    const { rows, warnings } = await writeCostCsv(dir);
    expect(warnings).toEqual([]);
    const writes = rows.filter((r) => r.op === 'write' && r.variant === 'atomic');
    expect(new Set(writes.map((r) => r.config))).toEqual(new Set(['mixed-3', 's3-only-3']));
    for (const w of writes) expect(Number(w.cost_per_million_ops)).toBeGreaterThan(0);
    expect(writes.find((w) => w.config === 'mixed-3')!.price_keys).toBe('azure+gcs+s3');

    // 4. clean (nothing is left on emulators, but the command runs the same as on a real account)
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as { run_prefixes: Record<string, string> };
    const prefix = meta.run_prefixes['mixed-3']!;
    expect(prefix).toBe(`rkvs-bench/${runDir}/`);
    const clean = await run(process.execPath, [BIN, 'clean', '--config', 'local-compare', '--prefix', prefix], { timeout: 300_000 });
    expect(clean.stdout).toContain(`removing every object under ${prefix} from configuration mixed-3`);
    expect(clean.stdout).toMatch(/mixed-3\/s3: removed 0 of 0 key\(s\) under rkvs-bench\//);
  }, 900_000);
});
