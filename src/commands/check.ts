/**
 * `rkvs check FILE|DIR... [--model linearizable|atomic|regular] [--timeout ms] [--format text|jsonl]
 *  [--html FILE] [--method auto|polynomial|search] [--workers N] [--no-minimize]`
 *
 * Checks recorded histories (a directory stands for its *.jsonl files), one verdict per file.
 * Exit code: the worst verdict — 1 if any file violates its model, else 3 if any is unknown (time
 * limit), else 0; 2 on usage errors (bad option, missing file, malformed line: after the other
 * files were checked).
 *
 * Start-up matters (one call per file in scripts): this module imports only what parsing the
 * options needs; the checkers load when the command runs.
 */
import type { Command } from 'commander';
import type { CheckMethod, CheckModel, Verdict } from '../check/index.js';
import { ConfigError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { intFlag, intFlagValue, LIMITS, maxWorkers } from './flags.js';

export interface CheckCommandOptions {
  model: string;
  timeout: string;
  minimize: boolean;
  format: string;
  html?: string;
  method: string;
  workers?: string;
}

/** What one file got. */
export interface FileResult {
  file: string;
  verdict: Verdict | null;
  ops: number;
  ms: number;
  /** Set when the file could not be read or parsed (exit 2). */
  error?: string;
}

const FORMATS = ['text', 'jsonl'] as const;

interface Parsed {
  model: CheckModel;
  timeoutMs: number;
  format: (typeof FORMATS)[number];
  method: CheckMethod;
  workers: number | undefined;
}

async function parseOptions(opts: CheckCommandOptions): Promise<Parsed> {
  const { parseModel, CHECK_METHODS } = await import('../check/index.js');
  const model = parseModel(opts.model);
  if (!model) {
    throw new ConfigError('--model', `unknown model ${JSON.stringify(opts.model)}; use linearizable (or atomic, the atomic register) or regular`);
  }
  const timeoutMs = intFlagValue('--timeout', opts.timeout, 1, LIMITS.timeoutMs, 10000);
  if (!(FORMATS as readonly string[]).includes(opts.format)) {
    throw new ConfigError('--format', `unknown format ${JSON.stringify(opts.format)}; use text or jsonl`);
  }
  if (!(CHECK_METHODS as readonly string[]).includes(opts.method)) {
    throw new ConfigError('--method', `unknown method ${JSON.stringify(opts.method)}; use ${CHECK_METHODS.join(', ')}`);
  }
  // worker threads: 0 (none) up to the bound of bench's --workers without --force
  const workers = intFlag('--workers', opts.workers, 0, maxWorkers(), 2);
  return { model, timeoutMs, format: opts.format as Parsed['format'], method: opts.method as CheckMethod, workers };
}

/** The history files named by the arguments: files as given, directories as their *.jsonl files (sorted). */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const { readdir, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const out: string[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch (e) {
      throw new ConfigError('history', `cannot read ${p}: ${(e as Error).message}`);
    }
    if (s.isDirectory()) {
      const files = (await readdir(p)).filter((f) => f.endsWith('.jsonl')).sort();
      if (files.length === 0) throw new ConfigError('history', `directory ${p} holds no .jsonl files; name history files or a directory of them`);
      out.push(...files.map((f) => join(p, f)));
    } else out.push(p);
  }
  return out;
}

/** Checks every file; calls `onResult` as each one is done. */
export async function runCheck(paths: readonly string[], opts: CheckCommandOptions, onResult: (r: FileResult) => void = () => {}): Promise<{ code: number; results: FileResult[] }> {
  const o = await parseOptions(opts);
  const files = await expandPaths(paths);
  const { readFile } = await import('node:fs/promises');
  const { parseHistory, verdictExitCode } = await import('../check/index.js');
  const { CheckPool, checkHistoryParallel } = await import('../check/parallel.js');
  const { availableParallelism } = await import('node:os');
  const workers = o.workers ?? availableParallelism();
  const pool = workers > 0 ? new CheckPool(workers) : undefined;
  const results: FileResult[] = [];
  const histories = new Map<string, Awaited<ReturnType<typeof parseHistory>>>();
  let code = 0;
  try {
    for (const file of files) {
      const started = performance.now();
      let r: FileResult;
      try {
        const history = parseHistory(await readFile(file, 'utf8'), file);
        const verdict = await checkHistoryParallel(history, o.model, { timeoutMs: o.timeoutMs, minimize: opts.minimize, method: o.method, workers, pool });
        r = { file, verdict, ops: history.length, ms: performance.now() - started };
        if (opts.html && verdict.result === 'violation') histories.set(file, history);
        const c = verdictExitCode(verdict);
        if (c === 1 || (c === 3 && code === 0)) code = code === 2 ? 2 : c;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        r = { file, verdict: null, ops: 0, ms: performance.now() - started, error: e.message };
        code = 2;
      }
      results.push(r);
      onResult(r);
    }
  } finally {
    await pool?.close();
  }
  if (opts.html) {
    const { renderCheckPage } = await import('../check/html.js');
    const { writeFile } = await import('node:fs/promises');
    const entries = results.filter((r) => r.verdict).map((r) => ({ file: r.file, verdict: r.verdict!, ops: r.ops, ms: r.ms, history: histories.get(r.file) }));
    try {
      await writeFile(opts.html, renderCheckPage(entries));
    } catch (e) {
      throw new ConfigError('--html', `cannot write ${opts.html}: ${(e as Error).message}`);
    }
  }
  return { code, results };
}

/** The text of one result: the verdict as before for a single file, prefixed by the file name otherwise. */
export function formatResult(r: FileResult, format: string, many: boolean, formatVerdict: (v: Verdict) => string): string {
  if (!r.verdict) return '';
  const v = r.verdict;
  if (format === 'jsonl') {
    const rec: Record<string, unknown> = { file: r.file, model: v.model, verdict: v.result, ops: r.ops, ms: Math.round(r.ms * 10) / 10, decidedBy: v.decidedBy };
    if (v.result === 'violation') {
      rec.register = v.register;
      rec.message = v.message;
      rec.witness = v.operations.map((o) => o.id);
      rec.minimal = v.minimal;
    } else if (v.result === 'unknown') rec.message = v.message;
    return JSON.stringify(rec);
  }
  const text = formatVerdict(v);
  if (!many) return text;
  const [first, ...rest] = text.split('\n');
  return [`${r.file}: ${first} [${v.decidedBy}, ${Math.round(r.ms)} ms]`, ...rest].join('\n');
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check recorded histories (JSON lines) for linearizability (atomic) or regularity; exit 0 ok, 1 violation, 3 unknown')
    .argument('<history...>', 'history files, one operation per line ({"client","op","register","input","output","call","return"}), or directories of *.jsonl files')
    .option('--model <model>', 'linearizable (or atomic: the atomic register) or regular', 'linearizable')
    .option('--timeout <ms>', 'time limit per history, minimising included; past it the verdict is unknown (exit 3)', '10000')
    .option('--format <format>', 'text, or jsonl: one {"file","model","verdict","ops","ms","decidedBy",...} per file', 'text')
    .option('--html <file>', 'write a self-contained page with a timeline of every violation (default: not written)')
    .option('--method <method>', 'auto (polynomial checker, search where it cannot decide), polynomial or search', 'auto')
    .option('--workers <n>', `worker threads for checking registers in parallel, 0 (none) to ${maxWorkers()} (default: one per core)`)
    .option('--no-minimize', 'report the failing register as found instead of a minimal set of operations')
    .action(async (paths: string[], opts: CheckCommandOptions) => {
      await parseOptions(opts); // a bad option is reported before any file is looked at
      const many = paths.length > 1 || (await expandPaths(paths)).length > 1;
      const { formatVerdict } = await import('../check/index.js');
      const { code } = await runCheck(paths, opts, (r) => {
        if (r.error) process.stderr.write(`rkvs: ${r.error}\n`);
        else process.stdout.write(`${formatResult(r, opts.format, many, formatVerdict)}\n`);
      });
      if (code !== 0) throw new ExitCode(code);
    });
}
