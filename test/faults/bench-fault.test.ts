/**
 * `rkvs bench --fault` end to end, on the emulators the command starts: every register cell runs
 * healthy, then under each scenario through the fault proxy, and each scenario is a cell of its
 * own in every file. A blackholed replica of three costs no operation (the register is
 * wait-free); two replicas delayed by 150 ms put every round behind the delay (a lower bound, so
 * the test cannot flake on a slow machine); a fault with at= and for= is put in force and healed
 * when it says. Bad --fault values exit 2 naming the flag.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/bench/record/read.js';

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/rkvs.js');

let tmp = '';
let suite = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'rkvs-bench-fault-'));
  suite = path.join(tmp, 'faulty.yaml');
  await writeFile(
    suite,
    [
      'name: faulty',
      'defaultConfig: emulators',
      'variants: [raw, regular]',
      'schedules: [fast]',
      'sampleMs: 0',
      'workloads:',
      '  - { name: mixed, mix: { write: 1, read: 1 }, valueBytes: [1024], registers: 4, clients: 1, ops: 12, warmupOps: 2 }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function rkvs(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [BIN, ...args], { env: { ...process.env, CI: '1' }, timeout: 600_000, maxBuffer: 16 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

const BLACKHOLE = 'replica=s3-emulator,blackhole,at=0s';
const DELAY2 = 'replica=s3-emulator,delay=150ms,at=0s;replica=azure-emulator,delay=150ms,at=0s';
const WINDOW = 'replica=gcs-emulator,refuse,at=300ms,for=500ms';

describe('rkvs bench --fault on the emulators', () => {
  it('measures each register cell healthy and under each fault, as cells of their own', async () => {
    const out = path.join(tmp, 'out');
    const r = await rkvs(['bench', '--suite', suite, '--out', out, '--no-checks', '--fault', 'replica=s3,blackhole,at=0s', '--fault', 'replica=0,delay=150ms,at=0s;replica=azure,delay=150ms,at=0s', '--fault', 'replica=gcs,refuse,at=300ms,for=500ms']);
    expect(r.code, r.stderr).toBe(0);
    // each fault was put in force and healed, as the progress says
    expect(r.stderr).toMatch(/\] emulators regular\/fast mixed 1024B 1c fault replica=s3-emulator,blackhole,at=0s: 12 ok, 0 errors/);
    // (when, in seconds, depends on the machine's load: only the order is checked)
    expect(r.stderr).toMatch(/fault: s3-emulator blackhole from 0\.\d s to \d+\.\d s/);
    const refuse = /fault: gcs-emulator refuse from (\d+\.\d) s to (\d+\.\d) s/.exec(r.stderr);
    expect(refuse, r.stderr).not.toBeNull();
    expect(Number(refuse![1])).toBeGreaterThanOrEqual(0.3);
    expect(Number(refuse![2])).toBeGreaterThanOrEqual(Number(refuse![1]));
    const dir = path.join(out, (await readdir(out))[0]!);
    const latency = parseCsv(await readFile(path.join(dir, 'latency.csv'), 'utf8'), 'latency.csv');
    const faults = (v: string) => [...new Set(latency.filter((x) => x.variant === v).map((x) => x.fault))].sort();
    expect(faults('raw')).toEqual(['']);
    expect(faults('regular')).toEqual(['', BLACKHOLE, DELAY2, WINDOW].sort());
    for (const row of latency) {
      expect(Number(row.errors), `${row.variant} ${row.op} ${row.fault}`).toBe(0);
      expect(Number(row.count) + Number(row.errors)).toBeGreaterThan(0);
    }
    // two of three replicas 150 ms late: no quorum without them, in every round (a lower bound)
    const delayed = (op: string) => Number(latency.find((x) => x.fault === DELAY2 && x.op === op)!.p50_ms);
    expect(delayed('write')).toBeGreaterThanOrEqual(2 * 150);
    expect(delayed('read')).toBeGreaterThanOrEqual(150);
    // the fault is part of every key: requests, overhead, errors, histograms
    const requests = parseCsv(await readFile(path.join(dir, 'requests.csv'), 'utf8'), 'requests.csv');
    expect(new Set(requests.filter((x) => x.variant === 'regular').map((x) => x.fault)).size).toBe(4);
    const overhead = parseCsv(await readFile(path.join(dir, 'overhead.csv'), 'utf8'), 'overhead.csv');
    expect(new Set(overhead.filter((x) => x.variant === 'regular' && x.phase === 'quiescent').map((x) => x.fault)).size).toBe(4);
    // healed before quiescence: every replica lists its 2 copies per register, the blackholed one too
    // (a refused write is lost for that replica: under WINDOW a register written only while gcs refused has fewer copies there)
    for (const x of overhead.filter((o) => o.variant === 'regular' && o.phase === 'quiescent')) {
      if (x.fault === WINDOW && x.replica === 'gcs-emulator') expect(Number(x.copies_per_register), `${x.replica} ${x.fault}`).toBeLessThanOrEqual(2);
      else expect(x.copies_per_register, `${x.replica} ${x.fault}`).toBe('2');
    }
    const hgrm = await readdir(path.join(dir, 'histograms'));
    expect(hgrm.filter((f) => f.includes('_fault-'))).toHaveLength(3 * 2);
    const jsonl = (await readFile(path.join(dir, 'histograms.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { fault: string });
    expect(new Set(jsonl.map((l) => l.fault))).toEqual(new Set(['', BLACKHOLE, DELAY2, WINDOW]));
    // the summary table has a fault column
    expect(r.stdout).toMatch(/workload\s+load\s+fault\s+count/);
    expect(r.stdout).toMatch(/regular\s+fast\s+write\s+1024\s+1\s+4\s+1\s+mixed\s+closed\s+healthy/);
  }, 600_000);

  it('bad --fault values exit 2 and name the flag and the fix', async () => {
    const cases: [string[], RegExp][] = [
      [['--fault', 'replica=s3,blackhole'], /rkvs: --fault: "replica=s3,blackhole" has no at=<time>/],
      [['--fault', 'replica=s3,blackhole,at=10'], /rkvs: --fault at: "10" needs a unit: 10s or 10ms/],
      [['--fault', 'replica=s9,blackhole,at=0s'], /rkvs: --fault: configuration emulators has no replica "s9"; its replicas are 0 s3-emulator, 1 azure-emulator, 2 gcs-emulator/],
      [['--fault', 'replica=s3,blackhole,at=0s', '--workers', '2'], /rkvs: --fault: the fault proxies run in the rkvs bench process/],
      [['--suite', 'quick', '--fault', 'replica=0,blackhole,at=0s'], /rkvs: --fault: configuration memory has replicas inside this process/],
    ];
    for (const [args, message] of cases) {
      const r = await rkvs(['bench', '--out', path.join(tmp, 'never'), ...args]);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n').filter((l) => !/Warning|AWS SDK|node >=22|upgrade to node|a\.co\/|trace-warnings|^\s*$|versions published|will require|To continue|and security/.test(l))).toHaveLength(1);
    }
  }, 300_000);
});
