import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { StoreError } from '../../src/errors.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { gitCommit, redact } from '../../src/bench/record/meta.js';
import { runBench } from '../../src/bench/pipeline.js';
import { planCells } from '../../src/bench/run/plan.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { makeRunId } from '../../src/bench/record/run-dir.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import type { ConfigurationHandle } from '../../src/bench/config/types.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-orch-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const suite = parseSuite(
  {
    name: 't',
    variants: ['raw', 'regular'],
    schedules: ['fast', 'classic'],
    repeat: 2,
    sampleMs: 0,
    workloads: [{ name: 'w', mix: { write: 1, read: 1 }, valueBytes: [32, 64], registers: 4, clients: [1, 2], ops: 10 }],
  },
  'inline',
);

describe('planning', () => {
  it('expands variants x schedules x sizes x clients x repeats; raw has schedule none', () => {
    const cells = planCells(suite, {});
    // raw: 2 sizes x 2 clients; regular: 2 schedules x 2 sizes x 2 clients; each twice
    expect(cells).toHaveLength((4 + 8) * 2);
    expect(cells.filter((c) => c.variant === 'raw').every((c) => c.schedule === 'none')).toBe(true);
    // without --interleave a cell's repetitions run back to back
    expect(cells[0]?.repeat).toBe(0);
    expect(cells[1]?.repeat).toBe(1);
  });

  it('--interleave runs every variant once per repetition, in turn', () => {
    const cells = planCells(suite, { interleave: true });
    const half = cells.length / 2;
    expect(cells.slice(0, half).every((c) => c.repeat === 0)).toBe(true);
    expect(cells.slice(half).every((c) => c.repeat === 1)).toBe(true);
    expect(new Set(cells.slice(0, half).map((c) => c.variant))).toEqual(new Set(['raw', 'regular']));
  });

  it('flags override variants, schedules, clients and repeat', () => {
    const cells = planCells(suite, { variants: ['regular'], schedules: ['classic'], clients: 3, repeat: 1 });
    expect(cells).toHaveLength(2);
    expect(cells.every((c) => c.variant === 'regular' && c.schedule === 'classic' && c.clients === 3)).toBe(true);
  });
});

describe('suite validation', () => {
  it('names the bad field and how to fix it', () => {
    expect(() => parseSuite({ name: 'x', variants: ['fancy'] }, 'f.json')).toThrow(/suite f\.json: variants\.0:/);
    expect(() => parseSuite({ name: 'x', workloads: [{ name: 'w', mix: { write: 1 }, valueBytes: [1], registers: 1 }] }, 'f')).toThrow(
      /give ops or durationS/,
    );
    expect(() => parseSuite({ name: 'x', bogus: 1 }, 'f')).toThrow(/bogus/);
  });
});

describe('runBench', () => {
  const downStore = (name: string) =>
    Object.assign(createMemoryStore({ name }), {
      list: async (prefix: string) => {
        throw new StoreError({ kind: 'Unavailable', store: name, op: 'list', key: prefix, detail: 'connect ECONNREFUSED 127.0.0.1:9' });
      },
    });
  const brokenConfiguration = (down: number): ConfigurationHandle => ({
    name: 'broken',
    describe: () => ({ name: 'broken', secretAccessKey: 'hunter2' }),
    async open() {
      const replicas = [createMemoryStore({ name: 'a' }), down >= 1 ? downStore('down') : createMemoryStore({ name: 'down' }), down >= 2 ? downStore('gone') : createMemoryStore({ name: 'gone' })];
      return { replicas, t: 1, close: async () => {} };
    },
  });
  const run = async (down: number) => {
    const lines: string[] = [];
    const out = await runBench({
      suite: parseSuite({ ...suite, repeat: 1, variants: ['raw'] }, 'inline'),
      configurations: [brokenConfiguration(down), memoryConfiguration({ name: 'mem' })],
      outDir: tmp,
      progress: createProgress({ mode: 'quiet', stream: { write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream }),
      now: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    });
    const latency = await readFile(path.join(out.dir, 'latency.csv'), 'utf8');
    const meta = JSON.parse(await readFile(path.join(out.dir, 'meta.json'), 'utf8'));
    return { out, latency, meta };
  };

  it('with more than t replicas unreachable, skips the configuration with one line naming them, writes the rest', async () => {
    const { out, latency, meta } = await run(2);
    expect(out.runId).toMatch(/^20260102-030405-t-[a-z0-9]{6}$/);
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatch(/^configuration broken: replica down is unreachable \(Unavailable: .*ECONNREFUSED.*\); replica gone is unreachable .*; check its endpoint.*\(2 down, the configuration tolerates t = 1\)/);
    expect(latency).toContain(',mem,raw,none,');
    expect(latency).not.toContain(',broken,');
    expect(meta.configurations[0].secretAccessKey).toBe('***');
    expect(meta.failures).toHaveLength(1);
  });

  it('with up to t replicas unreachable, runs the configuration and records a note naming the replica', async () => {
    const { out, latency, meta } = await run(1);
    expect(out.failures).toHaveLength(0);
    expect(latency).toContain(',broken,raw,none,');
    expect(latency).toContain(',mem,raw,none,');
    expect(meta.notes.join('\n')).toMatch(/configuration broken: replica down is unreachable \(Unavailable: .*ECONNREFUSED.*\) at the start: the register runs on the other replicas \(t = 1\)/);
    expect(meta.configurations[0].secretAccessKey).toBe('***');
  });
});

describe('meta', () => {
  it('redacts secrets and URL credentials, keeps the rest', () => {
    expect(
      redact({ endpoint: 'https://user:pw@host/x', accountKey: 'k', nested: [{ token: 't', bucket: 'b' }], password: '' }),
    ).toEqual({ endpoint: 'https://user:***@host/x', accountKey: '***', nested: [{ token: '***', bucket: 'b' }], password: '' });
  });
  it('records the commit of a checkout, a git worktree (.git is a file) and a packed ref', async () => {
    const sha = 'a'.repeat(40);
    const repo = path.join(tmp, 'repo');
    await mkdir(path.join(repo, '.git', 'refs', 'heads'), { recursive: true });
    await writeFile(path.join(repo, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(path.join(repo, '.git', 'refs', 'heads', 'main'), `${sha}\n`);
    expect(await gitCommit(repo)).toBe(sha);
    // a worktree: .git names its git directory, whose HEAD names a branch kept in the common directory
    const wt = path.join(tmp, 'wt');
    const wtGit = path.join(repo, '.git', 'worktrees', 'wt');
    await mkdir(wtGit, { recursive: true });
    await mkdir(wt);
    await writeFile(path.join(wt, '.git'), `gitdir: ${wtGit}\n`);
    await writeFile(path.join(wtGit, 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(path.join(wtGit, 'commondir'), '../..\n');
    expect(await gitCommit(wt)).toBe(sha);
    // packed refs only
    await rm(path.join(repo, '.git', 'refs', 'heads', 'main'));
    await writeFile(path.join(repo, '.git', 'packed-refs'), `# pack-refs\n${'b'.repeat(40)} refs/heads/main\n`);
    expect(await gitCommit(wt)).toBe('b'.repeat(40));
    expect(await gitCommit(path.join(tmp, 'nowhere'))).toBeNull();
  });
  it('run ids are UTC timestamps, the suite name and six random characters', () => {
    const at = new Date(Date.UTC(2026, 10, 23, 9, 8, 7));
    expect(makeRunId('default', at, 'k3x9q2')).toBe('20261123-090807-default-k3x9q2');
    // two runs started in the same second differ
    const ids = new Set(Array.from({ length: 1000 }, () => makeRunId('default', at)));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^20261123-090807-default-[a-z0-9]{6}$/);
  });
});
