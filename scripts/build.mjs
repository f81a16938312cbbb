// `npm run build`, and `npm ci` through the `prepare` script: compiles src/ and benchmarks/ into dist/
// (JavaScript, typings, source maps), copies the plain-JavaScript entry points (src/**/*.mjs: the
// emulator runner, the bench worker entry) next to the compiled modules, and records the state of
// the sources it compiled in dist/.build-state.json, which bin/rkvs.js compares with the sources at
// every start (see bin/build-state.js).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSourceMtime, STAMP } from '../bin/build-state.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  process.stderr.write('build: typescript is not installed (installed with --omit=dev?); run npm ci, which installs it and builds dist/\n');
  process.exit(1);
}

// Taken before compiling: a source saved while tsc runs leaves the build marked stale.
const sourcesMtimeMs = newestSourceMtime(root);
// A clean build: modules moved or removed in src/ leave nothing behind in dist/.
rmSync(dist, { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${r.status ?? r.signal}); dist/ is incomplete and bin/rkvs.js runs the sources until a build succeeds\n`);
  process.exit(1);
}

const copied = [];
const copyMjs = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) copyMjs(p);
    else if (e.name.endsWith('.mjs')) {
      const target = join(dist, relative(root, p));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(p, target);
      copied.push(relative(root, p));
    }
  }
};
copyMjs(join(root, 'src'));

writeFileSync(join(root, STAMP), `${JSON.stringify({ builtAt: new Date().toISOString(), sourcesMtimeMs, node: process.version, copied }, null, 2)}\n`);
process.stdout.write(`build: dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s (tsc, and ${copied.join(', ')})\n`);
