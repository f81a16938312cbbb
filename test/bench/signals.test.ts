/**
 * SIGTERM and SIGINT stop `rkvs bench --workers 2` at every stage — emulator start, worker start,
 * cells, cleanup — with every process it started: after the signal the parent exits, and no
 * process of its tree (emulators, workers, their children; found in /proc by parent pid while the
 * run goes on) is left. An interrupted run leaves a report `rkvs report` and `rkvs compare` read
 * (marked interrupted), or nothing at all: never an empty report, never a half-written directory.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/rkvs.js');

/** pid -> [ppid, start time] of every process, read from /proc. */
function processTable(): Map<number, { ppid: number; start: string; cmd: string }> {
  const out = new Map<number, { ppid: number; start: string; cmd: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name is in parentheses and may hold spaces: the fields follow the last ')'
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        // gone
      }
      out.set(Number(name), { ppid: Number(fields[1]), start: fields[19] ?? '', cmd });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** The descendants of `root` (pid and start time, so a reused pid is not mistaken for one). */
function descendants(root: number): Map<number, { start: string; cmd: string }> {
  const table = processTable();
  const found = new Map<number, { start: string; cmd: string }>();
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [pid, info] of table)
      if (info.ppid === p && !found.has(pid)) {
        found.set(pid, { start: info.start, cmd: info.cmd });
        queue.push(pid);
      }
  }
  return found;
}

function stillAlive(seen: Map<number, { start: string; cmd: string }>): string[] {
  const table = processTable();
  return [...seen].filter(([pid, s]) => table.get(pid)?.start === s.start).map(([pid, s]) => `${pid} ${s.cmd}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Started {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  /** Every descendant seen while the run went on. */
  seen: Map<number, { start: string; cmd: string }>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Started {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const seen = new Map<number, { start: string; cmd: string }>();
  const poll = setInterval(() => {
    if (child.pid) for (const [pid, s] of descendants(child.pid)) seen.set(pid, s);
  }, 50);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal });
    }),
  );
  return { child, stderr: () => err, stdout: () => out, seen, exit };
}

async function waitFor(s: Started, what: string, cond: () => boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr:\n${s.stderr()}`);
    if (s.child.exitCode !== null) throw new Error(`the run ended (code ${s.child.exitCode}) before ${what}; stderr:\n${s.stderr()}`);
    await sleep(50);
  }
}

/** Waits for the parent to exit and for every process of its tree to be gone. */
async function expectAllGone(s: Started): Promise<{ code: number | null }> {
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 90_000);
  const res = await s.exit;
  clearTimeout(timer);
  expect(res.signal, `the parent had to be killed; stderr:\n${s.stderr()}`).toBeNull();
  const deadline = Date.now() + 10_000;
  let left = stillAlive(s.seen);
  while (left.length && Date.now() < deadline) {
    await sleep(200);
    left = stillAlive(s.seen);
  }
  expect(left, `processes of the run's tree left after it exited; stderr:\n${s.stderr()}`).toEqual([]);
  return res;
}

let tmp: string;
let config: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-signals-'));
  // three buckets on one S3 emulator: one emulator process to start (and to find left over)
  config = path.join(tmp, 'emu.yaml');
  await writeFile(
    config,
    'configurations:\n  emu:\n    replicas:\n' + [0, 1, 2].map((i) => `      - { provider: emulator, kind: s3, bucket: b${i}, name: s3-${i} }\n`).join(''),
  );
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A run of the quick suite on emulator replicas, spread over 2 worker processes. */
const benchArgs = (out: string, extra: string[] = []) => ['bench', '--suite', 'quick', '--config', config, '--workers', '2', '--out', out, ...extra];

/** Report directories (and anything else) under `out`, hidden staging directories included. */
const entries = (out: string) => (existsSync(out) ? readdirSync(out) : []);

describe('rkvs bench --workers 2: a signal stops every process of the run, at every stage', () => {
  it('SIGTERM during emulator start: the parent exits 130, no emulator is left, nothing is written', async () => {
    const out = path.join(tmp, 'emulator-start');
    const s = start(benchArgs(out));
    await waitFor(s, 'an emulator process', () => [...s.seen.values()].some((p) => p.cmd.includes('runner.mjs')));
    s.child.kill('SIGTERM');
    const { code } = await expectAllGone(s);
    expect(code).toBe(130);
    expect(s.stderr()).toContain('interrupted before any cell was measured; nothing was written');
    expect(entries(out)).toEqual([]);
  }, 240_000);

  it('SIGTERM during worker start: the parent exits, no worker or emulator is left', async () => {
    const out = path.join(tmp, 'worker-start');
    const s = start(benchArgs(out));
    await waitFor(s, 'the worker start', () => /starting 2 worker processes/.test(s.stderr()));
    s.child.kill('SIGTERM');
    const { code } = await expectAllGone(s);
    expect(code).toBe(130);
    expect(entries(out)).toEqual([]);
  }, 240_000);

  it('SIGTERM during a cell: the parent exits 130 with a report rkvs report and rkvs compare read, marked interrupted', async () => {
    const out = path.join(tmp, 'cells');
    const s = start(benchArgs(out, ['--ops', '20', '--repeat', '40']));
    await waitFor(s, 'the first cell', () => /\[1\/\d+\] emu /.test(s.stderr()));
    s.child.kill('SIGTERM');
    const { code } = await expectAllGone(s);
    expect(code, s.stderr()).toBe(130);
    const dirs = entries(out);
    expect(dirs, 'one complete report directory, no staging directory').toHaveLength(1);
    const dir = path.join(out, dirs[0]!);
    const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as { interrupted?: boolean };
    expect(meta.interrupted).toBe(true);
    expect(s.stderr()).toContain(`the results measured so far are in ${dir}`);
    const report = await run(process.execPath, [BIN, 'report', dir, '--no-png'], { cwd: ROOT, timeout: 120_000 });
    expect(report.stdout).toMatch(/wrote .*report\.html/);
    const compare = await run(process.execPath, [BIN, 'compare', dir, dir, '--no-csv'], { cwd: ROOT, timeout: 120_000 });
    expect(compare.stdout + compare.stderr).toMatch(/from an interrupted run \(meta\.json "interrupted": true\)/);
  }, 300_000);

  it('SIGTERM during cleanup: the parent exits, nothing of its tree is left, the report is whole', async () => {
    const out = path.join(tmp, 'cleanup');
    const s = start(benchArgs(out, ['--variants', 'raw']));
    await waitFor(s, 'the cleanup', () => /cleaning up rkvs-bench\//.test(s.stderr()));
    s.child.kill('SIGTERM');
    const { code } = await expectAllGone(s);
    expect([0, 130]).toContain(code);
    for (const d of entries(out)) expect(existsSync(path.join(out, d, 'meta.json')), `${d} is a complete report`).toBe(true);
  }, 240_000);

  it('a second SIGINT quits at once: no process is left and no half-written directory (only histograms/) remains', async () => {
    const out = path.join(tmp, 'twice');
    const s = start(benchArgs(out, ['--duration', '30']));
    await waitFor(s, 'the workers running a cell', () => /opening configuration emu /.test(s.stderr()) && [...s.seen.values()].filter((p) => p.cmd.includes('worker-entry')).length === 2);
    await sleep(2000);
    s.child.kill('SIGINT');
    await waitFor(s, 'the first interrupt', () => /interrupted: stopping/.test(s.stderr()), 10_000);
    s.child.kill('SIGINT');
    const { code } = await expectAllGone(s);
    expect(code).toBe(130);
    expect(s.stderr()).toContain('interrupted again: quitting at once');
    // nothing, or a complete report had it been written before the second signal: never a partial one
    for (const d of await readdir(out).catch(() => [] as string[])) {
      expect(d.startsWith('.'), `a staging directory ${d} was left`).toBe(false);
      expect(existsSync(path.join(out, d, 'meta.json')), `${d} is a complete report`).toBe(true);
    }
  }, 240_000);
});
