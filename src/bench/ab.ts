/**
 * An A/B run (`rkvs ab BASE_REF [HEAD_REF]`) as stages: check out the base (and head) ref in
 * temporary git worktrees → start the emulators once → run both versions' `rkvs bench` on the same
 * suite, interleaved round by round on the same emulators → pool each version's rounds into one
 * report directory (analyze/pool.ts) → remove the worktrees. The command then compares the two
 * pooled directories exactly as `rkvs compare` does.
 *
 * Round r runs base then head when r is even, head then base when it is odd (ABBA...), so drift
 * over the run and whatever the first run of a pair pays hit both versions alike. Both versions run
 * round r with the same seed (the same operations), and round r + 1 with the next one.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { Suite } from './config/suite.js';
import { poolRounds } from './analyze/pool.js';
import { makeRunId } from './run/plan.js';
import { checkBenchInterface, exec, gitRoot, prepareWorktree, removeWorktree, resolveCommit, workingTree, type Version } from './run/versions.js';

export interface AbOptions {
  /** Where the git checkout is looked for. */
  cwd: string;
  baseRef: string;
  /** Default: HEAD and the working tree as they are. */
  headRef?: string;
  suite: Suite;
  /** A configurations file (and names in it) both versions run on; default: the suite's, with the emulators started once. */
  config?: string;
  configs?: string;
  rounds: number;
  /** Seed of round 0 (round r uses seed + r). @default the suite's */
  seed?: number;
  /** Base directory of the A/B directory. */
  out: string;
  /** Compile the checked-out versions instead of running their sources. */
  build?: boolean;
  /** Leave the worktrees in place (for a look after the run). */
  keep?: boolean;
  signal?: AbortSignal;
  say: (line: string) => void;
  now?: Date;
}

/** One `rkvs bench` of one version in one round. */
export interface AbInvocation {
  side: 'base' | 'head';
  round: number;
  seed: number;
  seconds: number;
  /** 1-minute load average before and after. */
  load_before: number;
  load_after: number;
}

export interface AbOutcome {
  dir: string;
  baseDir: string;
  headDir: string;
  base: Version;
  head: Version;
  invocations: AbInvocation[];
  warnings: string[];
}

/** Runs both versions' suites, interleaved; returns the two pooled report directories. */
export async function runAb(o: AbOptions): Promise<AbOutcome> {
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new ConfigError('--rounds', `expected a whole number >= 1, got ${o.rounds}`);
  const root = await gitRoot(o.cwd);
  const baseCommit = await resolveCommit(root, o.baseRef, 'BASE_REF');
  const headCommit = o.headRef === undefined ? undefined : await resolveCommit(root, o.headRef, 'HEAD_REF');
  const dir = path.resolve(o.out, makeRunId('ab', o.now ?? new Date()));
  if (existsSync(dir)) throw new ConfigError('--out', `${dir} already exists; wait a second, or give another --out`);
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-ab-'));
  const created: string[] = [];
  let stopEmulators: (() => Promise<void>) | undefined;
  try {
    const prep = { build: o.build ?? false, modulesFrom: PACKAGE_ROOT, signal: o.signal, say: o.say };
    o.say(`base: ${o.baseRef} (${baseCommit.slice(0, 12)}): checking out in ${path.join(tmp, 'base')} ...`);
    created.push(path.join(tmp, 'base'));
    const base = await prepareWorktree(root, { side: 'base', ref: o.baseRef, commit: baseCommit }, path.join(tmp, 'base'), { ...prep, log: path.join(dir, 'logs', 'base-install.log') });
    let head: Version;
    if (o.headRef === undefined || headCommit === undefined) head = await workingTree(root);
    else {
      o.say(`head: ${o.headRef} (${headCommit.slice(0, 12)}): checking out in ${path.join(tmp, 'head')} ...`);
      created.push(path.join(tmp, 'head'));
      head = await prepareWorktree(root, { side: 'head', ref: o.headRef, commit: headCommit }, path.join(tmp, 'head'), { ...prep, log: path.join(dir, 'logs', 'head-install.log') });
    }
    for (const v of [base, head]) {
      await checkBenchInterface(v, o.signal);
      o.say(`${v.side}: ${v.ref} at ${v.commit.slice(0, 12)}${v.dirty ? ' + uncommitted changes' : ''} in ${v.dir}; ${v.install}; ${v.build}`);
    }
    const suiteFile = path.join(dir, 'suite.json');
    await writeFile(suiteFile, JSON.stringify(portableSuite(o.suite), null, 2) + '\n');
    const env: NodeJS.ProcessEnv = { ...process.env };
    let config = o.config;
    if (!config && o.suite.kind === 'latency' && o.suite.defaultConfig === 'emulators') {
      const shared = await startSharedEmulators(dir, env, o);
      stopEmulators = shared.stop;
      config = shared.file;
    }
    const invocations = await runRounds(o, { base, head, dir, suiteFile, config, env });
    const warnings: string[] = [];
    const rounds = (side: string) => Array.from({ length: o.rounds }, (_, r) => path.join(dir, `${side}-r${r}`));
    const describe = (v: Version) => ({ side: v.side, ref: v.ref, commit: v.commit, dirty: v.dirty, install: v.install, build: v.build });
    warnings.push(...(await poolRounds(rounds('base'), path.join(dir, 'base'), { ab: describe(base) })));
    warnings.push(...(await poolRounds(rounds('head'), path.join(dir, 'head'), { ab: describe(head) })));
    const record = { base: describe(base), head: describe(head), suite: o.suite.name, config: config ?? null, configs: o.configs ?? null, rounds: o.rounds, invocations, warnings };
    await writeFile(path.join(dir, 'ab.json'), JSON.stringify(record, null, 2) + '\n');
    return { dir, baseDir: path.join(dir, 'base'), headDir: path.join(dir, 'head'), base, head, invocations, warnings };
  } finally {
    await stopEmulators?.().catch(() => undefined);
    if (!o.keep) {
      for (const w of created) await removeWorktree(root, w);
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    } else if (created.length) o.say(`kept the worktrees in ${tmp} (remove them with: git worktree remove --force <dir>)`);
  }
}

/** The suite as a JSON suite file both versions can read: only the fields a suite of its kind uses. */
export function portableSuite(s: Suite): Record<string, unknown> {
  const { kind, model, micro, checks: _checks, workers, ...rest } = s;
  return { ...rest, ...(kind !== 'latency' ? { kind } : {}), ...(kind === 'model' && model ? { model } : {}), ...(kind === 'micro' ? { micro } : {}), ...(workers !== undefined ? { workers } : {}) };
}

interface RoundContext {
  base: Version;
  head: Version;
  dir: string;
  suiteFile: string;
  config?: string;
  env: NodeJS.ProcessEnv;
}

async function runRounds(o: AbOptions, c: RoundContext): Promise<AbInvocation[]> {
  const out: AbInvocation[] = [];
  const seed0 = o.seed ?? o.suite.seed;
  for (let r = 0; r < o.rounds; r++) {
    for (const v of r % 2 === 0 ? [c.base, c.head] : [c.head, c.base]) {
      if (o.signal?.aborted) throw new Error('interrupted');
      const seed = seed0 + r;
      const args = [path.join(v.dir, 'bin', 'rkvs.js'), 'bench', '--suite', c.suiteFile, '--out', c.dir, '--run-id', `${v.side}-r${r}`, '--seed', String(seed), '--no-progress', '--no-checks'];
      if (c.config) args.push('--config', c.config);
      if (c.config && o.configs) args.push('--configs', o.configs);
      if (v.noHtml) args.push('--no-html');
      const log = path.join(c.dir, 'logs', `${v.side}-r${r}.log`);
      const loadBefore = os.loadavg()[0] ?? 0;
      const t0 = performance.now();
      o.say(`round ${r + 1}/${o.rounds}: ${v.side} (${v.ref}) ...`);
      const res = await exec(process.execPath, args, { cwd: v.dir, env: c.env, timeoutMs: 4 * 3600_000, signal: o.signal, log });
      const seconds = (performance.now() - t0) / 1000;
      if (res.code !== 0) {
        if (o.signal?.aborted) throw new Error('interrupted');
        const tail = res.stderr.trim().split('\n').slice(-4).join('\n  ');
        throw new Error(`${v.side} ${v.ref} (${v.commit.slice(0, 12)}), round ${r + 1}: rkvs bench exited ${res.code}; see ${log}:\n  ${tail}`);
      }
      out.push({ side: v.side, round: r, seed, seconds: Number(seconds.toFixed(2)), load_before: round2(loadBefore), load_after: round2(os.loadavg()[0] ?? 0) });
    }
  }
  return out;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Starts the S3, Azure and GCS emulators once for both versions, and writes a configurations file
 * (`emulators`, the same name and replica names as the default configuration) that points every
 * run at them; their credentials go to the runs through environment variables it names.
 */
async function startSharedEmulators(dir: string, env: NodeJS.ProcessEnv, o: AbOptions): Promise<{ file: string; stop: () => Promise<void> }> {
  o.say('starting the S3, Azure and GCS emulators once for both versions ...');
  const { startEmulators } = await import('../emulators/index.js');
  const running = await startEmulators(['s3', 'azure', 'gcs'], { signal: o.signal });
  try {
    env.RKVS_AB_S3_ACCESS_KEY_ID = running.s3.accessKeyId ?? '';
    env.RKVS_AB_S3_SECRET_ACCESS_KEY = running.s3.secretAccessKey ?? '';
    env.RKVS_AB_AZURE_CONNECTION_STRING = running.azure.connectionString ?? '';
    const yaml = [
      '# Written by rkvs ab: the emulators it started once, shared by both versions (credentials in the environment of each run).',
      'version: 1',
      'configurations:',
      '  emulators:',
      '    description: local S3, Azure and GCS emulators started once by rkvs ab for both versions',
      '    replicas:',
      `      - { provider: s3, name: s3-emulator, endpoint: "${running.s3.endpoint}", region: us-east-1, forcePathStyle: true, bucket: rkvs-bench, createIfMissing: true, credentials: { accessKeyIdEnv: RKVS_AB_S3_ACCESS_KEY_ID, secretAccessKeyEnv: RKVS_AB_S3_SECRET_ACCESS_KEY } }`,
      `      - { provider: azure, name: azure-emulator, container: rkvs-bench, createIfMissing: true, credentials: { connectionStringEnv: RKVS_AB_AZURE_CONNECTION_STRING } }`,
      `      - { provider: gcs, name: gcs-emulator, endpoint: "${running.gcs.endpoint}", bucket: rkvs-bench, projectId: ${running.gcs.projectId ?? 'rkvs-emulator'}, createIfMissing: true }`,
      '    t: 1',
      '',
    ].join('\n');
    const file = path.join(dir, 'emulators.yaml');
    await writeFile(file, yaml);
    return { file, stop: () => running.stop() };
  } catch (e) {
    await running.stop();
    throw e;
  }
}
