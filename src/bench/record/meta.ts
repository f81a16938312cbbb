/** meta.json: what ran, where, with which code, and when. Secrets are redacted (src/util/redact.ts). */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import type { Suite } from '../config/suite.js';
import { REPORT_FORMAT } from './schema.js';

const ROOT = PACKAGE_ROOT;

export interface RunMeta {
  /** Version of the report directory format (record/schema.ts); absent in format 1. */
  format?: number;
  run_id: string;
  suite: string;
  tool_version: string;
  git_commit: string | null;
  node: string;
  os: string;
  cpu: { model: string; cores: number };
  start: string;
  end: string | null;
  seeds: Record<string, number>;
  configurations: Record<string, unknown>[];
  options: Record<string, unknown>;
  shard?: { index: number; count: number };
  interrupted?: boolean;
  failures?: string[];
  [extra: string]: unknown;
}

export async function toolVersion(): Promise<string> {
  try {
    return (JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The git directory of a checkout: `.git` itself, or where a `.git` file points (a worktree or a
 * submodule: `gitdir: <path>`), with the common directory holding refs shared by worktrees.
 */
async function gitDirs(root: string): Promise<{ gitDir: string; commonDir: string }> {
  const dotGit = path.join(root, '.git');
  let gitDir = dotGit;
  try {
    const pointer = /^gitdir: (.+)$/m.exec(await readFile(dotGit, 'utf8'))?.[1]?.trim();
    if (pointer) gitDir = path.resolve(root, pointer);
  } catch {
    // a directory (EISDIR) or no .git at all: the reads below decide
  }
  let commonDir = gitDir;
  try {
    commonDir = path.resolve(gitDir, (await readFile(path.join(gitDir, 'commondir'), 'utf8')).trim());
  } catch {
    // not a worktree
  }
  return { gitDir, commonDir };
}

/** The checked-out commit, read from the git directory (no git process), or null outside a git checkout. */
export async function gitCommit(root = ROOT): Promise<string | null> {
  try {
    const { gitDir, commonDir } = await gitDirs(root);
    const head = (await readFile(path.join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref: (.+)$/.exec(head)?.[1];
    if (!ref) return null;
    for (const dir of [gitDir, commonDir]) {
      try {
        return (await readFile(path.join(dir, ref), 'utf8')).trim();
      } catch {
        // packed, or in the common directory
      }
    }
    const packed = await readFile(path.join(commonDir, 'packed-refs'), 'utf8');
    for (const line of packed.split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref && sha) return sha;
    }
    return null;
  } catch {
    return null;
  }
}

/**
 * A deep copy with every secret-looking field (and URL credentials, connection-string keys, ...)
 * replaced by "***": the one redaction of src/util/redact.ts, applied to a structured value.
 */
export { redactValue as redact } from '../../util/redact.js';

export async function baseMeta(runId: string, suite: string, start: Date): Promise<RunMeta> {
  const cpus = os.cpus();
  return {
    format: REPORT_FORMAT,
    run_id: runId,
    suite,
    tool_version: await toolVersion(),
    git_commit: await gitCommit(),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
    start: start.toISOString(),
    end: null,
    seeds: {},
    configurations: [],
    options: {},
  };
}

/** Short hash of a suite's definition: shards and merges check they ran the same suite. */
export function suiteHash(suite: Suite): string {
  return createHash('sha256').update(JSON.stringify(suite)).digest('hex').slice(0, 16);
}
