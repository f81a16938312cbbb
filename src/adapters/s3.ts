/**
 * Store adapter for Amazon S3 and S3-compatible endpoints (MinIO, fauxqs, Ceph, R2, ...), on `@aws-sdk/client-s3`.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { ConfigError, StoreError } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import { sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { sleep, throwIfAborted, type CallSite } from '../util/abort.js';
import { registerSecret } from '../util/redact.js';
import { BoundedAgents, resolveSocketTimeouts, type SocketTimeouts } from '../net/bounded-agent.js';
import { BucketGate } from './bucket-gate.js';
import { checkEndpoints } from './endpoint.js';
import { isRegionMismatch, missingBucketError, toStoreError, type AttemptAnswer, type WireFailure } from './errors-map.js';
import { bodiless, bucketRegionOf, decodeListedKey, recordAttempt, wireFailure } from './s3-wire.js';

export { decodeListedKey } from './s3-wire.js';

export interface S3StoreOptions {
  /** Bucket holding the keys. */
  bucket: string;
  /**
   * Endpoint URL of an S3-compatible server, e.g. `http://127.0.0.1:9000`.
   * @default AWS S3 (or the `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` variables, read by the SDK)
   */
  endpoint?: string;
  /** @default `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1` */
  region?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
   * @default true when an endpoint is set (option or `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`), else false
   */
  forcePathStyle?: boolean;
  /**
   * Static credentials. @default the SDK's chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
   * `AWS_PROFILE`, SSO, instance metadata, ...)
   */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Create the bucket on first use when it does not exist. @default false */
  createBucketIfMissing?: boolean;
  /**
   * Attempts per call, including the first; a retryable failure (throttling, 5xx, network error,
   * timeout) is tried again after a jittered exponential back-off that abort and close() cut short.
   * @default 3
   */
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
  /**
   * When the SDK computes and validates CRC checksums. `when_supported` is the SDK default (AWS S3);
   * `when_required` is needed by S3-compatible servers that do not understand the SDK's
   * flexible checksums (aws-chunked uploads with trailing checksums).
   * @default "when_required" when an endpoint is set (option or variable), else "when_supported"
   */
  checksums?: 'when_supported' | 'when_required';
  /**
   * Largest value this store accepts (advertised in `capabilities.maxValueBytes`); lower it for
   * servers with a smaller request-body limit. @default 5 GiB (the S3 single-PUT limit)
   */
  maxValueBytes?: number;
  /** Name shown in errors and layer stacks. @default `s3:<bucket>` */
  name?: string;
}

/** Largest single PUT accepted by S3. */
const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;

/** A Store over one S3 bucket. */
export class S3Store implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly bucket: string;
  readonly client: S3Client;
  private readonly createIfMissing: boolean;
  private readonly region: string;
  private readonly gate: BucketGate;
  private readonly agents: BoundedAgents;
  private readonly maxAttempts: number;
  private closing: Promise<void> = Promise.resolve();
  /** The connect, first-byte and idle limits every request of this store runs under. */
  readonly timeouts: SocketTimeouts;

  constructor(opts: S3StoreOptions) {
    if (!opts || typeof opts.bucket !== 'string' || opts.bucket.length === 0) {
      throw new ConfigError('s3.bucket', 'a bucket name is required, e.g. createS3Store({ bucket: "my-bucket" })');
    }
    checkEndpoints('s3', { 's3.endpoint': opts.endpoint, AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL });
    if (opts.maxValueBytes !== undefined && !(Number.isInteger(opts.maxValueBytes) && opts.maxValueBytes > 0)) {
      throw new ConfigError('s3.maxValueBytes', `must be a positive integer, got ${String(opts.maxValueBytes)}`);
    }
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigError('s3.maxAttempts', `must be an integer >= 1, got ${String(opts.maxAttempts)}`);
    }
    this.timeouts = resolveSocketTimeouts('s3', opts);
    this.maxAttempts = maxAttempts;
    this.bucket = opts.bucket;
    this.name = opts.name ?? `s3:${opts.bucket}`;
    this.gate = new BucketGate(this.name, this.bucket, (signal) => this.checkBucket(signal));
    guardStoreCalls(this);
    this.createIfMissing = opts.createBucketIfMissing ?? false;
    this.region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const custom = opts.endpoint !== undefined || !!(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
    const checksums = (opts.checksums ?? (custom ? 'when_required' : 'when_supported')) === 'when_required'
      ? 'WHEN_REQUIRED'
      : 'WHEN_SUPPORTED';
    this.agents = new BoundedAgents(this.timeouts);
    const config: S3ClientConfig = {
      region: this.region,
      forcePathStyle: opts.forcePathStyle ?? custom,
      // Retries are the adapter's (see retrying()): the SDK's back-off sleep cannot be aborted.
      maxAttempts: 1,
      requestChecksumCalculation: checksums,
      responseChecksumValidation: checksums,
      // Our agents bound every request (connect, first byte after the upload, idle) and are
      // destroyed by close(); see src/net/bounded-agent.ts.
      requestHandler: { httpAgent: this.agents.http, httpsAgent: this.agents.https },
    };
    if (opts.endpoint !== undefined) config.endpoint = opts.endpoint;
    if (opts.credentials) config.credentials = opts.credentials;
    registerSecret(opts.credentials?.secretAccessKey, opts.credentials?.sessionToken);
    this.client = new S3Client(config);
    this.capabilities = Object.freeze({
      sortedList: true,
      linearizable: true,
      persistent: true,
      maxKeyBytes: 1024,
      maxValueBytes: opts.maxValueBytes ?? S3_MAX_PUT_BYTES,
    });
  }

  private fail(e: unknown, site: CallSite, signal?: AbortSignal): StoreError {
    const f = wireFailure(e);
    if (f.code === 'NoSuchBucket') {
      this.gate.forget();
      return missingBucketError(site, 'bucket', this.bucket, `aws s3 mb s3://${this.bucket}`, e);
    }
    return toStoreError(e, site, f, { signal, ...(isRegionMismatch(f.code) ? { hint: this.regionHint() } : {}) });
  }

  private regionHint(serverRegion?: string): string {
    const where = serverRegion ? ` the server names region "${serverRegion}";` : '';
    return `(check the region:${where} this store signs requests for "${this.region}" — set the region option of createS3Store, AWS_REGION, or the replica's region field)`;
  }

  /**
   * The bucket check is a HEAD request, whose error answer has no body: all the SDK can say is
   * "HTTP 400 UnknownError". Ask again with a cheap request that has one (a listing of at most one
   * key, which the store needs permission for anyway) to report the server's own code and message;
   * when that tells nothing more, map the HEAD status to what it usually means.
   * Returns undefined when the listing succeeds: the bucket exists and answers.
   */
  private async explainHeadFailure(e: unknown, f: WireFailure, site: CallSite, signal: AbortSignal): Promise<StoreError | undefined> {
    const status = f.status;
    // Only where the server's words matter: region (301, 400) and credentials (401, 403).
    if (signal?.aborted || ![301, 400, 401, 403].includes(status ?? 0) || !bodiless(f)) return toStoreError(e, site, f, { signal });
    try {
      await this.retrying(site, signal, () => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1 }), { abortSignal: signal }));
      return undefined;
    } catch (again) {
      const g = wireFailure(again);
      if (g.code === 'NoSuchBucket') return missingBucketError(site, 'bucket', this.bucket, `aws s3 mb s3://${this.bucket}`, again);
      if (g.status !== undefined && !bodiless(g)) {
        return toStoreError(again, site, g, { signal, ...(isRegionMismatch(g.code) ? { hint: this.regionHint() } : {}) });
      }
    }
    const serverRegion = bucketRegionOf(e);
    const head = `HEAD bucket answered HTTP ${status} without a body`;
    if (status === 301) {
      return new StoreError({ ...site, kind: 'ConfigInvalid', detail: `${head}: the bucket is in another region ${this.regionHint(serverRegion)}`, cause: e });
    }
    if (status === 400) {
      return new StoreError({ ...site, kind: 'ConfigInvalid', detail: `${head}, most often a region mismatch ${this.regionHint(serverRegion)}`, cause: e });
    }
    if (status === 401 || status === 403) {
      return new StoreError({
        ...site,
        kind: 'PermissionDenied',
        detail: `${head}: check the credentials (access key id and secret) and that they may list bucket "${this.bucket}"`,
        cause: e,
      });
    }
    return toStoreError(e, site, f, { signal });
  }

  /**
   * Runs one SDK call (and the read of its body), trying again after retryable failures up to
   * `maxAttempts` attempts in all, with jittered exponential back-off (longer when throttled) that
   * the call's signal cuts short. Throws the SDK's last error as is, for the caller to map.
   */
  private async retrying<T>(site: CallSite, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    const answers: AttemptAnswer[] = [];
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        // a 500 repeated with the same cause is permanent: wireFailure says so, and it is not retried
        recordAttempt(e, answers);
        if (n >= this.maxAttempts || signal.aborted) throw e;
        const f = wireFailure(e);
        // the SDK corrected its clock from the server's answer: signing again may now succeed
        const skewFixed = (e as { $metadata?: { clockSkewCorrected?: boolean } }).$metadata?.clockSkewCorrected === true;
        const err = toStoreError(e, site, f, { signal });
        if (!err.retryable && !skewFixed) throw e;
        const base = err.kind === 'RateLimited' ? 500 : 100;
        await sleep(Math.min(20_000, base * 2 ** (n - 1)) * (0.5 + Math.random()), signal, site).catch(() => {
          throw e; // aborted while waiting: the caller maps it (an abort always wins)
        });
      }
    }
  }

  /**
   * Checks that the bucket exists (creating it when `createBucketIfMissing`), once per store.
   * Called by the first operation; call it yourself to fail fast at start-up.
   */
  ensureBucket(opts?: CallOptions): Promise<void> {
    return this.gate.ensure(opts?.signal);
  }

  private async checkBucket(signal: AbortSignal): Promise<void> {
    const site: CallSite = { store: this.name, op: 'ensureBucket', key: this.bucket };
    try {
      await this.retrying(site, signal, () => this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal }));
      return;
    } catch (e) {
      const f = wireFailure(e);
      const missing = f.status === 404 || f.code === 'NoSuchBucket' || f.code === 'NotFound';
      if (!missing) {
        const err = await this.explainHeadFailure(e, f, site, signal);
        if (err) throw err;
        return;
      }
      if (!this.createIfMissing) throw missingBucketError(site, 'bucket', this.bucket, `aws s3 mb s3://${this.bucket}`, e);
    }
    try {
      const constraint = this.region === 'us-east-1' ? undefined : { LocationConstraint: this.region as BucketLocationConstraint };
      await this.retrying(site, signal, () =>
        this.client.send(new CreateBucketCommand({ Bucket: this.bucket, CreateBucketConfiguration: constraint }), {
          abortSignal: signal,
        }),
      );
    } catch (e) {
      const f = wireFailure(e);
      if (f.code === 'BucketAlreadyOwnedByYou' || f.code === 'BucketAlreadyExists') {
        return;
      }
      throw toStoreError(e, { ...site, op: 'createBucket' }, f, { signal });
    }
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('put', key, opts);
    try {
      if (value.byteLength > this.capabilities.maxValueBytes) {
        throw new StoreError({
          ...site,
          kind: 'Unexpected',
          retryable: false,
          detail: `value of ${value.byteLength} bytes exceeds this store's maxValueBytes (${this.capabilities.maxValueBytes})`,
        });
      }
      await this.retrying(site, signal, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: value,
            ContentLength: value.byteLength,
            ContentType: 'application/octet-stream',
          }),
          { abortSignal: signal },
        ),
      );
    } catch (e) {
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const { site, signal, release } = await this.gate.enter('get', key, opts);
    try {
      // the body is read inside the retried attempt: a download cut mid-way is tried again
      return await this.retrying(site, signal, async () => {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
        return res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
      });
    } catch (e) {
      const f = wireFailure(e);
      if (!signal.aborted && (f.code === 'NoSuchKey' || (f.status === 404 && f.code !== 'NoSuchBucket'))) return null;
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const { site, signal, release } = await this.gate.enter('list', prefix, opts);
    const keys = new Set<string>();
    let token: string | undefined;
    try {
      do {
        throwIfAborted(signal, site);
        // URL-encoded: XML 1.0 cannot carry every character a key may hold (U+0001 makes Swift
        // answer HTTP 500). Servers that ignore the request (fauxqs) send raw keys and no EncodingType.
        const res = await this.retrying(site, signal, () =>
          this.client.send(
            new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, EncodingType: 'url' }),
            { abortSignal: signal },
          ),
        );
        const encoded = res.EncodingType === 'url';
        for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.add(encoded ? decodeKey(o.Key, site) : o.Key);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
        if (res.IsTruncated && !token) {
          throw new StoreError({ ...site, kind: 'Unexpected', detail: 'the server said the listing is truncated but sent no continuation token' });
        }
      } while (token);
    } catch (e) {
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
    // S3 orders by UTF-8 bytes; the contract orders by UTF-16 code units.
    return sortKeys([...keys]);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('remove', key, opts);
    try {
      await this.retrying(site, signal, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }));
    } catch (e) {
      const f = wireFailure(e);
      if (!signal.aborted && (f.code === 'NoSuchKey' || (f.status === 404 && f.code !== 'NoSuchBucket'))) return;
      throw this.fail(e, site, signal);
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
      this.client.destroy();
      this.closing = this.agents.destroy();
    }
    return this.closing;
  }
}

function decodeKey(encoded: string, site: CallSite): string {
  try {
    return decodeListedKey(encoded);
  } catch (e) {
    throw new StoreError({
      ...site,
      kind: 'Unexpected',
      retryable: false,
      detail: `the server sent a listed key that is not valid URL encoding: ${JSON.stringify(encoded)}`,
      cause: e,
    });
  }
}

/** Creates a Store over an S3 (or S3-compatible) bucket. */
export function createS3Store(opts: S3StoreOptions): S3Store {
  return new S3Store(opts);
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (['1', 'true', 'yes'].includes(v)) return true;
  if (['0', 'false', 'no'].includes(v)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

/**
 * S3 options from environment variables: `RKVS_S3_BUCKET` (required), `RKVS_S3_ENDPOINT`,
 * `RKVS_S3_FORCE_PATH_STYLE`, `RKVS_CREATE_BUCKETS`. Region and credentials come from the usual
 * AWS variables, read by the SDK.
 */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): S3StoreOptions {
  const bucket = env.RKVS_S3_BUCKET?.trim();
  if (!bucket) throw new ConfigError('RKVS_S3_BUCKET', 'not set; set it to the bucket robust-kvs may use (see .env.example)');
  const opts: S3StoreOptions = { bucket };
  const endpoint = env.RKVS_S3_ENDPOINT?.trim();
  checkEndpoints('s3', { RKVS_S3_ENDPOINT: endpoint });
  if (endpoint) opts.endpoint = endpoint;
  const pathStyle = flag(env, 'RKVS_S3_FORCE_PATH_STYLE');
  if (pathStyle !== undefined) opts.forcePathStyle = pathStyle;
  const create = flag(env, 'RKVS_CREATE_BUCKETS');
  if (create !== undefined) opts.createBucketIfMissing = create;
  return opts;
}
