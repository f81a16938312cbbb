/** The bounded numeric flag parsers live in src/util/flags.ts, where the harness can use them too. */
export * from '../util/flags.js';
