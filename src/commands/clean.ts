/**
 * `rkvs clean --config FILE --prefix <prefixRoot>bench/<run-id>/ [--yes] [--dry-run]`: removes what
 * a run left (interrupted, killed) from every replica of the configurations. Only whole run
 * prefixes ending in `/` are taken (config/run-prefix.ts: checkCleanPrefix), and the exact prefix
 * is printed for every configuration before anything is removed.
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
    .description('remove every object under one run prefix (what an interrupted or killed run left) from every replica')
    .option('--config <file>', 'provider configurations file or preset name (default: the local emulators)')
    .option('--configs <a,b>', 'names of the configurations of --config to clean (default: all)')
    .option(
      '--prefix <prefix>',
      'the whole prefix of one run, ending in "/": <prefixRoot>bench/<run-id>/ (e.g. rkvs-bench/20250101-120000-default-k3x9q2/, as bench prints it and meta.json records it) or <prefixRoot>probe-<run-id>/ (required, no default)',
    )
    .option('--yes', 'allow a prefix outside the configuration\'s prefix root (it must still end in "/")')
    .option('--dry-run', 'only count the keys that would be removed')
    .addHelpText(
      'after',
      `
Examples:
  rkvs clean --config my-clouds.yaml --prefix rkvs-bench/20250101-120000-default-k3x9q2/
  rkvs clean --config my-clouds.yaml --configs aws+azure+gcs --prefix rkvs-bench/nightly-42/ --dry-run`,
    )
    .action(async (flags: CleanFlags) => {
      const { checkCleanPrefix, cleanPrefix } = await import('../bench/config/clean.js');
      const handles = await selectConfigurations(flags.config, flags.configs);
      for (const h of handles) checkCleanPrefix(flags.prefix, h.prefixRoot, flags.yes);
      const prefix = flags.prefix!;
      const results: CleanResult[] = [];
      for (const h of handles) {
        process.stdout.write(`${flags.dryRun ? 'would remove' : 'removing'} every object under ${prefix} from configuration ${h.name} (${h.spec.replicas.map((r) => r.name).join(', ')})\n`);
        results.push(...(await cleanPrefix(h, prefix, { yes: flags.yes, dryRun: flags.dryRun })));
      }
      for (const r of results) {
        // no key found and an error: the listing itself failed (a silent or unreachable replica)
        const unlisted = r.errors > 0 && r.found === 0;
        const what = unlisted
          ? `could not list the keys under ${prefix}`
          : flags.dryRun
            ? `${r.found} key(s) under ${prefix} would be removed`
            : `removed ${r.removed} of ${r.found} key(s) under ${prefix}`;
        process.stdout.write(`${r.config}/${r.replica}: ${what}${r.errors ? `${unlisted ? ':' : `, ${r.errors} error(s):`} ${r.firstError}` : ''}\n`);
      }
      const bad = results.filter((r) => r.errors > 0);
      if (bad.length)
        throw new ExitCode(1, `clean: ${bad.length} replica(s) could not be cleaned completely (${bad.map((r) => `${r.config}/${r.replica}: ${r.firstError}`).join('; ')}); rerun rkvs clean`);
    });
}
