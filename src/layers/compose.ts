import type { Layer, Store } from '../store.js';

/**
 * Stacks layers on a base store, innermost first:
 * `compose(memory, faults(...), latency(...))` is `latency(faults(memory))`.
 */
export function compose(base: Store, ...layers: Layer[]): Store {
  return layers.reduce<Store>((store, layer) => layer(store), base);
}
