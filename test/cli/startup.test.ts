/**
 * What keeps `rkvs` quick to start and its help complete: --version, the default of every option in
 * every command's help, suggestions for mistyped options, and that --help and usage errors load no
 * provider SDK, emulator or charting module (traced by a module resolution hook, in a child process
 * running bin/rkvs.js as a user would). Timings are in `npm run bench:startup`, not here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildState, newestSourceMtime, STAMP } from '../../bin/build-state.js';
import { SCENARIOS } from '../../benchmarks/sim/index.js';
import { BENCH_SCHEDULES, BENCH_VARIANTS } from '../../src/bench/config/workload.js';
import { buildProgram, main } from '../../src/cli.js';
import { SCHEDULE_NAMES, VARIANT_NAMES } from '../../src/commands/bench.js';
import { SCENARIO_NAMES } from '../../src/commands/simulate.js';
import { tempDir } from '../support/tmp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rkvs.js');
const TRACER = join(ROOT, 'test', 'support', 'trace-imports.mjs');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Modules that only the commands that use them may load. */
const HEAVY_PACKAGES = /\/node_modules\/(@aws-sdk|@smithy|@azure|@google-cloud|firebase-tools|fauxqs|azurite|vega|vega-lite|vega-[a-z-]+|@resvg|zod|hdr-histogram-js|cli-progress|tinybench)\//;
const HEAVY_OWN = /\/src\/(emulators\/index|adapters\/(s3|azure-blob|gcs)|bench\/(pipeline|run\/orchestrate|report\/charts|report\/html)|sim\/index|simulate\/index)\.[jt]s$/;

/** Runs bin/rkvs.js with the import tracer; returns its exit code, output and every module it resolved. */
function traced(args: string[]): { code: number | null; out: string; err: string; modules: string[] } {
  const dir = tempDir('rkvs-trace-');
  const file = join(dir, 'imports.txt');
  writeFileSync(file, '');
  const r = spawnSync(process.execPath, ['--import', TRACER, BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, RKVS_TRACE_IMPORTS: file },
  });
  const modules = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
  return { code: r.status, out: r.stdout, err: r.stderr, modules };
}

function heavy(modules: string[]): string[] {
  return [...new Set(modules.filter((m) => HEAVY_PACKAGES.test(m) || HEAVY_OWN.test(m)))];
}

describe('rkvs start-up: what --help, --version and usage errors load', () => {
  it.each([
    { args: ['--help'], code: 0, out: /Usage: rkvs \[options\] \[command\]/ },
    { args: ['--version'], code: 0, out: /^robust-kvs / },
    { args: ['bench', '--help'], code: 0, out: /--suite <name\|file>/ },
    { args: ['report', '--help'], code: 0, out: /--no-png/ },
    { args: ['simulate', '--help'], code: 0, out: /space-vs-contention/ },
    { args: ['emulators', 'start', '--help'], code: 0, out: /--state-dir <dir>/ },
    { args: ['bench', '--suit', 'quick'], code: 2, err: /unknown option '--suit'\n\(Did you mean --suite\?\)/ },
    { args: ['nosuch'], code: 2, err: /unknown command 'nosuch'/ },
    { args: ['bench', '--variants', 'fastest'], code: 2, err: /--variants: unknown value "fastest"; expected raw, regular, atomic/ },
    { args: ['simulate', 'nope'], code: 2, err: /unknown scenario "nope"/ },
  ])('rkvs $args loads no SDK, emulator, chart or harness module', ({ args, code, out, err }) => {
    const r = traced(args);
    expect(r.code, r.err).toBe(code);
    if (out) expect(r.out).toMatch(out);
    if (err) expect(r.err).toMatch(err);
    // the tracer saw the CLI's own modules, so an empty list below means something
    expect(r.modules.some((m) => /\/node_modules\/commander\//.test(m)), r.modules.join('\n')).toBe(true);
    expect(heavy(r.modules)).toEqual([]);
  });

  it('the tracer does see the charting stack when a command loads it (rkvs report)', () => {
    const r = traced(['report', join(ROOT, 'no-such-report-dir')]);
    expect(r.code).toBe(2);
    expect(heavy(r.modules).some((m) => /\/node_modules\/vega/.test(m))).toBe(true);
  });
});

describe('rkvs --version', () => {
  it('prints the package version and the Node.js version', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`robust-kvs ${VERSION} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`);
  });

  it('is the same when the sources run through tsx (RKVS_FROM_SOURCES=1)', () => {
    const r = spawnSync(process.execPath, [BIN, '-V'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...process.env, RKVS_FROM_SOURCES: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`robust-kvs ${VERSION} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`);
  });
});

/** Every command that runs something (leaves), with its path from the program. */
function leaves(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  if (cmd.commands.length === 0) return [{ path, cmd }];
  return cmd.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

describe('rkvs help', () => {
  it('states the default of every option of every command', () => {
    const all = leaves(buildProgram());
    expect(all.map((l) => l.path.join(' '))).toEqual(expect.arrayContaining(['bench', 'check', 'soak', 'emulators start', 'simulate', 'report']));
    const missing: string[] = [];
    for (const { path, cmd } of all) {
      const help = cmd.createHelp();
      for (const option of cmd.options) {
        const text = help.optionDescription(option);
        if (!/\(default[:\s]|\(required/.test(text)) missing.push(`rkvs ${path.join(' ')} ${option.flags}: ${text}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names the variants, schedules and scenarios the code has', () => {
    expect(VARIANT_NAMES).toEqual(BENCH_VARIANTS);
    expect(SCHEDULE_NAMES).toEqual(BENCH_SCHEDULES);
    expect(SCENARIO_NAMES).toEqual(SCENARIOS.map((s) => s.name));
  });

  describe('suggests the closest option for a mistyped one, in every command', () => {
    let err = '';
    beforeEach(() => {
      err = '';
      vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    });
    afterEach(() => vi.restoreAllMocks());

    it.each(leaves(buildProgram()).map((l) => ({ name: l.path.join(' '), path: l.path, cmd: l.cmd })))('rkvs $name', async ({ path, cmd }) => {
      const option = cmd.options.find((o) => o.long && o.long.length >= 5);
      expect(option, `rkvs ${path.join(' ')} has an option to mistype`).toBeDefined();
      const typo = option!.long!.slice(0, -1);
      expect(await main(['node', 'rkvs', ...path, typo])).toBe(2);
      expect(err).toContain(`error: unknown option '${typo}'`);
      expect(err).toContain(`(Did you mean ${option!.long}?)`);
    });

    it('rkvs --verison', async () => {
      expect(await main(['node', 'rkvs', '--verison'])).toBe(2);
      expect(err).toContain('(Did you mean --version?)');
    });
  });
});

describe('bin/build-state.js: is dist/ a build of the sources as they are?', () => {
  const T0 = new Date('2025-01-01T00:00:00Z');
  const at = (ms: number) => new Date(T0.getTime() + ms);
  function checkout(): string {
    const root = tempDir('rkvs-build-state-');
    for (const d of ['src/util', 'benchmarks/configs', 'dist']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(root, 'src/cli.ts'), '');
    writeFileSync(join(root, 'src/util/x.ts'), '');
    writeFileSync(join(root, 'src/README.md'), '');
    writeFileSync(join(root, 'benchmarks/quick.ts'), '');
    writeFileSync(join(root, 'benchmarks/configs/emulators.yaml'), '');
    for (const p of ['src/cli.ts', 'src/util/x.ts', 'src/README.md', 'benchmarks/quick.ts', 'benchmarks/configs/emulators.yaml', 'src/util', 'benchmarks/configs', 'src', 'benchmarks'])
      utimesSync(join(root, p), T0, T0);
    return root;
  }
  const stamp = (root: string) => writeFileSync(join(root, STAMP), JSON.stringify({ builtAt: 'then', sourcesMtimeMs: newestSourceMtime(root) }));

  it('missing without a build, current after one, stale when a source changes after it', () => {
    const root = checkout();
    expect(buildState(root).state).toBe('missing');
    stamp(root);
    expect(buildState(root).state).toBe('current');
    utimesSync(join(root, 'src/util/x.ts'), at(5000), at(5000));
    expect(buildState(root)).toEqual({ state: 'stale', reason: 'sources changed since the last build (run npm run build)' });
    stamp(root);
    expect(buildState(root).state).toBe('current');
    utimesSync(join(root, 'benchmarks/quick.ts'), at(9000), at(9000));
    expect(buildState(root).state).toBe('stale');
  });

  it('stale when a source is removed or added (the directory changes)', () => {
    const root = checkout();
    stamp(root);
    rmSync(join(root, 'src/util/x.ts'));
    expect(buildState(root).state).toBe('stale');
    const again = checkout();
    stamp(again);
    writeFileSync(join(again, 'src/new.ts'), '');
    expect(buildState(again).state).toBe('stale');
  });

  it('files that are not compiled (configuration presets, documents) do not make it stale', () => {
    const root = checkout();
    stamp(root);
    utimesSync(join(root, 'benchmarks/configs/emulators.yaml'), at(5000), at(5000));
    writeFileSync(join(root, 'benchmarks/configs/mine.yaml'), '');
    utimesSync(join(root, 'src/README.md'), at(5000), at(5000));
    expect(buildState(root).state).toBe('current');
  });

  it('a stamp that cannot be read counts as no build', () => {
    const root = checkout();
    writeFileSync(join(root, STAMP), '{"builtAt":');
    expect(buildState(root).state).toBe('missing');
  });
});

describe('TypeScript files the user names', () => {
  it('rkvs bench runs a .ts suite given by path (the compiled CLI loads it through tsx)', () => {
    const dir = tempDir('rkvs-ts-suite-');
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(dir, 'mine.ts'),
      [
        `import type { SuiteInput } from ${JSON.stringify(join(ROOT, 'src', 'bench', 'suite.js'))};`,
        'const ops: number = 10;',
        "const suite: SuiteInput = { name: 'mine', defaultConfig: { memory: { n: 3, delayMs: 0 } }, variants: ['raw'], schedules: ['fast'],",
        "  workloads: [{ name: 'w', mix: { write: 1, read: 1 }, valueBytes: [64], registers: 2, clients: 1, ops, warmupOps: 0 }] };",
        'export default suite;',
        '',
      ].join('\n'),
    );
    const r = spawnSync(process.execPath, [BIN, 'bench', '--suite', join(dir, 'mine.ts'), '--out', join(dir, 'out'), '--no-checks', '--no-progress'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, CI: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/memory\s+raw\s+none\s+write\s+64/);
  });
});
