/**
 * The robust register of SPEC.md over n key-value stores, and the RobustStore built on it.
 */
export type { Timestamp } from './timestamp.js';
export { compareTs, compareTsOrNull, formatTs, randomClientId, NUM_WIDTH, MAX_CLIENT_ID_LENGTH } from './timestamp.js';
export type {
  Variant,
  Schedule,
  GcMode,
  RegisterPolicy,
  RobustStoreOptions,
  WriteResult,
  ReadResult,
  RobustStore,
} from './types.js';
export { DEFAULT_POLICY } from './policy.js';
export {
  escapeName,
  unescapeName,
  encodeRegister,
  decodeRegister,
  tempKey,
  eternalKey,
  tempPrefix,
  parseKey,
  encodeEternal,
  decodeEternal,
  type ParsedKey,
  type TempEntry,
  type EternalRecord,
} from './keys.js';
export { createRobustStore } from './robust-store.js';
