import { describe, expect, it } from 'vitest';
import { compose } from '../../src/layers/compose.js';
import { ForwardingStore } from '../../src/layers/forwarding.js';
import { latency } from '../../src/layers/latency.js';
import { createRobustStore, encodeRegister, type RegisterPolicy } from '../../src/register/index.js';
import { parseKey } from '../../src/register/keys.js';
import type { CallOptions, Store } from '../../src/store.js';
import { GateStore, MATRIX, bytes, copiesAt, flush, isTemp, memories, text } from './helpers.js';

const SEED = Number(process.env.SEED ?? 4242);

/** Records, after every put that lands, the largest number of copies any register has at this store. */
class SpaceProbe extends ForwardingStore {
  maxCopies = 0;
  constructor(inner: Store) {
    super(inner, 'probe');
  }
  override async put(key: string, value: Uint8Array, opts?: CallOptions): Promise<void> {
    await this.inner.put(key, value, opts);
    const reg = parseKey(key)?.register;
    if (reg !== undefined) this.maxCopies = Math.max(this.maxCopies, (await this.inner.list(`${reg}/`)).length);
  }
}

describe.each(MATRIX)('concurrency and space $variant/$schedule', ({ variant, schedule }) => {
  it('c concurrent writers: at most c + 2 copies during, exactly 2 after quiescence, reads see the newest', async () => {
    const n = 5;
    const mem = memories(n);
    const probes = mem.map((m) => new SpaceProbe(m));
    const replicas = probes.map((p, i) =>
      compose(p, latency({ delay: { kind: 'uniform', minMs: 0, maxMs: 8 }, seed: `${SEED}:${i}` })),
    );
    const clients = Array.from({ length: 4 }, (_, i) => createRobustStore({ replicas, variant, schedule, clientId: `w${i}` }));
    const reader = createRobustStore({ replicas, variant, schedule, clientId: 'reader' });
    const enc = encodeRegister('hot');
    await clients[0]!.write('hot', bytes('init'));
    for (const c of [1, 2, 3, 4]) {
      // start from the common case: a solo write after the previous round, GC done (2 copies per replica)
      await Promise.all(clients.map((cl) => cl.settled()));
      await clients[0]!.write('hot', bytes(`solo-${c}`));
      await clients[0]!.settled();
      for (const m of mem) expect((await m.list(`${enc}/`)).length).toBe(2);
      probes.forEach((p) => (p.maxCopies = 0));
      const writers = clients.slice(0, c);
      const results = await Promise.all(writers.map((cl, i) => cl.write('hot', bytes(`c${c}-w${i}`))));
      const max = probes.map((p) => p.maxCopies);
      expect(Math.max(...max), `seed ${SEED}, c = ${c}: ${max.join(',')}`).toBeLessThanOrEqual(c + 2);
      // timestamps of concurrent writes are distinct
      expect(new Set(results.map((r) => `${r.ts.num}:${r.ts.clientId}`)).size).toBe(c);
      // all writes completed: a read returns the newest one
      const newest = results.reduce((a, b) => (a.ts.num > b.ts.num || (a.ts.num === b.ts.num && a.ts.clientId > b.ts.clientId) ? a : b));
      const r = await reader.read('hot');
      expect(r.ts, `seed ${SEED}`).toEqual(newest.ts);
    }
    // quiescence: one more write after the concurrent ones, then every client settled
    await Promise.all(clients.map((cl) => cl.settled()));
    await clients[0]!.write('hot', bytes('final'));
    await Promise.all([...clients, reader].map((cl) => cl.settled()));
    for (const m of mem) {
      const c = await copiesAt(m, enc);
      expect(c.temp.length + c.eternal.length, `${m.name}, seed ${SEED}`).toBe(2);
    }
    expect(text(await reader.get('hot'))).toBe('final');
  });
});

describe('write ordering', () => {
  it('write-after-write across clients: each later write gets a larger timestamp and wins', async () => {
    const replicas = memories(3).map((m, i) => compose(m, latency({ delay: { kind: 'uniform', minMs: 0, maxMs: 3 }, seed: i })));
    const a = createRobustStore({ replicas, variant: 'atomic', clientId: 'a' });
    const b = createRobustStore({ replicas, variant: 'regular', schedule: 'classic', clientId: 'b' });
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const w = await (i % 2 ? a : b).write('o', bytes(`v${i}`));
      expect(w.ts.num).toBeGreaterThan(last);
      last = w.ts.num;
      expect(text(await (i % 3 ? a : b).get('o'))).toBe(`v${i}`);
    }
  });
});

/**
 * The shape of SPEC §6 that breaks GC without the acknowledgement rule (n = 3, replicas A, B, C).
 * Returns what the reader got and the timestamp of W, which completed before the read began.
 */
async function gcAckScenario(policy: Partial<RegisterPolicy>) {
  const mem = memories(3); // A, B, C
  const enc = encodeRegister('x');
  const client = (id: string) => {
    const gates = mem.map((m, i) => new GateStore(m, `gate${'ABC'[i]}`));
    const store = createRobustStore({ replicas: gates, variant: 'regular', schedule: 'classic', clientId: id, policy });
    return { gates, store };
  };
  const [A, , C] = [0, 1, 2];
  // Early write E (ts 1) everywhere.
  const e = client('e');
  await e.store.write('x', bytes('early'));
  await e.store.settled();
  // W (ts 2) reaches A and B; its key towards C is delayed.
  const w = client('w');
  w.gates[C]!.hold((op) => op === 'put');
  const wr = await w.store.write('x', bytes('W'));
  await flush();
  // The reader starts after W completed; its list reaches C first, the one at A is delayed.
  const r = client('r');
  r.gates[A]!.hold((op) => op === 'list');
  r.gates[1]!.hold((op) => op === 'list');
  const reading = r.store.read('x');
  await flush();
  // H (ts 3) reaches B and C; its key towards A is delayed.
  const h = client('h');
  h.gates[A]!.hold((op) => op === 'put');
  await h.store.write('x', bytes('H'));
  await flush();
  // Now the reader's list at A answers.
  r.gates[A]!.release();
  const got = await reading;
  for (const c of [e, w, r, h]) for (const g of c.gates) (g.clearRules(), g.release());
  await Promise.all([e, w, r, h].map((c) => c.store.settled()));
  return { got, w: wr.ts, tempAtC: (await mem[C]!.list(`${enc}/t/`)).length };
}

describe('the acknowledgement rule of GC', () => {
  it('with the rule, a read after W completed returns W or newer', async () => {
    const { got, w } = await gcAckScenario({});
    expect(got.ts).not.toBeNull();
    expect(got.ts!.num).toBeGreaterThanOrEqual(w.num);
  });

  it('GC without the rule is caught: the read returns something older than W', async () => {
    const { got, w } = await gcAckScenario({ gcWaitsForOwnAck: false });
    expect(got.ts === null || got.ts.num < w.num).toBe(true);
  });
});

describe('GC removes only what it listed', () => {
  it('never removes a key it did not list, nor the eternal key', async () => {
    const mem = memories(3);
    const gates = mem.map((m) => new GateStore(m));
    const s = createRobustStore({ replicas: gates, variant: 'regular', clientId: 's' });
    const enc = encodeRegister('g');
    await s.write('g', bytes('1'));
    await s.write('g', bytes('2'));
    await s.settled();
    const removes = gates.flatMap((g) => g.log.filter((l) => l.op === 'remove').map((l) => l.key));
    expect(removes).toHaveLength(3);
    expect(removes.every((k) => isTemp(enc)('remove', k) && k.includes('0000000000000001-s'))).toBe(true);
  });
});

describe.each(MATRIX)('one client, a replica slow to take puts $variant/$schedule', ({ variant, schedule }) => {
  it("a put that lands after the next write listed there is removed by that write's GC: exactly 2 copies after quiescence", async () => {
    const mem = memories(3);
    const gates = mem.map((m, i) => new GateStore(m, `gate${'ABC'[i]}`));
    const C = gates[2]!;
    const enc = encodeRegister('slow');
    const store = createRobustStore({ replicas: gates, variant, schedule, clientId: 'solo' });
    await store.write('slow', bytes('v1'));
    await store.settled();
    // v2's temporary key is held on its way to C; v2 completes with A and B
    C.hold((op, key) => op === 'put' && isTemp(enc)(op, key));
    await store.write('slow', bytes('v2'));
    C.clearRules();
    // v3 lists C before v2's key lands there, so its listing at C does not show v2's key
    await store.write('slow', bytes('v3'));
    await flush();
    expect(C.release()).toBe(1);
    await store.settled();
    for (const m of mem) {
      const c = await copiesAt(m, enc);
      expect(c.temp.length + c.eternal.length, `${m.name}: ${c.temp.join(', ')}`).toBe(2);
    }
    expect(text(await store.get('slow'))).toBe('v3');
  });

  it('sequential writes over replicas with random put delays leave exactly 2 copies per register', async () => {
    const seed = Number(process.env.SEED ?? Math.floor(Math.random() * 2 ** 31));
    const mem = memories(3);
    const replicas = mem.map((m, i) =>
      compose(m, latency({ delay: { kind: 'uniform', minMs: 0, maxMs: 1 }, perOp: { put: { kind: 'uniform', minMs: 0, maxMs: i === 2 ? 30 : 3 } }, seed: `${seed}:${i}` })),
    );
    const store = createRobustStore({ replicas, variant, schedule, clientId: 'solo' });
    const names = ['a', 'b', 'c'];
    for (let k = 0; k < 30; k++) {
      const name = names[k % names.length]!;
      await store.write(name, bytes(`${name}${k}`));
      if (k % 4 === 0) await store.read(name);
    }
    await store.settled();
    for (const name of names) {
      for (const m of mem) {
        const c = await copiesAt(m, encodeRegister(name));
        expect(c.temp.length + c.eternal.length, `replay with SEED=${seed}: ${m.name} register ${name}: ${c.temp.join(', ')}`).toBe(2);
      }
    }
  });
});
