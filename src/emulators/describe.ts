/** Presets: what a running emulator looks like to a client (endpoint, credentials, env variables), per kind and server. */
import {
  AZURITE_ACCOUNT,
  AZURITE_KEY,
  DEFAULT_EMULATOR_BUCKET,
  GCS_EMULATOR_PROJECT,
  S3_EMULATOR_CREDENTIALS,
  SWIFT_S3_CREDENTIALS,
  SWIFT_S3_REGION,
  type EmulatorKind,
  type EmulatorServer,
} from './kinds.js';

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

/** What a listening emulator reported (`RKVS-READY {...}`), or what a state file recorded. */
export interface EmulatorInfo {
  port: number;
  accessKeyId?: string;
  secretAccessKey?: string;
  region?: string;
  projectId?: string;
}

export const HOST = '127.0.0.1';

/** Builds the RunningEmulator record for a listening emulator (also used to reattach from a state file). */
export function describeEmulator(
  kind: EmulatorKind,
  server: EmulatorServer,
  info: EmulatorInfo,
  pid: number,
  dataDir: string,
  stop: () => Promise<void>,
): RunningEmulator {
  const base = `http://${HOST}:${info.port}`;
  const common = { kind, server, host: HOST, port: info.port, pid, dataDir, bucket: DEFAULT_EMULATOR_BUCKET, stop };
  if (kind === 's3' || kind === 'swift-s3') {
    const swift = server === 'swift-s3api';
    const defaults = swift ? SWIFT_S3_CREDENTIALS : S3_EMULATOR_CREDENTIALS;
    const accessKeyId = info.accessKeyId ?? defaults.accessKeyId;
    const secretAccessKey = info.secretAccessKey ?? defaults.secretAccessKey;
    const region = info.region ?? (swift ? SWIFT_S3_REGION : 'us-east-1');
    const env: Record<string, string> =
      kind === 'swift-s3'
        ? {
            // the names scripts/swift-s3api.sh prints, read by benchmarks/configs/swift-s3api.yaml
            RKVS_SWIFT_S3_ENDPOINT: base,
            RKVS_SWIFT_S3_ACCESS_KEY_ID: accessKeyId,
            RKVS_SWIFT_S3_SECRET_ACCESS_KEY: secretAccessKey,
            RKVS_SWIFT_S3_REGION: region,
          }
        : {
            RKVS_S3_ENDPOINT: base,
            RKVS_S3_BUCKET: DEFAULT_EMULATOR_BUCKET,
            AWS_REGION: region,
            AWS_ACCESS_KEY_ID: accessKeyId,
            AWS_SECRET_ACCESS_KEY: secretAccessKey,
          };
    return { ...common, endpoint: base, region, accessKeyId, secretAccessKey, env };
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
