/**
 * Secrets never appear in describe() (what the harness writes into meta.json), in probe.csv, or in
 * anything the commands print.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigurations, redactUrl } from '../../src/bench/config/file.js';
import { startUserRunServers, type UserRunServers } from './user-run-env.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/rkvs.js');

const SECRET_ID = 'AKIARKVSTESTSECRETID0';
const SECRET_KEY = 'rkvs-test-secret-key-9f3a1c7e';

describe('secret redaction', () => {
  let dir: string;
  let servers: UserRunServers | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rkvs-secrets-'));
    servers = await startUserRunServers();
  }, 180_000);
  afterAll(async () => {
    await servers?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('describe() names the variables, never their values, before and after open', async () => {
    process.env.RKVS_TEST_SECRET_ID = SECRET_ID;
    process.env.RKVS_TEST_SECRET_KEY = SECRET_KEY;
    const f = path.join(dir, 'c.yaml');
    await writeFile(
      f,
      'configurations:\n  c:\n    replicas:\n      - provider: s3\n        bucket: b\n        endpointEnv: RKVS_MINIO_ENDPOINT\n        credentials: { accessKeyIdEnv: RKVS_TEST_SECRET_ID, secretAccessKeyEnv: RKVS_TEST_SECRET_KEY }\n',
    );
    const [h] = await loadConfigurations(f);
    const before = JSON.stringify(h.describe());
    expect(before).toContain('RKVS_TEST_SECRET_ID');
    const opened = await h.open({ prefix: 'rkvs-secrets/' });
    const after = JSON.stringify(h.describe());
    await opened.close();
    for (const text of [before, after]) {
      expect(text).not.toContain(SECRET_ID);
      expect(text).not.toContain(SECRET_KEY);
    }
  });

  it('the Azure connection string (account key) never appears in describe(), probe.csv or command output', async () => {
    const conn = process.env.RKVS_AZURITE_CONNECTION_STRING!;
    const accountKey = /AccountKey=([^;]+)/.exec(conn)![1];
    const [h] = await loadConfigurations('azurite');
    expect(JSON.stringify(h.describe())).not.toContain(accountKey);
    const out = path.join(dir, 'probe');
    const probe = await run(process.execPath, [BIN, 'probe', '--config', 'azurite', '--dir', out, '--sizes', '1KiB', '--samples', '1', '--trials', '1'], {
      env: process.env,
      timeout: 120_000,
    });
    const clean = await run(process.execPath, [BIN, 'clean', '--config', 'azurite', '--prefix', 'rkvs-bench/secrets-test/'], { env: process.env, timeout: 120_000 });
    // A failing run prints errors: they must not carry the key either.
    const wrong = conn.replace(/AccountName=[^;]+/, 'AccountName=nosuchaccount');
    const failing = (await run(process.execPath, [BIN, 'probe', '--config', 'azurite', '--dir', out, '--overwrite', '--samples', '1', '--trials', '1'], {
      env: { ...process.env, RKVS_AZURITE_CONNECTION_STRING: wrong, RKVS_DEBUG: '1' },
      timeout: 120_000,
    }).catch((x: unknown) => x)) as { stdout: string; stderr: string; code: number };
    expect(failing.code).toBe(1);
    const csv = await readFile(path.join(out, 'probe.csv'), 'utf8');
    for (const text of [probe.stdout, probe.stderr, clean.stdout, clean.stderr, failing.stdout, failing.stderr, csv]) {
      expect(text).not.toContain(accountKey);
      expect(text).not.toContain(conn);
    }
    expect(probe.stdout).toMatch(/azurite-a\s+azure\s+read-after-write/);
  }, 180_000);

  it('a bench run on the azurite preset: meta.json and the run output hold no secret', async () => {
    const conn = process.env.RKVS_AZURITE_CONNECTION_STRING!;
    const accountKey = /AccountKey=([^;]+)/.exec(conn)![1];
    const out = path.join(dir, 'bench');
    const bench = await run(
      process.execPath,
      [BIN, 'bench', '--suite', 'quick', '--config', 'azurite', '--out', out, '--no-progress', '--no-checks', '--ops', '5', '--variants', 'regular', '--clients', '1'],
      { env: process.env, timeout: 300_000 },
    );
    const [runDir] = await readdir(out);
    const meta = await readFile(path.join(out, runDir, 'meta.json'), 'utf8');
    expect(meta).toContain('"azurite-a"'); // the configuration is recorded
    for (const text of [meta, bench.stdout, bench.stderr]) {
      expect(text).not.toContain(accountKey);
      expect(text).not.toContain(conn);
    }
  }, 300_000);

  it('URLs lose their passwords and signatures (the one redaction of src/util/redact.ts)', () => {
    expect(redactUrl('https://u:p@acct.blob.core.windows.net/c?sv=2024&sig=abc')).toBe('https://u:***@acct.blob.core.windows.net/c?sv=2024&sig=***');
    expect(redactUrl('http://127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
  });
});
