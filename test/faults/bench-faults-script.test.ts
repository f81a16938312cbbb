/**
 * `npm run bench:faults` (scripts/bench-faults.ts) end to end, small: on the emulators it starts, it
 * probes the replicas, runs every register cell healthy, with each replica blackholed and with each
 * delayed, and writes faults.csv, probe.csv, README.md and run/. Figures are not judged here (a
 * shared machine); what is checked is that every case was measured as its own cell, with its floor
 * computed from the probe, and that the script never replaces a report it was not asked to.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsFromProbe, averageCalls, idealKey, operationFloor } from '../../src/bench/analyze/fault-floor.js';
import { parseCsv } from '../../src/bench/record/read.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(ROOT, 'scripts', 'bench-faults.ts');

async function benchFaults(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, env: { ...process.env, CI: '1' }, timeout: 900_000, maxBuffer: 32 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

let tmp = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'rkvs-bench-faults-'));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm run bench:faults', () => {
  it('refuses bad arguments and a directory it was not asked to replace (exit 2, naming the flag)', async () => {
    const foreign = path.join(tmp, 'foreign');
    await mkdir(foreign);
    await writeFile(path.join(foreign, 'notes.txt'), 'mine');
    const cases: [string[], RegExp][] = [
      [['--ops', 'many'], /bench:faults: --ops: expected an integer from 10 to/],
      [['--factor', '1'], /bench:faults: --factor: expected a number above 1/],
      [['--samples', '2'], /bench:faults: --samples: expected an integer from 5 to/],
      [['--nope'], /bench:faults: Unknown option '--nope'.*options: --ops N/],
      [['--out', foreign], /already holds a report; pass --force to replace it, or choose another --out DIR/],
      [['--out', foreign, '--force'], /does not look like a report of bench:faults .*refusing to delete it/],
    ];
    for (const [args, message] of cases) {
      const r = await benchFaults(args);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(await readFile(path.join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  }, 120_000);

  it('measures healthy, each replica blackholed and each delayed, each next to its floor', async () => {
    const out = path.join(tmp, 'faults');
    const r = await benchFaults(['--ops', '10', '--samples', '5', '--factor', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['README.md', 'faults.csv', 'floor.csv', 'probe.csv', 'run']);
    expect(existsSync(path.join(out, 'run', 'latency.csv'))).toBe(true);

    const rows = parseCsv(await readFile(path.join(out, 'faults.csv'), 'utf8'), 'faults.csv');
    const replicas = ['s3-emulator', 'azure-emulator', 'gcs-emulator'];
    // 7 cases x 2 variants x 2 operations, each its own cell
    expect(rows).toHaveLength(7 * 2 * 2);
    expect(new Set(rows.map((x) => x.fault)).size).toBe(7);
    for (const v of ['regular', 'atomic'])
      for (const op of ['write', 'read']) {
        const mine = rows.filter((x) => x.variant === v && x.op === op);
        expect(mine.map((x) => `${x.case} ${x.faulty_replica}`).sort(), `${v} ${op}`).toEqual(
          ['healthy ', ...replicas.map((p) => `blackhole ${p}`), ...replicas.map((p) => `delay ${p}`)].sort(),
        );
      }
    for (const x of rows) {
      const what = `${x.variant} ${x.op} ${x.fault}`;
      expect(x.errors, what).toBe('0');
      expect(Number(x.count), what).toBeGreaterThan(0);
      expect(Number(x.p50_ms), what).toBeGreaterThan(0);
      expect(Number(x.floor_ms), what).toBeGreaterThan(0);
      expect(Number(x.p50_over_floor), what).toBeCloseTo(Number(x.p50_ms) / Number(x.floor_ms), 2);
      expect(x.p50_over_healthy === '', what).toBe(x.case === 'healthy');
      expect(x.fault === '', what).toBe(x.case === 'healthy');
      if (x.case === 'blackhole') expect(x.fault).toBe(`replica=${x.faulty_replica},blackhole,at=0s`);
      if (x.case === 'delay') expect(x.fault).toMatch(new RegExp(`^replica=${x.faulty_replica},delay=\\d+ms,at=0s$`));
    }

    // the floors are the p50s of floor.csv's ideal operations of the same cell key: one beside each
    // measured operation of the cell
    const floorCsv = parseCsv(await readFile(path.join(out, 'floor.csv'), 'utf8'), 'floor.csv');
    for (const x of rows) {
      const mine = floorCsv.filter((f) => idealKey(f) === idealKey(x));
      const what = `${x.variant} ${x.op} ${x.fault}`;
      expect(mine.length, what).toBe(Number(x.count));
      expect(Number(x.floor_samples), what).toBe(mine.length);
      const ms = mine.map((f) => Number(f.ms)).sort((a, b) => a - b);
      expect(Number(x.floor_ms), what).toBeCloseTo(ms[Math.ceil(ms.length / 2) - 1]!, 3);
      expect(x.floor_detail, what).toMatch(new RegExp(`^p50 of ${mine.length} ideal ${x.op}s \\(round p50s: [\\d.]+( \\+ [\\d.]+)? ms\\)$`));
    }

    // the call floors beside them are those of the probe written beside them (the two probes averaged)
    const probe = parseCsv(await readFile(path.join(out, 'probe.csv'), 'utf8'), 'probe.csv');
    const runs = [...new Set(probe.map((p) => p.run_id))];
    expect(runs).toHaveLength(2);
    expect(runs.every((id) => /-probe-(before|after)$/.test(id))).toBe(true);
    const calls = averageCalls(runs.map((id) => callsFromProbe(probe.filter((p) => p.run_id === id).map((p) => ({ replica: p.replica!, check: p.check!, value_bytes: p.value_bytes!, p50_ms: p.p50_ms! })), replicas, 1024)));
    for (const x of rows.filter((y) => y.case !== 'delay')) {
      const conditions = x.case === 'blackhole' ? [{ replica: x.faulty_replica!, silent: true }] : [];
      const floor = operationFloor(x.op as 'read' | 'write', x.variant as 'regular', 'fast', calls, 2, conditions);
      expect(Number(x.call_floor_ms), `${x.variant} ${x.op} ${x.fault}`).toBeCloseTo(floor.floorMs, 2);
      expect(x.call_floor_detail).toBe(floor.detail);
    }

    // the summary names every case and the target, and says how it was made
    const readme = await readFile(path.join(out, 'README.md'), 'utf8');
    expect(readme).toMatch(/## Wait-freedom in numbers: one replica of three blackholed, p50 within 10% of the floor/);
    expect(readme).toMatch(/\d+ of 12 blackhole cells meet it\./);
    for (const p of replicas) expect(readme).toContain(`${p} blackholed`);
    expect(readme).toMatch(/delayed 4x \(\+\d+ ms\)/);
    expect(readme).toContain('npm run bench:faults -- --ops 10 --samples 5 --factor 4');
    expect(r.stdout).toContain('## Latency per operation and case');

    // run again without --force: refused, the report untouched
    const before = await readFile(path.join(out, 'faults.csv'), 'utf8');
    const again = await benchFaults(['--ops', '10', '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a report; pass --force/);
    expect(await readFile(path.join(out, 'faults.csv'), 'utf8')).toBe(before);
  }, 900_000);
});
