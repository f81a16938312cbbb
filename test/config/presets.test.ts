/**
 * The presets end to end on the local emulators: open, put/get through every replica (under the
 * run prefix), close. The MinIO and Azurite presets (servers run by the user) are pointed at the
 * embedded S3 and Azure emulators through the environment variables they read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfiguration, loadConfigurations, type ProviderConfiguration } from '../../src/bench/config/file.js';
import { utf8 } from '../../src/store.js';
import { startUserRunServers, type UserRunServers } from './user-run-env.js';

async function roundTrip(h: ProviderConfiguration, prefix: string): Promise<void> {
  const opened = await h.open({ prefix });
  try {
    expect(opened.replicas).toHaveLength(h.spec.n);
    expect(opened.t).toBe(h.spec.t);
    for (const [i, r] of opened.replicas.entries()) {
      const v = utf8(`value of ${h.name} replica ${i}`);
      await r.put('reg/k', v);
      expect(await r.get('reg/k')).toEqual(v);
      expect(await r.list('reg/')).toEqual(['reg/k']);
      await r.remove('reg/k');
      expect(await r.get('reg/k')).toBeNull();
    }
  } finally {
    await opened.close();
  }
}

describe('embedded emulator presets', () => {
  it('emulatorConfiguration(): the three emulators, n=3 t=1, started by open and stopped by close', async () => {
    await roundTrip(emulatorConfiguration(), 'rkvs-test-default/');
  }, 180_000);

  it('local-compare: both configurations open and round-trip', async () => {
    const handles = await loadConfigurations('local-compare');
    expect(handles.map((h) => h.name)).toEqual(['mixed-3', 's3-only-3']);
    for (const h of handles) await roundTrip(h, `rkvs-test-${h.name}/`);
  }, 240_000);
});

describe('user-run server presets (minio, azurite) against the embedded emulators', () => {
  let servers: UserRunServers | undefined;
  const setEnv = (k: string, v: string) => servers!.setEnv(k, v);
  const emus = () => servers!.emus;
  beforeAll(async () => {
    servers = await startUserRunServers();
  }, 180_000);
  afterAll(async () => {
    await servers?.stop();
  });

  it('minio preset: endpoint and credentials from the environment', async () => {
    const [h] = await loadConfigurations('minio');
    expect(h.describe()).toMatchObject({ name: 'minio', n: 3, t: 1 });
    await roundTrip(h, 'rkvs-test-minio/');
  }, 120_000);

  it('azurite preset: connection string from the environment', async () => {
    const [h] = await loadConfigurations('azurite');
    await roundTrip(h, 'rkvs-test-azurite/');
  }, 120_000);

  it('wrong credentials surface as an error of the replica, not a hang (Azurite checks them)', async () => {
    const good = emus().azure.connectionString!;
    setEnv('RKVS_AZURITE_CONNECTION_STRING', good.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not-the-key').toString('base64')}`));
    try {
      const [h] = await loadConfigurations('azurite');
      const opened = await h.open({ prefix: 'rkvs-test-wrong/' });
      try {
        await expect(opened.replicas[0].put('k', utf8('v'), { signal: AbortSignal.timeout(60_000) })).rejects.toMatchObject({
          name: 'StoreError',
          kind: 'PermissionDenied',
        });
      } finally {
        await opened.close();
      }
    } finally {
      setEnv('RKVS_AZURITE_CONNECTION_STRING', good);
    }
  }, 120_000);
});
