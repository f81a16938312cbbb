/** The harness's links to the register and to the provider configurations. */
import { createRobustStore as create } from '../../register/index.js';
import type { RobustStore, RobustStoreOptions } from '../../register/types.js';

export type BenchRegisterStore = RobustStore;
export type BenchRegisterOptions = RobustStoreOptions;
export type CreateRobustStore = (opts: RobustStoreOptions) => RobustStore;

/** The register factory (kept behind a function so tests and builds without it can stub it). */
export async function loadRegister(): Promise<CreateRobustStore | null> {
  return create;
}
