/**
 * Registers checked on worker threads: same verdicts and witnesses as in the calling thread, from
 * the TypeScript sources (here) and from compiled JavaScript (a build of src/check run by node);
 * the time limit bounds the whole call, minimising included.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHistory, formatHistory, minimizeWitness, normalizeHistory, partitionByRegister, type Operation } from '../../src/check/index.js';
import { generateHistory } from '../../src/check/generate.js';
import { CheckPool, checkHistoryParallel } from '../../src/check/parallel.js';
import { tempDir } from '../support/tmp.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Four registers; register r2 has stale reads. */
function multiRegister(seed: number): Operation[] {
  const ops: Operation[] = [];
  for (let r = 0; r < 4; r++) {
    const h = generateHistory({ seed: seed + r, clients: 6, operations: 400, removeFraction: 0.1, crashFraction: 0.2, staleReads: r === 2 ? 0.05 : 0, registerPrefix: `reg${r}-` });
    ops.push(...h);
  }
  ops.sort((a, b) => a.call - b.call);
  return normalizeHistory(ops);
}

/**
 * Registers whose written values repeat, in shapes the polynomial checker leaves to the search
 * (found by a random search): linearizable ones, and with `violate` a last one that is not.
 */
function repeatedValues(registers: number, violate: boolean): Operation[] {
  const recs = [];
  for (let r = 0; r < registers; r++) {
    const register = `k${r}`;
    if (violate && r === registers - 1) {
      recs.push(
        { client: 'c0', op: 'write' as const, register, input: 'v0', call: 3, return: 10 },
        { client: 'c1', op: 'write' as const, register, input: 'v0', call: 5, return: 6 },
        { client: 'c2', op: 'read' as const, register, output: 'v0', call: 18, return: 20 },
        { client: 'c4', op: 'write' as const, register, input: 'v0', call: 0, return: 6 },
        { client: 'c5', op: 'read' as const, register, output: 'v1', call: 17, return: 21 },
        { client: 'c6', op: 'write' as const, register, input: 'v1', call: 2, return: 7 },
      );
    } else {
      recs.push(
        { client: 'c0', op: 'write' as const, register, input: 'v0', call: 10, return: null },
        { client: 'c2', op: 'read' as const, register, output: 'v1', call: 14, return: 16 },
        { client: 'c3', op: 'write' as const, register, input: 'v0', call: 5, return: 12 },
        { client: 'c4', op: 'read' as const, register, output: 'v0', call: 8, return: 13 },
        { client: 'c5', op: 'read' as const, register, output: 'v0', call: 17, return: 19 },
        { client: 'c6', op: 'write' as const, register, input: 'v1', call: 6, return: 11 },
      );
    }
  }
  return normalizeHistory(recs);
}

describe('parallel checking on worker threads', () => {
  it('gives the verdicts and witnesses of the calling thread', async () => {
    const pool = new CheckPool(2);
    try {
      for (const seed of [1, 2]) {
        const h = multiRegister(seed);
        for (const model of ['linearizable', 'regular'] as const) {
          const here = checkHistory(h, model);
          const there = await checkHistoryParallel(h, model, { pool, parallelFrom: 0 });
          expect(there, `seed ${seed} ${model}`).toEqual(here);
        }
      }
      const ok = checkHistory(multiRegister(5).filter((o) => o.register !== 'reg2-0'), 'linearizable');
      expect(ok.result).toBe('ok');
      expect(pool.answered).toBeGreaterThanOrEqual(8);
    } finally {
      await pool.close();
    }
  });

  it('sends the registers the polynomial checker cannot decide to the workers', async () => {
    const pool = new CheckPool(2);
    try {
      const h = repeatedValues(3, true);
      for (const [k, ops] of partitionByRegister(h)) expect(checkHistory(ops, 'linearizable', { method: 'polynomial' }).result, k).toBe('unknown');
      const v = await checkHistoryParallel(h, 'linearizable', { pool });
      expect(v).toEqual(checkHistory(h, 'linearizable'));
      expect(v).toMatchObject({ result: 'violation', decidedBy: 'search', register: 'k2' });
      expect(pool.answered).toBe(3);
      const ok = await checkHistoryParallel(repeatedValues(3, false), 'linearizable', { pool });
      expect(ok).toMatchObject({ result: 'ok', decidedBy: 'search' });
      expect(pool.answered).toBe(6);
      const search = await checkHistoryParallel(multiRegister(4), 'linearizable', { pool, method: 'search' });
      expect(search).toEqual(checkHistory(multiRegister(4), 'linearizable', { method: 'search' }));
      expect(pool.answered).toBeGreaterThanOrEqual(8);
    } finally {
      await pool.close();
    }
  });

  it('bounds the whole call by the time limit', async () => {
    // registers the search cannot finish: 40 concurrent writes of repeated values, reads of them
    const recs = [];
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 40; i++) recs.push({ client: `w${i}`, op: 'write' as const, register: `k${r}`, input: `v${i % 20}`, call: 0, return: 1000 });
      for (let i = 0; i < 40; i++) recs.push({ client: `r${i}`, op: 'read' as const, register: `k${r}`, output: `v${(i * 7) % 20}`, call: 1 + i, return: 999 });
      recs.push({ client: 'z', op: 'read' as const, register: `k${r}`, output: 'v0', call: 1001, return: 1002 });
      recs.push({ client: 'z', op: 'read' as const, register: `k${r}`, output: 'v1', call: 1003, return: 1004 });
    }
    const started = Date.now();
    const v = await checkHistoryParallel(normalizeHistory(recs), 'linearizable', { timeoutMs: 1000, workers: 2 });
    // without the bound the search runs for minutes; the slack covers starting workers on a busy machine
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(v.result).toBe('unknown');
    expect(v.result === 'unknown' && v.message).toMatch(/time limit/);
  });

  it('stops minimising at the deadline and says the witness is not minimal', () => {
    const h = normalizeHistory(Array.from({ length: 30 }, (_, i) => ({ client: `c${i}`, op: 'write' as const, input: `v${i}`, call: i, return: i + 1 })));
    // "violates" while the first and the last write are present; each answer takes 20 ms
    const slow = (ops: Operation[]) => {
      const until = Date.now() + 20;
      while (Date.now() < until);
      return ops.some((o) => o.id === 0) && ops.some((o) => o.id === 29);
    };
    const started = Date.now();
    const m = minimizeWitness(h, slow, started + 200);
    expect(m.minimal).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('works from compiled JavaScript', () => {
    const out = tempDir('rkvs-check-build-');
    execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
        '--outDir', out, '--rootDir', ROOT, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
        '--strict', '--skipLibCheck', '--types', 'node',
        join(ROOT, 'src/check/index.ts'), join(ROOT, 'src/check/parallel.ts'), join(ROOT, 'src/check/worker.ts'),
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
    const h = repeatedValues(2, true).concat(multiRegister(3));
    writeFileSync(join(out, 'h.jsonl'), formatHistory(normalizeHistory(h)));
    const script = `
      import { readFileSync } from 'node:fs';
      import { parseHistory, checkHistory } from './src/check/index.js';
      import { CheckPool, checkHistoryParallel } from './src/check/parallel.js';
      const h = parseHistory(readFileSync('h.jsonl', 'utf8'));
      const pool = new CheckPool(2);
      const there = await checkHistoryParallel(h, 'linearizable', { pool, parallelFrom: 0 });
      await pool.close();
      const here = checkHistory(h, 'linearizable');
      console.log(JSON.stringify({ same: JSON.stringify(there) === JSON.stringify(here), result: there.result, started: pool.started, answered: pool.answered }));
    `;
    writeFileSync(join(out, 'run.mjs'), script);
    const r = spawnSync(process.execPath, ['run.mjs'], { cwd: out, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res).toMatchObject({ same: true, result: 'violation', started: 2 });
    expect(res.answered).toBeGreaterThanOrEqual(2);
  });
});
