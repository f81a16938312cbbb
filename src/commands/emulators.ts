/**
 * `rkvs emulators start|stop|status`: runs the local emulators in the background, recording them
 * in `.rkvs/emulators.json` under the current directory.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { EmulatorServer, RunningEmulator } from '../emulators/index.js';
import {
  ALL_EMULATOR_KINDS,
  EMULATOR_KINDS,
  S3_EMULATOR_CHOICES,
  type EmulatorKind,
  type S3EmulatorChoice,
} from '../emulators/kinds.js';
import { killPid, pidAlive, stopGraceMs } from '../emulators/process.js';
import { stopSwiftLeftovers } from '../emulators/swift.js';

// The emulator launcher loads all three cloud SDKs: import it only when a command needs it.
const emulators = () => import('../emulators/index.js');

/** One emulator as recorded in the state file. */
export interface EmulatorStateEntry {
  kind: EmulatorKind;
  server: EmulatorServer;
  pid: number;
  port: number;
  endpoint: string;
  dataDir: string;
  logFile: string;
  env: Record<string, string>;
  startedAt: string;
}

export interface EmulatorState {
  version: 1;
  emulators: EmulatorStateEntry[];
}

export function stateFile(dir: string): string {
  return join(resolve(dir), 'emulators.json');
}

export function readState(dir: string): EmulatorState | undefined {
  const file = stateFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as EmulatorState;
    if (parsed.version !== 1 || !Array.isArray(parsed.emulators)) throw new Error('unknown format');
    return parsed;
  } catch (e) {
    throw new ConfigError(file, `cannot read the emulator state file (${(e as Error).message}); delete it and run "rkvs emulators start" again`);
  }
}

function parseKinds(args: string[]): EmulatorKind[] {
  if (args.length === 0) return [...EMULATOR_KINDS];
  const kinds: EmulatorKind[] = [];
  for (const a of args.flatMap((x) => x.split(','))) {
    const k = a.trim();
    if (!k) continue;
    if (!ALL_EMULATOR_KINDS.includes(k as EmulatorKind)) {
      throw new ConfigError('kinds', `unknown emulator "${k}"; use any of ${ALL_EMULATOR_KINDS.join(', ')} (default: ${EMULATOR_KINDS.join(' ')})`);
    }
    if (!kinds.includes(k as EmulatorKind)) kinds.push(k as EmulatorKind);
  }
  return kinds;
}

function parseS3Choice(v: string | undefined): S3EmulatorChoice | undefined {
  if (v === undefined) return undefined;
  if (!S3_EMULATOR_CHOICES.includes(v as S3EmulatorChoice)) {
    throw new ConfigError('--s3', `unknown S3 server "${v}"; use one of ${S3_EMULATOR_CHOICES.join(', ')}`);
  }
  return v as S3EmulatorChoice;
}

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./:=@-]*$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

function printEntries(entries: EmulatorStateEntry[], out: (s: string) => void): void {
  for (const e of entries) {
    const alive = pidAlive(e.pid);
    out(`${e.kind.padEnd(8)} ${e.server.padEnd(17)} ${e.endpoint.padEnd(45)} pid ${e.pid} ${alive ? 'running' : 'NOT RUNNING'}`);
  }
}

function printEnv(entries: EmulatorStateEntry[], out: (s: string) => void): void {
  out('');
  out('# environment for these emulators (paste into your shell, or a .env file without "export"):');
  for (const e of entries) for (const [k, v] of Object.entries(e.env)) out(`export ${k}=${shellQuote(v)}`);
}

export function registerEmulators(program: Command): void {
  const cmd = program
    .command('emulators')
    .description('start, stop and inspect the local S3, Azure Blob and GCS emulators and OpenStack Swift (127.0.0.1, ephemeral ports)');

  cmd
    .command('start')
    .description('start emulators in the background (default: s3 azure gcs) and print their endpoints and env variables')
    .argument('[kinds...]', `emulators to start: ${ALL_EMULATOR_KINDS.join(', ')} (default: ${EMULATOR_KINDS.join(' ')}; swift-s3: OpenStack Swift from Debian packages)`)
    .option('--s3 <server>', `server of the s3 kind: ${S3_EMULATOR_CHOICES.join(', ')} (default: RKVS_S3_EMULATOR, else minio when on PATH, else fauxqs)`)
    .option('--state-dir <dir>', 'where the state file and logs live', '.rkvs')
    .option('--json', 'print the state as JSON instead of text')
    .action(async (kindArgs: string[], opts: { stateDir: string; json?: boolean; s3?: string }) => {
      const kinds = parseKinds(kindArgs);
      const s3 = parseS3Choice(opts.s3);
      const dir = resolve(opts.stateDir);
      const previous = readState(dir);
      const stillRunning = previous?.emulators.filter((e) => pidAlive(e.pid)) ?? [];
      if (stillRunning.length > 0) {
        throw new ConfigError(
          'emulators',
          `already running (${stillRunning.map((e) => `${e.kind} pid ${e.pid}`).join(', ')}); run "rkvs emulators stop" first`,
        );
      }
      mkdirSync(dir, { recursive: true });
      const { startEmulator } = await emulators();
      const started = await Promise.allSettled(
        kinds.map((kind) => startEmulator(kind, { detached: true, logFile: join(dir, `${kind}.log`), ...(s3 ? { s3 } : {}) })),
      );
      const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const failed = started.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failed.length > 0) {
        await Promise.allSettled(ok.map((e) => e.stop()));
        throw new Error(`could not start every emulator: ${failed.map((e) => (e as Error).message).join('; ')}`);
      }
      const entries: EmulatorStateEntry[] = ok.map((e: RunningEmulator) => ({
        kind: e.kind,
        server: e.server,
        pid: e.pid,
        port: e.port,
        endpoint: e.endpoint,
        dataDir: e.dataDir,
        logFile: join(dir, `${e.kind}.log`),
        env: e.env,
        startedAt: new Date().toISOString(),
      }));
      const state: EmulatorState = { version: 1, emulators: entries };
      writeFileSync(stateFile(dir), `${JSON.stringify(state, null, 2)}\n`);
      const out = (s: string) => process.stdout.write(`${s}\n`);
      if (opts.json) {
        out(JSON.stringify(state, null, 2));
        return;
      }
      printEntries(entries, out);
      printEnv(entries, out);
      out('');
      out(`# state: ${stateFile(dir)}; stop them with: rkvs emulators stop`);
    });

  cmd
    .command('stop')
    .description('stop the emulators started by "rkvs emulators start" and delete their data')
    .option('--state-dir <dir>', 'where the state file lives', '.rkvs')
    .action(async (opts: { stateDir: string }) => {
      const dir = resolve(opts.stateDir);
      const state = readState(dir);
      if (!state || state.emulators.length === 0) {
        process.stdout.write('no emulators recorded; nothing to stop\n');
        return;
      }
      await Promise.all(
        state.emulators.map(async (e) => {
          const wasAlive = pidAlive(e.pid);
          await killPid(e.pid, stopGraceMs(e.server));
          if (e.server === 'swift-s3api') stopSwiftLeftovers(e.dataDir);
          rmSync(e.dataDir, { recursive: true, force: true });
          process.stdout.write(`${e.kind}: ${wasAlive ? `stopped pid ${e.pid}` : 'was not running'}\n`);
        }),
      );
      rmSync(stateFile(dir), { force: true });
    });

  cmd
    .command('status')
    .description('show the emulators recorded in the state file and whether they run')
    .option('--state-dir <dir>', 'where the state file lives', '.rkvs')
    .option('--json', 'print JSON')
    .action((opts: { stateDir: string; json?: boolean }) => {
      const state = readState(resolve(opts.stateDir));
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const entries = state?.emulators ?? [];
      if (opts.json) {
        out(JSON.stringify(entries.map((e) => ({ ...e, running: pidAlive(e.pid) })), null, 2));
        return;
      }
      if (entries.length === 0) {
        out('no emulators running (start them with: rkvs emulators start)');
        return;
      }
      printEntries(entries, out);
      printEnv(entries.filter((e) => pidAlive(e.pid)), out);
    });
}

/** Rebuilds RunningEmulator records from a state file (stop() kills the recorded pid). */
export async function emulatorsFromState(dir = '.rkvs'): Promise<RunningEmulator[]> {
  const { describeEmulator } = await emulators();
  const state = readState(dir);
  return (state?.emulators ?? [])
    .filter((e) => pidAlive(e.pid))
    .map((e) =>
      describeEmulator(e.kind, e.server, { port: e.port, ...credsFromEnv(e) }, e.pid, e.dataDir, async () => {
        await killPid(e.pid, stopGraceMs(e.server));
        if (e.server === 'swift-s3api') stopSwiftLeftovers(e.dataDir);
        rmSync(e.dataDir, { recursive: true, force: true });
      }),
    );
}

function credsFromEnv(e: EmulatorStateEntry): { accessKeyId?: string; secretAccessKey?: string; region?: string; projectId?: string } {
  return {
    accessKeyId: e.env.AWS_ACCESS_KEY_ID ?? e.env.RKVS_SWIFT_S3_ACCESS_KEY_ID,
    secretAccessKey: e.env.AWS_SECRET_ACCESS_KEY ?? e.env.RKVS_SWIFT_S3_SECRET_ACCESS_KEY,
    region: e.env.AWS_REGION ?? e.env.RKVS_SWIFT_S3_REGION,
    projectId: e.env.GOOGLE_CLOUD_PROJECT,
  };
}
