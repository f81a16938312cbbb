/**
 * The harness's layout holds: rooms by stage (config → run → record → analyze → report), data
 * flowing down only (a room imports its own and earlier rooms, never a later one), every file under
 * 400 lines with a header saying what it owns, no function over 80 lines, and no import cycle
 * between the command line and its commands.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BENCH = path.join(ROOT, 'src/bench');
/** Rooms in stage order; files at the top of src/bench (index.ts, and the pipelines chaining the rooms: pipeline.ts for a run, ab.ts for an A/B run) come after every room. */
const ROOMS = ['config', 'run', 'record', 'analyze', 'report'] as const;
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

function files(dir: string, ext = /\.(ts|mts|mjs)$/): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, ext));
    else if (ext.test(e.name)) out.push(p);
  }
  return out.sort();
}

/** Every module a source text imports (static, re-exports, dynamic `import()` with a literal). */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The stage of a file under src/bench: its room's index, or ROOMS.length for the top-level files. */
function rank(file: string): number {
  const rel = path.relative(BENCH, file).split(path.sep);
  return rel.length === 1 ? ROOMS.length : ROOMS.indexOf(rel[0] as (typeof ROOMS)[number]);
}

/** Upward imports: a file importing a later room than its own (or a top-level file of src/bench). */
function upwardImports(sources: { file: string; text: string }[]): string[] {
  const bad: string[] = [];
  for (const { file, text } of sources) {
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(BENCH + path.sep)) {
        if (/^src[\\/](cli|commands)/.test(path.relative(ROOT, target)))
          bad.push(`${path.relative(ROOT, file)} imports ${spec}: the harness must not depend on the command line`);
        continue;
      }
      const from = rank(file);
      const to = rank(target);
      if (to > from) {
        const name = (r: number) => (r === ROOMS.length ? 'the top of src/bench' : `${ROOMS[r]}/`);
        bad.push(`${path.relative(ROOT, file)} imports ${spec}: ${name(from)} may not import ${name(to)} (stages: ${ROOMS.join(' → ')})`);
      }
    }
  }
  return bad;
}

/** Functions (declarations, methods, arrows, function expressions) longer than `max` lines. */
function longFunctions(file: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const a = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line;
      const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
      if (b - a + 1 > max) out.push(`${path.relative(ROOT, file)}:${a + 1} ${n.name?.getText(sf) ?? '(anonymous)'} is ${b - a + 1} lines`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const sources = files(BENCH).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

describe('src/bench is laid out by stage', () => {
  it('every file lives in a room or is one of the top-level files', () => {
    const top = sources.filter((s) => rank(s.file) === ROOMS.length).map((s) => path.basename(s.file));
    expect(top.sort()).toEqual(['ab.ts', 'index.ts', 'pipeline.ts']);
    expect(sources.every((s) => rank(s.file) >= 0)).toBe(true);
  });

  it('data flows down: no room imports a later one', () => {
    expect(upwardImports(sources)).toEqual([]);
  });

  it('the check catches an upward import, a static one and a dynamic one', () => {
    const fake = (room: string, text: string) => ({ file: path.join(BENCH, room, 'x.ts'), text });
    expect(upwardImports([fake('run', "import { BenchResults } from '../record/results.js';")])).toHaveLength(1);
    expect(upwardImports([fake('config', "const m = await import('../report/html.js');")])[0]).toMatch(/config\/ may not import report\//);
    expect(upwardImports([fake('record', "export { x } from '../pipeline.js';")])[0]).toMatch(/may not import the top of src\/bench/);
    expect(upwardImports([fake('report', "import { a } from '../analyze/cost.js'; import { b } from '../config/cell.js';")])).toEqual([]);
    expect(upwardImports([fake('run', "import { ExitCode } from '../../cli.js';")])[0]).toMatch(/must not depend on the command line/);
  });

  it(`no file is over ${MAX_FILE_LINES} lines`, () => {
    const long = sources.map((s) => ({ file: path.relative(ROOT, s.file), lines: s.text.split('\n').length })).filter((x) => x.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`no function is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(sources.flatMap((s) => (s.file.endsWith('.ts') ? longFunctions(s.file, s.text, MAX_FUNCTION_LINES) : []))).toEqual([]);
    // the check itself: a function of 90 lines is reported
    const body = Array.from({ length: 88 }, (_, i) => `  const x${i} = ${i};`).join('\n');
    expect(longFunctions('f.ts', `function big() {\n${body}\n}\n`, MAX_FUNCTION_LINES)).toHaveLength(1);
  });

  it('every file starts with a header comment saying what it owns', () => {
    const bare = sources.filter((s) => !/^\s*(\/\*\*|\/\/)/.test(s.text)).map((s) => path.relative(ROOT, s.file));
    expect(bare).toEqual([]);
  });
});

describe('the command line', () => {
  it('src/commands/ never imports src/cli.ts (exit codes live in src/exit-codes.ts)', () => {
    const bad = files(path.join(ROOT, 'src/commands'))
      .filter((f) => importsOf(readFileSync(f, 'utf8')).some((s) => /(^|\/)cli(\.js|\.ts)?$/.test(s)))
      .map((f) => path.relative(ROOT, f));
    expect(bad).toEqual([]);
  });
});
