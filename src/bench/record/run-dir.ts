/**
 * The run directory `reports/<YYYYMMDD-HHMMSS>-<suite>/`: creating it, and the exact record of a
 * run written into it (histograms.jsonl, counters.json, history.jsonl, meta.json).
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { mkdirs } from '../../util/fs.js';
import type { Cell } from '../config/cell.js';
import type { RunMeta } from './meta.js';
import { redact } from './meta.js';
import type { BenchResults } from './results.js';
import { EXACT_FILE, exactCsv } from './exact.js';

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
