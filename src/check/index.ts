/** Consistency checkers for recorded register histories (simulation, emulators, real clouds). */
export * from './history.js';
export { searchRegister } from './linearizability.js';
export {
  CHECK_METHODS,
  checkHistory,
  checkLinearizable,
  checkRegister,
  checkRegular,
  combineVerdicts,
  type CheckMethod,
  type CheckOptions,
  type RegisterVerdict,
} from './register-check.js';
export { minimizeWitness, removalClosure } from './minimize.js';
export { CheckPool, checkHistoryParallel, type ParallelOptions } from './parallel.js';
export { generateHistory, type GenerateOptions } from './generate.js';
export { renderCheckPage, renderTimeline, type HtmlEntry } from './html.js';
