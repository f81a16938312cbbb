/**
 * The versions `rkvs ab` runs: a git ref checked out in a temporary git worktree (its node_modules
 * linked to this checkout's when package-lock.json is the same, `npm ci` there otherwise; built
 * when its rkvs cannot run from its sources), or the working tree as it is. Each version's own
 * `bin/rkvs.js bench` does the measuring; ab relies only on the interface checked here.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, realpathSync } from 'node:fs';
import { lstat, readFile, rm, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../errors.js';

/** The `rkvs bench` flags ab needs from both versions (report format 2 came with them). */
export const REQUIRED_BENCH_FLAGS = ['--suite', '--config', '--out', '--run-id', '--seed', '--no-progress', '--no-checks'] as const;

/** One side of an A/B comparison, ready to run. */
export interface Version {
  side: 'base' | 'head';
  /** The ref as given (`HEAD and the working tree` for the default head). */
  ref: string;
  commit: string;
  /** The working tree had uncommitted changes (the default head only). */
  dirty: boolean;
  /** The checkout whose bin/rkvs.js runs. */
  dir: string;
  /** True when ab created `dir` (a worktree to remove at the end). */
  worktree: boolean;
  /** How its dependencies were provided and how it runs, for the record. */
  install: string;
  build: string;
  /** Its bench knows --no-html (skip report.html, charts and cost.csv in every round). */
  noHtml: boolean;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command without a shell, bounded by `timeoutMs` and `signal` (the child is killed), its
 * output kept in memory (and appended to `log` when given).
 */
export function exec(cmd: string, args: readonly string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal; log?: string }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = o.log ? createWriteStream(o.log, { flags: 'a' }) : undefined;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      log?.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      log?.write(d);
    });
    const kill = () => child.kill('SIGTERM');
    const timer = setTimeout(kill, o.timeoutMs);
    o.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      log?.end();
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', kill);
      log?.end();
      if (code === null && !o.signal?.aborted && sig === 'SIGTERM') stderr += `\n(killed after ${Math.round(o.timeoutMs / 1000)} s)`;
      resolve({ code, stdout, stderr });
    });
  });
}

async function git(root: string, args: string[], what: string): Promise<string> {
  const r = await exec('git', args, { cwd: root, timeoutMs: 120_000 });
  if (r.code !== 0) throw new ConfigError(what, `git ${args.join(' ')} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${r.code}`}`);
  return r.stdout.trim();
}

/** The top of the git checkout holding `cwd`; a clear error outside one. */
export async function gitRoot(cwd: string): Promise<string> {
  const r = await exec('git', ['rev-parse', '--show-toplevel'], { cwd, timeoutMs: 30_000 }).catch((e: Error) => ({ code: 1, stdout: '', stderr: e.message }));
  if (r.code !== 0) throw new ConfigError('ab', `${cwd} is not inside a git checkout (${r.stderr.trim() || 'git rev-parse failed'}); run rkvs ab in the robust-kvs repository`);
  return r.stdout.trim();
}

/** The commit a ref names; ConfigError naming the ref when it names none. */
export async function resolveCommit(root: string, ref: string, what: string): Promise<string> {
  const r = await exec('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root, timeoutMs: 30_000 });
  if (r.code !== 0 || !r.stdout.trim())
    throw new ConfigError(what, `${JSON.stringify(ref)} is not a commit of ${root}: give a branch, tag or commit (e.g. main, origin/main, HEAD~1); run git fetch if it is a remote branch`);
  return r.stdout.trim();
}

/** The working tree as it is: HEAD's commit, and whether files differ from it. */
export async function workingTree(root: string): Promise<Version> {
  const commit = await resolveCommit(root, 'HEAD', 'HEAD_REF');
  const dirty = (await git(root, ['status', '--porcelain', '--untracked-files=no'], 'HEAD_REF')) !== '';
  return { side: 'head', ref: 'HEAD and the working tree', commit, dirty, dir: root, worktree: false, install: 'its own node_modules', build: 'runs as it is (bin/rkvs.js picks dist/ or the sources)', noHtml: false };
}

/**
 * Checks `commit` out in a new worktree at `dir` (a worktree of the checkout at `root`), provides
 * its dependencies (a link to `modulesFrom`/node_modules, the running rkvs's, when
 * package-lock.json is the same, `npm ci` otherwise) and builds it when its rkvs cannot run from
 * its sources (or `build` asks for it). `log` receives the output of npm.
 */
export async function prepareWorktree(
  root: string,
  v: { side: 'base' | 'head'; ref: string; commit: string },
  dir: string,
  o: { build: boolean; log: string; modulesFrom: string; signal?: AbortSignal; say: (line: string) => void },
): Promise<Version> {
  await git(root, ['worktree', 'add', '--detach', dir, v.commit], v.side === 'base' ? 'BASE_REF' : 'HEAD_REF');
  const version: Version = { ...v, dirty: false, dir, worktree: true, install: '', build: '', noHtml: false };
  const lock = (d: string) => readFile(path.join(d, 'package-lock.json'), 'utf8').catch(() => null);
  const [mine, theirs] = await Promise.all([lock(o.modulesFrom), lock(dir)]);
  const modules = path.join(o.modulesFrom, 'node_modules');
  if (mine !== null && mine === theirs && existsSync(modules)) {
    await symlink(realpathSync(modules), path.join(dir, 'node_modules'), 'dir');
    version.install = `node_modules linked to ${realpathSync(modules)} (same package-lock.json)`;
  } else {
    o.say(`${v.side}: package-lock.json differs from this checkout's: npm ci in ${dir} ...`);
    await run('npm', ['ci', '--no-audit', '--no-fund'], dir, o, 900_000, `npm ci for ${v.ref}`);
    version.install = 'npm ci (package-lock.json differs)';
  }
  const canRunSources = existsSync(path.join(dir, 'bin', 'build-state.js'));
  const built = version.install.startsWith('npm ci') && existsSync(path.join(dir, 'dist'));
  if (built) version.build = 'built by npm ci (prepare)';
  else if (o.build || !canRunSources) {
    o.say(`${v.side}: building ${v.ref} (npm run build) ...`);
    await run('npm', ['run', 'build'], dir, o, 900_000, `npm run build for ${v.ref}`);
    version.build = 'npm run build';
  } else version.build = 'runs its TypeScript sources (tsx)';
  return version;
}

async function run(cmd: string, args: string[], cwd: string, o: { log: string; signal?: AbortSignal }, timeoutMs: number, what: string): Promise<void> {
  const r = await exec(cmd, args, { cwd, timeoutMs, signal: o.signal, log: o.log });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}); see ${o.log}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
}

/**
 * Checks that a version's `rkvs bench` has every flag ab uses (REQUIRED_BENCH_FLAGS), and notes
 * whether it has --no-html. ConfigError (exit 2) naming the ref and what is missing otherwise.
 */
export async function checkBenchInterface(v: Version, signal?: AbortSignal): Promise<void> {
  const r = await exec(process.execPath, [path.join(v.dir, 'bin', 'rkvs.js'), 'bench', '--help'], { cwd: v.dir, timeoutMs: 120_000, signal });
  const missing = REQUIRED_BENCH_FLAGS.filter((f) => !new RegExp(`(^|[\\s,])${f}\\b`).test(r.stdout));
  if (r.code !== 0 || missing.length)
    throw new ConfigError(
      v.side === 'base' ? 'BASE_REF' : 'HEAD_REF',
      `${v.ref} (${v.commit.slice(0, 12)}) is older than what rkvs ab supports: ${r.code !== 0 ? `its rkvs bench --help failed (${r.stderr.trim().split('\n').slice(-1)[0] ?? ''})` : `its rkvs bench lacks ${missing.join(', ')}`}; ` +
        'rkvs ab runs refs whose rkvs bench writes report format 2 and takes --suite FILE, --config, --out, --run-id, --seed, --no-progress and --no-checks',
    );
  v.noHtml = /(^|[\s,])--no-html\b/.test(r.stdout);
}

/** Removes a worktree ab created (and its node_modules link); never throws. */
export async function removeWorktree(root: string, dir: string): Promise<void> {
  // the link first, on its own: nothing below may reach into the shared node_modules it points to
  const modules = path.join(dir, 'node_modules');
  try {
    if ((await lstat(modules)).isSymbolicLink()) await unlink(modules);
  } catch {
    // no link
  }
  const r = await exec('git', ['worktree', 'remove', '--force', dir], { cwd: root, timeoutMs: 120_000 }).catch(() => ({ code: 1 }));
  if (r.code !== 0) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    await exec('git', ['worktree', 'prune'], { cwd: root, timeoutMs: 60_000 }).catch(() => undefined);
  }
}
