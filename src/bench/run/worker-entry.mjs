// Entry of a `rkvs bench --workers N` worker process. Copied next to the compiled worker.js by
// scripts/build.mjs, it runs that; in src/ (the parent runs the sources) it loads the TypeScript
// sources through tsx, like bin/rkvs.js.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./worker.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
