/**
 * TEST ONLY: regressions the regression gate's own tests and its gate-power benchmark inject, to
 * show that the gate catches them (docs/compare-and-report.md, "Gate power"). Nothing here is ever
 * on in a real run: the environment variable is unset and `COMMITTED_INJECTIONS` is empty.
 *
 * Two ways to turn them on, both read once when a register or a latency layer is built, so the
 * normal path pays nothing per call:
 * - the environment: `RKVS_TEST_INJECT=extra-request,extra-round,latency+25%`;
 * - a commit: the gate's A/B tests commit a change of `COMMITTED_INJECTIONS` below, in a throwaway
 *   clone, to play a regressing commit that `rkvs ab` must catch.
 *
 * Injections (comma-separated, combinable):
 * - `extra-request`: every register operation sends one more request (a get) to every replica;
 * - `extra-round`: every register operation waits for one more round (a list at a quorum);
 * - `latency+N%`: the latency layer stretches every delay it draws by N percent.
 */
import { ConfigError } from '../errors.js';

/** Injections compiled in. Always '' on a real branch (a test asserts it). */
export const COMMITTED_INJECTIONS = '';

/** The environment variable that turns injections on (test-only). */
export const TEST_INJECT_ENV = 'RKVS_TEST_INJECT';

export interface TestInjections {
  extraRequest: boolean;
  extraRound: boolean;
  /** Factor the latency layer applies to every delay it draws (1: none). */
  latencyFactor: number;
}

export const NO_INJECTIONS: Readonly<TestInjections> = Object.freeze({ extraRequest: false, extraRound: false, latencyFactor: 1 });

/** Parses an injection list such as `extra-round,latency+25%`; `where` names the source in errors. */
export function parseInjections(text: string, where: string): TestInjections {
  const out: TestInjections = { ...NO_INJECTIONS };
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (!t) continue;
    const lat = /^latency\+(\d+(?:\.\d+)?)%$/.exec(t);
    if (t === 'extra-request') out.extraRequest = true;
    else if (t === 'extra-round') out.extraRound = true;
    else if (lat) out.latencyFactor *= 1 + Number(lat[1]) / 100;
    else throw new ConfigError(where, `unknown test injection ${JSON.stringify(t)}; use extra-request, extra-round or latency+N% (test-only; unset it for real runs)`);
  }
  return out;
}

let cache: { key: string; value: TestInjections } | undefined;

/** The injections in force: the committed ones and those of RKVS_TEST_INJECT, combined. */
export function testInjections(env: NodeJS.ProcessEnv = process.env): TestInjections {
  const fromEnv = env[TEST_INJECT_ENV] ?? '';
  if (!fromEnv && !COMMITTED_INJECTIONS) return NO_INJECTIONS;
  const key = `${COMMITTED_INJECTIONS}\u0000${fromEnv}`;
  if (cache?.key === key) return cache.value;
  const committed = parseInjections(COMMITTED_INJECTIONS, 'src/util/test-inject.ts COMMITTED_INJECTIONS');
  const given = parseInjections(fromEnv, TEST_INJECT_ENV);
  const value = {
    extraRequest: committed.extraRequest || given.extraRequest,
    extraRound: committed.extraRound || given.extraRound,
    latencyFactor: committed.latencyFactor * given.latencyFactor,
  };
  cache = { key, value };
  return value;
}

/** A one-line description of the injections in force, or '' when there are none (for meta.json notes). */
export function describeInjections(env: NodeJS.ProcessEnv = process.env): string {
  const i = testInjections(env);
  const parts: string[] = [];
  if (i.extraRequest) parts.push('extra-request');
  if (i.extraRound) parts.push('extra-round');
  if (i.latencyFactor !== 1) parts.push(`latency x${Number(i.latencyFactor.toFixed(4))}`);
  return parts.join(', ');
}
