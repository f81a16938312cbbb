/**
 * `rkvs clean --config FILE --prefix P [--yes] [--dry-run]`: removes leftovers of runs (every key
 * starting with P) from every replica of the configurations.
 */
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import type { CleanResult } from '../bench/config/clean.js';
import { selectConfigurations } from './probe.js';

interface CleanFlags {
  config?: string;
  configs?: string;
  prefix?: string;
  yes?: boolean;
  dryRun?: boolean;
}

export function registerClean(program: Command): void {
  program
    .command('clean')
    .description('remove every object under a run prefix (leftovers of interrupted runs) from every replica')
    .option('--config <file>', 'provider configurations file or preset name (default: the local emulators)')
    .option('--configs <a,b>', 'names of the configurations of --config to clean (default: all)')
    .option('--prefix <prefix>', 'remove keys starting with this prefix, e.g. rkvs-20250101-120000-default (rkvs- removes every run) (required, no default)')
    .option('--yes', 'allow a prefix outside the rkvs- prefix root')
    .option('--dry-run', 'only count the keys that would be removed')
    .action(async (flags: CleanFlags) => {
      const { checkCleanPrefix, cleanPrefix } = await import('../bench/config/clean.js');
      const handles = await selectConfigurations(flags.config, flags.configs);
      for (const h of handles) checkCleanPrefix(flags.prefix, h.prefixRoot, flags.yes);
      const results: CleanResult[] = [];
      for (const h of handles) results.push(...(await cleanPrefix(h, flags.prefix!, { yes: flags.yes, dryRun: flags.dryRun })));
      for (const r of results) {
        // no key found and an error: the listing itself failed (a silent or unreachable replica)
        const unlisted = r.errors > 0 && r.found === 0;
        const what = unlisted ? `could not list the keys under ${flags.prefix}` : flags.dryRun ? `${r.found} key(s) would be removed` : `removed ${r.removed} of ${r.found} key(s)`;
        process.stdout.write(`${r.config}/${r.replica}: ${what}${r.errors ? `${unlisted ? ':' : `, ${r.errors} error(s):`} ${r.firstError}` : ''}\n`);
      }
      const bad = results.filter((r) => r.errors > 0);
      if (bad.length)
        throw new ExitCode(1, `clean: ${bad.length} replica(s) could not be cleaned completely (${bad.map((r) => `${r.config}/${r.replica}: ${r.firstError}`).join('; ')}); rerun rkvs clean`);
    });
}
