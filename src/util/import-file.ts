/**
 * Imports a module file the user names (a suite, a simulation scenario). JavaScript is imported as it
 * is. TypeScript is imported as it is when the sources run through tsx (development), and through
 * tsx's `tsImport` when the compiled CLI runs: tsx is loaded only then, and a clear error says what
 * to do when it is not installed.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';

export async function importFile(file: string, what: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (!/\.[cm]?ts$/.test(file)) return (await import(url)) as Record<string, unknown>;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
  }
  let tsx: typeof import('tsx/esm/api');
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    throw new ConfigError(what, `${file} is TypeScript, and loading it needs tsx (npm install --save-dev tsx); or write it as a .js/.mjs module`);
  }
  const mod = (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
  // Outside an ESM package ("type": "module") a .ts file is compiled as CommonJS, and its exports
  // arrive as the namespace's `default`.
  const inner = mod.default as Record<string, unknown> | undefined;
  return inner && typeof inner === 'object' && inner.__esModule === true ? inner : mod;
}
