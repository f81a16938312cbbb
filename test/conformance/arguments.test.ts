/**
 * Argument types at the public entry of every store: every store factory, store class and layer the
 * library exports refuses a key, value, prefix or options of the wrong type with a ConfigError, before
 * any of its own code runs (the cloud stores here point at a closed port: a refused call never gets as
 * far as the network). The list of exports is enumerated, so a new store or layer cannot be added
 * without being checked here. The behaviour on real backends is checked by the shared conformance
 * suite (test/conformance/suite.ts), which every adapter, layer and the robust store run.
 *
 * The last block replays the reports that made these checks necessary, on the robust store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import type { Store } from '../../src/store.js';
import { BAD_KEYS, BAD_PREFIXES, BAD_VALUES, expectArgumentError } from './suite.js';
import { SimNetwork, SimPort, type SimClientState } from '../../src/sim/network.js';
import { Scheduler } from '../../src/sim/scheduler.js';
import { VirtualClock } from '../../src/simulate/clock.js';
import { SimReplica } from '../../src/simulate/replica.js';

const AES_KEY = Buffer.alloc(32, 1);
const CLOSED = 'http://127.0.0.1:1';
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkvs-args-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const memory = (): Store => lib.createMemoryStore();

/** Every exported function that builds a store, with arguments that build one offline. */
const STORE_FACTORIES: Record<string, () => Store> = {
  createMemoryStore: () => lib.createMemoryStore(),
  createFsStore: () => lib.createFsStore({ dir, fsync: false }),
  createS3Store: () =>
    lib.createS3Store({ bucket: 'b', endpoint: CLOSED, credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret' }, maxAttempts: 1 }),
  createAzureBlobStore: () =>
    lib.createAzureBlobStore({ container: 'cont', accountName: 'acct', accountKey: Buffer.from('k'.repeat(32)).toString('base64'), endpoint: `${CLOSED}/acct`, maxAttempts: 1 }),
  createGcsStore: () => lib.createGcsStore({ bucket: 'b', apiEndpoint: CLOSED, maxAttempts: 1 }),
  createRobustStore: () => lib.createRobustStore({ replicas: [memory(), memory(), memory()], variant: 'atomic', clientId: 'a' }),
};

/** Every exported layer factory, applied to a memory store. */
const LAYERS: Record<string, () => Store> = {
  latency: () => lib.latency({ delay: 0 })(memory()),
  faults: () => lib.faults({ seed: 1 })(memory()),
  metrics: () => lib.metrics()(memory()),
  integrity: () => lib.integrity()(memory()),
  encryption: () => lib.encryption({ key: AES_KEY })(memory()),
  retry: () => lib.retry({ seed: 1 })(memory()),
  prefixed: () => lib.prefixed('p/')(memory()),
};

/** Every exported store class, built with `new` (the checks live in the classes, not only in the factories). */
const STORE_CLASSES: Record<string, (() => Store) | 'built by its layer factory'> = {
  MemoryStore: () => new lib.MemoryStore(),
  FsStore: () => new lib.FsStore({ dir, fsync: false }),
  S3Store: () => new lib.S3Store({ bucket: 'b', endpoint: CLOSED, maxAttempts: 1 }),
  AzureBlobStore: () => new lib.AzureBlobStore({ container: 'cont', accountName: 'acct', sasToken: 'sv=1&sig=x', endpoint: `${CLOSED}/acct` }),
  GcsStore: () => new lib.GcsStore({ bucket: 'b', apiEndpoint: CLOSED }),
  ForwardingStore: () => new lib.ForwardingStore(memory(), 'forward'),
  LatencyStore: () => new lib.LatencyStore(memory(), { delay: 0 }),
  MetricsStore: () => new lib.MetricsStore(memory()),
  IntegrityStore: () => new lib.IntegrityStore(memory()),
  EncryptionStore: () => new lib.EncryptionStore(memory(), { key: AES_KEY }),
  RetryStore: () => new lib.RetryStore(memory()),
  PrefixStore: () => new lib.PrefixStore(memory(), 'p/'),
  FaultyStore: 'built by its layer factory',
};

/** Exported functions that neither build a store nor are a layer. */
const OTHER_FUNCTIONS = new Set([
  'ConfigError',
  'QuorumError',
  'StoreError',
  'SocketTimeoutError',
  'azureBlobOptionsFromEnv',
  'checkKeyArgs',
  'checkListArgs',
  'checkPutArgs',
  'compareTs',
  'compose',
  'createDelaySampler',
  'describeCause',
  'describeReceived',
  'findLayer',
  'formatTs',
  'fromUtf8',
  'gcsOptionsFromEnv',
  'guardStoreCalls',
  'isStoreError',
  'parseEncryptionKey',
  'randomClientId',
  'redact',
  'registerSecret',
  's3OptionsFromEnv',
  'sortKeys',
  'utf8',
]);

describe('every exported store and layer checks its arguments', () => {
  it('the lists above cover every function the library exports', () => {
    const exported = Object.entries(lib)
      .filter(([, v]) => typeof v === 'function')
      .map(([k]) => k)
      .sort();
    const known = [...Object.keys(STORE_FACTORIES), ...Object.keys(LAYERS), ...Object.keys(STORE_CLASSES), ...OTHER_FUNCTIONS].sort();
    expect(exported, 'a new export: add it to STORE_FACTORIES, LAYERS, STORE_CLASSES or OTHER_FUNCTIONS').toEqual(known);
  });

  const all: [string, () => Store][] = [
    ...Object.entries(STORE_FACTORIES),
    ...Object.entries(LAYERS).map(([k, v]) => [`layer ${k}`, v] as [string, () => Store]),
    ...Object.entries(STORE_CLASSES).flatMap(([k, v]) => (typeof v === 'function' ? [[`new ${k}`, v] as [string, () => Store]] : [])),
  ];

  for (const [label, make] of all) {
    it(`${label}: bad keys, values, prefixes and options reject with a ConfigError naming the store`, async () => {
      const s = make();
      try {
        for (const [, key] of BAD_KEYS) {
          await expectArgumentError(() => s.put(key as string, new Uint8Array([1])), { arg: 'key', store: s, op: 'put' });
          await expectArgumentError(() => s.get(key as string), { arg: 'key', store: s, op: 'get' });
          await expectArgumentError(() => s.remove(key as string), { arg: 'key', store: s, op: 'remove' });
        }
        for (const [, value] of BAD_VALUES) {
          await expectArgumentError(() => s.put('k', value as Uint8Array), { arg: 'value', store: s, op: 'put' });
        }
        for (const [, prefix] of BAD_PREFIXES) {
          await expectArgumentError(() => s.list(prefix as string), { arg: 'prefix', store: s, op: 'list' });
        }
        await expectArgumentError(() => s.get('k', { signal: 100 } as never), { arg: 'opts.signal', store: s, op: 'get' });
        await expectArgumentError(() => s.list('', 100 as never), { arg: 'opts', store: s, op: 'list' });
      } finally {
        await s.close();
      }
    });
  }

  it("the robust store's write and read check their arguments too", async () => {
    const s = lib.createRobustStore({ replicas: [memory(), memory(), memory()], variant: 'regular', clientId: 'a' });
    await expectArgumentError(() => s.write(7 as never, new Uint8Array([1])), { arg: 'key', store: s, op: 'write' });
    await expectArgumentError(() => s.write('k', 'text' as never), { arg: 'value', store: s, op: 'write' });
    await expectArgumentError(() => s.read(undefined as never), { arg: 'key', store: s, op: 'read' });
    await expectArgumentError(() => s.read('k', { signal: 'x' } as never), { arg: 'opts.signal', store: s, op: 'read' });
    await s.close();
  });

  it('a layer refuses a bad call itself: nothing reaches the store below', async () => {
    const m = lib.metrics();
    const inner = m(memory());
    const stack = lib.compose(inner, lib.integrity(), lib.prefixed('p/'));
    await expectArgumentError(() => stack.put('k', 'v' as never), { arg: 'value', store: stack, op: 'put' });
    await expectArgumentError(() => stack.get(1 as never), { arg: 'key', store: stack, op: 'get' });
    expect(m.snapshot().total.calls).toBe(0);
  });
});

describe('the simulated stores check their arguments like the real ones', () => {
  // the simulators run the register over these stores; a bad call must fail there as it would on S3
  const made: [string, () => { store: Store; effects: () => number }][] = [
    [
      'SimPort (src/sim)',
      () => {
        const sched = new Scheduler();
        const calls: string[] = [];
        const net = new SimNetwork(sched, 1, { delays: () => ({ effect: 1, reply: 1 }), onCall: (c) => void calls.push(c.op) });
        const client: SimClientState = { id: 'c0', index: 0, crashed: false, phase: 'write', opIndex: 0 };
        return { store: new SimPort(net, net.replicas[0]!, client), effects: () => calls.length + net.replicas[0]!.data.size };
      },
    ],
    [
      'SimReplica (src/simulate)',
      () => {
        const r = new SimReplica({ name: 'r', clock: new VirtualClock(), model: { default: { kind: 'fixed', ms: 1 } }, seed: 1 });
        return { store: r, effects: () => r.counters.puts + r.counters.gets + r.counters.lists + r.counters.removes };
      },
    ],
  ];
  for (const [label, make] of made) {
    it(`${label}: bad keys, values, prefixes and options reject with a ConfigError before any simulated call`, async () => {
      const { store: s, effects } = make();
      for (const [, key] of [...BAD_KEYS, ['the empty string', '']]) {
        await expectArgumentError(() => s.put(key as string, new Uint8Array([1])), { arg: 'key', store: s, op: 'put' });
        await expectArgumentError(() => s.get(key as string), { arg: 'key', store: s, op: 'get' });
        await expectArgumentError(() => s.remove(key as string), { arg: 'key', store: s, op: 'remove' });
      }
      for (const [, value] of BAD_VALUES) await expectArgumentError(() => s.put('k', value as Uint8Array), { arg: 'value', store: s, op: 'put' });
      for (const [, prefix] of BAD_PREFIXES) await expectArgumentError(() => s.list(prefix as string), { arg: 'prefix', store: s, op: 'list' });
      await expectArgumentError(() => s.get('k', { signal: 100 } as never), { arg: 'opts.signal', store: s, op: 'get' });
      expect(effects(), 'a refused call reached the simulated network or replica').toBe(0);
    });
  }
});

describe('the reported cases, on the robust store (fast and classic)', () => {
  const replicas = () => [lib.createMemoryStore({ name: 'a' }), lib.createMemoryStore({ name: 'b' }), lib.createMemoryStore({ name: 'c' })];
  const keysOf = async (reps: Store[]) => (await Promise.all(reps.map((r) => r.list('')))).flat();

  for (const schedule of ['fast', 'classic'] as const) {
    it(`${schedule}: a string, a Float32Array or a Uint16Array value is refused, and no replica holds anything`, async () => {
      const reps = replicas();
      const s = lib.createRobustStore({ replicas: reps, variant: 'atomic', schedule, clientId: 'w' });
      // were: 'hello' read back as five zero bytes; 8 bytes of Float32Array as 2 bytes;
      // a Uint16Array stored as [2,1,3,2] in the temporary key and [2,3] in the eternal key
      for (const bad of ['hello', new Float32Array([1.5, 2.5]), new Uint16Array([0x0102, 0x0203])]) {
        await expectArgumentError(() => s.put('v', bad as never), { arg: 'value', store: s, op: 'put' });
      }
      expect(await s.get('v')).toBeNull();
      expect(await keysOf(reps)).toEqual([]);
      // the explicit conversions the message suggests store the bytes the caller means
      const u16 = new Uint16Array([0x0102, 0x0203]);
      await s.put('v', new Uint8Array(u16.buffer, u16.byteOffset, u16.byteLength));
      const fast = lib.createRobustStore({ replicas: reps, variant: 'atomic', schedule: 'fast', clientId: 'f' });
      const classic = lib.createRobustStore({ replicas: reps, variant: 'regular', schedule: 'classic', clientId: 'c' });
      const expected = [...new Uint8Array(u16.buffer)];
      expect([...((await fast.get('v')) ?? [])]).toEqual(expected);
      expect([...((await classic.get('v')) ?? [])]).toEqual(expected);
      await Promise.all([s.close(), fast.close(), classic.close()]);
    });

    it(`${schedule}: keys 123, true, {a:1} and a symbol are refused instead of landing on the empty key`, async () => {
      const reps = replicas();
      const s = lib.createRobustStore({ replicas: reps, variant: 'atomic', schedule, clientId: 'w' });
      for (const bad of [123, true, { a: 1 }, Symbol('s')]) {
        await expectArgumentError(() => s.put(bad as never, new Uint8Array([9])), { arg: 'key', store: s, op: 'put' });
      }
      await expectArgumentError(() => s.get(''), { arg: 'key', store: s, op: 'get' });
      expect(await keysOf(reps)).toEqual([]);
      await s.close();
    });
  }

  it('list(undefined) says to pass a prefix, instead of a QuorumError', async () => {
    const s = lib.createRobustStore({ replicas: replicas(), variant: 'atomic', clientId: 'w' });
    const err = await expectArgumentError(() => s.list(undefined as never), { arg: 'prefix', store: s, op: 'list', fix: /pass '' to list every key/ });
    expect(err).not.toBeInstanceOf(lib.QuorumError);
    await s.close();
  });
});
