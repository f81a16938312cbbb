/** The report directory `reports/<YYYYMMDD-HHMMSS>-<suite>/` and the writing of every report file. */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../errors.js';
import { mkdirs } from '../../util/fs.js';
import { percentileText } from '../run/histogram.js';
import type { RunMeta } from './meta.js';
import { redact } from './meta.js';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, REQUESTS_COLUMNS, toCsv } from '../report/csv.js';
import type { BenchResults } from './results.js';

/** `YYYYMMDD-HHMMSS-<suite>` in UTC. */
export function makeRunId(suite: string, at: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${at.getUTCFullYear()}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}`;
  const t = `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}`;
  return `${d}-${t}-${suite}`;
}

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

/** Histogram file name of a cell. */
export function hgrmName(k: { config: string; variant: string; schedule: string; op: string; value_bytes: number; clients: number }): string {
  return `${safe(k.config)}_${safe(k.variant)}_${safe(k.schedule)}_${safe(k.op)}_${k.value_bytes}B_${k.clients}c.hgrm`;
}

/** Writes every report file; throws a one-line Error naming the file when the disk refuses. */
export async function writeReport(
  dir: string,
  results: BenchResults,
  meta: RunMeta,
  extra: { history?: string[] } = {},
): Promise<string[]> {
  const written: string[] = [];
  const put = async (rel: string, text: string) => {
    const file = path.join(dir, rel);
    try {
      await mkdirs(path.dirname(file));
      await writeFile(file, text);
    } catch (e) {
      throw new Error(fsMessage(e, `cannot write report file ${file}`, 'free some space or choose another --out DIR; the run can be repeated with the same --seed'));
    }
    written.push(rel);
  };
  await put('latency.csv', toCsv(LATENCY_COLUMNS, results.latencyRows()));
  await put('overhead.csv', toCsv(OVERHEAD_COLUMNS, results.overheadRows()));
  await put('requests.csv', toCsv(REQUESTS_COLUMNS, results.requestRows()));
  await put('errors.csv', toCsv(ERRORS_COLUMNS, results.errorRows()));
  await put('histograms.jsonl', results.histogramLines.map((l) => JSON.stringify(l)).join('\n') + (results.histogramLines.length ? '\n' : ''));
  for (const c of results.cellHistograms()) {
    if (c.ok.totalCount > 0) await put(path.join('histograms', hgrmName(c.key)), percentileText(c.ok));
  }
  await put('counters.json', JSON.stringify(results.counters()) + '\n');
  if (extra.history) await put('history.jsonl', extra.history.join('\n') + (extra.history.length ? '\n' : ''));
  await put('meta.json', JSON.stringify(redact(meta), null, 2) + '\n');
  return written;
}

/**
 * The derived files of a report directory: cost.csv (priced requests and storage, docs/cost.md),
 * then report.html with charts/*.svg|png (which shows cost.csv). Neither may fail a run whose
 * measurements are written: a failure is reported through `warn` and the file is left out.
 */
export async function finishReportDir(dir: string, warn: (line: string) => void): Promise<string[]> {
  const written: string[] = [];
  try {
    const { writeCostCsv } = await import('../analyze/cost.js');
    const cost = await writeCostCsv(dir);
    written.push('cost.csv');
    for (const w of cost.warnings) warn(`cost: ${w}`);
  } catch (e) {
    warn(`warning: cost.csv not written (${(e as Error)?.message ?? String(e)}); run rkvs cost ${dir} to retry`);
  }
  try {
    const { writeHtmlReport } = await import('../report/html.js');
    let r;
    try {
      r = await writeHtmlReport(dir);
    } catch (e) {
      // the PNG renderer is the part most likely to be missing: keep the page and the SVG charts
      warn(`warning: charts/*.png not written (${(e as Error)?.message ?? String(e)})`);
      r = await writeHtmlReport(dir, { pngFiles: false });
    }
    written.push('report.html', ...r.chartFiles.map((f) => path.relative(dir, f)));
  } catch (e) {
    warn(`warning: report.html not written (${(e as Error)?.message ?? String(e)}); run rkvs report ${dir} to retry`);
  }
  return written;
}
