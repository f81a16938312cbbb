/**
 * Store adapter for Azure Blob Storage and Azurite, on `@azure/storage-blob`.
 */
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type ContainerClient,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { ConfigError, StoreError } from '../errors.js';
import { guardStoreCalls } from '../store-args.js';
import { sortKeys, type CallOptions, type Store, type StoreCapabilities } from '../store.js';
import { throwIfAborted, type CallSite } from '../util/abort.js';
import { registerSecret } from '../util/redact.js';
import { BoundedAgents, resolveSocketTimeouts, type SocketTimeouts } from '../net/bounded-agent.js';
import { BucketGate } from './bucket-gate.js';
import { checkEndpoints, connectionStringEndpoint } from './endpoint.js';
import { findNodeErrorCode, missingBucketError, toStoreError, type WireFailure } from './errors-map.js';

export interface AzureBlobStoreOptions {
  /** Container holding the keys (3-63 lowercase letters, digits and dashes). */
  container: string;
  /**
   * A storage connection string (Azure portal: Access keys; Azurite: the well-known dev account).
   * @default `AZURE_STORAGE_CONNECTION_STRING` when neither account nor connection string is given
   */
  connectionString?: string;
  /** Account name, used with `accountKey` or `sasToken`. @default `AZURE_STORAGE_ACCOUNT` */
  accountName?: string;
  /** Shared key of the account. @default `AZURE_STORAGE_KEY` */
  accountKey?: string;
  /** A SAS token (with or without the leading `?`). @default `AZURE_STORAGE_SAS_TOKEN` */
  sasToken?: string;
  /** Blob service URL. @default `https://<accountName>.blob.core.windows.net` */
  endpoint?: string;
  /** Create the container on first use when it does not exist. @default false */
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
  /** Name shown in errors and layer stacks. @default `azure:<container>` */
  name?: string;
}

/** Largest value written with a single Put Blob by `uploadData` before it switches to blocks. */
const AZURE_MAX_BLOB_BYTES = 190.7 * 1024 ** 4; // 50,000 blocks of 4000 MiB

interface AzureLikeError {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  details?: { errorCode?: string };
}

function wireFailure(e: unknown): WireFailure {
  const err = (e ?? {}) as AzureLikeError;
  const nodeCode = findNodeErrorCode(e);
  let code = nodeCode ?? err.details?.errorCode ?? err.code;
  let message = (err.message ?? '').split('\n')[0];
  // The SDK's download stream reports a body that broke off (connection cut, idle limit) as an
  // AbortError, or as "Data corruption failure" once out of retries, without the cause. (A call
  // whose own signal fired never gets here: the abort is reported first.) It is a network failure,
  // worth trying again.
  if (!code && (err.name === 'AbortError' || /^Data corruption failure: received less data than required/i.test(message ?? ''))) {
    code = 'ECONNRESET';
    message = `the answer broke off before its end (connection cut, or no data for idleTimeoutMs): ${message}`;
  }
  return { status: err.statusCode, code, message };
}

/**
 * Blob name of a key. The SDK builds request URLs with the WHATWG URL parser, which removes `.` and
 * `..` path segments (`a/../b` would silently become `b`), and Azure turns `\` into `/`. So such
 * segments are stored as `%2E` per dot, `\` as `%5C` and `%` itself as `%25`; every other key is
 * stored unchanged. Reversed by {@link keyOfBlobName}.
 */
export function blobNameOfKey(key: string): string {
  if (!key.includes('%') && !key.includes('\\') && !/(^|\/)\.{1,2}(\/|$)/.test(key)) return key;
  return key
    .split('/')
    .map((seg) =>
      seg === '.' || seg === '..' ? seg.replace(/\./g, '%2E') : seg.replace(/%/g, '%25').replace(/\\/g, '%5C'),
    )
    .join('/');
}

/** The key stored under a blob name written by {@link blobNameOfKey}. */
export function keyOfBlobName(name: string): string {
  if (!name.includes('%')) return name;
  return name.replace(/%(25|2E|5C)/g, (_m, hex: string) => (hex === '25' ? '%' : hex === '2E' ? '.' : '\\'));
}

function env(name: string): string | undefined {
  const v = process.env[name];
  return v && v.trim() ? v.trim() : undefined;
}

/** A Store over one Azure Blob container. */
export class AzureBlobStore implements Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly container: string;
  readonly containerClient: ContainerClient;
  private readonly createIfMissing: boolean;
  private readonly gate: BucketGate;
  private readonly agents: BoundedAgents;
  private closing: Promise<void> = Promise.resolve();
  private readonly maxAttempts: number;
  /** The connect, first-byte and idle limits every request of this store runs under. */
  readonly timeouts: SocketTimeouts;

  constructor(opts: AzureBlobStoreOptions) {
    if (!opts || typeof opts.container !== 'string' || opts.container.length === 0) {
      throw new ConfigError('azure.container', 'a container name is required, e.g. createAzureBlobStore({ container: "robust-kvs" })');
    }
    if (!/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/.test(opts.container)) {
      throw new ConfigError(
        'azure.container',
        `"${opts.container}" is not a valid container name: use 3-63 lowercase letters, digits and single dashes, starting and ending with a letter or digit`,
      );
    }
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new ConfigError('azure.maxAttempts', `must be an integer >= 1, got ${String(opts.maxAttempts)}`);
    }
    this.timeouts = resolveSocketTimeouts('azure', opts);
    this.maxAttempts = maxAttempts;
    this.container = opts.container;
    this.name = opts.name ?? `azure:${opts.container}`;
    this.gate = new BucketGate(this.name, this.container, (signal) => this.checkContainer(signal));
    guardStoreCalls(this);
    this.createIfMissing = opts.createBucketIfMissing ?? false;
    this.agents = new BoundedAgents(this.timeouts);
    const agents = this.agents;
    const pipeline: StoragePipelineOptions = {
      retryOptions: {
        // No tryTimeoutInMs: the SDK only sends it to the service as a server-side `timeout`
        // parameter, it bounds nothing on the client. Our agent's limits do.
        maxTries: maxAttempts,
        retryDelayInMs: 200,
        maxRetryDelayInMs: 2_000,
      },
    };
    // The SDK's HTTP pipeline takes an `agent` (core-rest-pipeline's `PipelineOptions.agent`, passed
    // through by the storage client although its option type does not list it): every request of
    // the store then goes through our bounded agent for the endpoint's protocol, which the client
    // built without it tells.
    const protocolOf = buildServiceClient(opts, pipeline).url;
    const service = buildServiceClient(opts, { ...pipeline, agent: agents.for(protocolOf) } as StoragePipelineOptions);
    this.containerClient = service.getContainerClient(opts.container);
    this.capabilities = Object.freeze({
      sortedList: true,
      linearizable: true,
      persistent: true,
      maxKeyBytes: 1024,
      maxValueBytes: AZURE_MAX_BLOB_BYTES,
    });
  }

  private missing(site: CallSite, cause?: unknown): StoreError {
    return missingBucketError(
      site,
      'container',
      this.container,
      `az storage container create --name ${this.container} --account-name <account>`,
      cause,
    );
  }

  private fail(e: unknown, site: CallSite, signal?: AbortSignal): StoreError {
    const f = wireFailure(e);
    if (f.code === 'ContainerNotFound') {
      this.gate.forget();
      if (!signal?.aborted) return this.missing(site, e);
    }
    return toStoreError(e, site, f, { signal });
  }

  /**
   * Checks that the container exists (creating it when `createBucketIfMissing`), once per store.
   * Called by the first operation; call it yourself to fail fast at start-up.
   */
  ensureBucket(opts?: CallOptions): Promise<void> {
    return this.gate.ensure(opts?.signal);
  }

  private async checkContainer(signal: AbortSignal): Promise<void> {
    const site: CallSite = { store: this.name, op: 'ensureBucket', key: this.container };
    try {
      if (this.createIfMissing) {
        await this.containerClient.createIfNotExists({ abortSignal: signal });
      } else {
        await this.containerClient.getProperties({ abortSignal: signal });
      }
    } catch (e) {
      const f = wireFailure(e);
      if (!signal.aborted && (f.status === 404 || f.code === 'ContainerNotFound')) throw this.missing(site, e);
      throw toStoreError(e, site, f, { signal });
    }
  }

  async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('put', key, opts);
    try {
      const blob = this.containerClient.getBlockBlobClient(blobNameOfKey(key));
      await blob.uploadData(Buffer.from(value.buffer, value.byteOffset, value.byteLength), {
        abortSignal: signal,
        blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
      });
    } catch (e) {
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
  }

  async get(key: string, opts?: CallOptions): Promise<Uint8Array | null> {
    const { site, signal, release } = await this.gate.enter('get', key, opts);
    try {
      const res = await this.containerClient.getBlobClient(blobNameOfKey(key)).download(0, undefined, {
        abortSignal: signal,
        // the SDK re-requests the rest when a body breaks off: as many times as a call has retries
        maxRetryRequests: this.maxAttempts - 1,
      });
      const body = res.readableStreamBody;
      if (!body) return new Uint8Array(0);
      return await readAll(body, res.contentLength, signal, site);
    } catch (e) {
      const f = wireFailure(e);
      if (!signal.aborted && f.status === 404 && f.code !== 'ContainerNotFound') return null;
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
  }

  async list(prefix: string, opts?: CallOptions): Promise<string[]> {
    const { site, signal, release } = await this.gate.enter('list', prefix, opts);
    const keys = new Set<string>();
    try {
      // The last, partial segment of the prefix may encode differently from the keys it starts:
      // list from the encoded complete segments and filter on the decoded keys.
      const cut = prefix.lastIndexOf('/') + 1;
      const head = blobNameOfKey(prefix.slice(0, cut));
      const tail = prefix.slice(cut);
      const serverPrefix = tail.includes('%') || tail.includes('\\') || tail === '.' || tail === '..' ? head : head + tail;
      const pages = this.containerClient
        .listBlobsFlat({ prefix: serverPrefix || undefined, abortSignal: signal })
        .byPage({ maxPageSize: 5000 });
      for await (const page of pages) {
        throwIfAborted(signal, site);
        for (const item of page.segment.blobItems) {
          const key = keyOfBlobName(item.name);
          if (key.startsWith(prefix)) keys.add(key);
        }
      }
    } catch (e) {
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
    return sortKeys([...keys]);
  }

  async remove(key: string, opts?: CallOptions): Promise<void> {
    const { site, signal, release } = await this.gate.enter('remove', key, opts);
    try {
      await this.containerClient.getBlobClient(blobNameOfKey(key)).delete({ abortSignal: signal });
    } catch (e) {
      const f = wireFailure(e);
      if (!signal.aborted && f.status === 404 && f.code !== 'ContainerNotFound') return;
      throw this.fail(e, site, signal);
    } finally {
      release();
    }
  }

  /**
   * Aborts every call in flight (the container check included) and closes every socket at once;
   * later calls fail with `Unavailable`. When it resolves, every socket of this store has closed:
   * nothing of it keeps the process alive.
   */
  close(): Promise<void> {
    if (this.gate.close()) {
      this.closing = this.agents.destroy();
    }
    return this.closing;
  }
}

function buildServiceClient(opts: AzureBlobStoreOptions, pipeline: StoragePipelineOptions): BlobServiceClient {
  registerSecret(opts.connectionString, opts.accountKey, opts.sasToken);
  const accountName = opts.accountName ?? (opts.connectionString ? undefined : env('AZURE_STORAGE_ACCOUNT'));
  const connectionString = opts.connectionString ?? (accountName ? undefined : env('AZURE_STORAGE_CONNECTION_STRING'));
  if (connectionString) {
    checkEndpoints('azure', { [opts.connectionString ? 'azure.connectionString' : 'AZURE_STORAGE_CONNECTION_STRING']: connectionStringEndpoint(connectionString) });
    try {
      return BlobServiceClient.fromConnectionString(connectionString, pipeline);
    } catch (e) {
      throw new ConfigError(
        'azure.connectionString',
        `cannot parse the connection string (${(e as Error).message}); copy it from the portal's "Access keys" page`,
        { cause: e },
      );
    }
  }
  if (!accountName) {
    throw new ConfigError(
      'azure',
      'no credentials: pass connectionString, or accountName with accountKey or sasToken ' +
        '(or set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN)',
    );
  }
  const endpoint = (opts.endpoint ?? env('AZURE_STORAGE_BLOB_ENDPOINT') ?? `https://${accountName}.blob.core.windows.net`).replace(/\/+$/, '');
  checkEndpoints('azure', { 'azure.endpoint': opts.endpoint, AZURE_STORAGE_BLOB_ENDPOINT: env('AZURE_STORAGE_BLOB_ENDPOINT'), 'azure.accountName': endpoint });
  const accountKey = opts.accountKey ?? env('AZURE_STORAGE_KEY');
  if (accountKey) {
    return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(accountName, accountKey), pipeline);
  }
  const sas = opts.sasToken ?? env('AZURE_STORAGE_SAS_TOKEN');
  if (sas) {
    return new BlobServiceClient(`${endpoint}?${sas.replace(/^\?/, '')}`, new AnonymousCredential(), pipeline);
  }
  throw new ConfigError(
    'azure.accountKey',
    `account "${accountName}" needs accountKey or sasToken (or AZURE_STORAGE_KEY / AZURE_STORAGE_SAS_TOKEN)`,
  );
}

/** Reads a response body into one buffer (preallocated when the length is known); honours the signal. */
async function readAll(
  body: NodeJS.ReadableStream,
  length: number | undefined,
  signal: AbortSignal | undefined,
  site: CallSite,
): Promise<Uint8Array> {
  const stream = body as NodeJS.ReadableStream & { destroy?: (e?: Error) => void };
  const onAbort = () => stream.destroy?.(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (length !== undefined) {
      const out = new Uint8Array(length);
      let off = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (off + chunk.byteLength > length) {
          throw new StoreError({ ...site, kind: 'IntegrityError', detail: `response body longer than its Content-Length ${length}` });
        }
        out.set(chunk, off);
        off += chunk.byteLength;
      }
      if (off !== length) {
        throw new StoreError({ ...site, kind: 'Unavailable', detail: `response body ended after ${off} of ${length} bytes` });
      }
      return out;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return new Uint8Array(Buffer.concat(chunks));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Creates a Store over an Azure Blob container (Azure or Azurite). */
export function createAzureBlobStore(opts: AzureBlobStoreOptions): AzureBlobStore {
  return new AzureBlobStore(opts);
}

/**
 * Azure options from environment variables: `RKVS_AZURE_CONTAINER` (required), `RKVS_CREATE_BUCKETS`.
 * Credentials (`AZURE_STORAGE_CONNECTION_STRING`, or `AZURE_STORAGE_ACCOUNT` with `AZURE_STORAGE_KEY`
 * or `AZURE_STORAGE_SAS_TOKEN`, and `AZURE_STORAGE_BLOB_ENDPOINT`) are read by the adapter itself.
 */
export function azureBlobOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AzureBlobStoreOptions {
  const container = env.RKVS_AZURE_CONTAINER?.trim();
  if (!container) {
    throw new ConfigError('RKVS_AZURE_CONTAINER', 'not set; set it to the container robust-kvs may use (see .env.example)');
  }
  const create = env.RKVS_CREATE_BUCKETS?.trim().toLowerCase();
  return { container, createBucketIfMissing: create === '1' || create === 'true' || create === 'yes' };
}
