/**
 * No credential is printed or written, whatever its source: secrets are planted in the variables a
 * configuration file names (an S3 secret key, an Azure connection string), in endpoint URLs (user
 * info in `endpoint` and in the variable `endpointEnv` names), and every output of a run — each file
 * of its report directory, recursively, probe.csv, and both streams of bench, probe and clean,
 * failing runs included — is searched for them.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type RunningEmulators } from '../../src/emulators/index.js';
import { tempDir } from '../support/tmp.js';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function rkvs(args: string[], env: Record<string, string>): Promise<Ran> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1', ...env }, timeout: 240_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

/** Every file under `dir`, recursively (hidden ones included), with its content. */
async function allFiles(dir: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const name of await readdir(dir)) {
    const p = path.join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await allFiles(p)));
    else out.push([p, await readFile(p, 'latin1')]);
  }
  return out;
}

const S3_SECRET = 'plantedS3Secret+9f8e7d6c5b4a3210';
const SESSION_TOKEN = 'plantedSessionToken/ZXhhbXBsZQ==0042';
const EP_PASSWORD = 'plantedEndpointPassw0rd';

let emus: RunningEmulators;
let secrets: string[];
let env: Record<string, string>;
beforeAll(async () => {
  emus = await startEmulators(['s3', 'azure']);
  const conn = emus.azure.connectionString!;
  const accountKey = /AccountKey=([^;]+)/.exec(conn)![1]!;
  env = {
    PLANT_S3_KEY_ID: 'AKIAPLANTEDKEYID0001',
    PLANT_S3_SECRET: S3_SECRET,
    PLANT_S3_TOKEN: SESSION_TOKEN,
    PLANT_S3_ENDPOINT: emus.s3.endpoint,
    PLANT_AZ_CONN: conn,
    PLANT_EP_WITH_PASSWORD: emus.s3.endpoint.replace('http://', `http://planteduser:${EP_PASSWORD}@`),
  };
  secrets = [S3_SECRET, SESSION_TOKEN, EP_PASSWORD, accountKey, conn];
}, 180_000);
afterAll(async () => {
  await emus?.stop();
});

function expectNoSecret(where: string, text: string): void {
  for (const s of secrets) expect(text.includes(s), `${where} holds the planted secret ${s.slice(0, 12)}...`).toBe(false);
}

const replicas = (more = '') =>
  'configurations:\n  planted:\n    replicas:\n' +
  `      - { provider: s3, name: s3-a, bucket: rkvs-planted-a, endpointEnv: PLANT_S3_ENDPOINT, forcePathStyle: true, createIfMissing: true, credentials: { accessKeyIdEnv: PLANT_S3_KEY_ID, secretAccessKeyEnv: PLANT_S3_SECRET, sessionTokenEnv: PLANT_S3_TOKEN } }\n` +
  '      - { provider: azure, name: az, container: rkvs-planted, createIfMissing: true, credentials: { connectionStringEnv: PLANT_AZ_CONN } }\n' +
  `      - { provider: s3, name: s3-b, bucket: rkvs-planted-b, endpointEnv: PLANT_S3_ENDPOINT, forcePathStyle: true, createIfMissing: true, credentials: { accessKeyIdEnv: PLANT_S3_KEY_ID, secretAccessKeyEnv: PLANT_S3_SECRET } }\n` +
  more;

describe('planted secrets appear in no output', () => {
  it('a bench run, its report directory, probe, clean and a failing run hold none of them', async () => {
    const dir = tempDir('rkvs-planted-');
    const config = path.join(dir, 'planted.yaml');
    await writeFile(config, replicas());
    const out = path.join(dir, 'reports');
    const bench = await rkvs(['bench', '--suite', 'quick', '--config', config, '--out', out, '--history', '--ops', '10', '--variants', 'raw,regular', '--run-id', 'planted'], env);
    expect(bench.code, bench.stderr).toBe(0);
    const files = await allFiles(out);
    expect(files.map(([f]) => path.relative(out, f))).toEqual(expect.arrayContaining(['planted/meta.json', 'planted/history.jsonl', 'planted/report.html', 'planted/cost.csv']));
    expect(files.some(([f]) => f.endsWith('.hgrm'))).toBe(true);
    for (const [f, text] of files) expectNoSecret(f, text);
    // meta.json names the variables, so a reader knows which credentials were used
    expect(files.find(([f]) => f.endsWith('meta.json'))![1]).toContain('PLANT_S3_SECRET');

    const probe = await rkvs(['probe', '--config', config, '--dir', path.join(dir, 'probe'), '--sizes', '1KiB', '--samples', '1', '--trials', '1'], env);
    expect(probe.code, probe.stderr).toBe(0);
    const clean = await rkvs(['clean', '--config', config, '--prefix', 'rkvs-bench/planted/'], env);
    expect(clean.code, clean.stderr).toBe(0);
    // a run with a failing replica: the Azure account is wrong, the S3 session token refused nowhere (the emulator
    // takes any): errors are printed and recorded, without the secrets
    const wrong = { ...env, PLANT_AZ_CONN: env.PLANT_AZ_CONN!.replace(/AccountName=[^;]+/, 'AccountName=nosuchaccount').replace(/\/devstoreaccount1/, '/nosuchaccount') };
    const failing = await rkvs(['bench', '--suite', 'quick', '--config', config, '--out', out, '--ops', '4', '--variants', 'raw', '--yes'], { ...wrong, RKVS_DEBUG: '1' });
    // one replica of three unreachable: the run goes on without it (t = 1), and says why
    expect(failing.stderr).toMatch(/warning: configuration planted: replica az is unreachable/);
    for (const [f, text] of await allFiles(out)) expectNoSecret(f, text);
    for (const [f, text] of await allFiles(path.join(dir, 'probe'))) expectNoSecret(f, text);
    for (const [name, r] of Object.entries({ bench, probe, clean, failing })) {
      expectNoSecret(`${name} stdout`, r.stdout);
      expectNoSecret(`${name} stderr`, r.stderr);
    }
  }, 600_000);

  it('a URL with user info in endpointEnv is refused (exit 2) with the URL redacted, by bench and probe', async () => {
    const dir = tempDir('rkvs-planted-ep-');
    const config = path.join(dir, 'ep.yaml');
    await writeFile(config, replicas().replace('endpointEnv: PLANT_S3_ENDPOINT, forcePathStyle: true, createIfMissing: true, credentials: { accessKeyIdEnv: PLANT_S3_KEY_ID, secretAccessKeyEnv: PLANT_S3_SECRET, sessionTokenEnv', 'endpointEnv: PLANT_EP_WITH_PASSWORD, forcePathStyle: true, createIfMissing: true, credentials: { accessKeyIdEnv: PLANT_S3_KEY_ID, secretAccessKeyEnv: PLANT_S3_SECRET, sessionTokenEnv'));
    const out = path.join(dir, 'reports');
    for (const args of [
      ['bench', '--suite', 'quick', '--config', config, '--out', out, '--ops', '4'],
      ['probe', '--config', config, '--dir', path.join(dir, 'probe'), '--sizes', '1KiB', '--samples', '1', '--trials', '1'],
    ]) {
      const r = await rkvs(args, env);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/configurations\.planted\.replicas\[0\]\.endpointEnv \(variable PLANT_EP_WITH_PASSWORD\): the URL "http:\/\/planteduser:\*\*\*@127\.0\.0\.1:\d+" carries a user name or password/);
      expectNoSecret(`${args[0]} stderr`, r.stderr);
      expectNoSecret(`${args[0]} stdout`, r.stdout);
    }
    // bench wrote nothing; probe's rows carry no secret either
    expect(await readdir(dir)).not.toContain('reports');
    for (const [f, text] of await allFiles(path.join(dir, 'probe')).catch(() => [] as [string, string][])) expectNoSecret(f, text);
  }, 300_000);

  it('a URL with user info in endpoint, or an inline connection string, is refused by the file check, redacted', async () => {
    const dir = tempDir('rkvs-planted-file-');
    const inline = path.join(dir, 'inline.yaml');
    await writeFile(inline, replicas().replace('endpointEnv: PLANT_S3_ENDPOINT', `endpoint: "${env.PLANT_EP_WITH_PASSWORD}"`));
    const r = await rkvs(['bench', '--suite', 'quick', '--config', inline, '--out', path.join(dir, 'reports')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/configurations\.planted\.replicas\[0\]\.endpoint: the endpoint URL "http:\/\/planteduser:\*\*\*@127\.0\.0\.1:\d+\/?" carries credentials/);
    const conn = path.join(dir, 'conn.yaml');
    await writeFile(conn, replicas().replace('credentials: { connectionStringEnv: PLANT_AZ_CONN }', `connectionString: "${env.PLANT_AZ_CONN}"`));
    const c = await rkvs(['probe', '--config', conn, '--dir', path.join(dir, 'probe')], env);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/connectionString: inline secrets are not allowed in a config file/);
    for (const x of [r, c]) {
      expectNoSecret('stderr', x.stderr);
      expectNoSecret('stdout', x.stdout);
    }
  }, 120_000);
});
