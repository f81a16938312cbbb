/**
 * HTTP agents that bound every request at the socket, for the cloud adapters.
 *
 * The three SDKs bound their calls differently or not at all (the AWS SDK only warns when its
 * request timeout passes unless told to throw, and counts the upload in it; the Azure SDK's try
 * timeout is a server-side hint; the GCS SDK cannot abort). So each adapter sends its requests
 * through a {@link BoundedAgents}, which applies the same three limits to every request whatever
 * the SDK does:
 *
 * - **connect** (`connectTimeoutMs`): from opening the socket until TCP (and TLS) is established;
 * - **first byte** (`requestTimeoutMs`): from the end of sending the request (body included) until
 *   the response headers arrive, so a large upload is not cut by it;
 * - **idle** (`idleTimeoutMs`): no byte sent or received on the socket for this long while a request
 *   uses it (a stalled upload or download), and how long an unused keep-alive socket is kept.
 *
 * A request that passes a limit fails with a {@link SocketTimeoutError} (`code` `ETIMEDOUT`, which
 * every SDK treats as a retryable network error). `destroy()` closes every socket at once and makes
 * the agents refuse new requests, so a closed store holds no socket and the process can exit.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { ConfigError } from '../errors.js';

/** The three limits applied to every request, in milliseconds. */
export interface SocketTimeouts {
  /** TCP (and TLS) connection set-up. */
  connectTimeoutMs: number;
  /** From the end of sending the request until the response headers arrive. */
  requestTimeoutMs: number;
  /** No byte either way on a socket in use (and the life of an unused keep-alive socket). */
  idleTimeoutMs: number;
}

/** Defaults of {@link SocketTimeouts}, the same for every adapter. */
export const DEFAULT_SOCKET_TIMEOUTS: Readonly<SocketTimeouts> = Object.freeze({
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
});

/**
 * The bound this library keeps: once every store a process opened has been closed, nothing of the
 * library keeps the event loop alive, and the process exits (Node emits `exit`) within this many
 * milliseconds, whatever its endpoints do. close() aborts every call in flight, the bucket checks
 * included, and resolves once every socket has closed. Checked by test/faults/matrix.test.ts
 * (measured 4-50 ms; Node's own teardown after `exit` comes on top).
 */
export const CLOSED_PROCESS_EXIT_BOUND_MS = 2_000;

/** Environment variables that override the defaults (an option given in code wins). */
export const SOCKET_TIMEOUT_ENV: Readonly<Record<keyof SocketTimeouts, string>> = Object.freeze({
  connectTimeoutMs: 'RKVS_CONNECT_TIMEOUT_MS',
  requestTimeoutMs: 'RKVS_REQUEST_TIMEOUT_MS',
  idleTimeoutMs: 'RKVS_IDLE_TIMEOUT_MS',
});

export type SocketTimeoutPhase = 'connect' | 'first-byte' | 'idle';

const PHASE_OPTION: Record<SocketTimeoutPhase, keyof SocketTimeouts> = {
  connect: 'connectTimeoutMs',
  'first-byte': 'requestTimeoutMs',
  idle: 'idleTimeoutMs',
};

/** A request passed one of the limits. `code` is `ETIMEDOUT`, as for a kernel-level timeout. */
export class SocketTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly phase: SocketTimeoutPhase,
    readonly timeoutMs: number,
  ) {
    super(
      phase === 'connect'
        ? `no connection within ${timeoutMs} ms (connectTimeoutMs)`
        : phase === 'first-byte'
          ? `no answer within ${timeoutMs} ms of sending the request (requestTimeoutMs)`
          : `no data sent or received for ${timeoutMs} ms (idleTimeoutMs)`,
    );
    this.name = 'SocketTimeoutError';
  }
}

/** The agents were destroyed (their store is closed); `code` `ECONNABORTED`. */
export class AgentClosedError extends Error {
  readonly code = 'ECONNABORTED';
  constructor() {
    super('the connection pool is closed (the store was closed)');
    this.name = 'AgentClosedError';
  }
}

/**
 * Resolves the three limits of an adapter: the option when given, else the environment variable
 * (`RKVS_CONNECT_TIMEOUT_MS`, `RKVS_REQUEST_TIMEOUT_MS`, `RKVS_IDLE_TIMEOUT_MS`), else the default.
 * Throws a ConfigError naming the option (`<prefix>.<name>`) or variable when a value is not a
 * positive number of milliseconds.
 */
export function resolveSocketTimeouts(
  prefix: string,
  opts: Partial<SocketTimeouts>,
  env: NodeJS.ProcessEnv = process.env,
): SocketTimeouts {
  const out = { ...DEFAULT_SOCKET_TIMEOUTS };
  for (const name of Object.keys(DEFAULT_SOCKET_TIMEOUTS) as (keyof SocketTimeouts)[]) {
    const given = opts[name];
    if (given !== undefined) {
      if (typeof given !== 'number' || !Number.isFinite(given) || given <= 0) {
        throw new ConfigError(`${prefix}.${name}`, `must be a positive number of milliseconds, got ${String(given)}`);
      }
      out[name] = given;
      continue;
    }
    const variable = SOCKET_TIMEOUT_ENV[name];
    const raw = env[variable]?.trim();
    if (raw) {
      const v = Number(raw);
      if (!Number.isFinite(v) || v <= 0) {
        throw new ConfigError(variable, `must be a positive number of milliseconds, got "${env[variable]}"`);
      }
      out[name] = v;
    }
  }
  return out;
}

interface Bounded {
  readonly timeouts: SocketTimeouts;
  /** Every socket the agent opened and that has not closed yet. */
  readonly open: Set<Duplex>;
}

/** Arms the connect and idle limits on a new socket. */
function armSocket(socket: Duplex, bounds: Bounded): void {
  const { connectTimeoutMs, idleTimeoutMs } = bounds.timeouts;
  bounds.open.add(socket);
  socket.once('close', () => bounds.open.delete(socket));
  const tcp = socket instanceof Socket ? socket : undefined;
  if (!tcp) return;
  if (tcp.connecting || (tcp instanceof TLSSocket && !tcp.encrypted)) {
    const timer = setTimeout(() => tcp.destroy(new SocketTimeoutError('connect', connectTimeoutMs)), connectTimeoutMs);
    const clear = () => clearTimeout(timer);
    tcp.once(tcp instanceof TLSSocket ? 'secureConnect' : 'connect', clear);
    tcp.once('close', clear);
  }
  tcp.setTimeout(idleTimeoutMs);
  // A socket in use fails its request (and the body being read, so that its reader sees this error
  // rather than a bare connection reset); an unused keep-alive socket is closed quietly (the agent
  // swallows errors of free sockets).
  tcp.on('timeout', () => {
    const err = new SocketTimeoutError('idle', idleTimeoutMs);
    const res = answering.get(tcp);
    if (res && !res.complete) res.destroy(err);
    tcp.destroy(err);
  });
}

/** The response being read on a socket, if any. */
const answering = new WeakMap<Socket, http.IncomingMessage>();

/** Arms the first-byte limit on a request and re-arms the idle limit on the socket it gets. */
function armRequest(req: http.ClientRequest, bounds: Bounded): void {
  const { requestTimeoutMs, idleTimeoutMs } = bounds.timeouts;
  let timer: NodeJS.Timeout | undefined;
  let done = false; // answered (a server may answer before the upload ends) or closed
  const clear = () => {
    done = true;
    clearTimeout(timer);
  };
  req.once('finish', () => {
    if (done) return;
    timer = setTimeout(() => req.destroy(new SocketTimeoutError('first-byte', requestTimeoutMs)), requestTimeoutMs);
  });
  req.once('close', clear);
  req.once('socket', (s) => {
    // A reused keep-alive socket may carry the agent's free-socket timeout: use ours again.
    s.setTimeout(idleTimeoutMs);
    req.once('response', (res) => {
      clear();
      if (s instanceof Socket) {
        answering.set(s, res);
        res.once('close', () => {
          if (answering.get(s) === res) answering.delete(s);
        });
      }
    });
  });
}

/** What a closed pool hands out: a socket that fails at once, so the request reports the error. */
function closedSocket(): Duplex {
  const socket = new Socket();
  process.nextTick(() => socket.destroy(new AgentClosedError()));
  return socket;
}

type AddRequest = (req: http.ClientRequest, options: unknown) => void;
type CreateConnection = (options: unknown, cb?: (err: Error | null, socket: Duplex) => void) => Duplex;

type AgentClass = new (options: http.AgentOptions) => http.Agent;

/**
 * `Base` (http.Agent, or https.Agent whose connect includes the TLS handshake) with the limits of
 * {@link SocketTimeouts}: one definition for both protocols.
 */
function boundedAgentClass<C extends AgentClass>(Base: C): new (timeouts: SocketTimeouts) => InstanceType<C> & Bounded {
  const base = Base.prototype as unknown as { createConnection: CreateConnection; addRequest: AddRequest };
  class BoundedAgent extends (Base as AgentClass) implements Bounded {
    private closedFlag = false;
    readonly open = new Set<Duplex>();
    constructor(readonly timeouts: SocketTimeouts) {
      super({ keepAlive: true, timeout: timeouts.idleTimeoutMs, scheduling: 'lifo' });
    }
    override createConnection(options: unknown, cb?: (err: Error | null, socket: Duplex) => void): Duplex {
      if (this.closedFlag) return closedSocket();
      const socket = base.createConnection.call(this, options, cb);
      armSocket(socket, this);
      return socket;
    }
    /** Node's hook for every request given to the agent (also used by agent-base and the proxy agents). */
    addRequest(req: http.ClientRequest, options: unknown): void {
      armRequest(req, this);
      base.addRequest.call(this, req, options);
    }
    override destroy(): void {
      this.closedFlag = true;
      super.destroy();
      // sockets handed out but not yet attached to the pool (still connecting) are ours to close too
      for (const s of this.open) s.destroy();
    }
  }
  return BoundedAgent as unknown as new (timeouts: SocketTimeouts) => InstanceType<C> & Bounded;
}

const BoundedHttpAgent = boundedAgentClass(http.Agent);
const BoundedHttpsAgent = boundedAgentClass(https.Agent);

/**
 * One store's connection pools (plain and TLS), bounded by {@link SocketTimeouts}. Keep-alive
 * sockets are reused between calls; unused ones close after `idleTimeoutMs` and never keep the
 * process alive. `destroy()` closes every socket, in use or not, and refuses later requests.
 */
export class BoundedAgents {
  readonly http: http.Agent;
  readonly https: https.Agent;
  private destroyed = false;

  constructor(readonly timeouts: SocketTimeouts) {
    this.http = new BoundedHttpAgent(timeouts);
    this.https = new BoundedHttpsAgent(timeouts);
  }

  /** The agent for a URL's protocol. */
  for(url: URL | string): http.Agent {
    const protocol = typeof url === 'string' ? new URL(url).protocol : url.protocol;
    return protocol === 'https:' ? this.https : this.http;
  }

  get closed(): boolean {
    return this.destroyed;
  }

  /** Sockets not yet closed (in use, kept alive, or closing), for tests and diagnostics. */
  openSockets(): number {
    return (this.http as unknown as Bounded).open.size + (this.https as unknown as Bounded).open.size;
  }

  /**
   * Destroys every socket and refuses new requests; resolves once every socket has closed (its
   * handle released), so nothing of this pool keeps the event loop alive. Idempotent.
   */
  destroy(): Promise<void> {
    this.destroyed = true;
    this.http.destroy();
    this.https.destroy();
    const open = [...(this.http as unknown as Bounded).open, ...(this.https as unknown as Bounded).open];
    // (a socket leaves its set on 'close', once its handle is released)
    return Promise.all(open.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())))).then(() => undefined);
  }
}
