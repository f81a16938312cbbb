/**
 * `rkvs bench --fault`: the flag's syntax and canonical text (the cell key's `fault` field), its
 * resolution against a configuration's replicas, the plan (each register cell followed by its
 * faulty runs, raw cells healthy only, what cannot run refused before anything opens), and the
 * runner's measure gate (a faulty cell measures from the fault on).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { faultKey, formatFaultTime, parseFaultFlag, parseFaultTime, resolveFaultScenario, type FaultTarget } from '../../src/bench/config/fault.js';
import { emulatorConfiguration, loadConfigFile, configurationsOf } from '../../src/bench/config/file.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import { workloadSchema } from '../../src/bench/config/workload.js';
import { cellOf, planRun } from '../../src/bench/run/plan.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { runCell, type BenchClient } from '../../src/bench/run/runner.js';
import { ConfigError } from '../../src/errors.js';
import type { ReplicaSpec } from '../../src/bench/config/schema.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function usage(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const emulators: FaultTarget = {
  name: 'emulators',
  t: 1,
  replicas: (['s3', 'azure', 'gcs'] as const).map((kind) => ({ provider: 'emulator', kind, name: `${kind}-emulator` }) as ReplicaSpec),
};

describe('--fault syntax', () => {
  it('reads replica, fault, at and for in any order, and writes a stable canonical text', () => {
    const s = parseFaultFlag('replica=s3,blackhole,at=10s');
    expect(s.items).toEqual([{ replica: 's3', fault: { mode: 'blackhole' }, atMs: 10_000 }]);
    const d = parseFaultFlag('at=1.5s, replica=1, delay=200ms, jitter=50ms, seed=7, for=2m');
    expect(d.items[0]).toEqual({ replica: '1', fault: { mode: 'delay', ms: 200, jitterMs: 50, seed: 7 }, atMs: 1500, forMs: 120_000 });
    const r = resolveFaultScenario(d, emulators);
    expect(r.key).toBe('replica=azure-emulator,delay=200ms,jitter=50ms,seed=7,at=1500ms,for=120s');
    // the canonical text reads back to the same scenario
    const again = resolveFaultScenario(parseFaultFlag(r.key), emulators);
    expect(again.key).toBe(r.key);
    // several faults of one scenario: ';'
    const two = resolveFaultScenario(parseFaultFlag('replica=s3,blackhole,at=0;replica=gcs,throttle=64KiB/s,direction=both,at=5s,for=1s'), emulators);
    expect(two.key).toBe('replica=s3-emulator,blackhole,at=0s;replica=gcs-emulator,throttle=65536B/s,direction=both,at=5s,for=1s');
    expect(two.items.map((i) => i.index)).toEqual([0, 2]);
    expect(faultKey([])).toBe('');
  });

  it('times: a unit is required (but for 0); whole seconds print as s', () => {
    expect(parseFaultTime('0', 'at')).toBe(0);
    expect(parseFaultTime('250ms', 'at')).toBe(250);
    expect(parseFaultTime('2m', 'at')).toBe(120_000);
    expect(usage(() => parseFaultTime('10', '--fault at')).message).toBe('--fault at: "10" needs a unit: 10s or 10ms');
    expect(usage(() => parseFaultTime('soon', '--fault at')).message).toMatch(/"soon" is not a time; use e.g. 10s/);
    expect(formatFaultTime(10_000)).toBe('10s');
    expect(formatFaultTime(1500)).toBe('1500ms');
  });

  it('bad specs name the flag and the fix', () => {
    expect(usage(() => parseFaultFlag('')).message).toMatch(/^--fault: is empty; give replica=<name or index>,<fault>,at=<time>/);
    expect(usage(() => parseFaultFlag('blackhole,at=10s')).message).toMatch(/^--fault: "blackhole,at=10s" names no replica; start it with replica=/);
    expect(usage(() => parseFaultFlag('replica=s3,blackhole')).message).toMatch(/has no at=<time>.*e\.g\. 'replica=s3,blackhole,at=0s'/);
    expect(usage(() => parseFaultFlag('replica=s3,at=1s')).message).toMatch(/names no fault; add one, e\.g\. blackhole, delay=200ms/);
    expect(usage(() => parseFaultFlag('replica=s3,blackhol,at=1s')).message).toMatch(/^--fault: unknown fault "blackhol"; use one of pass, delay/);
    expect(usage(() => parseFaultFlag('replica=s3,delay=soon,at=1s')).message).toMatch(/^--fault\.delay: "soon" is not a duration/);
    expect(usage(() => parseFaultFlag('replica=s3,pass,at=1s')).message).toMatch(/pass is no fault/);
    expect(usage(() => parseFaultFlag('replica=s3,blackhole,at=1s,at=2s')).message).toMatch(/"at" is given twice/);
    expect(usage(() => parseFaultFlag('replica=s3,blackhole,at=1s,for=0')).message).toMatch(/^--fault for: must be more than 0; leave for= out/);
    expect(usage(() => parseFaultFlag('replica=s3,blackhole,at=0s;replica=s3,reset,at=1s')).message).toMatch(/replica s3 is named twice/);
  });

  it('replicas: by name, by provider or emulator kind when it names one, by index; else the list', () => {
    const at = (ref: string) => resolveFaultScenario(parseFaultFlag(`replica=${ref},reset,at=0s`), emulators).items[0]!.index;
    expect([at('azure-emulator'), at('gcs'), at('0')]).toEqual([1, 2, 0]);
    expect(usage(() => at('5')).message).toMatch(/^--fault: replica=5: configuration emulators has 3 replicas \(0-based: 0 s3-emulator, 1 azure-emulator, 2 gcs-emulator\)/);
    expect(usage(() => at('s4')).message).toMatch(/configuration emulators has no replica "s4"; its replicas are 0 s3-emulator, 1 azure-emulator, 2 gcs-emulator/);
    const twoS3: FaultTarget = { name: 's3-only', t: 1, replicas: ['a', 'b', 'c'].map((n) => ({ provider: 'emulator', kind: 's3', name: n }) as ReplicaSpec) };
    expect(usage(() => resolveFaultScenario(parseFaultFlag('replica=s3,reset,at=0s'), twoS3)).message).toMatch(/replica=s3 is ambiguous in configuration s3-only: 3 replicas are s3/);
    expect(usage(() => resolveFaultScenario(parseFaultFlag('replica=a,reset,at=0s;replica=0,blackhole,at=0s'), twoS3)).message).toMatch(/name the same replica/);
  });

  it('refuses replicas the proxy cannot stand in front of: in-process stores and TLS endpoints', () => {
    const cfg = (r: ReplicaSpec): FaultTarget => ({ name: 'c', t: 0, replicas: [r] });
    const go = (r: ReplicaSpec) => resolveFaultScenario(parseFaultFlag('replica=0,blackhole,at=0s'), cfg(r));
    expect(usage(() => go({ provider: 'memory', name: 'm' } as ReplicaSpec)).message).toMatch(/replica m of configuration c is a memory store inside this process: a fault at the socket needs a network endpoint/);
    expect(usage(() => go({ provider: 's3', name: 'aws', bucket: 'b' } as ReplicaSpec)).message).toMatch(/replica aws of configuration c has no endpoint .*over HTTPS.*cannot sit in front of TLS/);
    expect(usage(() => go({ provider: 'gcs', name: 'g', bucket: 'b', endpoint: 'https://storage.example.com' } as ReplicaSpec)).message).toMatch(/uses https:\/\/storage\.example\.com .*cannot sit in front of TLS/);
    expect(go({ provider: 's3', name: 'minio', bucket: 'b', endpoint: 'http://127.0.0.1:9000' } as ReplicaSpec).key).toBe('replica=minio,blackhole,at=0s');
    process.env.RKVS_TEST_AZ_CS = 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k;EndpointSuffix=core.windows.net';
    try {
      const az = { provider: 'azure', name: 'az', container: 'c', credentials: { connectionStringEnv: 'RKVS_TEST_AZ_CS' } } as ReplicaSpec;
      expect(usage(() => go(az)).message).toMatch(/replica az of configuration c has no endpoint \(BlobEndpoint of RKVS_TEST_AZ_CS\)/);
      process.env.RKVS_TEST_AZ_CS = 'DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/a;';
      expect(go(az).key).toBe('replica=az,blackhole,at=0s');
    } finally {
      delete process.env.RKVS_TEST_AZ_CS;
    }
  });
});

const suite = parseSuite(
  {
    name: 'f',
    variants: ['raw', 'regular', 'atomic'],
    workloads: [{ name: 'w', mix: { write: 1 }, valueBytes: [64], registers: 2, clients: 1, ops: 5 }],
    repeat: 2,
  },
  'inline',
);
const quiet = createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream });

describe('the plan of a run with --fault', () => {
  const blackhole = parseFaultFlag('replica=s3,blackhole,at=0s');
  const delay = parseFaultFlag('replica=gcs,delay=20ms,at=1s,for=2s');

  it('runs each register cell healthy, then under each scenario; raw cells healthy only', () => {
    const plan = planRun({ suite, configurations: [emulatorConfiguration()], progress: quiet, faults: [blackhole, delay] });
    const row = (p: (typeof plan.cells)[number]) => `${p.variant} r${p.repeat} ${p.fault ?? 'healthy'}`;
    expect(plan.cells.map(row)).toEqual([
      'raw r0 healthy', 'raw r1 healthy',
      'regular r0 healthy', 'regular r0 1', 'regular r0 2', 'regular r1 healthy', 'regular r1 1', 'regular r1 2',
      'atomic r0 healthy', 'atomic r0 1', 'atomic r0 2', 'atomic r1 healthy', 'atomic r1 1', 'atomic r1 2',
    ]);
    expect(plan.faults?.[0]?.map((s) => s.key)).toEqual(['replica=s3-emulator,blackhole,at=0s', 'replica=gcs-emulator,delay=20ms,at=1s,for=2s']);
    // the key of a faulty cell carries the fault; the healthy one an empty field
    const [healthy, faulty] = [plan.cells[2]!, plan.cells[3]!];
    expect(cellOf(healthy, 'emulators', 1).fault).toBe('');
    expect(cellOf(faulty, 'emulators', 1, plan.faults![0]![0]!.key).fault).toBe('replica=s3-emulator,blackhole,at=0s');
    // without --fault nothing changes
    expect(planRun({ suite, configurations: [emulatorConfiguration()], progress: quiet }).cells.every((c) => c.fault === undefined)).toBe(true);
  });

  it('refuses, before anything opens, what cannot run under a fault', async () => {
    const run = (o: Partial<Parameters<typeof planRun>[0]>) => () => planRun({ suite, configurations: [emulatorConfiguration()], progress: quiet, faults: [blackhole], ...o });
    expect(usage(run({ workers: [2] })).message).toMatch(/^--fault: the fault proxies run in the rkvs bench process, and worker processes open their replicas without them; run without --workers/);
    expect(usage(run({ configurations: [memoryConfiguration()] })).message).toMatch(/^--fault: configuration memory has replicas inside this process \(memory\)/);
    expect(usage(run({ variants: ['raw'] })).message).toMatch(/raw cells use replica 0 alone and run healthy only; add regular or atomic to --variants/);
    expect(usage(run({ suite: parseSuite({ name: 'm', kind: 'micro' }, 'inline') })).message).toMatch(/the micro suite measures CPU cost/);
    // every configuration of the run must have the replica
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-fault-plan-'));
    try {
      const file = path.join(tmp, 'c.yaml');
      await writeFile(file, 'version: 1\nconfigurations:\n  two:\n    replicas:\n      - { provider: emulator, kind: azure, name: a }\n      - { provider: emulator, kind: gcs, name: g }\n      - { provider: emulator, kind: azure, name: b, bucket: other }\n');
      const [two] = configurationsOf(await loadConfigFile(file));
      expect(usage(run({ configurations: [emulatorConfiguration(), two!] })).message).toMatch(/configuration two has no replica "s3"; its replicas are 0 a, 1 g, 2 b/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('the measure gate of a faulty cell', () => {
  /** A client whose operations are immediate; it opens the gate during its `openAt`-th operation (1-based). */
  function gatedClient(gate: { open: boolean }, openAt: number, calls: { n: number; measuredFrom?: number }): BenchClient {
    const store = createMemoryStore();
    const tick = async () => {
      calls.n++;
      if (calls.n === openAt) gate.open = true;
    };
    return {
      id: 'c0',
      write: async (k, v, o) => {
        await tick();
        await store.put(k, v, o);
      },
      read: async (k, o) => {
        await tick();
        return { value: await store.get(k, o) };
      },
      remove: async (k, o) => {
        await tick();
        await store.remove(k, o);
      },
    };
  }

  it('operations before the gate opens are warm-up; the measured ones start with the next one issued', async () => {
    const gate = { open: false };
    const calls = { n: 0 };
    const w = workloadSchema.parse({ name: 't', mix: { write: 1, read: 1 }, valueBytes: [16], registers: 2, ops: 10, warmupOps: 3 });
    const out = await runCell({ clients: [gatedClient(gate, 20, calls)], workload: w, valueBytes: 16, seed: 1, measureGate: gate });
    // 20 operations before the gate opened (warm-up), then exactly the 10 measured ones
    expect(calls.n).toBe(30);
    expect([...out.measured.values()].reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('an open gate measures from the end of the warm-up, as without one', async () => {
    const calls = { n: 0 };
    const w = workloadSchema.parse({ name: 't', mix: { write: 1 }, valueBytes: [16], registers: 2, ops: 10, warmupOps: 3 });
    const out = await runCell({ clients: [gatedClient({ open: true }, 0, calls)], workload: w, valueBytes: 16, seed: 1, measureGate: { open: true } });
    expect(calls.n).toBe(13);
    expect(out.ok.get('write|16')?.totalCount).toBe(10);
  });
});
