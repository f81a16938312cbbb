/**
 * `rkvs merge DIR... [--out BASE]`: combines the report directories of the shards of one run
 * (`rkvs bench --shard i/N --run-id ID` on several machines) into one report directory
 * `<BASE>/<run-id>/` in the format `rkvs bench` writes, and prints its summary table.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { decimalFlag, LIMITS } from './flags.js';

interface MergeFlags {
  out: string;
  allowPartial?: boolean;
  maxSkew: string;
  overwrite?: boolean;
}

/** True when `dir` holds a report written by an earlier merge (so it may be replaced). */
async function isMergeOutput(dir: string): Promise<boolean> {
  try {
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as { merged_from?: unknown };
    return Array.isArray(meta.merged_from);
  } catch {
    return false;
  }
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('combine the report directories of the shards of a run (rkvs bench --shard i/N) into one report')
    .argument('<dirs...>', 'report directories written by rkvs bench --shard i/N --run-id ID, one per shard')
    .option('--out <dir>', 'base directory of the merged report directory (<out>/<run-id>/)', 'reports')
    .option('--allow-partial', 'merge even when some shard indexes are missing')
    .option('--max-skew <s>', 'warn when the shards started a cell more than this many seconds apart', '2')
    .option('--overwrite', 'replace an existing directory <out>/<run-id>/ wholly (an earlier merge is replaced without it)')
    .action(async (dirs: string[], flags: MergeFlags) => {
      const maxSkewS = decimalFlag('--max-skew', flags.maxSkew, { min: 0, max: LIMITS.waitS, unit: 'seconds', inclusive: true, example: '2' })!;
      const [{ checkShards, mergeShards, readShardDir }, { prepareRunDir }, { finishReportDir, writeReport }, { summaryTable }] = await Promise.all([
        import('../bench/analyze/merge.js'),
        import('../bench/record/run-dir.js'),
        import('../bench/report/files.js'),
        import('../bench/report/table.js'),
      ]);
      const shards = [];
      for (const d of dirs) shards.push(await readShardDir(d));
      const warnings = checkShards(shards, { allowPartial: flags.allowPartial });
      const merged = mergeShards(shards, { maxSkewMs: maxSkewS * 1000 });
      warnings.push(...merged.warnings);
      const target = path.resolve(flags.out, merged.meta.run_id);
      if (shards.some((s) => s.dir === target)) throw new ConfigError('--out', `${target} is one of the shard directories; choose another --out`);
      // an earlier merge is replaced whole (never written into: no file of it stays beside the new
      // ones); any other existing directory only with --overwrite
      const replace = flags.overwrite || (existsSync(target) && (await isMergeOutput(target)));
      if (existsSync(target) && !replace)
        throw new ConfigError('--out', `${target} already exists and is not an earlier merge; choose another --out, or give --overwrite to replace it wholly`);
      const run = await prepareRunDir(flags.out, merged.meta.run_id, { overwrite: replace, flag: '--out' });
      const dir = run.dir;
      for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
      try {
        await writeReport(run.staging, merged.results, merged.meta, merged.history ? { history: merged.history } : {});
        await run.commit();
      } catch (e) {
        // a report that could not be moved into place is kept where the message says
        if (!(e instanceof Error && e.message.includes(run.staging))) run.discard();
        throw e;
      }
      await finishReportDir(dir, (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(`merged ${shards.length} shard(s) of run ${merged.meta.run_id} (largest start skew ${(merged.maxSkewMs / 1000).toFixed(2)} s)\n`);
      if (merged.clockLines.length) {
        const ref = merged.clocks[0]?.shard ?? 0;
        process.stdout.write(`clock offsets from shard ${ref}'s clock, measured against the replicas (skew judged at offset ± bound against --max-skew ${maxSkewS} s):\n`);
        for (const l of merged.clockLines) process.stdout.write(`  ${l}\n`);
      }
      if (merged.history) process.stdout.write(`history: ${merged.history.length} operations of ${shards.length} shard(s) on shard ${merged.clocks[0]?.shard ?? 0}'s clock in ${path.join(dir, 'history.jsonl')} (check it with rkvs check)\n`);
      process.stdout.write(summaryTable(merged.results, dir));
    });
}
