import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { latency } from '../../src/layers/latency.js';
import { findLayer, metrics, MetricsStore } from '../../src/layers/metrics.js';
import { utf8 } from '../../src/store.js';

describe('metrics layer', () => {
  it('counts calls, errors and value bytes per call type, exactly', async () => {
    const m = metrics();
    const f = faults({ seed: 1, errorRate: 1, ops: ['list'] });
    const store = compose(createMemoryStore(), f, m);
    await store.put('a', new Uint8Array(100));
    await store.put('b', new Uint8Array(28));
    await store.put('a', new Uint8Array(0));
    expect((await store.get('b'))?.byteLength).toBe(28);
    expect(await store.get('absent')).toBeNull();
    await store.get('a');
    await store.remove('a');
    await store.remove('never');
    await expect(store.list('')).rejects.toThrow();
    const ac = new AbortController();
    ac.abort();
    await expect(store.get('b', { signal: ac.signal })).rejects.toThrow();

    const s = m.snapshot();
    expect(s.put).toEqual({ calls: 3, errors: 0, aborted: 0, bytesUp: 128, bytesDown: 0 });
    expect(s.get).toEqual({ calls: 4, errors: 1, aborted: 1, bytesUp: 0, bytesDown: 28 });
    expect(s.list).toEqual({ calls: 1, errors: 1, aborted: 0, bytesUp: 0, bytesDown: 0 });
    expect(s.remove).toEqual({ calls: 2, errors: 0, aborted: 0, bytesUp: 0, bytesDown: 0 });
    expect(s.total).toEqual({ calls: 10, errors: 2, aborted: 1, bytesUp: 128, bytesDown: 28 });
    expect(s.errorsByKind).toEqual({ Unavailable: 1, Timeout: 1 });
  });

  it('snapshot is a copy; reset zeroes the counters', async () => {
    const m = metrics();
    const store = compose(createMemoryStore(), m);
    await store.put('k', utf8('abc'));
    const before = m.snapshot();
    await store.put('k', utf8('abc'));
    expect(before.put.calls).toBe(1);
    m.reset();
    expect(m.snapshot().total).toEqual({ calls: 0, errors: 0, aborted: 0, bytesUp: 0, bytesDown: 0 });
    expect(m.snapshot().errorsByKind).toEqual({});
    await store.get('k');
    expect(m.snapshot().get.bytesDown).toBe(3);
  });

  it('counters of a composed stack are reachable from the store itself', async () => {
    const store = compose(createMemoryStore(), metrics(), latency({ delay: 0 }));
    await store.put('k', utf8('abcd'));
    const found = findLayer(store, MetricsStore);
    expect(found).toBeInstanceOf(MetricsStore);
    expect(found!.snapshot().put.bytesUp).toBe(4);
    found!.reset();
    expect(found!.snapshot().put.calls).toBe(0);
    expect(findLayer(createMemoryStore(), MetricsStore)).toBeUndefined();
    expect(store.name).toBe('latency(metrics(memory))');
  });

  it('one metrics layer over several stores sums their calls', async () => {
    const m = metrics();
    const a = compose(createMemoryStore({ name: 'a' }), m);
    const b = compose(createMemoryStore({ name: 'b' }), m);
    await a.put('k', utf8('1'));
    await b.put('k', utf8('22'));
    await b.get('k');
    expect(m.snapshot().put).toMatchObject({ calls: 2, bytesUp: 3 });
    expect(m.snapshot().total.calls).toBe(3);
  });

  it('a standalone MetricsStore has its own counters', async () => {
    const s = new MetricsStore(createMemoryStore());
    await s.list('');
    expect(s.snapshot().list.calls).toBe(1);
  });
});
