import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { measureReplica, overheadFigures, PeakSampler } from '../../src/bench/run/storage.js';
import { CountingStore, RequestCounter, withOp } from '../../src/bench/run/counting.js';
import { createRobustStore } from '../../src/register/index.js';
import { ScopedStore } from '../../src/bench/config/stores.js';

const bytes = (n: number) => new Uint8Array(n).fill(1);

describe('storage overhead', () => {
  it('counts objects and bytes under a namespace of a store with known contents', async () => {
    const s = createMemoryStore();
    await s.put('cell1/a/t/1', bytes(100));
    await s.put('cell1/a/e', bytes(120));
    await s.put('cell1/b/t/1', bytes(100));
    await s.put('cell1/b/e', bytes(120));
    await s.put('cell2/a/e', bytes(999)); // another cell: not counted
    await s.put('other', bytes(5));
    const u = await measureReplica(s, 'cell1/');
    expect(u).toEqual({ objects: 4, stored_bytes: 440 });
    expect(await measureReplica(s, 'cell1/', { withBytes: false })).toEqual({ objects: 4, stored_bytes: 0 });
    expect(overheadFigures(u, 2, 200)).toEqual({ copies_per_register: 2, overhead_ratio: 2.2 });
    expect(overheadFigures({ objects: 0, stored_bytes: 0 }, 0, 0)).toEqual({ copies_per_register: 0, overhead_ratio: 0 });
  });

  it('the peak sampler keeps the largest listing seen', async () => {
    const s = createMemoryStore();
    const sampler = new PeakSampler([s], 'ns/', 0);
    await s.put('ns/1', bytes(10));
    await s.put('ns/2', bytes(10));
    await s.put('ns/3', bytes(10));
    await sampler.sample();
    await s.remove('ns/1');
    await s.remove('ns/2');
    await sampler.sample();
    await sampler.stop();
    expect(sampler.peak[0]).toEqual({ objects: 3, stored_bytes: 30 });
  });

  it('the register leaves exactly 2 copies per register at every replica after quiescence', async () => {
    const replicas = [createMemoryStore({ name: 'a' }), createMemoryStore({ name: 'b' }), createMemoryStore({ name: 'c' })];
    const rs = createRobustStore({ replicas, variant: 'regular', clientId: 'c0' });
    for (let i = 0; i < 5; i++) for (const r of ['x', 'y', 'z']) await rs.write(r, bytes(64));
    await rs.settled();
    for (const rep of replicas) {
      const u = await measureReplica(rep, '');
      expect(overheadFigures(u, 3, 3 * 64).copies_per_register).toBe(2);
    }
  });
});

describe('requests per logical operation', () => {
  it('attributes each replica call to the logical operation whose context issued it', async () => {
    const counter = new RequestCounter();
    const s = new CountingStore(new ScopedStore(createMemoryStore(), 'ns/'), 'm', counter);
    await withOp({ op: 'write', measured: true }, () => s.put('key', bytes(10)));
    await withOp({ op: 'read', measured: true }, async () => {
      await s.get('key');
      await s.list('');
    });
    await withOp({ op: 'write', measured: false }, () => s.put('warm', bytes(10))); // warm-up: not counted
    await s.put('outside', bytes(10)); // no operation: not counted
    const byOp = Object.fromEntries(counter.entries().map((e) => [e.op, e.counts]));
    expect(byOp.write).toEqual({ puts: 1, gets: 0, lists: 0, removes: 0, bytes_up: 3 + 10, bytes_down: 0 });
    expect(byOp.read).toEqual({ puts: 0, gets: 1, lists: 1, removes: 0, bytes_up: 3, bytes_down: 10 + 3 });
  });

  it('counts a register write at every replica: one list and two puts in the common case', async () => {
    const counter = new RequestCounter();
    const replicas = ['a', 'b', 'c'].map((n) => new CountingStore(createMemoryStore({ name: n }), n, counter));
    const rs = createRobustStore({ replicas, variant: 'regular', clientId: 'c0' });
    await withOp({ op: 'write', measured: true }, () => rs.write('r', bytes(32)));
    await rs.settled();
    for (const e of counter.entries()) {
      expect(e.op).toBe('write');
      expect(e.counts.lists).toBe(1);
      expect(e.counts.puts).toBe(2);
    }
    expect(counter.entries()).toHaveLength(3);
  });
});
