/** Read paths from hand-made replica states: fallbacks, retries and atomic write-back. */
import { describe, expect, it } from 'vitest';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { createRobustStore, encodeEternal, encodeRegister, eternalKey, tempKey, type Timestamp } from '../../src/register/index.js';
import type { MemoryStore } from '../../src/adapters/memory.js';
import { GateStore, bytes, memories, text } from './helpers.js';

const enc = encodeRegister('p');
const ts = (num: number, clientId = 'w'): Timestamp => ({ num, clientId });

async function putTemp(m: MemoryStore, t: Timestamp, v: string) {
  await m.put(tempKey(enc, t, false), bytes(v));
}
async function putEternal(m: MemoryStore, t: Timestamp, v: string) {
  await m.put(eternalKey(enc), encodeEternal({ ts: t, tombstone: false, value: bytes(v) }));
}

/** ts1 complete everywhere. */
async function base(mem: MemoryStore[]) {
  for (const m of mem) {
    await putTemp(m, ts(1), 'v1');
    await putEternal(m, ts(1), 'v1');
  }
}

describe('read paths', () => {
  it('fast read falls back to the temporary key when the eternal copies are older (writer crashed between rounds)', async () => {
    const mem = memories(3);
    await base(mem);
    await putTemp(mem[0]!, ts(2), 'v2');
    await putTemp(mem[1]!, ts(2), 'v2');
    for (const variant of ['regular', 'atomic'] as const) {
      const s = createRobustStore({ replicas: mem, variant, schedule: 'fast' });
      const r = await s.read('p');
      expect(text(r.value)).toBe('v2');
      expect(r.ts).toEqual(ts(2));
      expect(r.rounds).toBe(2);
      expect(r.wroteBack).toBe(false); // ts2 was listed at q = 2 replicas
    }
  });

  it('fast atomic read writes back a value not yet listed at a quorum; regular does not', async () => {
    for (const variant of ['regular', 'atomic'] as const) {
      const mem = memories(3);
      await base(mem);
      await putTemp(mem[0]!, ts(2), 'v2');
      await putEternal(mem[0]!, ts(2), 'v2');
      await putEternal(mem[1]!, ts(2), 'v2');
      const s = createRobustStore({ replicas: mem, variant, schedule: 'fast' });
      const r = await s.read('p');
      expect(text(r.value)).toBe('v2');
      expect(r.wroteBack).toBe(variant === 'atomic');
      expect(r.rounds).toBe(variant === 'atomic' ? 2 : 1);
      await s.settled();
      const holders = (await Promise.all(mem.map((m) => m.get(tempKey(enc, ts(2), false))))).filter((v) => v !== null).length;
      expect(holders).toBe(variant === 'atomic' ? 3 : 1);
    }
  });

  it('the atomic write-back can be switched off by policy (a mutant)', async () => {
    const mem = memories(3);
    await base(mem);
    await putTemp(mem[0]!, ts(2), 'v2');
    await putEternal(mem[0]!, ts(2), 'v2');
    await putEternal(mem[1]!, ts(2), 'v2');
    const s = createRobustStore({ replicas: mem, variant: 'atomic', policy: { atomicWriteBack: false } });
    expect((await s.read('p')).wroteBack).toBe(false);
  });

  it('classic read retries with a fresh list when the listed key is gone and no eternal qualifies', async () => {
    const mem = memories(3);
    await base(mem);
    // a crashed writer's lingering temporary put reached replica A only
    await putTemp(mem[0]!, ts(5, 'ghost'), 'ghost');
    const f = faults({ seed: 1 });
    const gateA = new GateStore(compose(mem[0]!, f));
    const gateC = new GateStore(mem[2]!);
    const s = createRobustStore({ replicas: [gateA, mem[1]!, gateC], variant: 'regular', schedule: 'classic' });
    gateC.hold((op) => op === 'list'); // the first list is answered by A and B: tsr = ghost
    gateA.hold((op) => op === 'get');
    const reading = s.read('p');
    await new Promise((r) => setTimeout(r, 10));
    gateC.clearRules();
    gateC.release();
    f.crash('fail'); // A crashes before answering the get
    gateA.clearRules();
    gateA.release();
    const r = await reading;
    expect(text(r.value)).toBe('v1');
    expect(r.ts).toEqual(ts(1));
    expect(r.rounds).toBeGreaterThanOrEqual(5); // list, get (temp + eternal), list ..., get
    await s.close();
  });

  it('a late answer from an earlier attempt still counts', async () => {
    const mem = memories(3);
    await base(mem);
    await putTemp(mem[0]!, ts(2), 'v2');
    const gateA = new GateStore(mem[0]!);
    const gateC = new GateStore(mem[2]!);
    const s = createRobustStore({ replicas: [gateA, mem[1]!, gateC], variant: 'regular', schedule: 'classic' });
    gateA.hold((op, key) => op === 'get' && key.includes('/t/'), 'response');
    gateC.hold((op) => op === 'list'); // C's lists stay unanswered: every list quorum includes A
    // A listed ts2; B and C have only ts1 and an eternal ts1: they answer negatively, so the read retries.
    // Meanwhile A's held answer (v2) arrives and is taken.
    const reading = s.read('p');
    await new Promise((r) => setTimeout(r, 10));
    gateA.clearRules();
    gateA.release();
    const r = await reading;
    expect(text(r.value)).toBe('v2'); // A's late answer, not a stale eternal
    await s.close();
  });
});
