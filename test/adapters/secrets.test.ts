/**
 * No credential reaches an error: secrets are planted everywhere a user can put them (endpoint URLs
 * in options and variables, connection strings, account keys, SAS tokens, session tokens), the
 * stores fail against a closed port, against a server that echoes the request (its Authorization
 * header, its SAS query string) into its error message, and against Azurite with a wrong account
 * key; then every error's message, stack and `util.inspect` form (what `console.error` prints,
 * causes and replica failures included) is searched for each secret.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { azureBlobOptionsFromEnv, createAzureBlobStore } from '../../src/adapters/azure-blob.js';
import { createGcsStore, gcsOptionsFromEnv } from '../../src/adapters/gcs.js';
import { createS3Store, s3OptionsFromEnv } from '../../src/adapters/s3.js';
import { startEmulator, type RunningEmulator } from '../../src/emulators/index.js';
import { ConfigError, QuorumError, StoreError } from '../../src/errors.js';
import { createRobustStore } from '../../src/register/index.js';
import type { Store } from '../../src/store.js';
import { closedPort } from '../emulators/adapter-edge-cases.js';

/** Planted secrets: each is distinctive, so finding it anywhere is a leak. */
const SECRET = {
  password: 'PlantedUrlPassw0rd',
  awsSecret: 'PlantedAwsSecretKey/abcdEFGH1234567890',
  sessionToken: 'PlantedSessionTokenIQoJb3JpZ2lu',
  accountKey: Buffer.from('PlantedAzureAccountKey-0123456789abcdef').toString('base64'),
  sasSig: 'PlantedSasSig%2Fxyz%3D',
} as const;

/** Every text a user could see of an error. */
function visibleTexts(e: unknown): string {
  const parts = [String(e), inspect(e, { depth: 12 })];
  if (e instanceof Error) parts.push(e.message, e.stack ?? '');
  return parts.join('\n');
}

function expectNoSecret(e: unknown, label: string): void {
  expect(e, `${label}: expected an error`).toBeInstanceOf(Error);
  const text = visibleTexts(e);
  for (const [name, value] of Object.entries(SECRET)) {
    expect(text.includes(value), `${label} shows the planted ${name}:\n${text}`).toBe(false);
    // a URL-encoded or decoded form is the same leak
    expect(text.includes(decodeURIComponent(value)), `${label} shows the planted ${name} (decoded)`).toBe(false);
  }
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  return expect.fail('expected the call to reject');
}

function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return expect.fail('expected the call to throw');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('endpoints with user info are refused, with the password masked', () => {
  const url = (port = 1) => `http://user:${SECRET.password}@127.0.0.1:${port}/b`;

  const cases: [string, string, () => unknown][] = [
    ['s3.endpoint', 's3.endpoint', () => createS3Store({ bucket: 'b', endpoint: url() })],
    [
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL_S3',
      () => {
        vi.stubEnv('AWS_ENDPOINT_URL_S3', url());
        return createS3Store({ bucket: 'b' });
      },
    ],
    [
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL',
      () => {
        vi.stubEnv('AWS_ENDPOINT_URL', url());
        return createS3Store({ bucket: 'b' });
      },
    ],
    ['RKVS_S3_ENDPOINT', 'RKVS_S3_ENDPOINT', () => s3OptionsFromEnv({ RKVS_S3_BUCKET: 'b', RKVS_S3_ENDPOINT: url() })],
    [
      'azure.endpoint',
      'azure.endpoint',
      () => createAzureBlobStore({ container: 'cont', accountName: 'acct', accountKey: SECRET.accountKey, endpoint: url() }),
    ],
    [
      'AZURE_STORAGE_BLOB_ENDPOINT',
      'AZURE_STORAGE_BLOB_ENDPOINT',
      () => {
        vi.stubEnv('AZURE_STORAGE_BLOB_ENDPOINT', url());
        return createAzureBlobStore({ container: 'cont', accountName: 'acct', accountKey: SECRET.accountKey });
      },
    ],
    [
      'the BlobEndpoint of a connection string',
      'azure.connectionString',
      () =>
        createAzureBlobStore({
          container: 'cont',
          connectionString: `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${SECRET.accountKey};BlobEndpoint=${url()};`,
        }),
    ],
    [
      'AZURE_STORAGE_CONNECTION_STRING',
      'AZURE_STORAGE_CONNECTION_STRING',
      () => {
        vi.stubEnv('AZURE_STORAGE_CONNECTION_STRING', `AccountName=acct;AccountKey=${SECRET.accountKey};BlobEndpoint=${url()}`);
        vi.stubEnv('AZURE_STORAGE_ACCOUNT', '');
        return createAzureBlobStore(azureBlobOptionsFromEnv({ RKVS_AZURE_CONTAINER: 'cont' }));
      },
    ],
    ['gcs.apiEndpoint', 'gcs.apiEndpoint', () => createGcsStore({ bucket: 'b', apiEndpoint: url() })],
    [
      'STORAGE_EMULATOR_HOST (host:port form)',
      'STORAGE_EMULATOR_HOST',
      () => {
        vi.stubEnv('STORAGE_EMULATOR_HOST', `user:${SECRET.password}@127.0.0.1:1`);
        return createGcsStore({ bucket: 'b' });
      },
    ],
    ['RKVS_GCS_ENDPOINT', 'RKVS_GCS_ENDPOINT', () => gcsOptionsFromEnv({ RKVS_GCS_BUCKET: 'b', RKVS_GCS_ENDPOINT: url() })],
  ];

  for (const [label, path, make] of cases) {
    it(label, () => {
      const e = thrownBy(make);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).path).toBe(path);
      expect((e as ConfigError).message).toMatch(/carries a user name or password/);
      expect((e as ConfigError).message).toMatch(/user:\*\*\*@127\.0\.0\.1:1/);
      expectNoSecret(e, label);
    });
  }

  it('a user name without a password is refused too (it may be a token)', () => {
    const e = thrownBy(() => createS3Store({ bucket: 'b', endpoint: `https://${SECRET.password}@127.0.0.1:1` }));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain('https://***@127.0.0.1:1');
    expectNoSecret(e, 'bare user info');
  });

  it('an endpoint that is not http(s), or not a URL, is refused without echoing a password', () => {
    for (const endpoint of [`ftp://127.0.0.1:1/b`, `http://user:${SECRET.password}@`, `not a url ${SECRET.password}`]) {
      const e = thrownBy(() => createS3Store({ bucket: 'b', endpoint }));
      expect(e, endpoint).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).path).toBe('s3.endpoint');
    }
    const e = thrownBy(() => createS3Store({ bucket: 'b', endpoint: `http://user:${SECRET.password}@` }));
    expectNoSecret(e, 'unparsable URL with a password');
  });
});

/** Answers every request with an authentication error that quotes the request back, as some proxies and servers do. */
function echoingServer(): Promise<{ server: Server; base: string }> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const echo =
        `url=${req.url} authorization=${req.headers.authorization ?? ''} ` +
        `x-amz-security-token=${String(req.headers['x-amz-security-token'] ?? '')}`;
      const xmlEcho = echo.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      if (req.headers['x-ms-version']) {
        res.writeHead(403, { 'content-type': 'application/xml', 'x-ms-error-code': 'AuthenticationFailed' });
        res.end(`<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>rejected ${xmlEcho}</Message></Error>`);
      } else if (req.headers['x-amz-date'] || req.headers['x-amz-content-sha256']) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>rejected ${xmlEcho}</Message><RequestId>1</RequestId></Error>`);
      } else {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 403, message: `rejected ${echo}`, errors: [{ reason: 'forbidden', message: echo }] } }));
      }
    });
  };
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, base: `http://127.0.0.1:${port}` });
    });
  });
}

describe('errors from failing calls show no credential', () => {
  let echo: { server: Server; base: string } | undefined;
  let closed = '';
  beforeAll(async () => {
    echo = await echoingServer();
    closed = `http://127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    echo?.server.closeAllConnections();
    await new Promise((r) => echo?.server.close(r));
  });

  const s3 = (endpoint: string) =>
    createS3Store({
      bucket: 'b',
      endpoint,
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET.awsSecret, sessionToken: SECRET.sessionToken },
      maxAttempts: 1,
    });
  const azureKey = (endpoint: string) =>
    createAzureBlobStore({
      container: 'cont',
      connectionString: `DefaultEndpointsProtocol=http;AccountName=acct;AccountKey=${SECRET.accountKey};BlobEndpoint=${endpoint}/acct;`,
      maxAttempts: 1,
    });
  const azureSas = (endpoint: string) =>
    createAzureBlobStore({
      container: 'cont',
      accountName: 'acct',
      sasToken: `sv=2020-08-04&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=${SECRET.sasSig}`,
      endpoint: `${endpoint}/acct`,
      maxAttempts: 1,
    });
  const gcs = (endpoint: string) => createGcsStore({ bucket: 'b', apiEndpoint: endpoint, maxAttempts: 1 });

  const kinds: [string, (endpoint: string) => Store][] = [
    ['s3 with a secret key and session token', s3],
    ['azure with an account key', azureKey],
    ['azure with a SAS token', azureSas],
    ['gcs', gcs],
  ];

  for (const [label, make] of kinds) {
    it(`${label}: a closed port and a server that echoes the request`, async () => {
      for (const [where, endpoint] of [
        ['closed port', closed],
        ['echoing server', echo!.base],
      ] as const) {
        const s = make(endpoint);
        try {
          for (const call of [() => s.put('k', new Uint8Array([1])), () => s.get('k'), () => s.list('p/'), () => s.remove('k')]) {
            const e = await errorOf(call());
            expect(e, `${label} at ${where}`).toBeInstanceOf(StoreError);
            expectNoSecret(e, `${label} at ${where}`);
          }
        } finally {
          await s.close();
        }
      }
    });
  }

  it('the echoing server really quotes the SAS signature and the session token (the test can fail)', async () => {
    const res = await fetch(`${echo!.base}/acct/cont?comp=list&sig=${SECRET.sasSig}`, {
      headers: { 'x-ms-version': '2020-08-04', 'x-amz-security-token': SECRET.sessionToken },
    });
    const body = await res.text();
    expect(body).toContain(SECRET.sasSig);
    expect(body).toContain(SECRET.sessionToken);
  });

  it('a robust store over failing replicas: the QuorumError and every replica failure', async () => {
    const replicas = [s3(echo!.base), azureKey(echo!.base), azureSas(closed)];
    const robust = createRobustStore({ replicas, variant: 'atomic', clientId: 'c', closeReplicas: true });
    try {
      for (const call of [() => robust.put('k', new Uint8Array([1])), () => robust.get('k'), () => robust.list('')]) {
        const e = await errorOf(call());
        expect(e).toBeInstanceOf(QuorumError);
        expectNoSecret(e, 'robust store');
        for (const f of (e as QuorumError).failures) expectNoSecret(f.error instanceof Error ? f.error : new Error(String(f.error)), 'replica failure');
      }
    } finally {
      await robust.close();
    }
  });
});

describe('Azurite: a wrong account key', () => {
  let emu: RunningEmulator | undefined;
  beforeAll(async () => {
    emu = await startEmulator('azure');
  }, 120_000);
  afterAll(async () => {
    await emu?.stop();
  });

  it('is PermissionDenied, and neither the key nor a SAS signature shows', async () => {
    if (!emu) throw new Error('Azurite did not start (see the beforeAll error)');
    const stores = [
      createAzureBlobStore({ container: 'secrets', accountName: emu.accountName!, accountKey: SECRET.accountKey, endpoint: emu.endpoint, maxAttempts: 1 }),
      createAzureBlobStore({
        container: 'secrets',
        accountName: emu.accountName!,
        sasToken: `sv=2020-08-04&ss=b&srt=sco&sp=rwdlac&se=2030-01-01T00:00:00Z&sig=${SECRET.sasSig}`,
        endpoint: emu.endpoint,
        maxAttempts: 1,
      }),
    ];
    for (const s of stores) {
      try {
        const e = await errorOf(s.get('k'));
        expect(e).toBeInstanceOf(StoreError);
        expect((e as StoreError).kind).toBe('PermissionDenied');
        expectNoSecret(e, s.name);
      } finally {
        await s.close();
      }
    }
  });
});
