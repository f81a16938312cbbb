// Is dist/ a build of the sources as they are now? Shared by bin/rkvs.js (which runs dist/ only when
// it is) and scripts/build.mjs (which records the state of the sources it compiled). Plain
// JavaScript with no dependencies: it runs before anything else at every start of the CLI.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Inputs of the build: what tsconfig.build.json compiles and scripts/build.mjs copies. */
export const SOURCE_DIRS = ['src', 'benchmarks'];
/** Files of these directories (and below) that are not compiled, so not looked at. */
const IGNORED_DIRS = new Set(['configs']);
const SOURCE_FILE = /\.(ts|mts|js|mjs)$/;
/** Written last by scripts/build.mjs. */
export const STAMP = join('dist', '.build-state.json');

/**
 * The newest modification time (ms) of the build's inputs: every source file and every directory
 * (a directory's time changes when a file in it is added, removed or renamed). 0 when there are none.
 */
export function newestSourceMtime(root) {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      newest = Math.max(newest, statSync(dir).mtimeMs);
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!IGNORED_DIRS.has(e.name)) visit(p);
      } else if (SOURCE_FILE.test(e.name)) {
        try {
          newest = Math.max(newest, statSync(p).mtimeMs);
        } catch {
          // removed while we looked: the directory's time covers it
        }
      }
    }
  };
  for (const d of SOURCE_DIRS) visit(join(root, d));
  return newest;
}

/**
 * `current`: dist/ was built from the sources as they are; `stale`: a source changed since the build
 * started; `missing`: no complete build; `no-sources`: an installed package without its sources.
 */
export function buildState(root) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, STAMP), 'utf8'));
  } catch {
    return { state: 'missing', reason: `no ${STAMP} (run npm run build)` };
  }
  const newest = newestSourceMtime(root);
  if (newest === 0) return { state: 'no-sources', reason: 'no sources next to dist/' };
  if (typeof stamp.sourcesMtimeMs !== 'number') return { state: 'missing', reason: `${STAMP} is not readable (run npm run build)` };
  if (newest > stamp.sourcesMtimeMs) return { state: 'stale', reason: 'sources changed since the last build (run npm run build)' };
  return { state: 'current', reason: `built ${stamp.builtAt}` };
}
