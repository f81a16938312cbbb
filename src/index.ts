/**
 * robust-kvs: the Store contract, adapters for memory, files, S3, Azure Blob and GCS, composable
 * layers, and the robust register (regular and atomic) as a Store of its own.
 *
 * The benchmark harness, the consistency checkers, the simulators and the emulators are available as
 * `robust-kvs/bench`, `robust-kvs/check`, `robust-kvs/sim`, `robust-kvs/simulate`,
 * `robust-kvs/emulators` and `robust-kvs/fault-proxy`.
 */

// The contract and its errors
export { STORE_OPS, DEFAULT_CAPABILITIES, sortKeys, utf8, fromUtf8, type Store, type Layer, type CallOptions, type StoreCapabilities } from './store.js';
export { guardStoreCalls, checkPutArgs, checkKeyArgs, checkListArgs, describeReceived, type StoreArgument } from './store-args.js';
export { redact, registerSecret, REDACTED } from './util/redact.js';
export {
  ERROR_KINDS,
  StoreError,
  QuorumError,
  ConfigError,
  describeCause,
  isStoreError,
  type ErrorKind,
  type StoreOp,
  type StoreErrorInit,
  type ReplicaFailure,
} from './errors.js';

// Adapters
export { createMemoryStore, MemoryStore, type MemoryStoreOptions } from './adapters/memory.js';
export { createFsStore, FsStore, type FsStoreOptions } from './adapters/fs.js';
export { createS3Store, s3OptionsFromEnv, S3Store, type S3StoreOptions } from './adapters/s3.js';
export { createAzureBlobStore, azureBlobOptionsFromEnv, AzureBlobStore, type AzureBlobStoreOptions } from './adapters/azure-blob.js';
export { createGcsStore, gcsOptionsFromEnv, GcsStore, type GcsStoreOptions } from './adapters/gcs.js';

// Bounds on every network call of the cloud adapters (the fault proxy is `robust-kvs/fault-proxy`)
export {
  DEFAULT_SOCKET_TIMEOUTS,
  SOCKET_TIMEOUT_ENV,
  CLOSED_PROCESS_EXIT_BOUND_MS,
  SocketTimeoutError,
  type SocketTimeouts,
  type SocketTimeoutPhase,
} from './net/bounded-agent.js';

// Layers
export { compose } from './layers/compose.js';
export { ForwardingStore } from './layers/forwarding.js';
export { latency, LatencyStore, createDelaySampler, type LatencyOptions, type DelayDistribution, type DelaySampler } from './layers/latency.js';
export { faults, FaultyStore, type FaultsOptions, type FaultController, type FaultStats, type CrashMode } from './layers/faults.js';
export { metrics, findLayer, MetricsStore, type MetricsSnapshot, type OpCounters } from './layers/metrics.js';
export { integrity, IntegrityStore, INTEGRITY_OVERHEAD } from './layers/integrity.js';
export { encryption, parseEncryptionKey, EncryptionStore, ENCRYPTION_OVERHEAD, type EncryptionOptions } from './layers/encryption.js';
export { retry, RetryStore, type RetryOptions, type RetryInfo } from './layers/retry.js';
export { prefixed, PrefixStore } from './layers/prefix.js';

// The robust register
export {
  createRobustStore,
  DEFAULT_POLICY,
  compareTs,
  formatTs,
  randomClientId,
  type RobustStore,
  type RobustStoreOptions,
  type Variant,
  type Schedule,
  type GcMode,
  type RegisterPolicy,
  type ReadResult,
  type WriteResult,
  type Timestamp,
} from './register/index.js';
