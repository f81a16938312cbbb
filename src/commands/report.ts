/**
 * `rkvs report DIR`: renders DIR/report.html (self-contained, opens offline) and DIR/charts/*.svg|png
 * from the report files written by `rkvs bench`.
 */
import type { Command } from 'commander';

interface ReportFlags {
  out?: string;
  png: boolean;
  svg: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render report.html and charts/*.svg|png of a bench report directory')
    .argument('<dir>', 'report directory written by rkvs bench (reports/<run-id>/)')
    .option('--out <file>', 'write the HTML page here (default: <dir>/report.html)')
    .option('--no-png', 'do not write charts/*.png')
    .option('--no-svg', 'do not write charts/*.svg')
    .action(async (dir: string, flags: ReportFlags) => {
      // the charting stack (vega, vega-lite, resvg) loads only here
      const { writeHtmlReport } = await import('../bench/report/html.js');
      const r = await writeHtmlReport(dir, { out: flags.out, pngFiles: flags.png, svgFiles: flags.svg });
      process.stdout.write(`wrote ${r.file} (${r.charts.length} charts)${r.markdown ? `, ${r.markdown}` : ''}${r.chartFiles.length ? ` and ${r.chartFiles.length} chart files in ${dir}/charts` : ''}\n`);
    });
}
