/**
 * `rkvs check <history.jsonl> [--model linearizable|regular] [--timeout ms]`
 * Checks a recorded history. Exit codes: 0 ok, 1 violation, 3 unknown (time limit), 2 usage error.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CheckModel } from '../check/index.js';
import { ExitCode } from '../exit-codes.js';
import { ConfigError } from '../errors.js';

const MODELS: readonly CheckModel[] = ['linearizable', 'regular'];

export interface CheckCommandOptions {
  model: string;
  timeout: string;
  minimize: boolean;
}

/** Runs the check; returns the exit code and the text to print. */
export async function runCheck(file: string, opts: CheckCommandOptions): Promise<{ code: number; text: string }> {
  if (!MODELS.includes(opts.model as CheckModel)) {
    throw new ConfigError('--model', `unknown model ${JSON.stringify(opts.model)}; use linearizable (atomic register) or regular`);
  }
  const timeoutMs = Number(opts.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigError('--timeout', `must be a positive number of milliseconds, got ${JSON.stringify(opts.timeout)}`);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError('history', `cannot read ${file}: ${(e as Error).message}`);
  }
  const { checkHistory, formatVerdict, parseHistory, verdictExitCode } = await import('../check/index.js');
  const history = parseHistory(text, file);
  const verdict = checkHistory(history, opts.model as CheckModel, { timeoutMs, minimize: opts.minimize });
  return { code: verdictExitCode(verdict), text: formatVerdict(verdict) };
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('check a recorded history (JSON lines) for linearizability or regularity; exit 0 ok, 1 violation, 3 unknown')
    .argument('<history>', 'history file, one operation per line: {"client","op","register","input","output","call","return"}')
    .option('--model <model>', 'linearizable (atomic register) or regular', 'linearizable')
    .option('--timeout <ms>', 'time limit of the search; past it the verdict is unknown (exit 3)', '10000')
    .option('--no-minimize', 'report the whole failing register instead of a minimal set of operations')
    .action(async (file: string, opts: CheckCommandOptions) => {
      const { code, text } = await runCheck(file, opts);
      process.stdout.write(`${text}\n`);
      if (code !== 0) throw new ExitCode(code);
    });
}
