/**
 * Writes a run's report directory: the exact record (record/run-dir.ts), the CSV files, one .hgrm
 * per cell key, then the derived cost.csv and report.html with its charts.
 */
import path from 'node:path';
import type { RunMeta } from '../record/meta.js';
import type { BenchResults } from '../record/results.js';
import { hgrmName, recordFiles, writeFiles } from '../record/run-dir.js';
import { percentileText } from '../run/histogram.js';
import { csvFiles } from './csv.js';

/**
 * Writes every report file of a run's results; throws a one-line Error naming the file when the disk
 * refuses. `history`: write history.jsonl, with the recorded lines (true) or the given ones.
 */
export async function writeReport(dir: string, results: BenchResults, meta: RunMeta, o: { history?: boolean | string[] } = {}): Promise<string[]> {
  const hgrm: [string, string][] = results
    .cellHistograms()
    .filter((c) => c.ok.totalCount > 0)
    .map((c) => [path.join('histograms', hgrmName(c.key)), percentileText(c.ok)]);
  const [jsonl, ...rest] = recordFiles(results, meta, o);
  // meta.json comes last: its presence says the directory is complete
  return writeFiles(dir, [...csvFiles(results), jsonl!, ...hgrm, ...rest]);
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
    const { writeHtmlReport } = await import('./html.js');
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
