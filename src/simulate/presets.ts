/**
 * Replica line-ups used by the scenarios: heterogeneous providers/regions, cycled to reach n.
 */
import { providerModel, type LatencyModel } from './models.js';

/** The order in which scenarios add providers/regions to a cluster. */
export const PROVIDER_ORDER = [
  'azure-blob-westeurope',
  'aws-s3-us-east-1',
  'gcs-us-central1',
  'azure-blob-eastus',
  'aws-s3-eu-west-1',
  'gcs-europe-west1',
  'cross-region',
] as const;

/** n heterogeneous replica models (provider presets in PROVIDER_ORDER, cycled), with their names. */
export function heterogeneousCluster(n: number): { names: string[]; models: LatencyModel[] } {
  const names: string[] = [];
  const models: LatencyModel[] = [];
  for (let i = 0; i < n; i++) {
    const p = PROVIDER_ORDER[i % PROVIDER_ORDER.length];
    names.push(i < PROVIDER_ORDER.length ? p : `${p}#${Math.floor(i / PROVIDER_ORDER.length) + 1}`);
    models.push(providerModel(p));
  }
  return { names, models };
}

