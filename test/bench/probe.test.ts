import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { ForwardingStore } from '../../src/layers/forwarding.js';
import type { CallOptions } from '../../src/store.js';
import { utf8 } from '../../src/store.js';
import { loadConfigurations } from '../../src/bench/config/file.js';
import {
  PROBE_COLUMNS,
  makeRunId,
  parseSize,
  percentile,
  probeConfiguration,
  probeReplica,
  probeTable,
  writeProbeCsv,
  type ProbeRow,
} from '../../src/bench/run/probe.js';
import { startUserRunServers, type UserRunServers } from '../config/user-run-env.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/rkvs.js');

/**
 * An eventually consistent store: a get right after a put returns the previous value, a list
 * right after a put misses the new key, a get right after a remove still finds the old value.
 */
class LaggingStore extends ForwardingStore {
  private readonly stale = new Map<string, Uint8Array | null>();
  private readonly unlisted = new Set<string>();
  constructor() {
    super(createMemoryStore({ name: 'lagging' }), 'lag');
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    this.stale.set(key, await this.inner.get(key));
    this.unlisted.add(key);
    await this.inner.put(key, value, opts);
  }
  override async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    if (this.stale.has(key)) {
      const old = this.stale.get(key)!;
      this.stale.delete(key);
      return old;
    }
    return this.inner.get(key, opts);
  }
  override async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const keys = (await this.inner.list(prefix, opts)).filter((k) => !this.unlisted.has(k));
    this.unlisted.clear();
    return keys;
  }
  override async remove(key: string, opts?: CallOptions): Promise<void> {
    this.stale.set(key, await this.inner.get(key));
    await this.inner.remove(key, opts);
  }
}

const info = { config: 'c', replica: 'r', provider: 'memory', prefixRoot: 'rkvs-', probePrefix: 'rkvs-probe-t/' };
const byCheck = (rows: ProbeRow[], check: string) => rows.filter((r) => r.check === check);

describe('probe on local stores', () => {
  it('a linearizable store: every check runs, no anomalies, no errors, and nothing is left behind', async () => {
    const store = createMemoryStore();
    const rows = await probeReplica(store, info, { runId: 'r1', sizes: [10, 2048], samples: 3, consistencyTrials: 4 });
    expect(rows.map((r) => `${r.check}:${r.value_bytes}`)).toEqual([
      'access:0',
      'put:10', 'get:10', 'list:10', 'remove:10',
      'put:2048', 'get:2048', 'list:2048', 'remove:2048',
      'read-after-write:0', 'list-after-write:0', 'read-after-remove:0',
    ]);
    for (const r of rows) {
      expect(r.errors, r.check).toBe(0);
      expect(r.anomalies, r.check).toBe(0);
      expect(typeof r.p50_ms).toBe('number');
      expect(r.p50_ms as number).toBeLessThanOrEqual(r.p99_ms as number);
    }
    expect(byCheck(rows, 'put')[0].count).toBe(3);
    expect(byCheck(rows, 'read-after-write')[0].count).toBe(4);
    expect(await store.list('')).toEqual([]);
  });

  it('an eventually consistent store: each consistency probe counts its anomalies', async () => {
    const rows = await probeReplica(new LaggingStore(), info, { runId: 'r1', sizes: [10], samples: 2, consistencyTrials: 5 });
    expect(byCheck(rows, 'read-after-write')[0].anomalies).toBe(5);
    expect(byCheck(rows, 'list-after-write')[0].anomalies).toBe(5);
    expect(byCheck(rows, 'read-after-remove')[0].anomalies).toBe(5);
  });

  it('a bucket holding objects outside the prefix root is only listed, unless yes', async () => {
    const store = createMemoryStore();
    await store.put('someone-elses/data', utf8('x'));
    const lines: string[] = [];
    const rows = await probeReplica(store, info, { runId: 'r1', sizes: [10], samples: 1, consistencyTrials: 1, log: (l) => lines.push(l) });
    expect(rows.map((r) => r.check)).toEqual(['access']);
    expect(rows[0].anomalies).toBe(1);
    expect(lines.join('\n')).toMatch(/outside "rkvs-".*--yes/);
    expect(await store.list('')).toEqual(['someone-elses/data']);
    const all = await probeReplica(store, info, { runId: 'r1', sizes: [10], samples: 1, consistencyTrials: 1, yes: true });
    expect(all.length).toBeGreaterThan(1);
    expect(await store.list('')).toEqual(['someone-elses/data']);
  });

  it('an unset credential variable is reported per replica, others are still probed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rkvs-probe-'));
    const file = path.join(dir, 'c.yaml');
    await (await import('node:fs/promises')).writeFile(
      file,
      'configurations:\n  c:\n    replicas:\n      - { provider: memory }\n      - { provider: s3, bucket: b, credentials: { accessKeyIdEnv: RKVS_TEST_NOPE_ID, secretAccessKeyEnv: RKVS_TEST_NOPE_SECRET } }\n      - { provider: memory }\n',
    );
    delete process.env.RKVS_TEST_NOPE_ID;
    const [h] = await loadConfigurations(file);
    const lines: string[] = [];
    const rows = await probeConfiguration(h, { runId: 'r2', sizes: [10], samples: 1, consistencyTrials: 1, log: (l) => lines.push(l) });
    const cred = byCheck(rows, 'credentials');
    expect(cred.map((r) => [r.replica, r.errors])).toEqual([['memory-0', 0], ['s3-1', 1], ['memory-2', 0]]);
    expect(lines.join('\n')).toMatch(/c\/s3-1: credentials: .*RKVS_TEST_NOPE_ID is not set/);
    expect(byCheck(rows, 'read-after-write').map((r) => r.replica)).toEqual(['memory-0', 'memory-2']);
    await rm(dir, { recursive: true, force: true });
  });

  it('probe.csv has the agreed columns; the table prints every row', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rkvs-probe-csv-'));
    const rows = await probeReplica(createMemoryStore(), info, { runId: 'r3', sizes: [1], samples: 1, consistencyTrials: 1 });
    const file = await writeProbeCsv(dir, rows);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('run_id,config,replica,provider,check,value_bytes,count,errors,anomalies,p50_ms,p99_ms,mean_ms');
    expect(PROBE_COLUMNS.join(',')).toBe(lines[0]);
    expect(lines).toHaveLength(rows.length + 1);
    expect(probeTable(rows).split('\n')).toHaveLength(rows.length + 2);
    await rm(dir, { recursive: true, force: true });
  });

  it('helpers: sizes, nearest-rank percentiles, run ids', () => {
    expect([parseSize('1024'), parseSize('1KiB'), parseSize('64k'), parseSize('1MiB'), parseSize('2mb')]).toEqual([1024, 1024, 65536, 1048576, 2097152]);
    expect(() => parseSize('lots')).toThrow(/--sizes: "lots" is not a size/);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([5], 50)).toBe(5);
    expect(makeRunId('probe', new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 'abc123')).toBe('20260102-030405-probe-abc123');
  });
});

describe('probe on the emulators', () => {
  let servers: UserRunServers | undefined;
  let dir: string;
  beforeAll(async () => {
    servers = await startUserRunServers();
    dir = await mkdtemp(path.join(tmpdir(), 'rkvs-probe-emu-'));
  }, 180_000);
  afterAll(async () => {
    await servers?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('probes every replica of the minio and azurite presets and leaves the buckets empty', async () => {
    for (const preset of ['minio', 'azurite']) {
      const [h] = await loadConfigurations(preset);
      const lines: string[] = [];
      const rows = await probeConfiguration(h, { runId: 'r-emu', sizes: [1024, 65536], samples: 2, consistencyTrials: 3, log: (l) => lines.push(l) });
      expect(lines, preset).toEqual([]);
      expect(new Set(rows.map((r) => r.replica)).size).toBe(3);
      for (const r of rows) {
        expect(r.errors, `${preset} ${r.replica} ${r.check}`).toBe(0);
        expect(r.anomalies, `${preset} ${r.replica} ${r.check}`).toBe(0);
      }
      const raw = await h.openRaw();
      for (const r of raw.replicas) expect(await r.store.list('')).toEqual([]);
      await raw.close();
    }
  }, 180_000);

  it('rkvs probe (no config): the embedded emulators, probe.csv and a table, exit 0', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'probe', '--dir', dir, '--sizes', '1KiB', '--samples', '2', '--trials', '2'], {
      timeout: 240_000,
    });
    expect(stdout).toMatch(/s3-emulator\s+emulator:s3\s+read-after-write/);
    expect(stdout).toMatch(/azure-emulator/);
    expect(stdout).toMatch(/gcs-emulator/);
    const csv = await readFile(path.join(dir, 'probe.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe(PROBE_COLUMNS.join(','));
  }, 300_000);

  it('rkvs probe: a usage error exits 2 with a one-line message', async () => {
    const e = await run(process.execPath, [BIN, 'probe', '--samples', 'many']).catch((x: unknown) => x as { code: number; stderr: string });
    expect((e as { code: number }).code).toBe(2);
    expect((e as { stderr: string }).stderr).toMatch(/--samples: expected an integer/);
  });
});
