/**
 * Store adapter for Google Cloud Storage and GCS JSON-API emulators, on `@google-cloud/storage`.
 *
 * The SDK's requests can be neither aborted nor bounded (its HTTP layer takes no signal, keeps its
 * own module-wide connection pool and applies its timeout only until the headers), and an aborted
 * upload that still landed later would overwrite a newer value. So the adapter sends each call's
 * JSON-API request itself, through its own bounded connection pool (src/net/bounded-agent.ts),
 * retried here, and uses the SDK for what it is needed for: the endpoint (`apiEndpoint`,
 * `STORAGE_EMULATOR_HOST`), credentials (its auth client signs each request) and CRC32C validation
 * of downloads. Every request stops at once on abort and on `close()`.
 */
import { CRC32C, Storage, type StorageOptions } from '@google-cloud/storage';
import { ConfigError, StoreError } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import { BoundedAgents, resolveSocketTimeouts, type SocketTimeouts } from '../net/bounded-agent.js';
import { httpRequest, type HttpResponse } from '../net/http-request.js';
import { sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { sleep, throwIfAborted, type CallSite } from '../util/abort.js';
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
  /**
   * First-byte limit of one attempt, in milliseconds: from the end of sending the request (body
   * included) until the response headers arrive. @default `RKVS_REQUEST_TIMEOUT_MS`, else 30000
   */
  requestTimeoutMs?: number;
  /** TCP (and TLS) connect limit of one attempt, in milliseconds. @default `RKVS_CONNECT_TIMEOUT_MS`, else 5000 */
  connectTimeoutMs?: number;
  /**
   * Idle limit, in milliseconds: no byte sent or received for this long while a request uses the
   * socket (a stalled upload or download). @default `RKVS_IDLE_TIMEOUT_MS`, else 30000
   */
  idleTimeoutMs?: number;
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
  /** The SDK client: endpoint, project and credentials (requests are sent by the adapter). */
  readonly storage: Storage;
  /** The connect, first-byte and idle limits every request of this store runs under. */
  readonly timeouts: SocketTimeouts;
  private readonly createIfMissing: boolean;
  private readonly customEndpoint: boolean;
  private readonly apiEndpoint: string | undefined;
  private readonly projectId: string | undefined;
  private readonly maxAttempts: number;
  private readonly gate: BucketGate;
  private readonly agents: BoundedAgents;
  private closing: Promise<void> = Promise.resolve();

  constructor(opts: GcsStoreOptions) {
    if (!opts || typeof opts.bucket !== 'string' || opts.bucket.length === 0) {
      throw new ConfigError('gcs.bucket', 'a bucket name is required, e.g. createGcsStore({ bucket: "my-bucket" })');
    }
    checkEndpoints('gcs', { 'gcs.apiEndpoint': opts.apiEndpoint, STORAGE_EMULATOR_HOST: process.env.STORAGE_EMULATOR_HOST });
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigError('gcs.maxAttempts', `must be an integer >= 1, got ${String(opts.maxAttempts)}`);
    }
    this.timeouts = resolveSocketTimeouts('gcs', opts);
    this.bucketName = opts.bucket;
    this.name = opts.name ?? `gcs:${opts.bucket}`;
    this.gate = new BucketGate(this.name, this.bucketName, (signal) => this.checkBucket(signal));
    guardStoreCalls(this);
    this.createIfMissing = opts.createBucketIfMissing ?? false;
    this.customEndpoint = opts.apiEndpoint !== undefined || !!process.env.STORAGE_EMULATOR_HOST;
    this.maxAttempts = maxAttempts;
    this.apiEndpoint = opts.apiEndpoint?.replace(/\/+$/, '');
    const so: StorageOptions = {};
    if (this.apiEndpoint !== undefined) so.apiEndpoint = this.apiEndpoint;
    this.projectId = opts.projectId ?? process.env.GOOGLE_CLOUD_PROJECT;
    if (this.projectId) so.projectId = this.projectId;
    if (opts.keyFilename) so.keyFilename = opts.keyFilename;
    this.storage = new Storage(so);
    this.agents = new BoundedAgents(this.timeouts);
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

  private url(path: string, query: Record<string, string | undefined> = {}): URL {
    const url = new URL(`${this.storage.apiEndpoint}${path}`);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private objectUrl(key: string, query: Record<string, string | undefined> = {}): URL {
    return this.url(`/storage/v1/b/${encodeURIComponent(this.bucketName)}/o/${encodeURIComponent(key)}`, query);
  }

  /**
   * One JSON-API request with the SDK's credentials, retried on retryable failures; abortable.
   * Resolves with the response when its status is 2xx or in `okStatuses`, else throws the mapped
   * StoreError (through `fail`, so a missing bucket is reported as such).
   */
  private async request(
    site: CallSite,
    signal: AbortSignal,
    req: { method: string; url: URL; body?: Uint8Array; contentType?: string },
    okStatuses: number[] = [],
  ): Promise<HttpResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.requestOnce(site, signal, req, okStatuses);
      } catch (e) {
        const err = e instanceof StoreError ? e : this.fail(e, site, signal);
        if (!err.retryable || err.aborted || attempt >= this.maxAttempts) throw err;
        await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()), signal, site).catch((s: unknown) => {
          throw this.fail(s, site, signal);
        });
      }
    }
  }

  private async requestOnce(
    site: CallSite,
    signal: AbortSignal,
    req: { method: string; url: URL; body?: Uint8Array; contentType?: string },
    okStatuses: number[],
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = {};
    if (!this.customEndpoint) {
      // google-auth-library takes no signal: stop waiting for a token after the first-byte limit
      const pending = this.storage.authClient.getRequestHeaders(req.url.toString()) as Promise<unknown>;
      const timer = AbortSignal.timeout(this.timeouts.connectTimeoutMs + this.timeouts.requestTimeoutMs);
      const auth = await raceSignal(pending, AbortSignal.any([signal, timer]), site).catch((e: unknown) => {
        if (!signal.aborted && timer.aborted) {
          throw new StoreError({ ...site, kind: 'Timeout', detail: 'no access token from the credentials in time', cause: e });
        }
        throw this.fail(e, site, signal);
      });
      if (auth instanceof Headers) auth.forEach((v, k) => (headers[k] = v));
      else for (const [k, v] of Object.entries(auth as Record<string, string>)) headers[k] = v;
    }
    if (req.contentType) headers['content-type'] = req.contentType;
    let res: HttpResponse;
    try {
      res = await httpRequest(this.agents, { method: req.method, url: req.url, headers, body: req.body, signal });
    } catch (e) {
      throw this.fail(e, site, signal);
    }
    if ((res.status >= 200 && res.status < 300) || okStatuses.includes(res.status)) return res;
    throw this.fail(jsonApiError(res), site, signal);
  }

  /** Whether the bucket exists. */
  private async bucketExists(site: CallSite, signal: AbortSignal): Promise<boolean> {
    const res = await this.request(site, signal, { method: 'GET', url: this.url(`/storage/v1/b/${encodeURIComponent(this.bucketName)}`) }, [
      404, 501,
    ]);
    if (res.status >= 200 && res.status < 300) return true;
    // The firebase-tools emulator serves no bucket metadata: it answers 501, or reads the path as an
    // object name ("No such object: storage/v1/b/<bucket>"). Ask its bucket list instead.
    const f = wireFailure(jsonApiError(res));
    const unserved = res.status === 501 || /no such object/i.test(f.message ?? '');
    if (this.customEndpoint && unserved) return (await this.emulatorBuckets(site, signal)).includes(this.bucketName);
    if (res.status === 404) return false;
    throw toStoreError(jsonApiError(res), site, f, { signal });
  }

  /** Bucket names from the firebase-tools emulator's `GET /b` (its JSON API has no `/storage/v1/b`). */
  private async emulatorBuckets(site: CallSite, signal: AbortSignal): Promise<string[]> {
    const base = this.apiEndpoint ?? `http://${process.env.STORAGE_EMULATOR_HOST}`;
    const res = await this.request(site, signal, { method: 'GET', url: new URL('/b', base) });
    try {
      const body = JSON.parse(res.body.toString('utf8')) as { items?: { name?: string }[] };
      return (body.items ?? []).flatMap((b) => (typeof b.name === 'string' ? [b.name] : []));
    } catch (e) {
      throw new StoreError({ ...site, kind: 'Unexpected', detail: 'the emulator answered GET /b with something other than JSON', cause: e });
    }
  }

  private async checkBucket(signal: AbortSignal): Promise<void> {
    const site: CallSite = { store: this.name, op: 'ensureBucket', key: this.bucketName };
    if (await this.bucketExists(site, signal)) return;
    if (!this.createIfMissing) throw this.missing(site);
    const createSite = { ...site, op: 'createBucket' };
    const project = this.projectId ?? (await raceSignal(this.storage.getProjectId(), signal, createSite).catch(() => undefined));
    const res = await this.request(
      createSite,
      signal,
      {
        method: 'POST',
        url: this.url('/storage/v1/b', { project }),
        body: Buffer.from(JSON.stringify({ name: this.bucketName })),
        contentType: 'application/json',
      },
      [409, 400, 500, 501],
    );
    if ((res.status >= 200 && res.status < 300) || res.status === 409) return; // 409: it exists (perhaps created concurrently)
    if (!this.customEndpoint) throw toStoreError(jsonApiError(res), createSite, wireFailure(jsonApiError(res)), { signal });
    // The firebase-tools emulator cannot create buckets (it answers 501 or 500) but creates one on
    // its first object request: touch the bucket, then check again.
    await this.request(site, signal, { method: 'GET', url: this.url(`/storage/v1/b/${encodeURIComponent(this.bucketName)}/o`, { maxResults: '1' }) }, [
      404,
    ]).catch((e: unknown) => {
      if (e instanceof StoreError && e.aborted) throw e;
      // judged by the check below
    });
    if (!(await this.bucketExists(site, signal))) {
      throw toStoreError(jsonApiError(res), createSite, wireFailure(jsonApiError(res)), { signal });
    }
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('put', key, opts);
    try {
      const url = this.url(`/upload/storage/v1/b/${encodeURIComponent(this.bucketName)}/o`, { uploadType: 'media', name: key });
      await this.request(site, signal, { method: 'POST', url, body: value, contentType: 'application/octet-stream' });
    } finally {
      release();
    }
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const { site, signal, release } = await this.gate.enter('get', key, opts);
    try {
      const res = await this.request(site, signal, { method: 'GET', url: this.objectUrl(key, { alt: 'media' }) }, [404]);
      if (res.status === 404) {
        const err = jsonApiError(res);
        if (isMissingBucket(wireFailure(err))) throw this.fail(err, site, signal);
        return null;
      }
      checkCrc32c(res, site);
      return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength);
    } finally {
      release();
    }
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const { site, signal, release } = await this.gate.enter('list', prefix, opts);
    const keys = new Set<string>();
    let pageToken: string | undefined;
    try {
      do {
        throwIfAborted(signal, site);
        const url = this.url(`/storage/v1/b/${encodeURIComponent(this.bucketName)}/o`, {
          prefix: prefix || undefined,
          maxResults: '1000',
          pageToken,
        });
        const res = await this.request(site, signal, { method: 'GET', url });
        let page: { items?: { name?: unknown }[]; nextPageToken?: unknown };
        try {
          page = JSON.parse(res.body.toString('utf8')) as typeof page;
        } catch (e) {
          throw new StoreError({ ...site, kind: 'Unexpected', detail: 'the listing answer is not JSON', cause: e });
        }
        for (const item of page.items ?? []) if (typeof item.name === 'string') keys.add(item.name);
        pageToken = typeof page.nextPageToken === 'string' && page.nextPageToken ? page.nextPageToken : undefined;
      } while (pageToken);
    } finally {
      release();
    }
    return sortKeys([...keys]);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('remove', key, opts);
    try {
      const res = await this.request(site, signal, { method: 'DELETE', url: this.objectUrl(key) }, [404]);
      if (res.status === 404) {
        // "No such object" is success; a missing bucket stays an error.
        const err = jsonApiError(res);
        if (isMissingBucket(wireFailure(err))) throw this.fail(err, site, signal);
      }
    } finally {
      release();
    }
  }

  /**
   * Aborts every call in flight (the bucket check included) and closes every socket at once; later
   * calls fail with `Unavailable`. When it resolves, every socket of this store has closed: nothing
   * of it keeps the process alive.
   */
  close(): Promise<void> {
    if (this.gate.close()) {
      this.closing = this.agents.destroy();
    }
    return this.closing;
  }
}

/** The error a JSON-API answer with a failure status stands for (status, reason and message). */
function jsonApiError(res: HttpResponse): Error & { code: number; errors?: { reason?: string; message?: string }[] } {
  const text = res.body.toString('utf8');
  let message = text.slice(0, 300);
  let reason: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: { message?: string; errors?: { reason?: string }[] } };
    message = body.error?.message ?? message;
    reason = body.error?.errors?.[0]?.reason;
  } catch {
    // not JSON
  }
  return Object.assign(new Error(message || `HTTP ${res.status}`), {
    code: res.status,
    errors: reason ? [{ reason, message }] : undefined,
  });
}

/**
 * Validates a download against the CRC32C the service announced in `x-goog-hash`, as the SDK does:
 * only for objects stored without content encoding. A mismatch is an IntegrityError (retryable:
 * the bytes were damaged on the way).
 */
function checkCrc32c(res: HttpResponse, site: CallSite): void {
  const hash = res.headers['x-goog-hash'];
  const stored = res.headers['x-goog-stored-content-encoding'];
  if (typeof hash !== 'string' || (stored !== undefined && stored !== 'identity')) return;
  const expected = hash
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith('crc32c='))
    ?.slice('crc32c='.length);
  if (!expected) return;
  const crc = new CRC32C();
  crc.update(res.body);
  if (!crc.validate(expected)) {
    throw new StoreError({
      ...site,
      kind: 'IntegrityError',
      retryable: true,
      detail: `the downloaded bytes do not match the CRC32C the service announced (${expected}, got ${crc.toString()})`,
    });
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
