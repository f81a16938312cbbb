/**
 * Access to the register (src/register) for simulations. The register module is loaded at run
 * time, so the simulation engine depends only on the agreed API written here.
 */
import type { Timestamp, Variant, Schedule, ReadResult } from '../register/index.js';
import type { CallOptions, Store } from '../store.js';

export type { Timestamp, Variant, Schedule, ReadResult } from '../register/index.js';

/** The part of `RobustStore` the simulations use. */
export interface SimRegisterClient {
  readonly n: number;
  readonly t: number;
  readonly q: number;
  readonly clientId: string;
  write(register: string, value: Uint8Array, opts?: CallOptions): Promise<{ ts: Timestamp }>;
  read(register: string, opts?: CallOptions): Promise<ReadResult>;
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface SimRegisterOptions {
  replicas: Store[];
  variant: Variant;
  schedule: Schedule;
  faults: number;
  clientId: string;
  gc?: 'background' | 'sync';
}

export type RegisterFactory = (opts: SimRegisterOptions) => SimRegisterClient;

let cached: RegisterFactory | undefined;

/** Loads `createRobustStore` from src/register; a clear error when it is not there. */
export async function loadRegister(): Promise<RegisterFactory> {
  if (cached) return cached;
  const specifier = '../register/index.js';
  let mod: { createRobustStore?: (o: SimRegisterOptions) => SimRegisterClient };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    throw new Error(`the register module (src/register/index.ts) could not be loaded: ${(e as Error).message}`);
  }
  if (typeof mod.createRobustStore !== 'function') throw new Error('src/register/index.ts does not export createRobustStore');
  const create = mod.createRobustStore;
  cached = (o) => create(o);
  return cached;
}
