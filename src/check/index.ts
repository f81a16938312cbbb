/** Consistency checkers for recorded register histories (simulation, emulators, real clouds). */
export * from './history.js';
export { checkLinearizable, searchRegister, type CheckOptions } from './linearizability.js';
export { checkRegular } from './regularity.js';
import type { CheckModel, Operation, Verdict } from './history.js';
import { checkLinearizable, type CheckOptions } from './linearizability.js';
import { checkRegular } from './regularity.js';

/** Checks a history against a model. */
export function checkHistory(history: readonly Operation[], model: CheckModel, opts: CheckOptions = {}): Verdict {
  return model === 'linearizable' ? checkLinearizable(history, opts) : checkRegular(history);
}
