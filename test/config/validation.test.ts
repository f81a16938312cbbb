import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  configurationsOf,
  emulatorConfiguration,
  loadConfigFile,
  loadConfigurations,
  parseConfigNames,
  resolveConfigPath,
} from '../../src/bench/config/file.js';
import { configProblems, validateConfigDocument } from '../../src/bench/config/validate.js';

/** Every problem of a document as "path: message" lines. */
function problems(doc: unknown): string[] {
  return configProblems(doc).map((e) => e.message);
}

/** The single ConfigError thrown when validating `doc`. */
function errorOf(doc: unknown): ConfigError {
  try {
    validateConfigDocument(doc, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const s3 = { provider: 's3', bucket: 'b' };

describe('config file validation: each bad field is reported with its path', () => {
  it('a valid file has no problems', () => {
    expect(problems({ configurations: { a: { replicas: [s3, s3, s3] } } })).toEqual([]);
  });

  const cases: [string, unknown, string][] = [
    [
      'missing bucket',
      { configurations: { 'aws+azure+gcs': { replicas: [s3, { provider: 's3' }, s3] } } },
      'configurations.aws+azure+gcs.replicas[1].bucket: required — the bucket name',
    ],
    [
      'unknown provider',
      { configurations: { a: { replicas: [{ provider: 'dropbox', bucket: 'x' }] } } },
      'configurations.a.replicas[0].provider: provider must be one of s3, azure, gcs, memory, fs, emulator',
    ],
    ['missing provider', { configurations: { a: { replicas: [{ bucket: 'x' }] } } }, 'configurations.a.replicas[0].provider:'],
    [
      'missing container',
      { configurations: { a: { replicas: [{ provider: 'azure' }] } } },
      'configurations.a.replicas[0].container: required — the blob container name',
    ],
    ['missing fs dir', { configurations: { a: { replicas: [{ provider: 'fs' }] } } }, 'configurations.a.replicas[0].dir: required'],
    [
      'bad emulator kind',
      { configurations: { a: { replicas: [{ provider: 'emulator', kind: 'ftp' }] } } },
      'configurations.a.replicas[0].kind:',
    ],
    [
      'endpoint not a URL',
      { configurations: { a: { replicas: [{ ...s3, endpoint: 'localhost:9000' }] } } },
      'configurations.a.replicas[0].endpoint: must be an http(s) URL',
    ],
    [
      'forcePathStyle not a boolean',
      { configurations: { a: { replicas: [{ ...s3, forcePathStyle: 'yes' }] } } },
      'configurations.a.replicas[0].forcePathStyle: must be true or false',
    ],
    [
      'credential env name is a value',
      { configurations: { a: { replicas: [{ ...s3, credentials: { accessKeyIdEnv: 'AKIA 123', secretAccessKeyEnv: 'S' } }] } } },
      'configurations.a.replicas[0].credentials.accessKeyIdEnv: must be an environment variable NAME',
    ],
    [
      'credential env name missing',
      { configurations: { a: { replicas: [{ ...s3, credentials: { accessKeyIdEnv: 'A' } }] } } },
      'configurations.a.replicas[0].credentials.secretAccessKeyEnv: required — the name of the environment variable',
    ],
    [
      'azure account without key',
      { configurations: { a: { replicas: [{ provider: 'azure', container: 'c', credentials: { accountNameEnv: 'A' } }] } } },
      'configurations.a.replicas[0].credentials.accountKeyEnv: required with accountNameEnv',
    ],
    [
      'latency model without its delay',
      { configurations: { a: { replicas: [{ provider: 'memory', latency: { distribution: 'fixed' } }] } } },
      'configurations.a.replicas[0].latency.ms: required for distribution fixed',
    ],
    [
      'latency distribution unknown',
      { configurations: { a: { replicas: [{ provider: 'memory', latency: { distribution: 'pareto', ms: 1 } }] } } },
      'configurations.a.replicas[0].latency.distribution: must be one of fixed, uniform, normal, lognormal',
    ],
    [
      'unknown field in a replica',
      { configurations: { a: { replicas: [{ ...s3, buckett: 'x' }] } } },
      'configurations.a.replicas[0].buckett: unknown field',
    ],
    ['unknown top-level field', { configurations: { a: { replicas: [s3] } }, configuration: {} }, 'configuration: unknown field'],
    ['t not an integer', { configurations: { a: { replicas: [s3], t: 0.5 } } }, 'configurations.a.t: must be an integer'],
    ['bad variant', { configurations: { a: { replicas: [s3], variants: ['fastest'] } } }, 'configurations.a.variants[0]: must be one of raw, regular, atomic'],
    ['bad schedule default', { defaults: { schedules: ['slow'] }, configurations: { a: { replicas: [s3] } } }, 'defaults.schedules[0]: must be one of fast, classic'],
    ['empty replica list', { configurations: { a: { replicas: [] } } }, 'configurations.a.replicas: must list at least one replica'],
    ['no configurations', {}, 'configurations: required'],
    ['bad configuration name', { configurations: { 'a b': { replicas: [s3] } } }, 'configurations.a b:'],
    ['bad version', { version: 2, configurations: { a: { replicas: [s3] } } }, 'version: must be 1'],
    [
      'bad price',
      { configurations: { a: { replicas: [s3] } }, prices: { s3: { putPer1k: -1 } } },
      'prices.s3.putPer1k:',
    ],
  ];
  for (const [title, doc, expected] of cases) {
    it(title, () => {
      const all = problems(doc);
      expect(all.some((m) => m.startsWith(expected)), `expected a problem starting with\n  ${expected}\ngot\n  ${all.join('\n  ')}`).toBe(true);
    });
  }

  it('inline secrets are rejected with the env field to use instead', () => {
    const all = problems({
      configurations: {
        a: {
          replicas: [
            { ...s3, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI' } },
            { provider: 'azure', container: 'c', connectionString: 'DefaultEndpointsProtocol=https;AccountKey=abc' },
            { provider: 'azure', container: 'c', credentials: { accountKey: 'abc' } },
          ],
        },
      },
    });
    expect(all).toContainEqual(expect.stringMatching(/^configurations\.a\.replicas\[0\]\.credentials\.accessKeyId: inline secrets are not allowed.*accessKeyIdEnv/));
    expect(all).toContainEqual(expect.stringMatching(/^configurations\.a\.replicas\[0\]\.credentials\.secretAccessKey: inline secrets.*secretAccessKeyEnv/));
    expect(all).toContainEqual(expect.stringMatching(/^configurations\.a\.replicas\[1\]\.connectionString: inline secrets.*connectionStringEnv/));
    expect(all).toContainEqual(expect.stringMatching(/^configurations\.a\.replicas\[2\]\.credentials\.accountKey: inline secrets.*accountKeyEnv/));
    // The secret values never appear in any message.
    for (const m of all) expect(m).not.toMatch(/AKIAEXAMPLE|wJalrXUtnFEMI|AccountKey=abc/);
  });

  it('credentials embedded in an endpoint URL are rejected', () => {
    const found = problems({ configurations: { a: { replicas: [{ ...s3, endpoint: 'http://user:pw@127.0.0.1:9000' }] } } });
    // the field, what is wrong and the fix; the URL is shown with its password masked, never in clear
    expect(found).toContainEqual(expect.stringMatching(/^configurations\.a\.replicas\[0\]\.endpoint: the endpoint URL .* carries credentials .*credentials\.\*Env/));
    for (const m of found) expect(m).not.toMatch(/user:pw@/);
  });

  it('n >= 2t + 1 is enforced', () => {
    const e = errorOf({ configurations: { small: { replicas: [s3, s3], t: 1 } } });
    expect(e.message).toMatch(/configurations\.small\.t: n = 2 replicas tolerate at most t = 0/);
  });

  it('an explicit n must match the replica list', () => {
    const e = errorOf({ configurations: { a: { replicas: [s3, s3, s3], n: 5 } } });
    expect(e.message).toMatch(/configurations\.a\.n: is 5 but 3 replicas are listed/);
  });

  it('a reference to an undefined named replica names the known ones', () => {
    const e = errorOf({ replicas: { east: s3 }, configurations: { a: { replicas: ['east', 'west'] } } });
    expect(e.path).toBe('configurations.a.replicas[1]');
    expect(e.message).toMatch(/no replica named "west".*known: east/);
  });

  it('resolves named replicas, default names and n/t', () => {
    const v = validateConfigDocument(
      {
        defaults: { t: 1, variants: ['atomic'] },
        replicas: { east: { ...s3, region: 'us-east-1' } },
        configurations: { a: { replicas: ['east', s3, { provider: 'memory' }] }, b: { replicas: [s3, s3, s3, s3, s3], t: 2, variants: ['regular'] } },
      },
      'x.yaml',
    );
    const [a, b] = v.configurations;
    expect(a.replicas.map((r) => r.name)).toEqual(['east', 's3-1', 'memory-2']);
    expect([a.n, a.t, a.variants]).toEqual([3, 1, ['atomic']]);
    expect([b.n, b.t, b.variants]).toEqual([5, 2, ['regular']]);
    expect(v.prefixRoot).toBe('rkvs-');
  });

  it('t defaults to floor((n-1)/2)', () => {
    const v = validateConfigDocument({ configurations: { a: { replicas: [s3, s3, s3, s3] } } }, 'x.yaml');
    expect(v.configurations[0].t).toBe(1);
  });
});

describe('config files on disk', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rkvs-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every preset in benchmarks/configs loads and validates', async () => {
    for (const preset of ['emulators', 'minio', 'azurite', 'local-compare', 'benchmarks/configs/cloud-examples.yaml']) {
      const handles = await loadConfigurations(preset);
      expect(handles.length, preset).toBeGreaterThan(0);
      for (const h of handles) {
        const d = h.describe();
        expect(d.name).toBe(h.name);
        expect(JSON.parse(JSON.stringify(d))).toEqual(d); // JSON-safe
      }
    }
    const cloud = await loadConfigurations('benchmarks/configs/cloud-examples.yaml');
    expect(cloud.map((h) => h.name)).toEqual(['three-regions-aws', 'aws+azure+gcs', '5-replicas']);
    expect(cloud[2].spec).toMatchObject({ n: 5, t: 2 });
  });

  it('JSON files work too, and bad YAML/JSON is a clear error', async () => {
    const json = path.join(dir, 'c.json');
    await writeFile(json, JSON.stringify({ configurations: { m: { replicas: [{ provider: 'memory' }] } } }));
    expect((await loadConfigurations(json)).map((h) => h.name)).toEqual(['m']);
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(bad, 'configurations: [unclosed');
    await expect(loadConfigFile(bad)).rejects.toThrow(/is not valid YAML/);
    const badJson = path.join(dir, 'bad.json');
    await writeFile(badJson, '{');
    await expect(loadConfigFile(badJson)).rejects.toThrow(/is not valid JSON/);
  });

  it('a bad file reports the file and the path of the bad field', async () => {
    const f = path.join(dir, 'missing-bucket.yaml');
    await writeFile(f, 'configurations:\n  aws+azure+gcs:\n    replicas:\n      - { provider: s3, bucket: a }\n      - { provider: s3 }\n');
    const e = await loadConfigFile(f).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).path).toBe('configurations.aws+azure+gcs.replicas[1].bucket');
    expect((e as ConfigError).message).toContain('configurations.aws+azure+gcs.replicas[1].bucket: required — the bucket name');
    expect((e as ConfigError).message).toContain(f);
  });

  it('missing file, unknown preset, unknown configuration name', async () => {
    expect(() => resolveConfigPath('no-such-preset')).toThrow(/not found.*preset name/);
    await expect(loadConfigurations('local-compare', ['mixed-3', 'nope'])).rejects.toThrow(/no configuration named "nope".*defines: mixed-3, s3-only-3/);
    expect(() => parseConfigNames(' , ')).toThrow(ConfigError);
    expect(parseConfigNames('a, b')).toEqual(['a', 'b']);
    const cfg = await loadConfigFile('local-compare');
    expect(configurationsOf(cfg, ['s3-only-3']).map((h) => h.name)).toEqual(['s3-only-3']);
  });

  it('loads the dotenv file named by env: without overriding variables already set', async () => {
    const envFile = path.join(dir, 'test.env');
    await writeFile(envFile, 'RKVS_TEST_FROM_DOTENV=from-file\nRKVS_TEST_ALREADY_SET=from-file\n');
    process.env.RKVS_TEST_ALREADY_SET = 'from-shell';
    const f = path.join(dir, 'with-env.yaml');
    await writeFile(f, 'env: test.env\nconfigurations:\n  m:\n    replicas: [{ provider: memory }]\n');
    const cfg = await loadConfigFile(f);
    expect(cfg.env).toBe(envFile);
    expect(process.env.RKVS_TEST_FROM_DOTENV).toBe('from-file');
    expect(process.env.RKVS_TEST_ALREADY_SET).toBe('from-shell');
    const missing = path.join(dir, 'missing-env.yaml');
    await writeFile(missing, 'env: nope.env\nconfigurations:\n  m:\n    replicas: [{ provider: memory }]\n');
    await expect(loadConfigFile(missing)).rejects.toThrow(/env: dotenv file .*nope\.env not found/);
  });

  it('an unset credential variable is a ConfigError naming the field and the variable, at open time', async () => {
    const f = path.join(dir, 'unset.yaml');
    await writeFile(
      f,
      'configurations:\n  c:\n    replicas:\n      - provider: s3\n        bucket: b\n        credentials: { accessKeyIdEnv: RKVS_TEST_UNSET_KEY_ID, secretAccessKeyEnv: RKVS_TEST_UNSET_SECRET }\n',
    );
    delete process.env.RKVS_TEST_UNSET_KEY_ID;
    const [h] = await loadConfigurations(f);
    const e = await h.open({ prefix: 'rkvs-x/' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/configurations\.c\.replicas\[0\]\.credentials\.accessKeyIdEnv: environment variable RKVS_TEST_UNSET_KEY_ID is not set/);
  });

  it('memory and fs configurations open, prefix every key, and close', async () => {
    const f = path.join(dir, 'local.yaml');
    await writeFile(
      f,
      'configurations:\n  local:\n    replicas:\n      - { provider: memory, latency: { distribution: fixed, ms: 1 } }\n      - { provider: fs, dir: data/r1 }\n      - { provider: memory }\n',
    );
    const [h] = await loadConfigurations(f);
    expect(h.ephemeral).toBe(false);
    const opened = await h.open({ prefix: 'rkvs-run1/' });
    expect(opened.replicas).toHaveLength(3);
    expect(opened.t).toBe(1);
    for (const r of opened.replicas) {
      await r.put('k', new Uint8Array([1, 2, 3]));
      expect(await r.get('k')).toEqual(new Uint8Array([1, 2, 3]));
      expect(await r.list('')).toEqual(['k']);
    }
    await opened.close();
    // The fs replica is relative to the config file and holds the key under the run prefix.
    const raw = await h.openRaw();
    expect(await raw.replicas[1].store.list('')).toEqual(['rkvs-run1/k']);
    await raw.close();
    await expect(h.open({ prefix: '' })).rejects.toThrow(/run prefix is required/);
  });

  it('emulatorConfiguration describes n=3, t=1 without starting anything', () => {
    const h = emulatorConfiguration();
    expect(h.describe()).toMatchObject({ name: 'emulators', n: 3, t: 1 });
    expect(h.ephemeral).toBe(true);
    expect(emulatorConfiguration({ kinds: ['s3'] }).spec).toMatchObject({ n: 1, t: 0 });
    expect(() => emulatorConfiguration({ kinds: [] })).toThrow(ConfigError);
  });
});
