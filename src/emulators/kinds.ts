/** Presets: the emulator kinds, the server behind each on this machine, and their fixed accounts (no SDK imports). */
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * What a caller asks for. `s3`, `azure` and `gcs` install with `npm ci`; `swift-s3` is OpenStack
 * Swift with its s3api middleware, from Debian packages (see scripts/swift-s3api.sh).
 */
export type EmulatorKind = 's3' | 'azure' | 'gcs' | 'swift-s3';
/** The kinds `startEmulators()` and `rkvs emulators start` start by default (the npm-installed ones). */
export const EMULATOR_KINDS: readonly EmulatorKind[] = ['s3', 'azure', 'gcs'];
/** Every kind, `swift-s3` included. */
export const ALL_EMULATOR_KINDS: readonly EmulatorKind[] = ['s3', 'azure', 'gcs', 'swift-s3'];

/** The program behind an emulator kind. */
export type EmulatorServer = 'fauxqs' | 'minio' | 'swift-s3api' | 'azurite' | 'firebase-storage';

/** The servers that can serve the `s3` kind (`RKVS_S3_EMULATOR`, `rkvs emulators start --s3`). */
export type S3EmulatorChoice = 'fauxqs' | 'minio' | 'swift';
export const S3_EMULATOR_CHOICES: readonly S3EmulatorChoice[] = ['fauxqs', 'minio', 'swift'];

/** The well-known Azurite development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Credentials used with the S3 emulator (fauxqs accepts any; MinIO's defaults are the same pair). */
export const S3_EMULATOR_CREDENTIALS = { accessKeyId: 'minioadmin', secretAccessKey: 'minioadmin' } as const;
/** The tempauth test user of scripts/swift-s3api.sh (`user_test_tester = testing`), as S3 credentials. */
export const SWIFT_S3_CREDENTIALS = { accessKeyId: 'test:tester', secretAccessKey: 'testing' } as const;
/** The region Swift's s3api answers for (`location` in its proxy-server.conf). */
export const SWIFT_S3_REGION = 'us-east-1';
/** fauxqs refuses request bodies above 11 MiB; the store advertises a little less. */
export const FAUXQS_MAX_VALUE_BYTES = 10 * 1024 * 1024;
export const GCS_EMULATOR_PROJECT = 'rkvs-emulator';
/** Bucket (or container) that `storeForEmulator` uses when none is given. */
export const DEFAULT_EMULATOR_BUCKET = 'rkvs-test';

/** True for the kinds an S3 adapter talks to. */
export function isS3Kind(kind: EmulatorKind): boolean {
  return kind === 's3' || kind === 'swift-s3';
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

function s3Server(choice: string, where: string): EmulatorServer {
  if (choice === 'swift') return 'swift-s3api';
  if (choice === 'minio' || choice === 'fauxqs') return choice;
  throw new ConfigError(where, `unknown S3 emulator "${choice}"; use one of ${S3_EMULATOR_CHOICES.join(', ')}`);
}

/**
 * The program that serves `kind` on this machine. For `s3`: `choice` when given, else
 * `RKVS_S3_EMULATOR`, else MinIO when a `minio` binary is on PATH, else fauxqs.
 */
export function emulatorServerFor(kind: EmulatorKind, choice?: S3EmulatorChoice): EmulatorServer {
  if (kind === 'azure') return 'azurite';
  if (kind === 'gcs') return 'firebase-storage';
  if (kind === 'swift-s3') return 'swift-s3api';
  if (choice !== undefined) return s3Server(choice, '--s3');
  const forced = process.env.RKVS_S3_EMULATOR?.trim();
  if (forced) return s3Server(forced, 'RKVS_S3_EMULATOR');
  return findOnPath('minio') ? 'minio' : 'fauxqs';
}

export function checkKind(kind: unknown): asserts kind is EmulatorKind {
  if (!ALL_EMULATOR_KINDS.includes(kind as EmulatorKind)) {
    throw new ConfigError('emulator', `unknown emulator kind ${JSON.stringify(kind)}; use one of ${ALL_EMULATOR_KINDS.join(', ')}`);
  }
}
