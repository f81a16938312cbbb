/**
 * `rkvs soak [--seeds N] [--start S] [--variant ...] [--schedule ...]`
 * Runs many deterministic simulations of the register and checks every history. Every failure
 * prints the seed, what failed and a replay command; exit 1 when any run failed.
 * `--history FILE` keeps the history of the first failing run (of the last run when none failed);
 * `--keep-failures DIR` keeps the history of every failing run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../exit-codes.js';
import { ConfigError } from '../errors.js';
import { mkdirs } from '../util/fs.js';
import { intFlag, LIMITS } from './flags.js';
import type { Schedule, Variant } from '../register/index.js';
import type { CrashMode, SimOptions } from '../sim/index.js';
// The names the options offer come from these three small modules; the simulator and the checkers
// load in the action.
import { MUTANTS } from '../sim/mutants.js';
import { SCENARIO_NAMES } from '../sim/scenarios.js';
import { STRATEGY_NAMES } from '../sim/strategies.js';

interface SoakOptions {
  seeds: string;
  start: string;
  variant: string;
  schedule: string;
  strategy?: string;
  mutant?: string;
  replicas?: string;
  clients?: string;
  ops?: string;
  registers?: string;
  replicaCrashes?: string;
  clientCrashes?: string;
  crashMode?: string;
  gc?: string;
  maxFailures: string;
  history?: string;
  keepFailures?: string;
  verbose?: boolean;
  progress: boolean;
}

/** Bounds of soak's numbers: every simulation stays small, and a run ends (1e6 seeds take hours). */
const SOAK_MAX = { seeds: 1_000_000, replicas: 99, clients: 64, ops: 1000, registers: 1000, failures: 1_000_000 } as const;

function oneOf<T extends string>(path: string, v: string, allowed: readonly T[]): T[] {
  if (v === 'all') return [...allowed];
  const parts = v.split(',').map((s) => s.trim());
  for (const p of parts) {
    if (!allowed.includes(p as T)) throw new ConfigError(path, `unknown value ${JSON.stringify(p)}; use ${allowed.join(', ')} or all`);
  }
  return parts as T[];
}

export function registerSoak(program: Command): void {
  program
    .command('soak')
    .description('run many seeded simulations of the register and check every history (exit 1 on any failure)')
    .option('--seeds <n>', 'seeds per variant and schedule', '10000')
    .option('--start <seed>', 'first seed', '1')
    .option('--variant <list>', 'regular, atomic, a comma list, or all', 'all')
    .option('--schedule <list>', 'classic, fast, a comma list, or all', 'all')
    .option('--strategy <name>', `delay strategy: mixed (one of the others, drawn per seed), ${[...STRATEGY_NAMES, ...SCENARIO_NAMES].join(', ')} (default: mixed)`)
    .option('--mutant <name>', `run a known-broken variant: ${MUTANTS.map((m) => m.name).join(', ')} (default: none, the correct register)`)
    .option('--replicas <n>', 'replicas n (default 3 or 5 per seed)')
    .option('--clients <n>', 'concurrent clients (default 2-4 per seed)')
    .option('--ops <n>', 'operations per client (default 2-5 per seed)')
    .option('--registers <n>', 'registers (default 1-2 per seed)')
    .option('--replica-crashes <n>', 'crashed replicas, at most t (default 0..t per seed)')
    .option('--client-crashes <n>', 'crashed clients (default 0-1 per seed)')
    .option('--crash-mode <mode>', 'crashed replicas hang or error (default: per replica)')
    .option('--gc <mode>', 'background or sync (default per seed)')
    .option('--max-failures <n>', 'stop after this many failing runs', '5')
    .option('--history <file>', 'write the history of the first failing run (of the last run when none failed) as JSON lines (default: not written)')
    .option('--keep-failures <dir>', 'write the history of every failing run to <dir>/<variant>-<schedule>-seed<N>.jsonl (default: not written)')
    .option('--verbose', 'print every run')
    .option('--no-progress', 'no progress line')
    .action(async (o: SoakOptions) => {
      const seeds = intFlag('--seeds', o.seeds, 1, SOAK_MAX.seeds, 2000)!;
      const start = intFlag('--start', o.start, 0, LIMITS.seed - seeds + 1, 1)!;
      const variants = oneOf<Variant>('--variant', o.variant, ['regular', 'atomic']);
      const schedules = oneOf<Schedule>('--schedule', o.schedule, ['classic', 'fast']);
      const strategies = ['mixed', ...STRATEGY_NAMES, ...SCENARIO_NAMES];
      if (o.strategy !== undefined && !strategies.includes(o.strategy)) {
        throw new ConfigError('--strategy', `unknown strategy ${JSON.stringify(o.strategy)}; use ${strategies.join(', ')}`);
      }
      if (o.mutant !== undefined && !MUTANTS.some((m) => m.name === o.mutant)) {
        throw new ConfigError('--mutant', `unknown mutant ${JSON.stringify(o.mutant)}; use ${MUTANTS.map((m) => m.name).join(', ')}`);
      }
      if (o.crashMode !== undefined && o.crashMode !== 'hang' && o.crashMode !== 'error') {
        throw new ConfigError('--crash-mode', `use hang or error, got ${JSON.stringify(o.crashMode)}`);
      }
      if (o.gc !== undefined && o.gc !== 'background' && o.gc !== 'sync') {
        throw new ConfigError('--gc', `use background or sync, got ${JSON.stringify(o.gc)}`);
      }
      const n = intFlag('--replicas', o.replicas, 1, SOAK_MAX.replicas, 5);
      if (n !== undefined && n < 3 && (o.replicaCrashes ?? '0') !== '0') {
        throw new ConfigError('--replicas', 'tolerating a crash needs n >= 3 (n >= 2t + 1)');
      }
      const maxFailures = intFlag('--max-failures', o.maxFailures, 1, SOAK_MAX.failures, 5)!;
      const base: Omit<SimOptions, 'seed' | 'variant' | 'schedule'> = {
        strategy: o.strategy,
        mutant: o.mutant,
        n,
        clients: intFlag('--clients', o.clients, 1, SOAK_MAX.clients, 3),
        opsPerClient: intFlag('--ops', o.ops, 1, SOAK_MAX.ops, 4),
        registers: intFlag('--registers', o.registers, 1, SOAK_MAX.registers, 2),
        replicaCrashes: intFlag('--replica-crashes', o.replicaCrashes, 0, SOAK_MAX.replicas, 1),
        clientCrashes: intFlag('--client-crashes', o.clientCrashes, 0, SOAK_MAX.clients, 1),
        replicaCrashMode: o.crashMode as CrashMode | undefined,
        gc: o.gc as SimOptions['gc'],
      };
      for (const [k, v] of Object.entries(base)) if (v === undefined) delete (base as Record<string, unknown>)[k];

      const [{ describeRun, runSimulation }, { formatHistory }] = await Promise.all([import('../sim/index.js'), import('../check/index.js')]);
      const total = seeds * variants.length * schedules.length;
      const started = Date.now();
      const tty = o.progress && process.stderr.isTTY;
      let done = 0;
      let failures = 0;
      let events = 0;
      let maxExcess = Number.NEGATIVE_INFINITY;
      // --history: the first failing run, else the last run
      let lastHistory: string | null = null;
      let failedSaved = false;
      const writeOut = async (path: string, flag: string, text: string) => {
        try {
          await writeFile(path, text);
        } catch (e) {
          throw new ConfigError(flag, `cannot write ${path}: ${(e as Error).message}`);
        }
      };
      if (o.keepFailures) {
        try {
          await mkdirs(o.keepFailures);
        } catch (e) {
          throw new ConfigError('--keep-failures', `cannot create directory ${o.keepFailures}: ${(e as Error).message}`);
        }
      }
      const progress = () => {
        const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
        const line = `soak: ${done}/${total} runs, ${failures} failed, ${events} events, ${rate.toFixed(0)} runs/s`;
        if (tty) process.stderr.write(`\r${line}`);
        else process.stderr.write(`${line}\n`);
      };
      let lastReport = Date.now();
      outer: for (const variant of variants) {
        for (const schedule of schedules) {
          for (let seed = start; seed < start + seeds; seed++) {
            const r = await runSimulation({ ...base, seed, variant, schedule });
            done++;
            events += r.events;
            maxExcess = Math.max(maxExcess, r.space.maxExcess);
            if (o.history && !failedSaved) lastHistory = formatHistory(r.history);
            if (o.verbose) {
              process.stdout.write(`${variant}/${schedule} seed ${seed}: ${r.failures.length ? 'FAILED' : 'ok'} (${r.history.length} ops, ${r.events} events, ${r.config.strategy})\n`);
            }
            if (r.failures.length > 0) {
              failures++;
              if (tty) process.stderr.write('\n');
              process.stdout.write(`FAILED ${variant}/${schedule} ${describeRun(r)}\n\n`);
              if (o.history && !failedSaved) {
                await writeOut(o.history, '--history', formatHistory(r.history));
                failedSaved = true;
                lastHistory = null;
              }
              if (o.keepFailures) {
                const file = join(o.keepFailures, `${variant}-${schedule}-seed${seed}.jsonl`);
                await writeOut(file, '--keep-failures', formatHistory(r.history));
                process.stdout.write(`history of seed ${seed}: ${file}\n\n`);
              }
              if (failures >= maxFailures) break outer;
            }
            if (o.progress && Date.now() - lastReport > (tty ? 250 : 10_000)) {
              lastReport = Date.now();
              progress();
            }
          }
        }
      }
      if (o.progress) {
        progress();
        if (tty) process.stderr.write('\n');
      }
      if (o.history && !failedSaved && lastHistory !== null) await writeOut(o.history, '--history', lastHistory);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `${failures === 0 ? 'ok' : 'FAILED'}: ${done} runs (${variants.join(',')} x ${schedules.join(',')}, seeds ${start}..${start + seeds - 1}` +
          `${o.mutant ? `, mutant ${o.mutant}` : ''}), ${failures} failed, ${events} events in ${secs}s; ` +
          `largest space excess over (operations in flight + 2): ${maxExcess}\n`,
      );
      if (failures > 0) throw new ExitCode(1);
    });
}
