/**
 * Ideal operations (src/bench/run/ideal-op.ts): the floor `npm run bench:faults` measures beside
 * each cell. An ideal operation issues exactly the calls of the operation's common-case rounds to
 * every replica, ends each round at the q-th answer, and does nothing else; as a cell probe it runs
 * one of the same kind beside each operation of the cell, keyed by the cell.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { idealFloors, idealKey } from '../../src/bench/analyze/fault-floor.js';
import { CELL_KEY_COLUMNS } from '../../src/bench/config/cell.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import { runBench } from '../../src/bench/pipeline.js';
import { IDEAL_COLUMNS, IdealRegister, idealCellProbe, type IdealRow } from '../../src/bench/run/ideal-op.js';
import type { CellProbe } from '../../src/bench/run/plan.js';
import { createProgress } from '../../src/bench/run/progress.js';
import { parseCsv } from '../../src/bench/record/read.js';
import { readFile } from 'node:fs/promises';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { latency } from '../../src/layers/latency.js';
import { MetricsStore } from '../../src/layers/metrics.js';
import type { Store } from '../../src/store.js';

/** A replica that counts its calls by type (the metrics layer), read as `{ put, get, list, remove }`. */
function counted(inner: Store): MetricsStore & { readonly calls: Record<'put' | 'get' | 'list' | 'remove', number> } {
  const m = new MetricsStore(inner);
  return Object.defineProperty(m, 'calls', {
    get: () => {
      const s = m.snapshot();
      return { put: s.put.calls, get: s.get.calls, list: s.list.calls, remove: s.remove.calls };
    },
  }) as MetricsStore & { readonly calls: Record<'put' | 'get' | 'list' | 'remove', number> };
}

const settleAll = async (ideal: IdealRegister) => expect(await ideal.settle(5_000)).toBe(0);

describe('IdealRegister', () => {
  it('issues the calls of the rounds of SPEC §3-§4 to every replica, and nothing else in the operation', async () => {
    const stores = [0, 1, 2].map((i) => counted(createMemoryStore({ name: `m${i}` })));
    const ideal = new IdealRegister(stores, { q: 2, variant: 'regular', schedule: 'fast', valueBytes: 64 });
    const w = await ideal.write('r1');
    await settleAll(ideal);
    expect(w).toMatchObject({ op: 'write' });
    expect(w.roundsMs).toHaveLength(2); // list, then the temporary and eternal puts together
    for (const s of stores) expect(s.calls).toEqual({ put: 2, get: 0, list: 1, remove: 0 });
    const r = await ideal.read('r1');
    await settleAll(ideal);
    expect(r.roundsMs).toHaveLength(1); // list and get together
    for (const s of stores) expect(s.calls).toEqual({ put: 2, get: 1, list: 2, remove: 0 });
    // the next write on the register removes its predecessor's temporary key, in the background:
    // a register's prefix holds what the register's would
    await ideal.write('r1');
    await settleAll(ideal);
    for (const s of stores) {
      expect(s.calls.remove).toBe(1);
      expect((await s.list('ideal/r1/')).length).toBe(2); // one temporary key, the eternal key
    }
    // the classic atomic read: list, get from the first, write-back
    const classic = new IdealRegister(stores, { q: 2, variant: 'atomic', schedule: 'classic', valueBytes: 64, namespace: 'c' });
    await classic.write('r1');
    expect((await classic.read('r1')).roundsMs).toHaveLength(3);
    await settleAll(classic);
    await ideal.removeAll();
    await classic.removeAll();
    for (const s of stores) expect(await s.list('')).toEqual([]);
  });

  it('waits for the q-th answer of each round, never for a silent replica', async () => {
    const silent = faults({ seed: 1 });
    const slow = [5, 10].map((ms, i) => counted(compose(createMemoryStore({ name: `m${i}` }), latency({ delay: ms }))));
    const stores = [...slow, counted(compose(createMemoryStore({ name: 'm2' }), silent))];
    silent.crash(); // every call of m2 hangs until aborted
    const ideal = new IdealRegister(stores, { q: 2, variant: 'regular', schedule: 'fast', valueBytes: 64 });
    const w = await ideal.write('r');
    const r = await ideal.read('r');
    // each round ended with the slower of the two answering replicas (10 ms a call), and the
    // operations returned while the silent replica's calls still hang
    expect(w.roundsMs.every((ms) => ms >= 9)).toBe(true);
    expect(r.ms).toBeGreaterThanOrEqual(9);
    expect(ideal.inflightCount).toBeGreaterThan(0);
    // a second write collects the first one's temporary key where the register would: at each
    // replica that acked the new temporary key, once the eternal put reached q — never at the silent one
    await ideal.write('r');
    for (let i = 0; i < 100 && stores[1]!.calls.remove < 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(stores.map((x) => x.calls.remove)).toEqual([1, 1, 0]);
    // calls that stay unanswered are aborted by settle()
    expect(await ideal.settle(50)).toBeGreaterThan(0);
    expect(ideal.inflightCount).toBe(0);
    silent.recover();
    await ideal.removeAll();
  });

  it('fails an operation once fewer than q replicas can answer, naming their errors', async () => {
    const failing = faults({ seed: 2, crashMode: 'fail' });
    const stores = [createMemoryStore({ name: 'ok' }), compose(createMemoryStore({ name: 'bad1' }), failing), compose(createMemoryStore({ name: 'bad2' }), failing)];
    failing.crash();
    const ideal = new IdealRegister(stores, { q: 2, variant: 'regular', schedule: 'fast', valueBytes: 64 });
    await expect(ideal.write('r')).rejects.toThrow(/only 1 of 3 replicas can answer, 2 needed: replica 1 \(.*bad1.*\): .*replica 2 \(.*bad2/);
  });

  it('refuses a quorum it cannot have and a register name that is not a key part', () => {
    const stores = [createMemoryStore(), createMemoryStore()];
    expect(() => new IdealRegister(stores, { q: 3, variant: 'regular', schedule: 'fast', valueBytes: 1 })).toThrow(/q: expected an integer from 1 to 2/);
    const ideal = new IdealRegister(stores, { q: 1, variant: 'regular', schedule: 'fast', valueBytes: 1 });
    return expect(ideal.write('a/b')).rejects.toThrow(/register: expected letters, digits/);
  });
});

describe('idealCellProbe in a bench run', () => {
  let tmp = '';
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('takes one ideal operation of the same kind beside each measured operation, keyed by the cell, and leaves no key behind', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-ideal-'));
    const suite = parseSuite(
      {
      name: 'ideal-probe',
      variants: ['raw', 'regular', 'atomic'],
      schedules: ['fast'],
      repeat: 2,
      seed: 5,
      sampleMs: 0,
      workloads: [{ name: 'mixed', mix: { write: 1, read: 1 }, valueBytes: [256], registers: 4, clients: 1, ops: 40, warmupOps: 5 }],
      },
      'inline',
    );
    const rows: IdealRow[] = [];
    const problems: string[] = [];
    const inner = idealCellProbe({ runId: 'run-1', seed: 5, onRow: (r) => rows.push(r), log: (l) => problems.push(l) });
    // after each cell run: what the probe left under its namespace
    const leftovers: string[] = [];
    let checked = 0;
    const cellProbe: CellProbe = {
      start(ctx) {
        const run = inner.start(ctx);
        if (!run) return undefined;
        let once = false;
        return {
          beforeOp: (...a) => run.beforeOp(...a),
          afterOp: (...a) => run.afterOp(...a),
          afterHeal: async () => {
            await run.afterHeal();
            if (once) return; // the runner may call it twice (after the run, and when the cell ends)
            once = true;
            checked++;
            for (const s of ctx.replicas) leftovers.push(...(await s.list(`floor/${ctx.cellNs}`)));
          },
        };
      },
    };
    const out = await runBench({
      suite,
      configurations: [memoryConfiguration({ name: 'mem' })],
      outDir: tmp,
      interleave: true,
      progress: createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream }),
      cellProbe,
    });
    expect(out.failures).toEqual([]);
    expect(problems).toEqual([]);
    const latencyRows = parseCsv(await readFile(path.join(out.dir, 'latency.csv'), 'utf8'), 'latency.csv');
    const register = latencyRows.filter((r) => r.variant !== 'raw');
    expect(register.length).toBe(4); // regular and atomic, write and read
    // as many ideal operations of each kind as the cell measured, over both repetitions
    const floors = idealFloors(rows);
    for (const l of register) {
      const mine = rows.filter((r) => idealKey(r) === idealKey(l));
      expect(mine.length, `${l.variant} ${l.op}`).toBe(Number(l.count));
      expect(new Set(mine.map((r) => r.rep))).toEqual(new Set([1, 2]));
      expect(floors.get(idealKey(l))?.samples).toBe(Number(l.count));
    }
    // never beside a raw cell
    expect(rows.some((r) => r.variant === 'raw')).toBe(false);
    // every row carries the whole cell key, and the columns of floor.csv
    for (const r of rows) {
      for (const k of CELL_KEY_COLUMNS) expect(r[k as keyof IdealRow], k).toBeDefined();
      expect(Object.keys(r).sort()).toEqual([...IDEAL_COLUMNS].sort());
    }
    // the probe removed its keys once each cell was over
    expect(checked).toBe(4); // 2 register variants x 2 repetitions
    expect(leftovers).toEqual([]);
  }, 120_000);
});
