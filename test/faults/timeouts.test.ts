/**
 * Every adapter call is bounded and abortable, whatever the endpoint does: against a server on
 * 127.0.0.1 that accepts and never answers, one that stalls in the middle of a body, and one that
 * reads a slow upload before answering. No emulator: these servers speak just enough HTTP.
 * Time is only checked from below (a limit is not hit before it passes).
 */
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, request, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAzureBlobStore } from '../../src/adapters/azure-blob.js';
import { createGcsStore } from '../../src/adapters/gcs.js';
import { createS3Store } from '../../src/adapters/s3.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../src/emulators/index.js';
import {
  BoundedAgents,
  DEFAULT_SOCKET_TIMEOUTS,
  resolveSocketTimeouts,
  SocketTimeoutError,
  type SocketTimeouts,
} from '../../src/net/bounded-agent.js';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { createRobustStore } from '../../src/register/index.js';
import type { Store } from '../../src/store.js';
import { storeErrorOf } from '../emulators/adapter-edge-cases.js';

type Kind = 's3' | 'azure' | 'gcs';
const KINDS: Kind[] = ['s3', 'azure', 'gcs'];

/** An adapter of `kind` pointed at `endpoint` (http://127.0.0.1:port). */
function storeAt(kind: Kind, endpoint: string, limits: Partial<SocketTimeouts> & { maxAttempts?: number } = {}): Store {
  const common = { maxAttempts: 1, ...limits };
  if (kind === 's3') {
    return createS3Store({ ...common, bucket: 'b', endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  }
  if (kind === 'azure') {
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint}/${AZURITE_ACCOUNT};`;
    return createAzureBlobStore({ ...common, container: 'box', connectionString });
  }
  return createGcsStore({ ...common, bucket: 'b', apiEndpoint: endpoint, projectId: 'p' });
}

/** A TCP server that accepts connections and never answers; tracks the connections it holds. */
class SilentServer {
  readonly sockets = new Set<Socket>();
  accepted = 0;
  private server: Server = createServer((s) => {
    this.accepted++;
    this.sockets.add(s);
    s.resume(); // read and discard, so that the client closing the connection is seen
    s.on('error', () => {});
    s.on('close', () => this.sockets.delete(s));
  });
  endpoint = '';
  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }
  /** Resolves once the clients closed every connection they opened here. */
  async allClosedByClient(): Promise<void> {
    while (this.sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let silent: SilentServer;
beforeAll(async () => {
  silent = await new SilentServer().start();
});
afterAll(async () => {
  await silent.stop();
});

const opened: Store[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});
function track<S extends Store>(s: S): S {
  opened.push(s);
  return s;
}

describe('socket limits: options, environment, defaults', () => {
  it('resolves option, then environment variable, then default', () => {
    expect(resolveSocketTimeouts('s3', {}, {})).toEqual(DEFAULT_SOCKET_TIMEOUTS);
    expect(DEFAULT_SOCKET_TIMEOUTS).toEqual({ connectTimeoutMs: 5000, requestTimeoutMs: 30000, idleTimeoutMs: 30000 });
    const env = { RKVS_CONNECT_TIMEOUT_MS: '1500', RKVS_REQUEST_TIMEOUT_MS: ' 2500 ', RKVS_IDLE_TIMEOUT_MS: '' };
    expect(resolveSocketTimeouts('s3', {}, env)).toEqual({ connectTimeoutMs: 1500, requestTimeoutMs: 2500, idleTimeoutMs: 30000 });
    expect(resolveSocketTimeouts('s3', { requestTimeoutMs: 99 }, env)).toEqual({ connectTimeoutMs: 1500, requestTimeoutMs: 99, idleTimeoutMs: 30000 });
  });

  it('bad values are ConfigErrors naming the option or the variable', () => {
    expect(() => resolveSocketTimeouts('azure', { idleTimeoutMs: 0 }, {})).toThrow(ConfigError);
    expect(() => resolveSocketTimeouts('azure', { idleTimeoutMs: 0 }, {})).toThrow(/azure\.idleTimeoutMs: must be a positive number of milliseconds, got 0/);
    expect(() => resolveSocketTimeouts('gcs', { connectTimeoutMs: Number.NaN }, {})).toThrow(/gcs\.connectTimeoutMs/);
    expect(() => resolveSocketTimeouts('s3', {}, { RKVS_REQUEST_TIMEOUT_MS: '30s' })).toThrow(/RKVS_REQUEST_TIMEOUT_MS: must be a positive number of milliseconds, got "30s"/);
    for (const kind of KINDS) {
      expect(() => storeAt(kind, 'http://127.0.0.1:1', { requestTimeoutMs: -5 }), kind).toThrow(new RegExp(`${kind}\\.requestTimeoutMs`));
    }
  });

  it('each adapter exposes the limits it runs under', () => {
    for (const kind of KINDS) {
      const s = track(storeAt(kind, 'http://127.0.0.1:1', { idleTimeoutMs: 1234 })) as Store & { timeouts: SocketTimeouts };
      expect(s.timeouts, kind).toEqual({ ...DEFAULT_SOCKET_TIMEOUTS, idleTimeoutMs: 1234 });
    }
  });
});

describe('the connect limit', () => {
  it('a socket still connecting after connectTimeoutMs fails with ETIMEDOUT naming the option', async () => {
    const agents = new BoundedAgents({ connectTimeoutMs: 150, requestTimeoutMs: 10_000, idleTimeoutMs: 10_000 });
    const started = performance.now();
    const err = await new Promise<Error>((resolve) => {
      // a name lookup that never answers keeps the socket connecting forever
      const req = request({ host: 'never.invalid', port: 80, agent: agents.http, lookup: () => {} }, () => resolve(new Error('answered?')));
      req.on('error', resolve);
      req.end();
    });
    expect(err).toBeInstanceOf(SocketTimeoutError);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', phase: 'connect' });
    expect(err.message).toMatch(/no connection within 150 ms \(connectTimeoutMs\)/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    await agents.destroy();
    expect(agents.openSockets()).toBe(0);
  });

  it('the first-byte limit counts from the end of the request: a slow upload is not cut by it', async () => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('done'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const agents = new BoundedAgents({ connectTimeoutMs: 1_000, requestTimeoutMs: 300, idleTimeoutMs: 2_000 });
    try {
      const started = performance.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: (server.address() as { port: number }).port, method: 'PUT', agent: agents.http }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        // a body produced over ~1 s, well past the 300 ms first-byte limit, never idle for 2 s
        let n = 0;
        const tick = setInterval(() => {
          req.write('x'.repeat(1000));
          if (++n === 10) {
            clearInterval(tick);
            req.end();
          }
        }, 100);
      });
      expect(answer).toBe('done');
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await agents.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a destroyed pool refuses new requests', async () => {
    const agents = new BoundedAgents(DEFAULT_SOCKET_TIMEOUTS);
    await agents.destroy();
    const err = await new Promise<Error>((resolve) => {
      const req = request(`${silent.endpoint}/x`, { agent: agents.http }, () => resolve(new Error('answered?')));
      req.on('error', resolve);
      req.end();
    });
    expect(err).toMatchObject({ code: 'ECONNABORTED' });
  });
});

describe.each(KINDS)('%s against a server that accepts and never answers', (kind) => {
  it('a call fails with a retryable Timeout once the first-byte limit passes', async () => {
    const s = track(storeAt(kind, silent.endpoint, { requestTimeoutMs: 300, idleTimeoutMs: 5_000 }));
    const started = performance.now();
    const err = await storeErrorOf(s.get('some/key'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(err.kind).toBe('Timeout');
    expect(err.retryable).toBe(true);
    expect(err.aborted).toBe(false);
    expect(err.message).toContain('get("some/key")');
    expect(err.message).toContain(s.name);
    expect(err.message).toMatch(/requestTimeoutMs/);
  });

  it('an idle limit shorter than the first-byte limit ends the wait instead', async () => {
    const s = track(storeAt(kind, silent.endpoint, { requestTimeoutMs: 5_000, idleTimeoutMs: 300 }));
    const err = await storeErrorOf(s.put('k', new Uint8Array([1, 2, 3])));
    expect(err.kind).toBe('Timeout');
    expect(err.message).toMatch(/no data sent or received for 300 ms \(idleTimeoutMs\)/);
  });

  it('close() ends the calls in flight (the bucket check included) at once and closes every connection', async () => {
    const s = storeAt(kind, silent.endpoint, { requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const before = silent.accepted;
    const calls = [s.get('a'), s.put('b', new Uint8Array([1])), s.list('c/'), s.remove('d')].map((p) => storeErrorOf(p));
    while (silent.accepted === before) await new Promise((r) => setTimeout(r, 5));
    await s.close();
    for (const err of await Promise.all(calls)) {
      expect(err.kind).toBe('Unavailable');
      expect(err.aborted).toBe(true);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/the store was closed while the call was in flight/);
    }
    await silent.allClosedByClient();
    const after = await storeErrorOf(s.get('a'));
    expect(after.message).toMatch(/the store is closed/);
  });

  it('the caller aborting the only call waiting for the bucket check stops the check too', async () => {
    const s = track(storeAt(kind, silent.endpoint, { requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 }));
    const before = silent.accepted;
    const ac = new AbortController();
    const call = storeErrorOf(s.get('k', { signal: ac.signal }));
    while (silent.accepted === before) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    const err = await call;
    expect(err.kind).toBe('Timeout');
    expect(err.aborted).toBe(true);
    expect(err.message).toMatch(/aborted by the caller/);
    // nobody waits for the check any more: its connection is closed without close()
    await silent.allClosedByClient();
  });
});

describe.each(KINDS)('%s as the silent replica of a robust store', (kind) => {
  it('operations complete at the quorum, and closing the robust store alone releases every connection to it', async () => {
    const silentReplica = storeAt(kind, silent.endpoint, { requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const robust = createRobustStore({ replicas: [createMemoryStore({ name: 'm1' }), createMemoryStore({ name: 'm2' }), silentReplica], variant: 'atomic' });
    const before = silent.accepted;
    try {
      await robust.put('k', new Uint8Array([1]));
      expect(Array.from((await robust.get('k')) ?? [])).toEqual([1]);
      expect(await robust.list('')).toEqual(['k']);
      while (silent.accepted === before) await new Promise((r) => setTimeout(r, 5)); // the silent replica was called
      await robust.close(); // closeReplicas is off: the adapter stays open, its calls are aborted
      await silent.allClosedByClient();
    } finally {
      await silentReplica.close();
    }
  });
});

/**
 * A server that answers like the three services just enough: the bucket checks succeed, uploads are
 * read to the end before the answer, and a download sends its headers and part of its body, then
 * stalls (`stall`), or ends early (`truncate`), or carries a wrong CRC32C (`badHash`).
 */
class FakeCloud {
  private server: HttpServer;
  endpoint = '';
  download: 'stall' | 'truncate' | 'badHash' = 'stall';
  readonly stalled = new Set<ServerResponse>();
  uploads = 0;

  constructor() {
    this.server = createHttpServer((req, res) => this.answer(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const isObject = /\/obj(\?|$)/.test(url) || /%2Fobj|\/o\/obj/.test(url);
      if (req.method === 'GET' && isObject) {
        const body = Buffer.alloc(100, 7);
        const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': '100', 'last-modified': new Date().toUTCString(), etag: '"e"' };
        if (this.download === 'badHash') {
          headers['x-goog-hash'] = `crc32c=AAAAAA==,md5=${createHash('md5').update(body).digest('base64')}`;
          headers['x-goog-stored-content-encoding'] = 'identity';
          res.writeHead(200, headers);
          res.end(body);
          return;
        }
        res.writeHead(200, headers);
        res.write(body.subarray(0, 10));
        if (this.download === 'truncate') res.destroy();
        else this.stalled.add(res);
        return;
      }
      if (req.method === 'PUT' || req.method === 'POST') {
        this.uploads++;
        res.writeHead(req.method === 'PUT' ? 201 : 200, { 'content-type': 'application/json', etag: '"e"', 'last-modified': new Date().toUTCString() });
        res.end('{"name":"obj"}');
        return;
      }
      // bucket and container checks
      res.writeHead(200, { 'content-type': 'application/json', etag: '"e"', 'last-modified': new Date().toUTCString() });
      res.end(req.method === 'HEAD' ? undefined : '{"name":"b"}');
    });
  }

  async stop(): Promise<void> {
    for (const r of this.stalled) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe('bodies: a stalled download, a cut download, a bad checksum', () => {
  let cloud: FakeCloud;
  beforeAll(async () => {
    cloud = await new FakeCloud().start();
  });
  afterAll(async () => {
    await cloud.stop();
  });

  for (const kind of KINDS) {
    it(`${kind}: a download that stalls mid-body fails once the idle limit passes, retryable`, async () => {
      cloud.download = 'stall';
      const s = track(storeAt(kind, cloud.endpoint, { requestTimeoutMs: 5_000, idleTimeoutMs: 300 }));
      const started = performance.now();
      const err = await storeErrorOf(s.get('obj'));
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/idleTimeoutMs/);
      // the Azure SDK's download stream reports a broken-off body without its cause
      expect(err.kind).toBe(kind === 'azure' ? 'Unavailable' : 'Timeout');
    });

    it(`${kind}: a download cut short fails, retryable`, async () => {
      cloud.download = 'truncate';
      const s = track(storeAt(kind, cloud.endpoint, { requestTimeoutMs: 5_000, idleTimeoutMs: 5_000 }));
      const err = await storeErrorOf(s.get('obj'));
      expect(['Unavailable', 'Timeout']).toContain(err.kind);
      expect(err.retryable).toBe(true);
    });
  }

  it('gcs: a download whose CRC32C does not match is an IntegrityError', async () => {
    cloud.download = 'badHash';
    const s = track(storeAt('gcs', cloud.endpoint));
    const err = await storeErrorOf(s.get('obj'));
    expect(err).toBeInstanceOf(StoreError);
    expect(err.kind).toBe('IntegrityError');
    expect(err.message).toMatch(/CRC32C/);
  });
});
