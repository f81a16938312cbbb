import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QuorumError } from '../../src/errors.js';
import { compose } from '../../src/layers/compose.js';
import { faults, type FaultsLayer } from '../../src/layers/faults.js';
import { latency } from '../../src/layers/latency.js';
import { metrics } from '../../src/layers/metrics.js';
import { createRobustStore, encodeRegister } from '../../src/register/index.js';
import { GateStore, MATRIX, bytes, copiesAt, flush, isEternal, isTemp, memories, text } from './helpers.js';

let unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  await flush();
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** n memory replicas, each behind its own faults layer (and optionally a small latency). */
function faulty(n: number, delayMs = 0) {
  const mem = memories(n);
  const ctl: FaultsLayer[] = [];
  const replicas = mem.map((m, i) => {
    const f = faults({ seed: i + 1 });
    ctl.push(f);
    return delayMs > 0 ? compose(m, f, latency({ delay: delayMs, seed: i })) : compose(m, f);
  });
  return { mem, ctl, replicas };
}

describe.each(MATRIX)('faults $variant/$schedule', ({ variant, schedule }) => {
  for (const mode of ['hang', 'fail'] as const) {
    it(`keeps working with t of n replicas crashed (${mode})`, async () => {
      const { ctl, replicas } = faulty(5, 2);
      const s = createRobustStore({ replicas, variant, schedule, clientId: 'w' });
      await s.put('k', bytes('before'));
      ctl[0]!.crash(mode);
      ctl[3]!.crash(mode);
      expect(text(await s.get('k'))).toBe('before');
      await s.put('k', bytes('after'));
      expect(text(await s.get('k'))).toBe('after');
      await s.remove('k');
      expect(await s.get('k')).toBeNull();
      await s.put('k2', bytes('x'));
      expect(await s.list('')).toEqual(['k2']);
      await s.close(); // aborts the calls hanging at the crashed replicas
    });
  }

  it('fails fast with a QuorumError naming each replica when more than t replicas error', async () => {
    const { ctl, replicas } = faulty(3);
    const s = createRobustStore({ replicas, variant, schedule });
    ctl[1]!.crash('fail');
    ctl[2]!.crash('fail');
    const err = await s.put('k', bytes('v')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuorumError);
    const qe = err as QuorumError;
    expect(qe.needed).toBe(2);
    expect(qe.received).toBe(1);
    expect(qe.failures.map((f) => f.replica)).toEqual([expect.stringMatching(/replica 1/), expect.stringMatching(/replica 2/)]);
    expect(qe.message).toMatch(/crashed/);
    await expect(s.get('k')).rejects.toBeInstanceOf(QuorumError);
    await expect(s.list('')).rejects.toBeInstanceOf(QuorumError);
  });

  it('waits only until the operation timeout when more than t replicas hang', async () => {
    const { ctl, replicas } = faulty(3);
    const s = createRobustStore({ replicas, variant, schedule, operationTimeoutMs: 100 });
    ctl[0]!.crash('hang');
    ctl[2]!.crash('hang');
    const err = (await s.put('k', bytes('v')).catch((e: unknown) => e)) as QuorumError;
    expect(err).toBeInstanceOf(QuorumError);
    // the store's own limit passed, not the caller's abort: a Timeout worth retrying, as an adapter's request timeout
    expect(err).toMatchObject({ kind: 'Timeout', aborted: false, retryable: true, op: 'put', key: 'k' });
    expect(err.failures).toHaveLength(2);
    expect(err.message).toMatch(/^Timeout: put\("k"\) on store robust\(.*\) failed: no quorum within operationTimeoutMs \(100 ms\): needed 2 replies in its list round, got 1 \(/);
    expect(err.message).toMatch(/no answer before the operation timed out/);
    await expect(s.get('k')).rejects.toBeInstanceOf(QuorumError);
    await s.close();
  });

  it('honours the caller\'s AbortSignal', async () => {
    const { ctl, replicas } = faulty(3);
    const s = createRobustStore({ replicas, variant, schedule });
    ctl[0]!.crash('hang');
    ctl[1]!.crash('hang');
    const ac = new AbortController();
    const p = s.get('k', { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    // the error names the user's call (get), not the replica round it waited for, and is not retryable
    await expect(p).rejects.toMatchObject({ name: 'QuorumError', kind: 'Timeout', aborted: true, retryable: false, op: 'get', key: 'k' });
    await expect(p).rejects.toThrow(/^Timeout: get\("k"\) on store .* failed: aborted by the caller: needed 2 replies in its list round, got 1 \(.*no answer before the caller aborted/);
    const pre = AbortSignal.abort();
    await expect(s.put('k', bytes('v'), { signal: pre })).rejects.toMatchObject({ kind: 'Timeout', aborted: true, retryable: false, op: 'put', key: 'k' });
    await expect(s.remove('k', { signal: pre })).rejects.toMatchObject({ aborted: true, retryable: false, op: 'remove' });
    await expect(s.list('k', { signal: pre })).rejects.toMatchObject({ aborted: true, retryable: false, op: 'list', key: 'k' });
    await s.close();
  });

  it('a call whose signal has already fired asks no replica anything', async () => {
    const counters = [0, 1, 2].map(() => metrics());
    const replicas = memories(3).map((m, i) => compose(m, counters[i]!));
    const s = createRobustStore({ replicas, variant, schedule });
    const pre = AbortSignal.abort();
    for (const call of [() => s.put('k', bytes('v'), { signal: pre }), () => s.get('k', { signal: pre }), () => s.list('', { signal: pre }), () => s.remove('k', { signal: pre })])
      await expect(call()).rejects.toMatchObject({ kind: 'Timeout', aborted: true, retryable: false });
    expect(counters.map((c) => c.snapshot().total.calls)).toEqual([0, 0, 0]);
    await s.close();
  });

  it('a call in flight when the store is closed fails as Unavailable, aborted, not retryable, naming the call', async () => {
    const { ctl, replicas } = faulty(3);
    const s = createRobustStore({ replicas, variant, schedule });
    ctl[0]!.crash('hang');
    ctl[1]!.crash('hang');
    const p = s.remove('gone').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    await s.close();
    const err = (await p) as QuorumError;
    expect(err).toBeInstanceOf(QuorumError);
    expect(err).toMatchObject({ kind: 'Unavailable', aborted: true, retryable: false, op: 'remove', key: 'gone' });
    expect(err.message).toMatch(/the robust store was closed while the call was in flight/);
  });
});

describe('lingering calls', () => {
  it('a replica that answers only after the operation finished: the late put still lands, errors stay contained', async () => {
    const mem = memories(3);
    const gate = new GateStore(mem[2]!);
    const s = createRobustStore({ replicas: [mem[0]!, mem[1]!, gate], variant: 'atomic', schedule: 'fast', clientId: 'c' });
    gate.hold(() => true);
    await s.put('k', bytes('v1')); // completes with replicas 0 and 1
    // the write issued its list, temporary put and eternal put to the slow replica too: all are held there
    expect(gate.heldCount((op) => op === 'list')).toBe(1);
    expect(gate.heldCount((op) => op === 'put')).toBe(2);
    expect(text(await s.get('k'))).toBe('v1');
    let settled = false;
    const done = s.settled().then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    gate.clearRules();
    gate.release();
    await done;
    const enc = encodeRegister('k');
    expect((await copiesAt(mem[2]!, enc)).temp).toHaveLength(1);
    expect((await copiesAt(mem[2]!, enc)).eternal).toHaveLength(1);
  });

  it('close() aborts lingering calls; their rejections are contained', async () => {
    const mem = memories(3);
    const gate = new GateStore(mem[0]!);
    const s = createRobustStore({ replicas: [gate, mem[1]!, mem[2]!], variant: 'regular', schedule: 'classic' });
    gate.hold(() => true);
    await s.put('k', bytes('v'));
    await s.get('k');
    await flush();
    expect(gate.heldCount()).toBeGreaterThan(0);
    await s.close();
    expect(gate.heldCount()).toBe(0);
  });
});

describe('synchronous GC stays wait-free', () => {
  it('a write with gc "sync" completes although a replica never answers its removes', async () => {
    const mem = memories(3);
    const gate = new GateStore(mem[0]!);
    const s = createRobustStore({ replicas: [gate, mem[1]!, mem[2]!], variant: 'regular', gc: 'sync' });
    await s.put('k', bytes('1'));
    gate.hold((op) => op === 'remove');
    await s.put('k', bytes('2'));
    expect(gate.heldCount((op) => op === 'remove')).toBe(1);
    // GC finished at the other two replicas before the write returned
    for (const m of [mem[1]!, mem[2]!]) expect((await copiesAt(m, encodeRegister('k'))).temp).toHaveLength(1);
    await s.close();
  });
});

describe('client crash mid-write', () => {
  it('leaves garbage that the next write collects', async () => {
    const mem = memories(3);
    const gates = mem.map((m) => new GateStore(m));
    const crashing = createRobustStore({ replicas: gates, variant: 'regular', schedule: 'classic', clientId: 'dead' });
    const enc = encodeRegister('r');
    await crashing.put('r', bytes('v1'));
    await crashing.settled();
    // the client "crashes" after its temporary puts reached two replicas: the eternal round never happens
    gates.forEach((g, i) => g.hold(i === 2 ? isTemp(enc) : isEternal(enc)));
    const p = crashing.put('r', bytes('lost'), { signal: AbortSignal.timeout(200) }).catch(() => 'crashed');
    expect(await p).toBe('crashed');
    await crashing.close(); // the client is gone: its held calls never take effect
    expect(gates.map((g) => g.heldCount())).toEqual([0, 0, 0]);
    for (const i of [0, 1]) expect((await copiesAt(mem[i]!, enc)).temp).toHaveLength(2);

    const next = createRobustStore({ replicas: mem, variant: 'regular', schedule: 'classic', clientId: 'next' });
    expect(text(await next.get('r'))).toMatch(/^(v1|lost)$/);
    const w = await next.write('r', bytes('v3'));
    expect(w.ts.num).toBe(3);
    await next.settled();
    for (const m of mem) {
      const c = await copiesAt(m, enc);
      expect(c.temp, m.name).toEqual([expect.stringContaining('0000000000000003-next')]);
      expect(c.eternal).toHaveLength(1);
    }
    expect(text(await next.get('r'))).toBe('v3');
  });
});
