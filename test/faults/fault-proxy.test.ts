/**
 * The fault proxy on its own, in front of a plain TCP echo server on 127.0.0.1: every fault does
 * what it says, changes apply to open connections, the control endpoint drives it, and close()
 * releases every socket. Time is only ever checked from below (a delay lasts at least its length).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { RunningEmulator } from '../../src/emulators/index.js';
import {
  emulatorThroughProxy,
  formatFault,
  parseFault,
  parseTarget,
  sampleFaultDelays,
  serveFaultControl,
  startFaultProxy,
  type Fault,
  type FaultProxy,
} from '../../src/net/fault-proxy.js';

let echo: Server;
let echoPort = 0;
const echoSockets = new Set<Socket>();
let echoAccepted = 0;

beforeAll(async () => {
  echo = createServer((s) => {
    echoAccepted++;
    echoSockets.add(s);
    s.on('error', () => {});
    s.on('close', () => echoSockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterAll(async () => {
  for (const s of echoSockets) s.destroy();
  await new Promise<void>((r) => echo.close(() => r()));
});

const proxies: FaultProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function proxy(fault?: Fault): Promise<FaultProxy> {
  const p = await startFaultProxy({ target: `127.0.0.1:${echoPort}`, fault });
  proxies.push(p);
  return p;
}

/** A client connection that records what it receives and how it ended. */
interface Client {
  socket: Socket;
  received: () => Buffer;
  /** Resolves once `n` bytes arrived. */
  bytes: (n: number) => Promise<Buffer>;
  /** Resolves with the error code (or 'closed') when the connection ends. */
  ended: Promise<string>;
  connected: Promise<void>;
}

function connect(port: number): Client {
  const socket = createConnection({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  const waiters: { n: number; resolve: (b: Buffer) => void }[] = [];
  const received = () => Buffer.concat(chunks);
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    const all = received();
    for (const w of [...waiters]) {
      if (all.byteLength >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(all);
      }
    }
  });
  const ended = new Promise<string>((resolve) => {
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    socket.once('close', () => resolve('closed'));
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  connected.catch(() => {});
  return {
    socket,
    received,
    ended,
    connected,
    bytes: (n) =>
      new Promise<Buffer>((resolve) => {
        if (received().byteLength >= n) return resolve(received());
        waiters.push({ n, resolve });
      }),
  };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fault proxy', () => {
  it('pass forwards both ways and counts the bytes', async () => {
    const p = await proxy();
    expect(p.host).toBe('127.0.0.1');
    const c = connect(p.port);
    c.socket.write('hello proxy');
    expect((await c.bytes(11)).toString()).toBe('hello proxy');
    expect(p.stats()).toMatchObject({ accepted: 1, open: 1, bytesToServer: 11, bytesToClient: 11, reset: 0 });
    c.socket.destroy();
  });

  it('delay holds each answer at least its length, and the seed fixes the jitter', async () => {
    const p = await proxy({ mode: 'delay', ms: 150 });
    const c = connect(p.port);
    await c.connected;
    const t0 = performance.now();
    c.socket.write('x');
    await c.bytes(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
    c.socket.destroy();

    const a = sampleFaultDelays({ mode: 'delay', ms: 100, jitterMs: 40, seed: 7 }, 50);
    expect(sampleFaultDelays({ mode: 'delay', ms: 100, jitterMs: 40, seed: 7 }, 50)).toEqual(a);
    expect(sampleFaultDelays({ mode: 'delay', ms: 100, jitterMs: 40, seed: 8 }, 50)).not.toEqual(a);
    for (const d of a) {
      expect(d).toBeGreaterThanOrEqual(60);
      expect(d).toBeLessThanOrEqual(140);
    }
    expect(new Set(a.map((d) => Math.round(d))).size).toBeGreaterThan(10);
  });

  it('delay keeps the order of the bytes', async () => {
    const p = await proxy({ mode: 'delay', ms: 20, jitterMs: 19, seed: 3, direction: 'both' });
    const c = connect(p.port);
    await c.connected;
    const parts = Array.from({ length: 40 }, (_, i) => `<${i}>`);
    for (const part of parts) {
      c.socket.write(part);
      await pause(2);
    }
    const want = parts.join('');
    expect((await c.bytes(want.length)).toString()).toBe(want);
    c.socket.destroy();
  });

  it('throttle paces the answer at its rate', async () => {
    const p = await proxy({ mode: 'throttle', bytesPerSecond: 40_000 });
    const c = connect(p.port);
    await c.connected;
    const t0 = performance.now();
    const payload = Buffer.alloc(20_000, 7);
    c.socket.write(payload);
    const got = await c.bytes(payload.byteLength);
    // 20 kB at 40 kB/s in 2 kB slices: the last slice leaves 9 slices (450 ms) after the first
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    expect(got.equals(payload)).toBe(true);
    c.socket.destroy();
  });

  it('blackhole accepts, answers nothing, never contacts the target, and releases what it held on pass', async () => {
    const p = await proxy({ mode: 'blackhole' });
    const before = echoAccepted;
    const c = connect(p.port);
    await c.connected;
    c.socket.write('anyone there?');
    await pause(300);
    expect(c.received().byteLength).toBe(0);
    expect(echoAccepted).toBe(before);
    expect(p.stats()).toMatchObject({ open: 1, bytesToServer: 0 });
    await p.set({ mode: 'pass' });
    expect((await c.bytes(13)).toString()).toBe('anyone there?');
    expect(echoAccepted).toBe(before + 1);
    c.socket.destroy();
  });

  it('blackhole set on an open connection stops it mid-way', async () => {
    const p = await proxy();
    const c = connect(p.port);
    c.socket.write('one');
    await c.bytes(3);
    await p.set({ mode: 'blackhole' });
    c.socket.write('two');
    await pause(300);
    expect(c.received().toString()).toBe('one');
    c.socket.destroy();
  });

  it('reset resets open connections at once and new ones on accept', async () => {
    const p = await proxy();
    const open = connect(p.port);
    open.socket.write('x');
    await open.bytes(1);
    await p.set({ mode: 'reset' });
    expect(await open.ended).toBe('ECONNRESET');
    const fresh = connect(p.port);
    fresh.socket.write('y');
    expect(await fresh.ended).toMatch(/ECONNRESET|EPIPE/);
    expect(p.stats().reset).toBeGreaterThanOrEqual(2);
  });

  it('drop forwards exactly N bytes of the answer, then resets the connection', async () => {
    const p = await proxy({ mode: 'drop', afterBytes: 1000 });
    const c = connect(p.port);
    await c.connected;
    c.socket.write(Buffer.alloc(10_000, 1));
    // An RST that arrives before the client read the bytes ahead of it reads as an early end.
    expect(await c.ended).toMatch(/^(ECONNRESET|closed)$/);
    expect(c.received().byteLength).toBe(1000);
    expect(p.stats().reset).toBe(1);
  });

  it('drop in the to-server direction cuts the request', async () => {
    const p = await proxy({ mode: 'drop', afterBytes: 10, direction: 'to-server' });
    const c = connect(p.port);
    await c.connected;
    c.socket.write('0123456789abcdef');
    expect(await c.ended).toMatch(/^(ECONNRESET|closed)$/);
    expect(c.received().toString()).toBe('0123456789'.slice(0, c.received().byteLength));
    expect(p.stats().bytesToServer).toBe(10);
  });

  it('refuse stops listening (ECONNREFUSED) and listens again on the same port on pass', async () => {
    const p = await proxy();
    const port = p.port;
    await p.set({ mode: 'refuse' });
    const c = connect(port);
    await expect(c.connected).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await p.set({ mode: 'pass' });
    expect(p.port).toBe(port);
    const d = connect(port);
    d.socket.write('back');
    expect((await d.bytes(4)).toString()).toBe('back');
    d.socket.destroy();
  });

  it('a proxy started in refuse mode has a port but refuses it', async () => {
    const p = await proxy({ mode: 'refuse' });
    expect(p.port).toBeGreaterThan(0);
    await expect(connect(p.port).connected).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a target that refuses gets the client reset', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const p = await startFaultProxy({ target: `http://127.0.0.1:${port}/path` });
    proxies.push(p);
    const c = connect(p.port);
    c.socket.write('x');
    expect(await c.ended).toMatch(/ECONNRESET|closed/);
  });

  it('close() ends every connection and stops listening', async () => {
    const p = await startFaultProxy({ target: { host: '127.0.0.1', port: echoPort }, fault: { mode: 'blackhole' } });
    const clients = [connect(p.port), connect(p.port), connect(p.port)];
    await Promise.all(clients.map((c) => c.connected));
    clients[0]!.socket.write('held');
    await pause(50);
    expect(p.stats().open).toBe(3);
    await p.close();
    for (const c of clients) expect(await c.ended).toMatch(/closed|ECONNRESET/);
    expect(p.stats().open).toBe(0);
    await expect(connect(p.port).connected).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await p.close(); // idempotent
    await expect(p.set({ mode: 'pass' })).rejects.toThrow(/closed/);
  });

  it('url() points a URL at the proxy, keeping its path', async () => {
    const p = await proxy();
    expect(p.url('http://127.0.0.1:10000/devstoreaccount1')).toBe(`http://127.0.0.1:${p.port}/devstoreaccount1`);
    expect(p.url('http://localhost:9000')).toBe(`http://127.0.0.1:${p.port}`);
  });
});

describe('emulatorThroughProxy', () => {
  it('points an emulator record (endpoint, connection string, env) at the proxy', async () => {
    const p = await startFaultProxy({ target: `127.0.0.1:${echoPort}` });
    proxies.push(p);
    const base = `http://127.0.0.1:${echoPort}`;
    const stop = async () => {};
    const azure = {
      kind: 'azure',
      server: 'azurite',
      endpoint: `${base}/devstoreaccount1`,
      host: '127.0.0.1',
      port: echoPort,
      pid: 1,
      dataDir: '/tmp/x',
      bucket: 'rkvs-test',
      connectionString: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=k;BlobEndpoint=${base}/devstoreaccount1;`,
      env: { AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${base}/devstoreaccount1;`, RKVS_AZURE_CONTAINER: 'rkvs-test' },
      stop,
    } satisfies RunningEmulator;
    const via = emulatorThroughProxy(azure, p);
    const proxied = `http://127.0.0.1:${p.port}/devstoreaccount1`;
    expect(via).toMatchObject({ endpoint: proxied, host: '127.0.0.1', port: p.port, stop });
    expect(via.connectionString).toContain(`BlobEndpoint=${proxied};`);
    expect(via.env).toEqual({ AZURE_STORAGE_CONNECTION_STRING: `BlobEndpoint=${proxied};`, RKVS_AZURE_CONTAINER: 'rkvs-test' });
    expect(azure.endpoint).toBe(`${base}/devstoreaccount1`); // the original is untouched
    expect(() => emulatorThroughProxy({ ...azure, endpoint: 'http://127.0.0.1:1/devstoreaccount1' }, p)).toThrow(/the proxy forwards to/);
  });
});

describe('fault specs', () => {
  it('parse and format round-trip', () => {
    const cases: [string, Fault][] = [
      ['pass', { mode: 'pass' }],
      ['blackhole', { mode: 'blackhole' }],
      ['reset', { mode: 'reset' }],
      ['refuse', { mode: 'refuse' }],
      ['delay=200ms', { mode: 'delay', ms: 200 }],
      ['delay=1.5s,jitter=50ms,seed=7,direction=both', { mode: 'delay', ms: 1500, jitterMs: 50, seed: 7, direction: 'both' }],
      ['throttle=64KiB/s', { mode: 'throttle', bytesPerSecond: 65536 }],
      ['throttle=1000,direction=to-server', { mode: 'throttle', bytesPerSecond: 1000, direction: 'to-server' }],
      ['drop=4KiB', { mode: 'drop', afterBytes: 4096 }],
    ];
    for (const [spec, fault] of cases) {
      expect(parseFault(spec)).toEqual(fault);
      expect(parseFault(formatFault(fault))).toEqual(fault);
    }
    expect(formatFault({ mode: 'delay', ms: 200, jitterMs: 20, seed: 1 })).toBe('delay=200ms,jitter=20ms,seed=1');
  });

  it('bad specs are ConfigErrors that say what is wrong', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['slow', /unknown fault "slow"/],
      ['delay', /delay needs a value/],
      ['delay=fast', /not a duration/],
      ['delay=10ms,jitter', /not key=value/],
      ['delay=10ms,speed=2', /"speed" does not apply to delay/],
      ['blackhole=5', /takes no value/],
      ['blackhole,jitter=5ms', /does not apply to blackhole/],
      ['throttle=0', /bytesPerSecond: must be a number > 0/],
      ['drop=4KiB/s', /not a size/],
      ['delay=5ms,direction=up', /direction/],
      ['delay=5ms,seed=1.5', /seed/],
    ];
    for (const [spec, msg] of bad) {
      expect(() => parseFault(spec, '--fault'), spec).toThrow(ConfigError);
      expect(() => parseFault(spec, '--fault'), spec).toThrow(msg);
    }
  });

  it('targets parse from host:port and URLs', () => {
    expect(parseTarget('127.0.0.1:9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseTarget('http://localhost:10000/devstoreaccount1')).toEqual({ host: 'localhost', port: 10000 });
    expect(parseTarget('https://storage.googleapis.com')).toEqual({ host: 'storage.googleapis.com', port: 443 });
    expect(parseTarget('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseTarget('localhost', '--target')).toThrow(/--target: "localhost" is not host:port/);
    expect(() => parseTarget('h:70000')).toThrow(/not a port number/);
  });
});

describe('fault control endpoint', () => {
  it('reports the status and changes the fault from a spec or JSON', async () => {
    const p = await proxy();
    const control = await serveFaultControl(p);
    const status = (await (await fetch(`${control.url}/`)).json()) as { spec: string; listen: string; target: string };
    expect(status).toMatchObject({ spec: 'pass', listen: p.address, target: `127.0.0.1:${echoPort}` });

    let res = await fetch(`${control.url}/fault`, { method: 'PUT', body: 'delay=100ms,jitter=10ms,seed=2' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { spec: string }).spec).toBe('delay=100ms,jitter=10ms,seed=2');
    expect(p.fault).toEqual({ mode: 'delay', ms: 100, jitterMs: 10, seed: 2 });

    res = await fetch(`${control.url}/fault`, { method: 'POST', body: JSON.stringify({ mode: 'blackhole' }) });
    expect(res.status).toBe(200);
    expect(p.fault).toEqual({ mode: 'blackhole' });

    res = await fetch(`${control.url}/fault`, { method: 'PUT', body: 'melt' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/unknown fault "melt"/);
    expect(p.fault).toEqual({ mode: 'blackhole' });

    res = await fetch(`${control.url}/nope`);
    expect(res.status).toBe(404);

    await p.close(); // closes the control endpoint too
    await expect(fetch(`${control.url}/`)).rejects.toThrow();
  });
});
