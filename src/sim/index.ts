/** Deterministic simulation of the robust register over simulated key-value stores. */
export { Scheduler, drainMicrotasks, type SimEvent } from './scheduler.js';
export { SimNetwork, SimPort, SimReplica, keyKind, type CallInfo, type CallDelays, type CrashMode, type KeyKind, type NetworkHooks, type SimClientState } from './network.js';
export { STRATEGIES, STRATEGY_NAMES, pickStrategy, type Strategy, type StrategyContext, type StrategyFactory } from './strategies.js';
export { MUTANTS, findMutant, type Mutant } from './mutants.js';
export { runSimulation, replayCommand, describeRun, type SimOptions, type SimResult, type ResolvedConfig, type SpaceReport } from './simulation.js';
export { SCENARIOS, SCENARIO_NAMES, type Scenario, type ScriptedOp } from './scenarios.js';
