/**
 * Pools the rounds of one version in `rkvs ab` into one report directory: each round is a run of
 * the same suite, and becomes a repetition of every cell (histograms.jsonl keeps one line per cell,
 * op, round and outcome; latency.csv and errors.csv add the rounds up), so `rkvs compare` judges
 * the two pooled directories exactly as it judges two runs with `--repeat`. Exact metrics
 * (exact.csv of a model suite) are the same in every round; the first round's are kept.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { ConfigError } from '../../errors.js';
import { cellId, CELL_KEY_COLUMNS, compareCells, type CellKey } from '../config/cell.js';
import { EXACT_FILE } from '../record/exact.js';
import { parseCsv, readMeta } from '../record/read.js';
import { writeFiles } from '../record/run-dir.js';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, REPORT_FORMAT } from '../record/schema.js';
import { decodeHistogram, mergeHistograms, summarize, type Histogram } from '../run/histogram.js';

interface PooledCell {
  key: CellKey;
  ok: Histogram[];
  count: number;
  errors: number;
  elapsedMs: number;
}

const fixed = (x: number, d = 3) => (Number.isFinite(x) ? Number(x.toFixed(d)) : 0);

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot be read (${(e as Error).message}); the round did not write a complete report`);
  }
}

/**
 * Writes `outDir` from the report directories of `rounds` (one run of the suite each). `meta` is
 * added to the pooled meta.json. Returns the warnings (exact metrics that differ between rounds).
 */
export async function poolRounds(rounds: readonly string[], outDir: string, meta: Record<string, unknown> = {}): Promise<string[]> {
  if (rounds.length === 0) throw new ConfigError('rounds', 'nothing to pool: no round was run');
  const warnings: string[] = [];
  const cells = new Map<string, PooledCell>();
  const errors = new Map<string, Record<string, string | number>>();
  const lines: string[] = [];
  let repeat = 0;
  for (const dir of rounds) {
    const renumber = new Map<number, number>();
    const text = await readText(path.join(dir, 'histograms.jsonl'));
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const obj = JSON.parse(line) as Record<string, unknown> & { repeat?: number; encoded: string; outcome?: string };
      const own = Number(obj.repeat ?? 0);
      if (!renumber.has(own)) renumber.set(own, repeat++);
      lines.push(JSON.stringify({ ...obj, repeat: renumber.get(own), round_dir: path.basename(dir) }));
      if (obj.outcome === 'error') continue;
      const key = Object.fromEntries(CELL_KEY_COLUMNS.map((c) => [c, obj[c]])) as unknown as CellKey;
      const c = cellFor(cells, key);
      c.ok.push(decodeHistogram(obj.encoded));
    }
    for (const row of parseCsv(await readText(path.join(dir, 'latency.csv')), path.join(dir, 'latency.csv'))) {
      const key = Object.fromEntries(CELL_KEY_COLUMNS.map((c) => [c, ['value_bytes', 'clients', 'registers', 'workers', 'open_rate'].includes(c) ? Number(row[c]) : row[c]])) as unknown as CellKey;
      const c = cellFor(cells, key);
      const count = Number(row.count);
      const rate = Number(row.ops_per_s);
      c.count += count;
      c.errors += Number(row.errors) || 0;
      if (rate > 0) c.elapsedMs += (count * 1000) / rate;
    }
    const errFile = path.join(dir, 'errors.csv');
    if (existsSync(errFile))
      for (const row of parseCsv(await readText(errFile), errFile)) {
        const id = [...CELL_KEY_COLUMNS.map((c) => row[c]), row.kind].join('\u0000');
        const e = errors.get(id) ?? { ...row, count: 0 };
        e.count = Number(e.count) + Number(row.count);
        errors.set(id, e);
      }
  }
  const files: [string, string][] = [
    ['latency.csv', latencyCsv(path.basename(outDir), String((await readMeta(rounds[0]!))?.suite ?? ''), cells)],
    ['errors.csv', stringify([...errors.values()].map((e) => ERRORS_COLUMNS.map((c) => (c === 'run_id' ? path.basename(outDir) : e[c]))), { header: true, columns: [...ERRORS_COLUMNS], record_delimiter: 'unix' })],
    ['histograms.jsonl', lines.join('\n') + (lines.length ? '\n' : '')],
  ];
  const exact = await pooledExact(rounds, warnings);
  if (exact !== null) files.push([EXACT_FILE, exact]);
  const first = (await readMeta(rounds[0]!)) ?? {};
  files.push(['meta.json', JSON.stringify({ ...first, format: REPORT_FORMAT, run_id: path.basename(outDir), pooled_from: rounds.map((r) => path.basename(r)), rounds: rounds.length, ...meta }, null, 2) + '\n']);
  await writeFiles(outDir, files);
  return warnings;
}

function cellFor(cells: Map<string, PooledCell>, key: CellKey): PooledCell {
  const id = cellId(key);
  let c = cells.get(id);
  if (!c) cells.set(id, (c = { key, ok: [], count: 0, errors: 0, elapsedMs: 0 }));
  return c;
}

function latencyCsv(runId: string, suite: string, cells: Map<string, PooledCell>): string {
  const rows = [...cells.values()]
    .sort((a, b) => compareCells(a.key, b.key))
    .map((c) => {
      const s = summarize(mergeHistograms(c.ok));
      const row: Record<string, string | number> = { run_id: runId, suite, ...c.key, count: s.count, errors: c.errors };
      Object.assign(row, { mean_ms: fixed(s.mean_ms), p50_ms: fixed(s.p50_ms), p90_ms: fixed(s.p90_ms), p99_ms: fixed(s.p99_ms), p999_ms: fixed(s.p999_ms), max_ms: fixed(s.max_ms) });
      row.ops_per_s = c.elapsedMs > 0 ? fixed((s.count * 1000) / c.elapsedMs, 2) : 0;
      return LATENCY_COLUMNS.map((col) => row[col]);
    });
  return stringify(rows, { header: true, columns: [...LATENCY_COLUMNS], record_delimiter: 'unix' });
}

/** The first round's exact.csv; a warning for every round whose exact.csv differs. Null when there is none. */
async function pooledExact(rounds: readonly string[], warnings: string[]): Promise<string | null> {
  const texts = await Promise.all(rounds.map(async (r) => (existsSync(path.join(r, EXACT_FILE)) ? readFile(path.join(r, EXACT_FILE), 'utf8') : null)));
  const first = texts[0];
  if (first === null || first === undefined) return null;
  texts.forEach((t, i) => {
    if (t !== first) warnings.push(`${rounds[i]}: its exact metrics differ from those of ${rounds[0]}: the model run is not deterministic (the first round's are compared)`);
  });
  return first;
}
