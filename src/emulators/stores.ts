/** Adapters connected to a running emulator, with the bucket created and checked before they are returned. */
import type { Store } from '../store.js';
import { createAzureBlobStore } from '../adapters/azure-blob.js';
import { createGcsStore } from '../adapters/gcs.js';
import { createS3Store } from '../adapters/s3.js';
import type { RunningEmulator } from './describe.js';
import { FAUXQS_MAX_VALUE_BYTES, isS3Kind } from './kinds.js';

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
  if (isS3Kind(e.kind)) {
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
      name: opts.name ?? `${e.kind === 'swift-s3' ? 'swift-s3' : 's3'}:${bucket}`,
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
