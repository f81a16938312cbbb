#!/usr/bin/env node
// The rkvs command. Runs the JavaScript compiled into dist/ (`npm ci` builds it through the package's
// `prepare` script; `npm run build` rebuilds it). When the sources changed since that build (a
// checkout being edited, or switched to another commit), it runs the TypeScript sources through tsx
// instead: a slower start, but never stale code. RKVS_FROM_SOURCES=1 forces the sources.
import { fileURLToPath } from 'node:url';
import { buildState } from './build-state.js';

// The AWS SDK prints a multi-line notice about its future Node.js requirement on every run; robust-kvs
// supports Node >= 20 and says so in its README. Set the variable to "false" to see the notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = fileURLToPath(new URL('..', import.meta.url));
const fromSources = process.env.RKVS_FROM_SOURCES === '1';
const build = fromSources ? { state: 'forced', reason: 'RKVS_FROM_SOURCES=1' } : buildState(root);

async function loadCli() {
  if (build.state === 'current' || build.state === 'no-sources') return import('../dist/src/cli.js');
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    if (build.state === 'stale') {
      process.stderr.write(`rkvs: warning: ${build.reason}; tsx is not installed, so running the older build\n`);
      return import('../dist/src/cli.js');
    }
    process.stderr.write(`rkvs: cannot start: ${build.reason}, and tsx (to run the sources) is not installed; run npm ci\n`);
    process.exit(1);
  }
  if (!fromSources && process.stderr.isTTY) process.stderr.write(`rkvs: running the TypeScript sources: ${build.reason}\n`);
  tsx.register();
  return import('../src/cli.ts');
}

const { main } = await loadCli();
process.exitCode = await main(process.argv);
