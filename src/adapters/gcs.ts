/**
 * Store adapter for Google Cloud Storage and GCS JSON-API emulators, on `@google-cloud/storage`.
 *
 * The SDK takes no AbortSignal, and an aborted upload that still lands later would overwrite a newer
 * value. So `put` and `remove` send their single JSON-API request with `fetch` (authorised by the
 * SDK's own auth client, retried here) and really stop on abort; `get` reads the SDK's download
 * stream and destroys it on abort; `list` (read-only) rejects at once on abort while the page
 * request in flight finishes in the background, bounded by `requestTimeoutMs`.
 */
import { IdempotencyStrategy, Storage, type Bucket, type StorageOptions } from '@google-cloud/storage';
import { ConfigError, StoreError } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import { sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { abortError, sleep, throwIfAborted, type CallSite } from '../util/abort.js';
import { BucketGate } from './bucket-gate.js';
import { checkEndpoints } from './endpoint.js';
import { findNodeErrorCode, missingBucketError, raceSignal, toStoreError, type WireFailure } from './errors-map.js';

export interface GcsStoreOptions {
  /** Bucket holding the keys. */
  bucket: string;
  /** Project id. @default `GOOGLE_CLOUD_PROJECT`, or the one in the credentials */
  projectId?: string;
  /**
   * API endpoint of an emulator or proxy, e.g. `http://127.0.0.1:9199`; requests to a custom endpoint
   * are sent without authentication. @default the real service (or `STORAGE_EMULATOR_HOST`, read by the SDK)
   */
  apiEndpoint?: string;
  /** Path of a service-account key file. @default application default credentials */
  keyFilename?: string;
  /** Create the bucket on first use when it does not exist. @default false */
  createBucketIfMissing?: boolean;
  /** Attempts per call, including the first. @default 3 */
  maxAttempts?: number;
  /** Time limit of one HTTP request, in milliseconds. @default 60000 */
  requestTimeoutMs?: number;
  /** Name shown in errors and layer stacks. @default `gcs:<bucket>` */
  name?: string;
}

interface GcsLikeError {
  code?: number | string;
  status?: number;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  response?: { status?: number };
}

function wireFailure(e: unknown): WireFailure {
  const err = (e ?? {}) as GcsLikeError;
  const status = typeof err.code === 'number' ? err.code : (err.response?.status ?? err.status);
  const nodeCode = findNodeErrorCode(e) ?? (typeof err.code === 'string' ? err.code : undefined);
  const reason = Array.isArray(err.errors) ? err.errors[0]?.reason : undefined;
  return { status, code: nodeCode ?? reason, message: (err.message ?? '').split('\n')[0] };
}

function isMissingBucket(f: WireFailure): boolean {
  return f.status === 404 && /bucket/i.test(f.message ?? '') && !/object/i.test(f.message ?? '');
}

/** A Store over one GCS bucket. */
export class GcsStore implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly bucketName: string;
  readonly storage: Storage;
  readonly bucket: Bucket;
  private readonly createIfMissing: boolean;
  private readonly customEndpoint: boolean;
  private readonly apiEndpoint: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly gate: BucketGate;

  constructor(opts: GcsStoreOptions) {
    if (!opts || typeof opts.bucket !== 'string' || opts.bucket.length === 0) {
      throw new ConfigError('gcs.bucket', 'a bucket name is required, e.g. createGcsStore({ bucket: "my-bucket" })');
    }
    checkEndpoints('gcs', { 'gcs.apiEndpoint': opts.apiEndpoint, STORAGE_EMULATOR_HOST: process.env.STORAGE_EMULATOR_HOST });
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigError('gcs.maxAttempts', `must be an integer >= 1, got ${String(opts.maxAttempts)}`);
    }
    this.bucketName = opts.bucket;
    this.name = opts.name ?? `gcs:${opts.bucket}`;
    this.gate = new BucketGate(this.name, this.bucketName, () => this.checkBucket());
    guardStoreCalls(this);
    this.createIfMissing = opts.createBucketIfMissing ?? false;
    this.customEndpoint = opts.apiEndpoint !== undefined || !!process.env.STORAGE_EMULATOR_HOST;
    const so: StorageOptions = {
      timeout: opts.requestTimeoutMs ?? 60_000,
      retryOptions: {
        autoRetry: maxAttempts > 1,
        maxRetries: maxAttempts - 1,
        retryDelayMultiplier: 2,
        maxRetryDelay: 2, // seconds
        totalTimeout: 120, // seconds
        // Our puts overwrite whole values and are safe to repeat.
        idempotencyStrategy: IdempotencyStrategy.RetryAlways,
      },
    };
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.maxAttempts = maxAttempts;
    this.apiEndpoint = opts.apiEndpoint?.replace(/\/+$/, '');
    if (this.apiEndpoint !== undefined) so.apiEndpoint = this.apiEndpoint;
    const projectId = opts.projectId ?? process.env.GOOGLE_CLOUD_PROJECT;
    if (projectId) so.projectId = projectId;
    if (opts.keyFilename) so.keyFilename = opts.keyFilename;
    this.storage = new Storage(so);
    this.bucket = this.storage.bucket(opts.bucket);
    this.capabilities = Object.freeze({
      sortedList: true,
      linearizable: true,
      persistent: true,
      maxKeyBytes: 1024,
      maxValueBytes: 5 * 1024 ** 4,
    });
  }

  private missing(site: CallSite, cause?: unknown): StoreError {
    return missingBucketError(site, 'bucket', this.bucketName, `gcloud storage buckets create gs://${this.bucketName}`, cause);
  }

  private fail(e: unknown, site: CallSite, signal?: AbortSignal): StoreError {
    const f = wireFailure(e);
    if (!signal?.aborted && isMissingBucket(f)) {
      this.gate.forget();
      return this.missing(site, e);
    }
    return toStoreError(e, site, f, { signal });
  }

  /**
   * Checks that the bucket exists (creating it when `createBucketIfMissing`), once per store.
   * Called by the first operation; call it yourself to fail fast at start-up.
   */
  ensureBucket(opts?: CallOptions): Promise<void> {
    return this.gate.ensure(opts?.signal);
  }

  private async bucketExists(site: CallSite): Promise<boolean> {
    try {
      await this.bucket.getMetadata();
      return true;
    } catch (e) {
      const f = wireFailure(e);
      // The firebase-tools emulator serves no bucket metadata: it answers 501, or reads the path as an
      // object name ("No such object: storage/v1/b/<bucket>"). Ask its bucket list instead.
      const unserved = f.status === 501 || (f.status === 404 && /no such object/i.test(f.message ?? ''));
      if (this.customEndpoint && unserved) return (await this.emulatorBuckets(site)).includes(this.bucketName);
      if (f.status === 404) return false;
      throw toStoreError(e, site, f);
    }
  }

  /** Bucket names from the firebase-tools emulator's `GET /b` (its JSON API has no `/storage/v1/b`). */
  private async emulatorBuckets(site: CallSite): Promise<string[]> {
    const base = this.apiEndpoint ?? `http://${process.env.STORAGE_EMULATOR_HOST}`;
    try {
      const res = await fetch(new URL('/b', base), { signal: AbortSignal.timeout(this.requestTimeoutMs) });
      if (!res.ok) {
        throw new StoreError({ ...site, kind: 'Unexpected', detail: `the emulator answered HTTP ${res.status} to GET /b` });
      }
      const body = (await res.json()) as { items?: { name?: string }[] };
      return (body.items ?? []).flatMap((b) => (typeof b.name === 'string' ? [b.name] : []));
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw toStoreError(e, site, wireFailure(e));
    }
  }

  private async checkBucket(): Promise<void> {
    const site: CallSite = { store: this.name, op: 'ensureBucket', key: this.bucketName };
    if (await this.bucketExists(site)) {
      return;
    }
    if (!this.createIfMissing) throw this.missing(site);
    try {
      await this.storage.createBucket(this.bucketName);
    } catch (e) {
      const f = wireFailure(e);
      if (f.status === 409) {
        // already exists (perhaps created concurrently)
      } else if (this.customEndpoint && f.status !== undefined && f.status >= 400) {
        // The firebase-tools emulator cannot create buckets (it answers 501 or 500) but creates one on
        // its first object request: touch the bucket, then check again.
        try {
          await this.bucket.getFiles({ maxResults: 1, autoPaginate: false });
        } catch {
          // judged by the check below
        }
        if (!(await this.bucketExists(site))) throw toStoreError(e, { ...site, op: 'createBucket' }, f);
      } else {
        throw toStoreError(e, { ...site, op: 'createBucket' }, f);
      }
    }
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const { site, signal } = await this.gate.enter('put', key, opts);
    const url = new URL(`${this.storage.apiEndpoint}/upload/storage/v1/b/${encodeURIComponent(this.bucketName)}/o`);
    url.searchParams.set('uploadType', 'media');
    url.searchParams.set('name', key);
    await this.send(site, signal, url, { method: 'POST', body: value, contentType: 'application/octet-stream' });
  }

  /** One JSON-API request with the SDK's credentials, retried on retryable failures; abortable. */
  private async send(
    site: CallSite,
    signal: AbortSignal | undefined,
    url: URL,
    req: { method: string; body?: Uint8Array; contentType?: string },
    opts: { okStatuses?: number[] } = {},
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.sendOnce(site, signal, url, req, opts.okStatuses ?? []);
        return;
      } catch (e) {
        const err = e instanceof StoreError ? e : this.fail(e, site, signal);
        if (!err.retryable || err.aborted || attempt >= this.maxAttempts) throw err;
        await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()), signal, site);
      }
    }
  }

  private async sendOnce(
    site: CallSite,
    signal: AbortSignal | undefined,
    url: URL,
    req: { method: string; body?: Uint8Array; contentType?: string },
    okStatuses: number[],
  ): Promise<void> {
    const headers = new Headers();
    if (!this.customEndpoint) {
      const auth = (await this.storage.authClient.getRequestHeaders(url.toString())) as unknown;
      if (auth instanceof Headers) auth.forEach((v, k) => headers.set(k, v));
      else for (const [k, v] of Object.entries(auth as Record<string, string>)) headers.set(k, v);
    }
    if (req.contentType) headers.set('content-type', req.contentType);
    const attemptTimeout = AbortSignal.timeout(this.requestTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body,
        signal: signal ? AbortSignal.any([signal, attemptTimeout]) : attemptTimeout,
      });
    } catch (e) {
      if (!signal?.aborted && attemptTimeout.aborted) {
        throw new StoreError({ ...site, kind: 'Timeout', detail: `no answer within ${this.requestTimeoutMs} ms (requestTimeoutMs)`, cause: e });
      }
      throw this.fail(e, site, signal);
    }
    const text = await res.text().catch(() => '');
    if (res.ok || okStatuses.includes(res.status)) return;
    let message = text.slice(0, 300);
    let reason: string | undefined;
    try {
      const body = JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string }[] } };
      message = body.error?.message ?? message;
      reason = body.error?.errors?.[0]?.reason;
    } catch {
      // not JSON
    }
    const failure = Object.assign(new Error(message || `HTTP ${res.status}`), {
      code: res.status,
      errors: reason ? [{ reason, message }] : undefined,
    });
    throw this.fail(failure, site, signal);
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const { site, signal } = await this.gate.enter('get', key, opts);
    try {
      return await this.download(key, signal, site);
    } catch (e) {
      const f = wireFailure(e);
      if (!signal?.aborted && f.status === 404 && !isMissingBucket(f)) return null;
      throw this.fail(e, site, signal);
    }
  }

  private download(key: string, signal: AbortSignal | undefined, site: CallSite): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const stream = this.bucket.file(key).createReadStream({ validation: 'crc32c' });
      const chunks: Buffer[] = [];
      let size = 0;
      const onAbort = () => {
        stream.destroy();
        reject(abortError(site, signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.byteLength;
      });
      stream.once('error', (e) => {
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      });
      stream.once('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const out = new Uint8Array(size);
        let off = 0;
        for (const c of chunks) {
          out.set(c, off);
          off += c.byteLength;
        }
        resolve(out);
      });
    });
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const { site, signal } = await this.gate.enter('list', prefix, opts);
    const keys = new Set<string>();
    let pageToken: string | undefined;
    try {
      do {
        throwIfAborted(signal, site);
        const [files, next] = await raceSignal(
          this.bucket.getFiles({ prefix: prefix || undefined, autoPaginate: false, maxResults: 1000, pageToken }),
          signal,
          site,
        );
        for (const f of files) keys.add(f.name);
        pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
      } while (pageToken);
    } catch (e) {
      throw this.fail(e, site, signal);
    }
    return sortKeys([...keys]);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    const { site, signal } = await this.gate.enter('remove', key, opts);
    const url = new URL(
      `${this.storage.apiEndpoint}/storage/v1/b/${encodeURIComponent(this.bucketName)}/o/${encodeURIComponent(key)}`,
    );
    try {
      await this.send(site, signal, url, { method: 'DELETE' });
    } catch (e) {
      // 404 "No such object" is success; a missing bucket stays an error (mapped by fail()).
      if (e instanceof StoreError && e.kind === 'NotFound' && !signal?.aborted) return;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.gate.close();
  }
}

/** Creates a Store over a GCS bucket (or an emulator's, with `apiEndpoint`). */
export function createGcsStore(opts: GcsStoreOptions): GcsStore {
  return new GcsStore(opts);
}

/**
 * GCS options from environment variables: `RKVS_GCS_BUCKET` (required), `RKVS_GCS_ENDPOINT`,
 * `RKVS_CREATE_BUCKETS`. `GOOGLE_CLOUD_PROJECT` and `GOOGLE_APPLICATION_CREDENTIALS` are read by the SDK.
 */
export function gcsOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): GcsStoreOptions {
  const bucket = env.RKVS_GCS_BUCKET?.trim();
  if (!bucket) throw new ConfigError('RKVS_GCS_BUCKET', 'not set; set it to the bucket robust-kvs may use (see .env.example)');
  const opts: GcsStoreOptions = { bucket };
  const endpoint = env.RKVS_GCS_ENDPOINT?.trim();
  checkEndpoints('gcs', { RKVS_GCS_ENDPOINT: endpoint });
  if (endpoint) opts.apiEndpoint = endpoint;
  const create = env.RKVS_CREATE_BUCKETS?.trim().toLowerCase();
  if (create) opts.createBucketIfMissing = create === '1' || create === 'true' || create === 'yes';
  return opts;
}
