/**
 * Local emulators for the three cloud stores, each run as a child process on 127.0.0.1 with an
 * ephemeral port (never in the caller's event loop, so they do not distort measurements):
 *
 * - `s3`: MinIO when a `minio` binary is on PATH, otherwise `fauxqs` (npm, in-memory).
 *   `RKVS_S3_EMULATOR=minio|fauxqs` forces one.
 * - `azure`: Azurite (npm), blob service only, with `--skipApiVersionCheck` semantics.
 * - `gcs`: the Cloud Storage emulator inside `firebase-tools` (npm), which serves the GCS JSON API.
 *
 * Each child exits when its parent dies (its stdin pipe closes, or the parent pid disappears), and
 * its data lives in a temp directory removed on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Store } from '../store.js';
import { createAzureBlobStore } from '../adapters/azure-blob.js';
import { createGcsStore } from '../adapters/gcs.js';
import { createS3Store } from '../adapters/s3.js';
import { killPid } from './process.js';

export { killPid, pidAlive } from './process.js';

export type EmulatorKind = 's3' | 'azure' | 'gcs';
export const EMULATOR_KINDS: readonly EmulatorKind[] = ['s3', 'azure', 'gcs'];

/** The program behind an emulator kind. */
export type EmulatorServer = 'fauxqs' | 'minio' | 'azurite' | 'firebase-storage';

/** The well-known Azurite development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Credentials used with the S3 emulator (fauxqs accepts any; MinIO's defaults are the same pair). */
export const S3_EMULATOR_CREDENTIALS = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' } as const;
/** fauxqs refuses request bodies above 11 MiB; the store advertises a little less. */
export const FAUXQS_MAX_VALUE_BYTES = 10 * 1024 * 1024;
export const GCS_EMULATOR_PROJECT = 'rkvs-emulator';
/** Bucket (or container) that `storeForEmulator` uses when none is given. */
export const DEFAULT_EMULATOR_BUCKET = 'rkvs-test';

/** What an adapter needs to talk to a running emulator. */
export interface RunningEmulator {
  kind: EmulatorKind;
  server: EmulatorServer;
  /** Base URL, e.g. `http://127.0.0.1:41234`. For Azure: the blob service URL including the account. */
  endpoint: string;
  host: string;
  port: number;
  /** Process id of the emulator child. */
  pid: number;
  /** Temp directory holding the emulator's data (removed on stop). */
  dataDir: string;
  /** Default bucket/container name for this emulator. */
  bucket: string;
  /** S3: region and static credentials. */
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Azure: account, key and a ready connection string. */
  accountName?: string;
  accountKey?: string;
  connectionString?: string;
  /** GCS: the project id the emulator was started with. */
  projectId?: string;
  /** Environment variables a user would set to reach this emulator (see .env.example). */
  env: Record<string, string>;
  /** Stops the child and removes its data. Idempotent. */
  stop(): Promise<void>;
}

export interface RunningEmulators {
  s3: RunningEmulator;
  azure: RunningEmulator;
  gcs: RunningEmulator;
  /** Every emulator started, in start order. */
  all: RunningEmulator[];
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  signal?: AbortSignal;
  /** Receives each line the emulator prints. */
  log?: (line: string) => void;
  /** How long to wait for the emulator to listen. @default 90000 */
  readyTimeoutMs?: number;
  /**
   * Start the child in its own process group, not tied to this process (it survives our exit);
   * output goes to `logFile`. Used by `rkvs emulators start`.
   * @default false
   */
  detached?: boolean;
  logFile?: string;
}

const RUNNER = fileURLToPath(new URL('./runner.mjs', import.meta.url));
const HOST = '127.0.0.1';

/** Children still running, killed when this process exits. */
const live = new Map<number, { child: ChildProcess; dataDir: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const { child, dataDir } of live.values()) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** Path of an executable named `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, fsConstants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The program that serves `kind` on this machine. */
export function emulatorServerFor(kind: EmulatorKind): EmulatorServer {
  if (kind === 'azure') return 'azurite';
  if (kind === 'gcs') return 'firebase-storage';
  const forced = process.env.RKVS_S3_EMULATOR?.trim();
  if (forced === 'minio' || forced === 'fauxqs') return forced;
  if (forced) {
    throw new ConfigError('RKVS_S3_EMULATOR', `unknown S3 emulator "${forced}"; use "minio" or "fauxqs" (or unset it)`);
  }
  return findOnPath('minio') ? 'minio' : 'fauxqs';
}

function checkKind(kind: unknown): asserts kind is EmulatorKind {
  if (!EMULATOR_KINDS.includes(kind as EmulatorKind)) {
    throw new ConfigError('emulator', `unknown emulator kind ${JSON.stringify(kind)}; use one of ${EMULATOR_KINDS.join(', ')}`);
  }
}

/** Starts one emulator and resolves when it accepts connections. */
export async function startEmulator(kind: EmulatorKind, opts: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  checkKind(kind);
  opts.signal?.throwIfAborted();
  const server = emulatorServerFor(kind);
  const runnerKind = server === 'firebase-storage' ? 'gcs' : server;
  const dataDir = mkdtempSync(join(tmpdir(), `rkvs-${kind}-`));
  const args: string[] = [];
  args.push(RUNNER, runnerKind, dataDir);
  if (opts.detached) args.push('--detached');
  // The GCS emulator keeps its blobs under os.tmpdir(): point that at our data dir.
  const env = { ...process.env, TMPDIR: dataDir, RKVS_GCS_PROJECT: GCS_EMULATOR_PROJECT };

  let child: ChildProcess;
  let logFd: number | undefined;
  if (opts.detached) {
    const logFile = opts.logFile ?? join(dataDir, 'emulator.log');
    logFd = openSync(logFile, 'w');
    child = spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env, detached: true });
  } else {
    child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  }
  if (child.pid === undefined) {
    if (logFd !== undefined) closeSync(logFd);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`could not start the ${server} emulator process`);
  }
  const pid = child.pid;
  if (!opts.detached) {
    live.set(pid, { child, dataDir });
    installExitHook();
  }

  let info: { port: number; accessKeyId?: string; secretAccessKey?: string; projectId?: string };
  try {
    info = opts.detached
      ? await waitReadyInFile(child, opts.logFile ?? join(dataDir, 'emulator.log'), server, opts)
      : await waitReadyOnPipe(child, server, opts);
  } catch (e) {
    live.delete(pid);
    try {
      child.kill('SIGKILL');
    } catch {
      // gone
    }
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  } finally {
    if (logFd !== undefined) closeSync(logFd);
  }
  if (opts.detached) child.unref();

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (opts.detached) {
        await killPid(pid);
      } else {
        await killChild(child);
        live.delete(pid);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  return describeEmulator(kind, server, info, pid, dataDir, stop);
}

/** Builds the RunningEmulator record for a listening emulator (also used to reattach from a state file). */
export function describeEmulator(
  kind: EmulatorKind,
  server: EmulatorServer,
  info: { port: number; accessKeyId?: string; secretAccessKey?: string; projectId?: string },
  pid: number,
  dataDir: string,
  stop: () => Promise<void>,
): RunningEmulator {
  const base = `http://${HOST}:${info.port}`;
  const common = { kind, server, host: HOST, port: info.port, pid, dataDir, bucket: DEFAULT_EMULATOR_BUCKET, stop };
  if (kind === 's3') {
    const creds = {
      accessKeyId: info.accessKeyId ?? S3_EMULATOR_CREDENTIALS.accessKeyId,
      secretAccessKey: info.secretAccessKey ?? S3_EMULATOR_CREDENTIALS.secretAccessKey,
    };
    return {
      ...common,
      endpoint: base,
      region: 'us-east-1',
      ...creds,
      env: {
        RKVS_S3_ENDPOINT: base,
        RKVS_S3_BUCKET: DEFAULT_EMULATOR_BUCKET,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      },
    };
  }
  if (kind === 'azure') {
    const endpoint = `${base}/${AZURITE_ACCOUNT}`;
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` + `BlobEndpoint=${endpoint};`;
    return {
      ...common,
      endpoint,
      accountName: AZURITE_ACCOUNT,
      accountKey: AZURITE_KEY,
      connectionString,
      env: { AZURE_STORAGE_CONNECTION_STRING: connectionString, RKVS_AZURE_CONTAINER: DEFAULT_EMULATOR_BUCKET },
    };
  }
  const projectId = info.projectId ?? GCS_EMULATOR_PROJECT;
  return {
    ...common,
    endpoint: base,
    projectId,
    env: {
      RKVS_GCS_ENDPOINT: base,
      RKVS_GCS_BUCKET: DEFAULT_EMULATOR_BUCKET,
      GOOGLE_CLOUD_PROJECT: projectId,
    },
  };
}

type ReadyInfo = { port: number; accessKeyId?: string; secretAccessKey?: string; projectId?: string };

function parseReady(line: string): ReadyInfo | undefined {
  const m = /^RKVS-READY (\{.*\})\s*$/.exec(line);
  if (!m) return undefined;
  const info = JSON.parse(m[1] as string) as ReadyInfo;
  if (!Number.isInteger(info.port) || info.port <= 0) throw new Error(`emulator reported a bad port: ${line}`);
  return info;
}

function waitReadyOnPipe(child: ChildProcess, server: string, opts: StartEmulatorOptions): Promise<ReadyInfo> {
  const timeoutMs = opts.readyTimeoutMs ?? 90_000;
  return new Promise<ReadyInfo>((resolve, reject) => {
    const tail: string[] = [];
    let settled = false;
    const finish = (err: Error | undefined, info?: ReadyInfo) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(info as ReadyInfo);
    };
    const onLine = (line: string) => {
      if (!line) return;
      let info: ReadyInfo | undefined;
      try {
        info = parseReady(line);
      } catch (e) {
        return finish(e as Error);
      }
      if (info) return finish(undefined, info);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.log?.(`[${server}] ${line}`);
    };
    const onExit = (code: number | null, sig: string | null) =>
      finish(new Error(`the ${server} emulator exited before it was ready (code ${code}, signal ${sig}):\n${tail.join('\n')}`));
    const onAbort = () => finish(new Error(`starting the ${server} emulator was aborted`));
    const timer = setTimeout(
      () => finish(new Error(`the ${server} emulator was not ready after ${timeoutMs} ms:\n${tail.join('\n')}`)),
      timeoutMs,
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('exit', onExit);
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i).trimEnd());
          buf = buf.slice(i + 1);
        }
      });
    }
    // Do not keep the caller's event loop alive for the emulator; the exit hook kills it.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void } | null)?.unref?.();
  });
}

async function waitReadyInFile(child: ChildProcess, logFile: string, server: string, opts: StartEmulatorOptions): Promise<ReadyInfo> {
  const timeoutMs = opts.readyTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    let text = '';
    try {
      text = readFileSync(logFile, 'utf8');
    } catch {
      // not written yet
    }
    for (const line of text.split('\n')) {
      const info = parseReady(line);
      if (info) return info;
    }
    if (exited) throw new Error(`the ${server} emulator exited before it was ready; see ${logFile}:\n${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the ${server} emulator was not ready after ${timeoutMs} ms; see ${logFile}`);
}

function killChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts several emulators in parallel (default: all three). If one fails, the others are stopped. */
export async function startEmulators(
  kinds: EmulatorKind[] = [...EMULATOR_KINDS],
  opts: StartEmulatorOptions = {},
): Promise<RunningEmulators> {
  for (const k of kinds) checkKind(k);
  const unique = [...new Set(kinds)];
  const results = await Promise.allSettled(unique.map((k) => startEmulator(k, opts)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((e) => e.stop()));
    throw failed.reason;
  }
  const byKind = new Map(started.map((e) => [e.kind, e]));
  const pick = (k: EmulatorKind): RunningEmulator => {
    const e = byKind.get(k);
    if (e) return e;
    return new Proxy({} as RunningEmulator, {
      get(_t, prop) {
        if (prop === 'then') return undefined;
        throw new ConfigError('emulators', `the ${k} emulator was not started; include "${k}" in the kinds passed to startEmulators`);
      },
    });
  };
  return {
    s3: pick('s3'),
    azure: pick('azure'),
    gcs: pick('gcs'),
    all: started,
    stop: async () => {
      await Promise.allSettled(started.map((e) => e.stop()));
    },
  };
}

/**
 * Builds the adapter for a running emulator, creating the bucket/container if missing.
 * The store fails fast (few attempts, short timeouts) so a stopped emulator reports Unavailable quickly.
 */
export async function storeForEmulator(
  e: RunningEmulator,
  opts: { bucket?: string; name?: string; requestTimeoutMs?: number } = {},
): Promise<Store> {
  const bucket = opts.bucket ?? e.bucket;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  if (e.kind === 's3') {
    const s = createS3Store({
      bucket,
      endpoint: e.endpoint,
      region: e.region,
      forcePathStyle: true,
      credentials: { accessKeyId: e.accessKeyId ?? '', secretAccessKey: e.secretAccessKey ?? '' },
      createBucketIfMissing: true,
      checksums: 'when_required',
      requestTimeoutMs,
      maxValueBytes: e.server === 'fauxqs' ? FAUXQS_MAX_VALUE_BYTES : undefined,
      name: opts.name ?? `s3:${bucket}`,
    });
    await s.ensureBucket();
    return s;
  }
  if (e.kind === 'azure') {
    const s = createAzureBlobStore({
      container: bucket,
      connectionString: e.connectionString,
      createBucketIfMissing: true,
      requestTimeoutMs,
      name: opts.name ?? `azure:${bucket}`,
    });
    await s.ensureBucket();
    return s;
  }
  const s = createGcsStore({
    bucket,
    apiEndpoint: e.endpoint,
    projectId: e.projectId,
    createBucketIfMissing: true,
    requestTimeoutMs,
    name: opts.name ?? `gcs:${bucket}`,
  });
  await s.ensureBucket();
  return s;
}
