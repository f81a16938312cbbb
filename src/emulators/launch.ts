/** Process control: starts emulator children (runner.mjs) on 127.0.0.1 and stops them, one or several at a time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { describeEmulator, type EmulatorInfo, type RunningEmulator } from './describe.js';
import {
  checkKind,
  emulatorServerFor,
  EMULATOR_KINDS,
  GCS_EMULATOR_PROJECT,
  type EmulatorKind,
  type EmulatorServer,
  type S3EmulatorChoice,
} from './kinds.js';
import { killChild, killPid, stopGraceMs, track, untrack } from './process.js';
import { waitReadyInFile, waitReadyOnPipe } from './readiness.js';
import { assertSwiftInstalled, stopSwiftLeftovers, swiftS3Script } from './swift.js';

export interface RunningEmulators {
  s3: RunningEmulator;
  azure: RunningEmulator;
  gcs: RunningEmulator;
  'swift-s3': RunningEmulator;
  /** Every emulator started, in start order. */
  all: RunningEmulator[];
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  signal?: AbortSignal;
  /** Receives each line the emulator prints. */
  log?: (line: string) => void;
  /** How long to wait for the emulator to listen. @default 90000 (swift: 240000) */
  readyTimeoutMs?: number;
  /** The server of the `s3` kind. @default `RKVS_S3_EMULATOR`, else minio when on PATH, else fauxqs */
  s3?: S3EmulatorChoice;
  /**
   * Start the child in its own process group, not tied to this process (it survives our exit);
   * output goes to `logFile`. Used by `rkvs emulators start`.
   * @default false
   */
  detached?: boolean;
  logFile?: string;
}

const RUNNER = fileURLToPath(new URL('./runner.mjs', import.meta.url));

/** The runner's name for a server (runner.mjs's first argument). */
const RUNNER_KIND: Record<EmulatorServer, string> = {
  fauxqs: 'fauxqs',
  minio: 'minio',
  'swift-s3api': 'swift',
  azurite: 'azurite',
  'firebase-storage': 'gcs',
};

function spawnRunner(server: EmulatorServer, dataDir: string, opts: StartEmulatorOptions): { child: ChildProcess; logFd?: number } {
  const args = [RUNNER, RUNNER_KIND[server], dataDir];
  if (opts.detached) args.push('--detached');
  // The GCS emulator keeps its blobs under os.tmpdir(): point that at our data dir.
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dataDir, RKVS_GCS_PROJECT: GCS_EMULATOR_PROJECT };
  if (server === 'swift-s3api') env.RKVS_SWIFT_S3_SCRIPT = swiftS3Script();
  if (!opts.detached) return { child: spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env }) };
  const logFd = openSync(opts.logFile ?? join(dataDir, 'emulator.log'), 'w');
  return { child: spawn(process.execPath, args, { stdio: ['ignore', logFd, logFd], env, detached: true }), logFd };
}

/** Starts one emulator and resolves when it accepts connections. */
export async function startEmulator(kind: EmulatorKind, opts: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  checkKind(kind);
  opts.signal?.throwIfAborted();
  const server = emulatorServerFor(kind, kind === 's3' ? opts.s3 : undefined);
  if (server === 'swift-s3api') assertSwiftInstalled();
  const dataDir = mkdtempSync(join(tmpdir(), `rkvs-${kind}-`));
  const { child, logFd } = spawnRunner(server, dataDir, opts);
  if (child.pid === undefined) {
    if (logFd !== undefined) closeSync(logFd);
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`could not start the ${server} emulator process`);
  }
  const pid = child.pid;
  const graceMs = stopGraceMs(server);
  if (!opts.detached) track(child, dataDir, server);

  let info: EmulatorInfo;
  const wait = {
    signal: opts.signal,
    log: opts.log,
    timeoutMs: opts.readyTimeoutMs ?? (server === 'swift-s3api' ? 240_000 : 90_000),
  };
  try {
    info = opts.detached
      ? await waitReadyInFile(child, opts.logFile ?? join(dataDir, 'emulator.log'), server, wait)
      : await waitReadyOnPipe(child, server, wait);
  } catch (e) {
    // A runner that started processes of its own (Swift) must stop them itself: ask, then wait.
    await killChild(child, graceMs);
    untrack(pid);
    if (server === 'swift-s3api') stopSwiftLeftovers(dataDir);
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
        await killPid(pid, graceMs);
      } else {
        await killChild(child, graceMs);
        untrack(pid);
      }
      if (server === 'swift-s3api') stopSwiftLeftovers(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };
  return describeEmulator(kind, server, info, pid, dataDir, stop);
}

/** Starts several emulators in parallel (default: s3, azure, gcs). If one fails, the others are stopped. */
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
    'swift-s3': pick('swift-s3'),
    all: started,
    stop: async () => {
      await Promise.allSettled(started.map((e) => e.stop()));
    },
  };
}
