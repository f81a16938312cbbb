/**
 * The run directory `reports/<YYYYMMDD-HHMMSS>-<suite>-<random>/`: where it may be, how it is
 * written, and the exact record of a run written into it (histograms.jsonl, counters.json,
 * history.jsonl, meta.json).
 *
 * A report directory is never written into once it exists, and never seen half-written:
 * `prepareRunDir` refuses an existing directory (unless `--overwrite`) and a baseline (unless
 * `--update-baseline`), the run writes into a hidden staging directory next to it
 * (`.<name>.partial-<pid>-<random>`), and `commit` renames the staging directory into place when
 * the report is complete, replacing the old directory whole when asked to. A run that ends
 * without a report (interrupted before any measurement, or killed by a second Ctrl-C) leaves
 * nothing: the staging directory is removed, on process exit too.
 */
import { existsSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { mkdirs } from '../../util/fs.js';
import type { Cell } from '../config/cell.js';
import type { RunMeta } from './meta.js';
import { redact } from './meta.js';
import type { BenchResults } from './results.js';
import { EXACT_FILE, exactCsv } from './exact.js';

/**
 * A file whose presence marks a directory as a baseline (`reports/baseline/` has one): `rkvs bench`
 * writes into it only with `--update-baseline`.
 */
export const BASELINE_MARKER = '.rkvs-baseline';
/** A baseline directory's own files (not a run's), kept when `--update-baseline` replaces its report. */
export const BASELINE_OWN_FILES: readonly string[] = [BASELINE_MARKER, 'README.md', 'thresholds.yaml'];

/** True when `dir` is a baseline: named `baseline`, or holding the baseline marker. */
export function isBaselineDir(dir: string): boolean {
  return path.basename(dir) === 'baseline' || existsSync(path.join(dir, BASELINE_MARKER));
}

/** Where a run's report goes, and the staging directory it is written into meanwhile. */
export interface RunDir {
  /** The report directory, `<out>/<name>` (absolute). */
  dir: string;
  /** The hidden directory the report is written into until `commit`. */
  staging: string;
  /** Moves the staged report to `dir`, replacing what was there when that was allowed. */
  commit(): Promise<void>;
  /** Removes the staging directory: nothing is written. */
  discard(): void;
}

export interface RunDirOptions {
  /** Replace an existing report directory wholly. */
  overwrite?: boolean;
  /** Allow writing a baseline directory (its own files are kept). */
  updateBaseline?: boolean;
  /** The flag that named the directory (`--run-id`, or `--out` for a generated id). */
  flag?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
}

/** Refuses a report directory that may not be written (exit 2 through ConfigError). */
export function checkRunDir(outBase: string, name: string, o: RunDirOptions = {}): string {
  const dir = path.resolve(outBase, name);
  const flag = o.flag ?? '--run-id';
  const parent = path.dirname(dir);
  if (existsSync(path.join(parent, BASELINE_MARKER)) || path.basename(parent) === 'baseline')
    throw new ConfigError(
      '--out',
      `${parent} is a baseline directory, not a base of report directories: a run never writes inside it; use --out ${path.dirname(parent)}` +
        ` (to replace the baseline itself: --out ${path.dirname(parent)} --run-id ${path.basename(parent)} --update-baseline)`,
    );
  if (isBaselineDir(dir) && !o.updateBaseline)
    throw new ConfigError(
      '--update-baseline',
      `${dir} is a baseline (${path.basename(dir) === 'baseline' ? 'named baseline' : `it holds ${BASELINE_MARKER}`}): rkvs bench writes a baseline only when told --update-baseline ` +
        `(which replaces its report and keeps ${BASELINE_OWN_FILES.join(', ')}); otherwise choose another ${flag}`,
    );
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new ConfigError(flag, `${dir} exists and is not a directory; choose another ${flag}`);
    if (!o.overwrite && !(o.updateBaseline && isBaselineDir(dir)))
      throw new ConfigError(
        flag,
        `${dir} already exists: a run never writes into an existing report directory (its files would mix with this run's). ` +
          `Choose another ${flag === '--out' ? '--out DIR' : '--run-id (or none: the default is unique)'}, or give --overwrite to replace the directory wholly`,
      );
  }
  let siblings: string[] = [];
  try {
    siblings = readdirSync(parent);
  } catch {
    // no parent yet
  }
  const staged = new RegExp(`^\\.${escapeRegExp(name)}\\.partial-(\\d+)-`);
  for (const s of siblings) {
    const pid = Number(staged.exec(s)?.[1]);
    if (pid && pid !== process.pid && alive(pid))
      throw new ConfigError(flag, `another run (process ${pid}) is writing ${dir} now (${path.join(parent, s)}); choose another ${flag}`);
  }
  return dir;
}

/**
 * Checks where the report goes (see checkRunDir), creates the staging directory next to it and
 * proves it writable, before anything is measured.
 */
export async function prepareRunDir(outBase: string, name: string, o: RunDirOptions = {}): Promise<RunDir> {
  const dir = checkRunDir(outBase, name, o);
  const staging = path.join(path.dirname(dir), `.${name}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  const baseExisted = existsSync(path.dirname(dir));
  /** Removes the staging directory, and the base directory when this run made it and left it empty. */
  const removeStaging = () => {
    try {
      rmSync(staging, { recursive: true, force: true });
    } catch {
      // never made (its parent is not a directory, not writable): nothing to remove
    }
    if (!baseExisted)
      try {
        rmdirSync(path.dirname(dir));
      } catch {
        // not empty, or gone
      }
  };
  try {
    await mkdirs(path.dirname(dir));
    await mkdir(staging);
    await mkdir(path.join(staging, 'histograms'));
    const probe = path.join(staging, '.write-test');
    await writeFile(probe, 'ok');
    await rm(probe);
  } catch (e) {
    removeStaging();
    throw new ConfigError('--out', fsMessage(e, `cannot write reports to ${dir}`, 'choose a writable directory with --out DIR or free some space'));
  }
  let done = false;
  const onExit = () => {
    if (!done) removeStaging();
  };
  process.on('exit', onExit);
  const finish = () => {
    done = true;
    process.off('exit', onExit);
  };
  return {
    dir,
    staging,
    discard() {
      finish();
      removeStaging();
    },
    async commit() {
      if (existsSync(dir) && isBaselineDir(dir) && o.updateBaseline)
        for (const f of BASELINE_OWN_FILES) if (existsSync(path.join(dir, f))) await copyFile(path.join(dir, f), path.join(staging, f));
      if (existsSync(dir) && (o.overwrite || o.updateBaseline)) {
        const old = path.join(path.dirname(dir), `.${name}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
        await rename(dir, old);
        try {
          await rename(staging, dir);
        } catch (e) {
          await rename(old, dir).catch(() => undefined);
          finish();
          throw new Error(fsMessage(e, `cannot move the report into ${dir}`, `this run's report is in ${staging}`));
        }
        finish();
        await rm(old, { recursive: true, force: true });
        return;
      }
      try {
        await rename(staging, dir);
      } catch (e) {
        finish();
        const code = (e as { code?: string }).code;
        if (code === 'ENOTEMPTY' || code === 'EEXIST')
          throw new Error(`${dir} was created by another run while this one ran; this run's report is in ${staging} (rename it)`);
        throw new Error(fsMessage(e, `cannot move the report into ${dir}`, `this run's report is in ${staging}`));
      }
      finish();
    },
  };
}

export { makeRunId } from '../run/plan.js';

function fsMessage(e: unknown, what: string, fix: string): string {
  const code = (e as { code?: string }).code;
  const reason =
    code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : code === 'ENOTDIR' ? 'a parent is not a directory' : ((e as Error)?.message ?? String(e)).split('\n')[0];
  return `${what}: ${reason}; ${fix}`;
}

/** Creates the run directory and proves it is writable before anything is measured. */
export async function createRunDir(outBase: string, runId: string): Promise<string> {
  const dir = path.resolve(outBase, runId);
  try {
    await mkdirs(path.join(dir, 'histograms'));
    const probe = path.join(dir, '.write-test');
    await writeFile(probe, 'ok');
    await rm(probe);
  } catch (e) {
    throw new ConfigError('--out', fsMessage(e, `cannot write reports to ${dir}`, 'choose a writable directory with --out DIR or free some space'));
  }
  return dir;
}

/** A file-system-safe name part. */
function safe(s: string | number): string {
  return String(s).replace(/[^A-Za-z0-9_.-]+/g, '-');
}

/**
 * Histogram file name of a cell key: `<config>_<variant>_<schedule>_<op>_<bytes>B_<clients>c`, then
 * `_<workload>_<registers>r_<workers>w`, `_open<rate>` for an open loop and `_fault-<spec>` under a
 * fault, so every key has its own.
 */
export function hgrmName(k: Cell & { op: string }): string {
  const load = k.mode === 'open' ? `_open${k.open_rate}` : '';
  const fault = k.fault ? `_fault-${safe(k.fault)}` : '';
  return `${safe(k.config)}_${safe(k.variant)}_${safe(k.schedule)}_${safe(k.op)}_${k.value_bytes}B_${k.clients}c_${safe(k.workload)}_${k.registers}r_${k.workers}w${load}${fault}.hgrm`;
}

/** Writes files (relative path, text) into `dir`; throws a one-line Error naming the file when the disk refuses. */
export async function writeFiles(dir: string, files: readonly [string, string][]): Promise<string[]> {
  const written: string[] = [];
  for (const [rel, text] of files) {
    const file = path.join(dir, rel);
    try {
      await mkdirs(path.dirname(file));
      await writeFile(file, text);
    } catch (e) {
      throw new Error(fsMessage(e, `cannot write report file ${file}`, 'free some space or choose another --out DIR; the run can be repeated with the same --seed'));
    }
    written.push(rel);
  }
  return written;
}

/** The exact record of a run: histograms.jsonl, counters.json, exact.csv (model suites), history.jsonl (when recorded) and meta.json. */
export function recordFiles(results: BenchResults, meta: RunMeta, o: { history?: boolean | string[] } = {}): [string, string][] {
  const lines = (xs: readonly string[]) => xs.join('\n') + (xs.length ? '\n' : '');
  const history = Array.isArray(o.history) ? o.history : results.history;
  return [
    ['histograms.jsonl', lines(results.histogramLines.map((l) => JSON.stringify(l)))],
    ['counters.json', JSON.stringify(results.counters()) + '\n'],
    ...(results.exact().length ? [[EXACT_FILE, exactCsv(results.exact())] as [string, string]] : []),
    ...(o.history ? [['history.jsonl', lines(history)] as [string, string]] : []),
    ['meta.json', JSON.stringify(redact(meta), null, 2) + '\n'],
  ];
}
