/**
 * A TCP proxy on 127.0.0.1 that injects network faults in front of any endpoint (an emulator, a
 * cloud endpoint, any TCP server), controlled at run time from the same process:
 *
 * ```ts
 * const proxy = await startFaultProxy({ target: '127.0.0.1:9000' });
 * const s3 = createS3Store({ endpoint: proxy.url('http://127.0.0.1:9000'), ... });
 * await proxy.set({ mode: 'blackhole' });              // accept, never answer
 * await proxy.set({ mode: 'delay', ms: 200, jitterMs: 50, seed: 7 });
 * await proxy.set({ mode: 'pass' });
 * await proxy.close();                                 // releases every socket
 * ```
 *
 * Faults (see {@link Fault}): `pass`, `delay` (fixed plus seeded uniform jitter, order kept),
 * `throttle` (bytes per second), `blackhole` (connections accepted, nothing forwarded either way,
 * no upstream connection), `reset` (every connection reset, new ones right after accept), `drop`
 * (each connection reset after N bytes), `refuse` (the port stops listening: connects are refused).
 * A new fault applies at once to the connections already open, with what they had queued.
 *
 * `serveFaultControl` adds a small HTTP control endpoint, and `rkvs fault-proxy` runs one from
 * the command line. Kernel-level tools (tc netem) need privileges the test machines lack; this
 * runs everywhere, CI included (docs/decisions/0004-fault-proxy.md).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { RunningEmulator } from '../emulators/index.js';
import { ConfigError } from '../errors.js';
import { Random } from '../util/random.js';

/** Which bytes a fault acts on: sent by the client to the server, answered back, or both. */
export type FaultDirection = 'to-server' | 'to-client' | 'both';

/** What the proxy does to the traffic. */
export type Fault =
  /** Forward everything as it comes. */
  | { mode: 'pass' }
  /** Hold each chunk `ms` (± up to `jitterMs`, uniform, seeded) before forwarding; order is kept. Default direction `to-client`. */
  | { mode: 'delay'; ms: number; jitterMs?: number; seed?: number; direction?: FaultDirection }
  /** Forward at most `bytesPerSecond` per connection and direction. Default direction `to-client`. */
  | { mode: 'throttle'; bytesPerSecond: number; direction?: FaultDirection }
  /** Accept connections and never answer: nothing is forwarded either way, the target is not contacted. */
  | { mode: 'blackhole' }
  /** Reset (TCP RST) every open connection, and every new one right after accepting it. */
  | { mode: 'reset' }
  /** Forward `afterBytes` bytes of each connection, then reset it. Default direction `to-client`. */
  | { mode: 'drop'; afterBytes: number; direction?: FaultDirection }
  /** Stop listening: connects are refused (ECONNREFUSED); open connections are reset. */
  | { mode: 'refuse' };

export type FaultMode = Fault['mode'];
export const FAULT_MODES: readonly FaultMode[] = ['pass', 'delay', 'throttle', 'blackhole', 'reset', 'drop', 'refuse'];

export interface FaultProxyOptions {
  /** Where to forward: `host:port`, or a URL whose host and port are used (`http://127.0.0.1:9000/...`). */
  target: string | { host: string; port: number };
  /** Port to listen on. @default 0 (an ephemeral port) */
  port?: number;
  /** Address to listen on. @default `127.0.0.1` */
  host?: string;
  /** The fault in force at start. @default `{ mode: 'pass' }` */
  fault?: Fault;
  /** Limit for connecting to the target; past it the client's connection is reset. @default 5000 */
  connectTimeoutMs?: number;
}

export interface FaultProxyStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Connections the proxy reset (reset, drop, refuse, or the target unreachable). */
  reset: number;
  /** Bytes forwarded to the target, and back to clients. */
  bytesToServer: number;
  bytesToClient: number;
}

export interface FaultProxy {
  /** Address clients connect to. */
  readonly host: string;
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly address: string;
  readonly target: { host: string; port: number };
  /** The fault in force. */
  readonly fault: Fault;
  /** `url` with its host and port replaced by the proxy's (path and query kept). */
  url(url: string): string;
  /** Puts a fault in force; applies at once to open connections. Resolves when in effect (listening or not). */
  set(fault: Fault): Promise<void>;
  stats(): FaultProxyStats;
  /** Stops listening and closes every connection (and the control endpoint, if any). Idempotent. */
  close(): Promise<void>;
}

/** Largest amount a connection queues per direction before it stops reading (backpressure). */
const HIGH_WATER = 1024 * 1024;

/** Parses `host:port` or a URL into the target's host and port. */
export function parseTarget(target: string | { host: string; port: number }, what = 'target'): { host: string; port: number } {
  if (typeof target === 'object' && target !== null) {
    checkPort(target.port, what);
    return { host: target.host, port: target.port };
  }
  const text = String(target).trim();
  let host: string;
  let port: number;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new ConfigError(what, `"${text}" is not a URL or host:port; use e.g. 127.0.0.1:9000`);
    }
    host = u.hostname.replace(/^\[|\]$/g, '');
    port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  } else {
    const m = /^(.*):(\d+)$/.exec(text);
    if (!m || !m[1]) throw new ConfigError(what, `"${text}" is not host:port; use e.g. 127.0.0.1:9000`);
    host = m[1].replace(/^\[|\]$/g, '');
    port = Number(m[2]);
  }
  checkPort(port, what);
  return { host, port };
}

function checkPort(port: unknown, what: string): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(what, `port ${String(port)} is not a port number (1-65535)`);
  }
}

function directionOf(f: Fault): FaultDirection {
  return 'direction' in f && f.direction ? f.direction : 'to-client';
}

function applies(f: Fault, lane: 'to-server' | 'to-client'): boolean {
  const d = directionOf(f);
  return d === 'both' || d === lane;
}

/** Checks a fault's fields; throws a ConfigError naming the field. Returns a normalised copy. */
export function validateFault(f: Fault, what = 'fault'): Fault {
  if (f === null || typeof f !== 'object' || !FAULT_MODES.includes((f as { mode?: FaultMode }).mode as FaultMode)) {
    throw new ConfigError(`${what}.mode`, `must be one of ${FAULT_MODES.join(', ')}, got ${JSON.stringify((f as { mode?: unknown })?.mode)}`);
  }
  const nonNegative = (v: unknown, field: string) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${what}.${field}`, `must be a number >= 0, got ${String(v)}`);
  };
  const direction = (d: unknown) => {
    if (d !== undefined && d !== 'to-server' && d !== 'to-client' && d !== 'both') {
      throw new ConfigError(`${what}.direction`, `must be to-server, to-client or both, got ${JSON.stringify(d)}`);
    }
  };
  switch (f.mode) {
    case 'delay':
      nonNegative(f.ms, 'ms');
      if (f.jitterMs !== undefined) nonNegative(f.jitterMs, 'jitterMs');
      if (f.seed !== undefined && !Number.isInteger(f.seed)) throw new ConfigError(`${what}.seed`, `must be an integer, got ${String(f.seed)}`);
      direction(f.direction);
      return { ...f };
    case 'throttle':
      if (typeof f.bytesPerSecond !== 'number' || !Number.isFinite(f.bytesPerSecond) || f.bytesPerSecond <= 0) {
        throw new ConfigError(`${what}.bytesPerSecond`, `must be a number > 0, got ${String(f.bytesPerSecond)}`);
      }
      direction(f.direction);
      return { ...f };
    case 'drop':
      if (!Number.isInteger(f.afterBytes) || f.afterBytes < 0) {
        throw new ConfigError(`${what}.afterBytes`, `must be an integer >= 0, got ${String(f.afterBytes)}`);
      }
      direction(f.direction);
      return { ...f };
    default:
      return { mode: f.mode };
  }
}

/** One chunk's delay under a delay fault: `ms` plus uniform jitter in [-jitterMs, +jitterMs], at least 0. */
function drawDelay(random: Random, f: Extract<Fault, { mode: 'delay' }>): number {
  const jitter = f.jitterMs ? random.uniform(-f.jitterMs, f.jitterMs) : 0;
  return Math.max(0, f.ms + jitter);
}

/**
 * The first `n` delays a proxy draws under `fault` (in the order chunks arrive, over all its
 * connections): the seed fixes them, so a run can be replayed.
 */
export function sampleFaultDelays(fault: Extract<Fault, { mode: 'delay' }>, n: number): number[] {
  const f = validateFault(fault) as Extract<Fault, { mode: 'delay' }>;
  const random = new Random(f.seed ?? 1);
  return Array.from({ length: n }, () => drawDelay(random, f));
}

interface Chunk {
  data: Buffer;
  /** Earliest time it may be forwarded (delay), 0 when not delayed. */
  releaseAt: number;
}

/** One direction of one connection: reads from `from`, queues, forwards to `to` as the fault allows. */
class Lane {
  readonly queue: Chunk[] = [];
  queued = 0;
  /** Bytes forwarded since the fault in force began (for drop). */
  sinceFault = 0;
  private timer: NodeJS.Timeout | undefined;
  private waitingDrain = false;
  private lastRelease = 0;
  private nextSendAt = 0;
  ended = false;
  /** Where bytes come from and go to (the upstream socket exists once connected). */
  from: Socket | undefined;
  to: Socket | undefined;

  constructor(
    readonly name: 'to-server' | 'to-client',
    private readonly conn: Connection,
  ) {}

  push(data: Buffer): void {
    const f = this.conn.proxy.fault;
    let releaseAt = 0;
    if (f.mode === 'delay' && applies(f, this.name)) {
      releaseAt = Math.max(this.lastRelease, Date.now() + drawDelay(this.conn.proxy.random, f));
      this.lastRelease = releaseAt;
    }
    this.queue.push({ data, releaseAt });
    this.queued += data.byteLength;
    if (this.queued >= HIGH_WATER) this.from?.pause();
    this.pump();
  }

  /** Forwards what the fault in force allows now; schedules the rest. */
  pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const f = this.conn.proxy.fault;
    const to = this.to;
    while (this.queue.length > 0) {
      if (f.mode === 'blackhole' || !to || this.waitingDrain || this.conn.done) return;
      const head = this.queue[0] as Chunk;
      const now = Date.now();
      if (f.mode === 'delay' && applies(f, this.name) && head.releaseAt > now) {
        this.schedule(head.releaseAt - now);
        return;
      }
      let out = head.data;
      if (f.mode === 'throttle' && applies(f, this.name)) {
        if (this.nextSendAt > now) {
          this.schedule(this.nextSendAt - now);
          return;
        }
        // slices of 50 ms worth of bandwidth
        const slice = Math.max(1, Math.floor(f.bytesPerSecond / 20));
        out = head.data.subarray(0, slice);
        this.nextSendAt = Math.max(now, this.nextSendAt) + (out.byteLength / f.bytesPerSecond) * 1000;
      }
      if (f.mode === 'drop' && applies(f, this.name)) {
        const allowance = f.afterBytes - this.sinceFault;
        if (out.byteLength >= allowance) {
          if (allowance > 0) this.forward(to, out.subarray(0, allowance));
          this.conn.reset();
          return;
        }
      }
      if (out.byteLength === head.data.byteLength) this.queue.shift();
      else head.data = head.data.subarray(out.byteLength);
      this.queued -= out.byteLength;
      const ok = this.forward(to, out);
      if (this.queued < HIGH_WATER / 2 && !this.ended) this.from?.resume();
      if (!ok) {
        this.waitingDrain = true;
        to.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.ended && this.queue.length === 0 && to && !to.writableEnded) to.end();
  }

  private forward(to: Socket, data: Buffer): boolean {
    this.sinceFault += data.byteLength;
    if (this.name === 'to-server') this.conn.proxy.counters.bytesToServer += data.byteLength;
    else this.conn.proxy.counters.bytesToClient += data.byteLength;
    return to.write(data);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(ms)));
  }

  /** The fault changed: drop counters restart, delays recomputed from now. */
  refault(): void {
    this.sinceFault = 0;
    this.nextSendAt = 0;
    const f = this.conn.proxy.fault;
    if (f.mode === 'delay' && applies(f, this.name)) {
      let last = 0;
      for (const c of this.queue) {
        if (c.releaseAt === 0) c.releaseAt = Math.max(last, Date.now() + drawDelay(this.conn.proxy.random, f));
        last = c.releaseAt;
      }
      this.lastRelease = Math.max(this.lastRelease, last);
    }
    this.pump();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** One client connection and its upstream connection (opened lazily: never while blackholed). */
class Connection {
  readonly up: Lane;
  readonly down: Lane;
  upstream: Socket | undefined;
  done = false;

  constructor(
    readonly proxy: FaultProxyImpl,
    readonly client: Socket,
  ) {
    this.up = new Lane('to-server', this);
    this.down = new Lane('to-client', this);
    this.up.from = client;
    this.down.to = client;
    client.setNoDelay(true);
    client.on('data', (d: Buffer) => this.up.push(d));
    client.on('end', () => {
      this.up.ended = true;
      // a client that leaves a blackholed connection has no one to wait for
      if (this.proxy.fault.mode === 'blackhole') this.destroy();
      else this.up.pump();
    });
    client.on('error', () => this.destroy());
    client.on('close', () => this.destroy());
    if (proxy.fault.mode !== 'blackhole') this.connectUpstream();
  }

  connectUpstream(): void {
    if (this.upstream || this.done) return;
    const { host, port } = this.proxy.target;
    const up = createConnection({ host, port, allowHalfOpen: true });
    this.upstream = up;
    up.setNoDelay(true);
    const timer = setTimeout(() => this.reset(), this.proxy.connectTimeoutMs);
    up.once('connect', () => clearTimeout(timer));
    up.once('close', () => clearTimeout(timer));
    this.down.from = up;
    up.on('data', (d: Buffer) => this.down.push(d));
    up.on('end', () => {
      this.down.ended = true;
      this.down.pump();
    });
    up.on('error', () => this.reset());
    up.on('close', () => {
      if (!this.done && this.down.queue.length === 0) this.destroy();
    });
    this.up.to = up;
    this.up.pump();
  }

  /** The fault changed. */
  refault(): void {
    if (this.done) return;
    const f = this.proxy.fault;
    if (f.mode === 'reset' || f.mode === 'refuse') return this.reset();
    if (f.mode !== 'blackhole') this.connectUpstream();
    this.up.refault();
    this.down.refault();
  }

  /** Resets both sockets (TCP RST). */
  reset(): void {
    if (this.done) return;
    this.proxy.counters.reset++;
    this.finish(true);
  }

  destroy(): void {
    this.finish(false);
  }

  private finish(rst: boolean): void {
    if (this.done) return;
    this.done = true;
    this.up.stop();
    this.down.stop();
    for (const s of [this.client, this.upstream]) {
      if (!s || s.destroyed) continue;
      if (rst && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
    this.proxy.connections.delete(this);
  }
}

class FaultProxyImpl implements FaultProxy {
  readonly host: string;
  port = 0;
  readonly target: { host: string; port: number };
  readonly connectTimeoutMs: number;
  readonly connections = new Set<Connection>();
  readonly counters = { accepted: 0, reset: 0, bytesToServer: 0, bytesToClient: 0 };
  random: Random;
  private current: Fault;
  private server: Server | undefined;
  private closed = false;
  private readonly extras = new Set<() => Promise<void>>();

  constructor(opts: FaultProxyOptions) {
    this.target = parseTarget(opts.target);
    this.host = opts.host ?? '127.0.0.1';
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
    this.current = validateFault(opts.fault ?? { mode: 'pass' });
    this.random = new Random(this.current.mode === 'delay' ? (this.current.seed ?? 1) : 1);
  }

  get fault(): Fault {
    return this.current;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  url(url: string): string {
    const u = new URL(url);
    u.hostname = this.host;
    u.port = String(this.port);
    return u.toString().replace(/\/$/, url.endsWith('/') ? '/' : '');
  }

  async start(port: number): Promise<void> {
    await this.listen(port);
    if (this.current.mode === 'refuse') await this.unlisten();
  }

  private listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(
          e.code === 'EADDRINUSE'
            ? new ConfigError('port', `port ${port} on ${this.host} is in use; pick another or use 0 for an ephemeral port`)
            : e,
        );
      });
      server.listen(port, this.host, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        this.server = server;
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.counters.accepted++;
    if (this.closed || this.current.mode === 'reset' || this.current.mode === 'refuse') {
      this.counters.reset++;
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    this.connections.add(new Connection(this, socket));
  }

  async set(fault: Fault): Promise<void> {
    if (this.closed) throw new Error('the fault proxy is closed');
    const next = validateFault(fault);
    const wasRefusing = this.current.mode === 'refuse';
    this.current = next;
    if (next.mode === 'delay') this.random = new Random(next.seed ?? 1);
    for (const c of [...this.connections]) c.refault();
    if (next.mode === 'refuse' && !wasRefusing) await this.unlisten();
    if (next.mode !== 'refuse' && wasRefusing) await this.listen(this.port);
  }

  stats(): FaultProxyStats {
    return { ...this.counters, open: this.connections.size };
  }

  /** Something else to stop on close (the control endpoint). */
  onClose(fn: () => Promise<void>): void {
    this.extras.add(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.connections]) c.destroy();
    await Promise.all([this.unlisten(), ...[...this.extras].map((fn) => fn())]);
  }
}

/** Starts a fault proxy listening on 127.0.0.1 (by default on an ephemeral port). */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  if (!opts || opts.target === undefined) throw new ConfigError('target', 'give the endpoint to forward to, e.g. { target: "127.0.0.1:9000" }');
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new ConfigError('port', `must be a port number (0 for an ephemeral port), got ${String(opts.port)}`);
  }
  const proxy = new FaultProxyImpl(opts);
  await proxy.start(opts.port ?? 0);
  return proxy;
}

/**
 * The emulator `e` as seen through `proxy` (started with `target: e.endpoint`): the same record
 * with its endpoint, host, port, Azure connection string and `env` pointing at the proxy, so that
 * `storeForEmulator(emulatorThroughProxy(e, proxy))` builds an adapter whose every request crosses
 * the proxy. `stop()` still stops the emulator; close the proxy yourself.
 */
export function emulatorThroughProxy(e: RunningEmulator, proxy: FaultProxy): RunningEmulator {
  const target = parseTarget(e.endpoint);
  if (target.port !== proxy.target.port || target.host !== proxy.target.host) {
    throw new ConfigError('proxy.target', `the proxy forwards to ${proxy.target.host}:${proxy.target.port}, not to the ${e.kind} emulator at ${e.endpoint}`);
  }
  const endpoint = proxy.url(e.endpoint);
  const swap = (v: string) => v.split(e.endpoint).join(endpoint);
  const out: RunningEmulator = {
    ...e,
    endpoint,
    host: proxy.host,
    port: proxy.port,
    env: Object.fromEntries(Object.entries(e.env).map(([k, v]) => [k, swap(v)])),
  };
  if (e.connectionString !== undefined) out.connectionString = swap(e.connectionString);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fault specs: the text form used by the CLI, the control endpoint and reports
// ---------------------------------------------------------------------------------------------

function parseDurationMs(v: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(v.trim());
  if (!m) throw new ConfigError(field, `"${v}" is not a duration; use e.g. 200ms or 1.5s`);
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function parseBytes(v: string, field: string, perSecond: boolean): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?(\/s)?$/i.exec(v.trim());
  if (!m || (m[3] && !perSecond)) {
    throw new ConfigError(field, `"${v}" is not a size; use e.g. ${perSecond ? '64KiB/s or 100000' : '1024 or 4KiB'}`);
  }
  return Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

/**
 * Parses a fault spec: a mode, then `key=value` options, comma-separated.
 *
 *   pass | blackhole | reset | refuse
 *   delay=200ms[,jitter=50ms][,seed=7][,direction=to-client|to-server|both]
 *   throttle=64KiB/s[,direction=...]
 *   drop=4096[,direction=...]            (reset each connection after 4096 bytes)
 *
 * Throws a ConfigError naming `what` and the bad part.
 */
export function parseFault(spec: string, what = 'fault'): Fault {
  const parts = String(spec)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new ConfigError(what, `is empty; use one of ${FAULT_MODES.join(', ')} (e.g. "delay=200ms,jitter=50ms")`);
  const [head, ...rest] = parts as [string, ...string[]];
  const eq = head.indexOf('=');
  const mode = (eq < 0 ? head : head.slice(0, eq)).toLowerCase();
  const arg = eq < 0 ? undefined : head.slice(eq + 1);
  const opts = new Map<string, string>();
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i <= 0) throw new ConfigError(what, `"${p}" is not key=value (in "${spec}")`);
    const k = p.slice(0, i).toLowerCase();
    if (opts.has(k)) throw new ConfigError(what, `"${k}" is given twice (in "${spec}")`);
    opts.set(k, p.slice(i + 1));
  }
  const allow = (keys: string[]) => {
    for (const k of opts.keys()) {
      if (!keys.includes(k)) {
        throw new ConfigError(what, `"${k}" does not apply to ${mode}${keys.length ? ` (it takes ${keys.join(', ')})` : ' (it takes no options)'}`);
      }
    }
  };
  const needArg = (example: string): string => {
    if (arg === undefined || arg === '') throw new ConfigError(what, `${mode} needs a value, e.g. "${example}"`);
    return arg;
  };
  const dir = (): FaultDirection | undefined => {
    const d = opts.get('direction');
    if (d === undefined) return undefined;
    if (d !== 'to-server' && d !== 'to-client' && d !== 'both') {
      throw new ConfigError(`${what}.direction`, `must be to-server, to-client or both, got "${d}"`);
    }
    return d;
  };
  let fault: Fault;
  switch (mode) {
    case 'pass':
    case 'blackhole':
    case 'reset':
    case 'refuse':
      if (arg !== undefined) throw new ConfigError(what, `${mode} takes no value (got "${head}")`);
      allow([]);
      fault = { mode };
      break;
    case 'delay': {
      allow(['jitter', 'seed', 'direction']);
      const f: Fault = { mode: 'delay', ms: parseDurationMs(needArg('delay=200ms'), `${what}.delay`) };
      if (opts.has('jitter')) f.jitterMs = parseDurationMs(opts.get('jitter') as string, `${what}.jitter`);
      if (opts.has('seed')) {
        const seed = Number(opts.get('seed'));
        if (!Number.isInteger(seed)) throw new ConfigError(`${what}.seed`, `must be an integer, got "${opts.get('seed')}"`);
        f.seed = seed;
      }
      const d = dir();
      if (d) f.direction = d;
      fault = f;
      break;
    }
    case 'throttle': {
      allow(['direction']);
      const f: Fault = { mode: 'throttle', bytesPerSecond: parseBytes(needArg('throttle=64KiB/s'), `${what}.throttle`, true) };
      const d = dir();
      if (d) f.direction = d;
      fault = f;
      break;
    }
    case 'drop': {
      allow(['direction']);
      const f: Fault = { mode: 'drop', afterBytes: parseBytes(needArg('drop=4096'), `${what}.drop`, false) };
      const d = dir();
      if (d) f.direction = d;
      fault = f;
      break;
    }
    default:
      throw new ConfigError(what, `unknown fault "${mode}"; use one of ${FAULT_MODES.join(', ')}`);
  }
  return validateFault(fault, what);
}

/** The spec of a fault, as `parseFault` reads it (stable: usable as a report cell key). */
export function formatFault(f: Fault): string {
  const dirPart = (x: { direction?: FaultDirection }) => (x.direction ? `,direction=${x.direction}` : '');
  switch (f.mode) {
    case 'delay':
      return `delay=${f.ms}ms${f.jitterMs ? `,jitter=${f.jitterMs}ms` : ''}${f.seed !== undefined ? `,seed=${f.seed}` : ''}${dirPart(f)}`;
    case 'throttle':
      return `throttle=${f.bytesPerSecond}B/s${dirPart(f)}`;
    case 'drop':
      return `drop=${f.afterBytes}${dirPart(f)}`;
    default:
      return f.mode;
  }
}

// ---------------------------------------------------------------------------------------------
// Control endpoint
// ---------------------------------------------------------------------------------------------

export interface FaultControl {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves a small HTTP control endpoint for a proxy on 127.0.0.1 (closed with the proxy):
 *
 * - `GET /` — `{ fault, spec, listen, target, stats }` as JSON;
 * - `PUT /fault` (or `POST`) with a spec as the body (`blackhole`, `delay=200ms,jitter=50ms`) or a
 *   JSON Fault — puts it in force and answers like `GET /`; a bad spec answers 400 with the reason.
 */
export function serveFaultControl(proxy: FaultProxy, opts: { port?: number; host?: string } = {}): Promise<FaultControl> {
  const host = opts.host ?? '127.0.0.1';
  const status = () => ({
    fault: proxy.fault,
    spec: formatFault(proxy.fault),
    listen: proxy.address,
    target: `${proxy.target.host}:${proxy.target.port}`,
    stats: proxy.stats(),
  });
  const server: HttpServer = createHttpServer((req, res) => {
    const answer = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === '/status')) return answer(200, status());
    if ((req.method === 'PUT' || req.method === 'POST') && path === '/fault') {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        text += c;
        if (text.length > 4096) req.destroy();
      });
      req.on('end', () => {
        let fault: Fault;
        try {
          const t = text.trim();
          fault = t.startsWith('{') ? validateFault(JSON.parse(t) as Fault) : parseFault(t);
        } catch (e) {
          return answer(400, { error: (e as Error).message });
        }
        proxy.set(fault).then(
          () => answer(200, status()),
          (e: unknown) => answer(500, { error: (e as Error).message }),
        );
      });
      return;
    }
    answer(404, { error: 'use GET / for the status, PUT /fault with a fault spec to change it' });
  });
  return new Promise<FaultControl>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      const port = (server.address() as { port: number }).port;
      const close = () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        });
      if (proxy instanceof FaultProxyImpl) proxy.onClose(close);
      resolve({ url: `http://${host}:${port}`, port, close });
    });
  });
}
