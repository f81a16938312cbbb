/**
 * The CLI with one silent replica, as a new user would meet a blackholed cloud endpoint: a
 * configuration file of S3, Azure and GCS replicas, each reaching its emulator through a fault
 * proxy; one proxy accepts connections and never answers. With short adapter timeouts
 * (RKVS_*_TIMEOUT_MS), for each of S3, Azure and GCS silent:
 *
 * - `rkvs probe` exits 1, naming the replica and what it did (no answer within N ms on list);
 * - `rkvs clean` exits 1, naming the replica that could not be listed and why;
 * - `rkvs bench` warns before the first cell, naming the replica and what it did, runs its cells
 *   on the other replicas (t = 1: the register is wait-free) and exits 0.
 *
 * And with S3 going silent in the middle of a run: `rkvs bench` finishes its cells (the register
 * is wait-free), and its storage listing and its cleanup after the run end with warnings naming the
 * replica and the command that removes what is left; exit 0.
 *
 * Every process must exit on its own within BOUND_MS (it is killed and the test fails otherwise).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, storeForEmulator, type EmulatorKind, type RunningEmulators } from '../../src/emulators/index.js';
import { emulatorThroughProxy, startFaultProxy, type FaultProxy } from '../../src/net/fault-proxy.js';

const RKVS = fileURLToPath(new URL('../../bin/rkvs.js', import.meta.url));
const BUCKET = 'rkvs-cli-faults';
/** A silent replica costs a command at most maxAttempts (3) x 600 ms per call; the rest is start-up and the healthy replicas on a loaded machine. */
const BOUND_MS = 150_000;
const TIMEOUTS = { RKVS_CONNECT_TIMEOUT_MS: '600', RKVS_REQUEST_TIMEOUT_MS: '600', RKVS_IDLE_TIMEOUT_MS: '2000' };
const NO_ANSWER = /no answer within 600 ms of sending the request \(requestTimeoutMs\)/;

let emus: RunningEmulators | undefined;
const proxies = {} as Record<EmulatorKind, FaultProxy>;
let dir = '';
let config = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  emus = await startEmulators();
  for (const e of emus.all) await (await storeForEmulator(e, { bucket: BUCKET })).close();
  for (const e of emus.all) proxies[e.kind] = await startFaultProxy({ target: e.endpoint });
  const s3 = emulatorThroughProxy(emus.s3, proxies.s3);
  const azure = emulatorThroughProxy(emus.azure, proxies.azure);
  const gcs = emulatorThroughProxy(emus.gcs, proxies.gcs);
  dir = await mkdtemp(path.join(tmpdir(), 'rkvs-silent-'));
  config = path.join(dir, 'faulty.yaml');
  await writeFile(
    config,
    [
      'version: 1',
      'configurations:',
      '  faulty:',
      '    replicas:',
      `      - { provider: s3, name: s3, endpoint: "${s3.endpoint}", bucket: ${BUCKET}, region: us-east-1, forcePathStyle: true, credentials: { accessKeyIdEnv: T_S3_KEY, secretAccessKeyEnv: T_S3_SECRET } }`,
      `      - { provider: azure, name: azure, container: ${BUCKET}, credentials: { connectionStringEnv: T_AZURE } }`,
      `      - { provider: gcs, name: gcs, endpoint: "${gcs.endpoint}", bucket: ${BUCKET}, projectId: ${gcs.projectId} }`,
      '    t: 1',
      '',
    ].join('\n'),
  );
  env = { ...process.env, ...TIMEOUTS, T_S3_KEY: s3.accessKeyId, T_S3_SECRET: s3.secretAccessKey, T_AZURE: azure.connectionString, CI: '1' };
}, 180_000);

afterEach(async () => {
  for (const p of Object.values(proxies)) await p.set({ mode: 'pass' });
});

afterAll(async () => {
  for (const p of Object.values(proxies)) await p.close();
  await emus?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs rkvs; kills it and fails when it is still alive after BOUND_MS. */
function rkvs(args: string[], onStderr?: (text: string) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [RKVS, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      onStderr?.(stderr);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rkvs ${args.join(' ')} was still running after ${BOUND_MS} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`));
    }, BOUND_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, elapsedMs: performance.now() - t0 });
    });
  });
}

const show = (r: Run) => `exit ${r.code} after ${Math.round(r.elapsedMs)} ms\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;

describe.each(['s3', 'azure', 'gcs'] as const)('with the %s replica silent (blackholed)', (kind) => {
  it('probe and clean end with exit 1 and bench with a warning, each naming the replica and what it did', async () => {
    await proxies[kind].set({ mode: 'blackhole' });
    const [probe, clean, bench] = await Promise.all([
      rkvs(['probe', '--config', config, '--dir', path.join(dir, `probe-${kind}`), '--sizes', '1KiB', '--samples', '1', '--trials', '1']),
      rkvs(['clean', '--config', config, '--prefix', 'rkvs-bench/leftover-run/']),
      rkvs(['bench', '--suite', 'quick', '--config', config, '--out', path.join(dir, `bench-${kind}`), '--no-checks', '--variants', 'regular', '--clients', '1', '--ops', '10']),
    ]);

    expect(probe.code, show(probe)).toBe(1);
    expect(probe.stderr, show(probe)).toMatch(new RegExp(`probe: 1 replica\\(s\\) not usable: faulty/${kind} \\(access .*list`));
    expect(probe.stderr, show(probe)).toMatch(NO_ANSWER);
    expect(probe.stdout, show(probe)).toMatch(/wrote .*probe\.csv/);

    expect(clean.code, show(clean)).toBe(1);
    expect(clean.stdout, show(clean)).toMatch(new RegExp(`faulty/${kind}: could not list the keys under rkvs-bench/leftover-run/: .*list`));
    expect(clean.stdout, show(clean)).toMatch(NO_ANSWER);
    expect(clean.stderr, show(clean)).toMatch(new RegExp(`clean: 1 replica\\(s\\) could not be cleaned completely \\(faulty/${kind}: `));
    // the healthy replicas were cleaned
    for (const other of ['s3', 'azure', 'gcs'].filter((k) => k !== kind)) expect(clean.stdout).toMatch(new RegExp(`faulty/${other}: removed 0 of 0 key`));

    // the foreign-object guard leaves an unreachable replica to the preflight, which names it
    expect(bench.code, show(bench)).toBe(0);
    expect(bench.stderr, show(bench)).toMatch(new RegExp(`warning: configuration faulty: replica ${kind} is unreachable \\(.*\\) at the start: the register runs on the other replicas \\(t = 1\\)`));
    expect(bench.stderr, show(bench)).toMatch(NO_ANSWER);
    expect(bench.stderr, show(bench)).toMatch(/\] faulty regular\/fast .*: 10 ok, 0 errors/);
    for (const r of [probe, clean, bench]) expect(r.elapsedMs).toBeLessThan(BOUND_MS);
  }, 3 * BOUND_MS);
});

describe('with the s3 replica going silent in the middle of a bench run', () => {
  it('the cells complete, and the storage listing and the cleanup after the run end with warnings naming it', async () => {
    // blackhole the S3 proxy once the first cell is running (its first key is at the emulator)
    const direct = await storeForEmulator(emus!.s3, { bucket: BUCKET });
    let stop = false;
    const watcher = (async () => {
      while (!stop) {
        const keys = await direct.list('rkvs-bench/').catch(() => [] as string[]);
        if (keys.some((k) => k.includes('/cell0001/'))) {
          await proxies.s3.set({ mode: 'blackhole' });
          return true;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    })();
    let run: Run;
    try {
      run = await rkvs(['bench', '--suite', 'quick', '--config', config, '--out', path.join(dir, 'bench-mid'), '--no-checks', '--variants', 'regular', '--clients', '1', '--ops', '60']);
    } finally {
      stop = true;
    }
    const struck = await watcher;
    await direct.close();
    expect(struck, show(run)).toBe(true);
    expect(run.code, show(run)).toBe(0);
    // every operation of the cell completed at a quorum of the two others
    expect(run.stderr, show(run)).toMatch(/\[1\/1\] faulty regular\/fast mixed 256B 1c: \d+ ok, 0 errors/);
    expect(run.stderr, show(run)).toMatch(/replica s3: storage overhead not measured \(.*no answer within 600 ms/);
    expect(run.stderr, show(run)).toMatch(/warning: faulty: replica s3: the run's objects under rkvs-bench\/\S+\/ could not be listed \(.*no answer within 600 ms.*; remove them with: rkvs clean --config \S+ --configs faulty --prefix rkvs-bench\//);
    expect(run.elapsedMs).toBeLessThan(BOUND_MS);
  }, 2 * BOUND_MS);
});
