/**
 * Test helper: starts the embedded S3 and Azure emulators and points the variables the `minio`
 * and `azurite` presets read at them, as a user running MinIO/Azurite would set them.
 */
import { startEmulators, type RunningEmulators } from '../../src/emulators/index.js';

export interface UserRunServers {
  emus: RunningEmulators;
  /** Sets a variable (restored by stop()). */
  setEnv(name: string, value: string): void;
  stop(): Promise<void>;
}

export async function startUserRunServers(): Promise<UserRunServers> {
  const emus = await startEmulators(['s3', 'azure']);
  const saved = new Map<string, string | undefined>();
  const setEnv = (k: string, v: string) => {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    process.env[k] = v;
  };
  setEnv('RKVS_MINIO_ENDPOINT', emus.s3.endpoint);
  setEnv('RKVS_MINIO_ACCESS_KEY_ID', emus.s3.accessKeyId!);
  setEnv('RKVS_MINIO_SECRET_ACCESS_KEY', emus.s3.secretAccessKey!);
  setEnv('RKVS_AZURITE_CONNECTION_STRING', emus.azure.connectionString!);
  return {
    emus,
    setEnv,
    stop: async () => {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await emus.stop();
    },
  };
}
