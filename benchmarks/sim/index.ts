/**
 * The simulation scenarios `rkvs simulate NAME` knows; one file per scenario in this folder.
 */
import type { Scenario } from '../../src/simulate/scenario.js';
import latencyVsN from './latency-vs-n.js';
import manyClients from './many-clients.js';
import schedulesAndVariants from './schedules-and-variants.js';
import spaceVsContention from './space-vs-contention.js';
import stragglersAndCrashes from './stragglers-and-crashes.js';

export const SCENARIOS: readonly Scenario[] = [spaceVsContention, latencyVsN, stragglersAndCrashes, schedulesAndVariants, manyClients];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
