/**
 * Public entry of `robust-kvs/emulators`: re-exports the presets, the launcher and the stores of the local emulators.
 *
 * Each emulator runs as a child process on 127.0.0.1 with an ephemeral port (never in the caller's
 * event loop, so it does not distort measurements):
 * - `s3`: MinIO when a `minio` binary is on PATH, otherwise `fauxqs` (npm, in-memory).
 *   `RKVS_S3_EMULATOR=minio|fauxqs|swift` (or the `s3` start option) forces one.
 * - `azure`: Azurite (npm), blob service only, with `--skipApiVersionCheck` semantics.
 * - `gcs`: the Cloud Storage emulator inside `firebase-tools` (npm), which serves the GCS JSON API.
 * - `swift-s3`: OpenStack Swift with s3api and tempauth (Debian packages), through scripts/swift-s3api.sh.
 *
 * Each child exits when its parent dies (its stdin pipe closes, or the parent pid disappears), and
 * its data lives in a temp directory removed on stop. The rooms: kinds.ts and describe.ts (presets),
 * launch.ts and process.ts (process control), readiness.ts, stores.ts, swift.ts, runner.mjs (the child).
 */
export {
  ALL_EMULATOR_KINDS,
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  DEFAULT_EMULATOR_BUCKET,
  EMULATOR_KINDS,
  FAUXQS_MAX_VALUE_BYTES,
  GCS_EMULATOR_PROJECT,
  S3_EMULATOR_CHOICES,
  S3_EMULATOR_CREDENTIALS,
  SWIFT_S3_CREDENTIALS,
  SWIFT_S3_REGION,
  emulatorServerFor,
  findOnPath,
  type EmulatorKind,
  type EmulatorServer,
  type S3EmulatorChoice,
} from './kinds.js';
export { describeEmulator, type EmulatorInfo, type RunningEmulator } from './describe.js';
export { startEmulator, startEmulators, type RunningEmulators, type StartEmulatorOptions } from './launch.js';
export { killPid, pidAlive } from './process.js';
export { storeForEmulator } from './stores.js';
export { SWIFT_PACKAGES, stopSwiftLeftovers, swiftS3Script } from './swift.js';
