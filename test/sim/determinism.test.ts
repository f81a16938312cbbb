import { describe, expect, it } from 'vitest';
import { formatHistory } from '../../src/check/index.js';
import { runSimulation, Scheduler, SimNetwork, SimPort, type SimClientState } from '../../src/sim/index.js';
import { fromUtf8, utf8 } from '../../src/store.js';

describe('determinism', () => {
  it('the same seed gives the same history and the same event trace, bit for bit', async () => {
    for (const seed of [1, 42, 977]) {
      for (const variant of ['regular', 'atomic'] as const) {
        const a = await runSimulation({ seed, variant, schedule: 'fast', trace: true });
        const b = await runSimulation({ seed, variant, schedule: 'fast', trace: true });
        expect(formatHistory(b.history)).toBe(formatHistory(a.history));
        expect(b.trace).toEqual(a.trace);
        expect(a.trace!.length).toBeGreaterThan(20);
        expect(JSON.stringify(b.config)).toBe(JSON.stringify(a.config));
      }
    }
  });
  it('different seeds give different schedules', async () => {
    const a = await runSimulation({ seed: 5, variant: 'regular', schedule: 'classic', trace: true });
    const b = await runSimulation({ seed: 6, variant: 'regular', schedule: 'classic', trace: true });
    expect(b.trace).not.toEqual(a.trace);
  });
});

describe('scheduler', () => {
  it('fires events in virtual-time order, ties in insertion order, and never fires at Infinity', async () => {
    const s = new Scheduler({ trace: true });
    const seen: string[] = [];
    s.at(5, 'b', () => seen.push('b'));
    s.at(1, 'a', () => seen.push('a'));
    s.at(5, 'c', () => seen.push('c'));
    s.at(Infinity, 'never', () => seen.push('never'));
    s.at(3, 'spawn', () => s.after(1, 'child', () => seen.push('child')));
    expect(await s.run()).toBe(true);
    expect(seen).toEqual(['a', 'child', 'b', 'c']);
    expect(s.now).toBe(5);
  });
  it('stops at the event limit', async () => {
    const s = new Scheduler();
    const tick = () => s.after(1, 'tick', tick);
    tick();
    expect(await s.run(100)).toBe(false);
    expect(s.fired).toBe(100);
  });
});

function setup(delays: (op: string) => { effect: number; reply: number }) {
  const sched = new Scheduler({ trace: true });
  const net = new SimNetwork(sched, 1, { delays: (c) => delays(c.op) });
  const client: SimClientState = { id: 'c0', index: 0, crashed: false, phase: 'write', opIndex: 0 };
  return { sched, net, client, port: new SimPort(net, net.replicas[0], client) };
}

describe('simulated replicas', () => {
  it('behave as a store: effects at their own time, replies later', async () => {
    const { sched, port, net } = setup((op) => (op === 'put' ? { effect: 10, reply: 100 } : { effect: 20, reply: 1 }));
    const events: string[] = [];
    void port.put('k', utf8('v')).then(() => events.push(`put acked at ${sched.now}`));
    void port.get('k').then((v) => events.push(`get ${v && fromUtf8(v)} at ${sched.now}`));
    void port.list('').then((ks) => events.push(`list ${ks.join(',')} at ${sched.now}`));
    await sched.run();
    // the put took effect at 10 (before the get at 20) but was acknowledged only at 110
    expect(events).toEqual(['get v at 21', 'list k at 21', 'put acked at 110']);
    expect(net.stats.effects).toBe(3);
  });
  it('an aborted call rejects at once, and its effect still lands later (lingering)', async () => {
    const { sched, port, net } = setup(() => ({ effect: 50, reply: 1 }));
    const ac = new AbortController();
    const p = port.put('k', utf8('late'));
    const q = port.remove('other', { signal: ac.signal });
    sched.at(10, 'abort', () => ac.abort());
    const outcome = q.then(
      () => 'resolved',
      (e: Error & { aborted?: boolean }) => `rejected at ${sched.now} aborted=${e.aborted}`,
    );
    await sched.run();
    expect(await outcome).toBe('rejected at 10 aborted=true');
    await p;
    expect(fromUtf8(net.replicas[0].data.get('k')!)).toBe('late');
  });
  it('a crashed replica never answers (hang) or answers with errors', async () => {
    const { sched, port, net } = setup(() => ({ effect: 5, reply: 5 }));
    net.crashReplica(0, 'hang');
    let settled = false;
    void port.put('k', utf8('v')).finally(() => (settled = true));
    await sched.run();
    expect(settled).toBe(false);
    expect(net.replicas[0].data.size).toBe(0);
    net.crashReplica(0, 'error');
    const r = port.get('k').then(() => 'ok', (e: Error) => e.message);
    await sched.run();
    expect(await r).toMatch(/Unavailable: get\("k"\) on store kvsA failed: simulated replica crash/);
  });
  it("a crashed client's sent calls still land, but it hears nothing and sends nothing", async () => {
    const { sched, port, net, client } = setup(() => ({ effect: 5, reply: 5 }));
    let heard = false;
    void port.put('k', utf8('v')).then(() => (heard = true));
    sched.at(1, 'crash', () => (client.crashed = true));
    await sched.run();
    expect(heard).toBe(false);
    expect(net.replicas[0].data.has('k')).toBe(true);
    void port.put('k2', utf8('v'));
    await sched.run();
    expect(net.replicas[0].data.has('k2')).toBe(false);
  });
});
