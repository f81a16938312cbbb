/**
 * Runs on shared replicas (directories every process reaches, like the local-dirs preset) never
 * touch each other's objects: a run owns its prefix, so a second run with the same --run-id is
 * refused while the first holds it, and the first's objects and history stay whole; every object
 * lands under the configuration's defaults.prefixRoot, so the bucket guard accepts the next run,
 * and the cleanup command a run prints removes what a killed run left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/adapters/fs.js';
import { checkHistory, parseHistory } from '../../src/check/index.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  done: Promise<number | null>;
}

function rkvs(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stderr: () => err, stdout: () => out, done };
}

async function waitFor(p: Proc, what: RegExp, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = what.exec(p.stderr());
    if (m) return m[0];
    if (p.child.exitCode !== null) throw new Error(`the run ended (code ${p.child.exitCode}) before ${what}:\n${p.stderr()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-prefix-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A configuration file of three directories under `dir`, with an optional prefix root. */
async function dirsConfig(dir: string, prefixRoot?: string): Promise<string> {
  const file = path.join(dir, 'dirs.yaml');
  await writeFile(
    file,
    (prefixRoot ? `defaults:\n  prefixRoot: ${prefixRoot}\n` : '') +
      'configurations:\n  dirs:\n    replicas:\n' +
      [0, 1, 2].map((i) => `      - { provider: fs, dir: r${i}, name: dir-${i} }\n`).join(''),
  );
  return file;
}

async function keysOf(dir: string): Promise<string[][]> {
  const out: string[][] = [];
  for (const i of [0, 1, 2]) {
    const s = createFsStore({ dir: path.join(dir, `r${i}`) });
    out.push(await s.list(''));
    await s.close();
  }
  return out;
}

/** The history of a run checks, variant by variant (regular: regular; atomic and raw: linearizable). */
async function expectHistoryChecks(runDir: string): Promise<void> {
  const ops = parseHistory(await readFile(path.join(runDir, 'history.jsonl'), 'utf8'), 'history.jsonl');
  expect(ops.length).toBeGreaterThan(0);
  for (const [variant, model] of [['regular', 'regular'], ['atomic', 'linearizable']] as const) {
    const mine = ops.filter((o) => o.register.startsWith(`dirs/${variant}/`));
    expect(mine.length, variant).toBeGreaterThan(0);
    const v = checkHistory(mine, model);
    expect(v.result, `${variant}: ${JSON.stringify(v).slice(0, 300)}`).toBe('ok');
  }
}

/** Copies per register at quiescence of the one-client cells: exactly 2 at every replica. */
async function expectTwoCopies(runDir: string): Promise<void> {
  const [head, ...rows] = (await readFile(path.join(runDir, 'overhead.csv'), 'utf8')).trim().split('\n').map((l) => l.split(','));
  const col = (name: string) => head!.indexOf(name);
  const q = rows.filter((r) => r[col('phase')] === 'quiescent' && r[col('variant')] !== 'raw' && r[col('clients')] === '1');
  expect(q.length).toBeGreaterThan(0);
  for (const r of q) expect(Number(r[col('copies_per_register')]), r.join(',')).toBe(2);
}

const QUICK = ['bench', '--suite', 'quick', '--variants', 'regular,atomic', '--history', '--no-checks'];

describe('two runs with the same --run-id on shared replicas', () => {
  it('the second is refused while the first holds the prefix; the first runs whole: its history checks, 2.00 copies per register', async () => {
    const dir = path.join(tmp, 'same-id');
    await mkdir(dir, { recursive: true });
    const config = await dirsConfig(dir);
    // the first run: long enough to overlap the second
    const a = rkvs([...QUICK, '--config', config, '--run-id', 'shared-id', '--out', path.join(dir, 'out-a'), '--ops', '400']);
    await waitFor(a, /run prefix rkvs-bench\/shared-id\//);
    const b = rkvs([...QUICK, '--config', config, '--run-id', 'shared-id', '--out', path.join(dir, 'out-b')]);
    expect(await b.done, b.stderr()).toBe(2);
    expect(b.stderr()).toMatch(/--run-id: the run prefix rkvs-bench\/shared-id\/ is in use by another run \(replica dir-0 holds its owner marker _owner\/run\/[0-9a-f]+\)/);
    expect(b.stderr()).toContain(`rkvs clean --config ${config} --configs dirs --prefix rkvs-bench/shared-id/`);
    expect(a.child.exitCode, 'the first run was still running when the second was refused').toBeNull();
    expect(await a.done, a.stderr()).toBe(0);
    const runDir = path.join(dir, 'out-a', 'shared-id');
    await expectHistoryChecks(runDir);
    await expectTwoCopies(runDir);
    expect(await keysOf(dir), 'the run removed its prefix, owner marker included').toEqual([[], [], []]);
  }, 300_000);

  it('started at the same moment: never both share the prefix; a run that goes on is whole', async () => {
    const dir = path.join(tmp, 'same-moment');
    await mkdir(dir, { recursive: true });
    const config = await dirsConfig(dir);
    const runs = ['x', 'y'].map((n) => rkvs([...QUICK, '--config', config, '--run-id', 'moment', '--out', path.join(dir, `out-${n}`), '--ops', '200']));
    const codes = await Promise.all(runs.map((r) => r.done));
    expect(codes.some((c) => c === 2) || codes.every((c) => c === 0)).toBe(true);
    for (const [i, code] of codes.entries()) {
      if (code === 0) {
        await expectHistoryChecks(path.join(dir, `out-${['x', 'y'][i]}`, 'moment'));
        await expectTwoCopies(path.join(dir, `out-${['x', 'y'][i]}`, 'moment'));
      } else {
        expect(code, runs[i]!.stderr()).toBe(2);
        expect(runs[i]!.stderr()).toMatch(/in use by another run/);
      }
    }
    expect(await keysOf(dir)).toEqual([[], [], []]);
  }, 300_000);
});

describe('a custom defaults.prefixRoot', () => {
  it('objects land only under it, the guard accepts the next run, and the printed cleanup command removes a killed run\'s objects', async () => {
    const dir = path.join(tmp, 'root');
    await mkdir(dir, { recursive: true });
    const config = await dirsConfig(dir, 'team-a/rkvs/');
    const killed = rkvs([...QUICK, '--config', config, '--out', path.join(dir, 'out-killed'), '--duration', '60']);
    const line = await waitFor(killed, /should this run be killed, remove what it leaves with: (rkvs clean [^)\n]+)\)/);
    const cleanCmd = /remove what it leaves with: (rkvs clean [^)\n]+)\)/.exec(line)![1]!;
    await waitFor(killed, /opening configuration dirs/);
    await new Promise((r) => setTimeout(r, 2000));
    killed.child.kill('SIGKILL');
    await killed.done;
    const left = (await keysOf(dir)).flat();
    expect(left.length, 'the killed run left objects').toBeGreaterThan(0);
    const prefix = /--prefix (\S+)/.exec(cleanCmd)![1]!;
    expect(prefix).toMatch(/^team-a\/rkvs\/bench\/\d{8}-\d{6}-quick-[a-z0-9]{6}\/$/);
    for (const k of left) expect(k.startsWith(prefix), k).toBe(true);

    // the next run (another id): its guard sees nothing outside the root
    const next = rkvs([...QUICK, '--config', config, '--out', path.join(dir, 'out-next')]);
    expect(await next.done, next.stderr()).toBe(0);
    expect(next.stderr()).not.toMatch(/outside/);

    // the same id again: refused, the killed run still holds the prefix
    const runId = prefix.split('/').at(-2)!;
    const again = rkvs([...QUICK, '--config', config, '--out', path.join(dir, 'out-again'), '--run-id', runId]);
    expect(await again.done).toBe(2);
    expect(again.stderr()).toContain(cleanCmd);

    // the printed command, as printed, removes every leftover and nothing else
    expect(cleanCmd).toBe(`rkvs clean --config ${config} --configs dirs --prefix ${prefix}`);
    const clean = rkvs(cleanCmd.split(' ').slice(1));
    expect(await clean.done, clean.stderr()).toBe(0);
    expect(clean.stdout()).toContain(`removing every object under ${prefix} from configuration dirs (dir-0, dir-1, dir-2)`);
    expect(await keysOf(dir)).toEqual([[], [], []]);
  }, 300_000);
});
