/**
 * `rkvs cost DIR [--prices FILE] [--config FILE]`: turns a report's requests.csv and overhead.csv
 * into cost per million operations and per GB stored; writes DIR/cost.csv and prints it.
 */
import type { Command } from 'commander';
import type { PriceOverrides } from '../bench/config/prices.js';

interface CostFlags {
  prices?: string;
  config?: string;
}

export function registerCost(program: Command): void {
  program
    .command('cost')
    .description('cost per million operations and per GB stored of a report (writes DIR/cost.csv)')
    .argument('<dir>', 'report directory written by rkvs bench')
    .option('--prices <file>', 'YAML/JSON price overrides (see docs/cost.md) (default: none, the built-in list prices)')
    .option('--config <file>', 'take price overrides from this configurations file (its prices: section) (default: none)')
    .action(async (dir: string, flags: CostFlags) => {
      const [{ loadConfigFile }, { writeCostCsv }, { loadPricesFile }, { costTable }] = await Promise.all([
        import('../bench/config/file.js'),
        import('../bench/analyze/cost.js'),
        import('../bench/config/prices.js'),
        import('../bench/report/cost-table.js'),
      ]);
      let overrides: PriceOverrides = {};
      if (flags.config) overrides = { ...overrides, ...((await loadConfigFile(flags.config)).prices as PriceOverrides) };
      if (flags.prices) overrides = { ...overrides, ...(await loadPricesFile(flags.prices)) };
      const { file, rows, warnings } = await writeCostCsv(dir, overrides);
      for (const w of warnings) process.stderr.write(`cost: ${w}\n`);
      process.stdout.write(`${costTable(rows)}\n\nwrote ${file}\n`);
    });
}
