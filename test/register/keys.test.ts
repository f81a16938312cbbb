import { describe, expect, it } from 'vitest';
import {
  cutAtToken,
  decodeEternal,
  decodeRegister,
  encodeEternal,
  encodeRegister,
  escapeName,
  eternalKey,
  HASH_THRESHOLD,
  listPrefixFor,
  parseKey,
  tempKey,
  unescapeName,
} from '../../src/register/keys.js';
import { compareTs, formatNum } from '../../src/register/timestamp.js';
import { createRobustStore } from '../../src/register/index.js';
import { Random } from '../../src/util/random.js';
import { bytes, memories, text } from './helpers.js';

const SEED = Number(process.env.SEED ?? 20121);

/** Characters valid in keys on S3, Azure Blob and GCS without special handling, and no `.` or `/` in names. */
const SAFE_NAME = /^r[A-Za-z0-9_~!-]*$/;

const tricky = [
  '',
  '/',
  '..',
  '../..',
  './x/.',
  'a/b/c',
  'a//b/',
  'trailing.',
  'with space',
  'ctrl\u0000\u0001\n\r\t\u007f',
  'percent%2F and + and ?#[]',
  'unicode: héllo wörld ✓ 日本語 😀',
  'lone \ud800 surrogate \udfff',
  '_5F~007E!',
  'r',
  '/t/0000000000000001-x',
  '/e',
];

describe('register name encoding', () => {
  it('round-trips tricky names and yields keys safe on S3, Azure and GCS', () => {
    const seen = new Set<string>();
    for (const name of tricky) {
      const enc = encodeRegister(name);
      expect(enc, JSON.stringify(name)).toMatch(SAFE_NAME);
      expect(enc).not.toContain('..');
      expect(enc.endsWith('.')).toBe(false);
      expect(decodeRegister(enc)).toEqual({ name });
      expect(unescapeName(escapeName(name))).toBe(name);
      expect(seen.has(enc)).toBe(false);
      seen.add(enc);
      // every key of the register parses back to the register
      const tk = tempKey(enc, { num: 7, clientId: 'c/../.d-1' }, true);
      expect(parseKey(tk)).toMatchObject({ register: enc, kind: 'temp', entry: { ts: { num: 7, clientId: 'c/../.d-1' }, tombstone: true } });
      expect(parseKey(eternalKey(enc))).toEqual({ register: enc, kind: 'eternal' });
      for (const key of [tk, eternalKey(enc)]) {
        expect(key.split('/').every((seg) => seg !== '.' && seg !== '..' && seg !== '')).toBe(true);
        expect(/[\u0000-\u001f\u007f]/.test(key)).toBe(false);
        expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
      }
    }
  });

  it('is prefix-preserving both ways (seeded random names)', () => {
    const rnd = new Random(SEED);
    const alphabet = ['a', 'b', '/', '.', '_', '~', '-', '!', 'é', '日', '\ud83d', '\ude00', ' ', '0'];
    const word = () => Array.from({ length: rnd.int(0, 8) }, () => rnd.pick(alphabet)).join('');
    for (let i = 0; i < 2000; i++) {
      const a = word();
      const b = rnd.chance(0.5) ? a + word() : word();
      const ea = escapeName(a);
      const eb = escapeName(b);
      expect(eb.startsWith(ea), `seed ${SEED}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(b.startsWith(a));
      expect(unescapeName(eb)).toBe(b);
    }
  });

  it('rejects keys that are not canonical escapes', () => {
    for (const bad of ['_41', '~0041', '_2', '~12', 'a.b', 'a/b', '_zz']) expect(unescapeName(bad)).toBeNull();
    expect(parseKey('foreign-key')).toBeNull();
    expect(parseKey('rabc/t/12-x')).toBeNull();
    expect(parseKey('rabc/t/0000000000000001-')).toBeNull();
  });

  it('a clientId cannot forge the separators', () => {
    const enc = encodeRegister('r1');
    for (const clientId of ['x.d', 'a-b', '1/t/2', '../e', 'ü']) {
      const live = tempKey(enc, { num: 3, clientId }, false);
      expect(parseKey(live)).toMatchObject({ kind: 'temp', entry: { ts: { num: 3, clientId }, tombstone: false } });
    }
  });

  it('fixed-width num makes listing order timestamp order', () => {
    const enc = encodeRegister('k');
    const nums = [1, 2, 9, 10, 99, 100, 12345, Number.MAX_SAFE_INTEGER];
    const keys = nums.map((num) => tempKey(enc, { num, clientId: 'c' }, false));
    expect([...keys].sort()).toEqual(keys);
    expect(formatNum(1)).toHaveLength(16);
    expect(() => formatNum(-1)).toThrow();
    expect(compareTs({ num: 2, clientId: 'a' }, { num: 1, clientId: 'z' })).toBeGreaterThan(0);
    expect(compareTs({ num: 2, clientId: 'a' }, { num: 2, clientId: 'b' })).toBeLessThan(0);
  });

  it('hashes very long names with a readable prefix', () => {
    const long = 'folder/'.repeat(200) + 'file';
    const enc = encodeRegister(long);
    expect(enc.length).toBeLessThan(400);
    expect(enc).toMatch(SAFE_NAME);
    expect(enc.startsWith(`r${escapeName('folder/folder/')}`)).toBe(true);
    const d = decodeRegister(enc);
    expect(d).toMatchObject({ hashed: true });
    expect(encodeRegister(long + 'x')).not.toBe(enc);
    // the longest plain name is not hashed
    const plain = 'a'.repeat(HASH_THRESHOLD);
    expect(decodeRegister(encodeRegister(plain))).toEqual({ name: plain });
    expect(cutAtToken('ab_2Fcd', 4)).toBe('ab');
    // the listing prefix of a long prefix is short enough to cover hashed names
    expect(encodeRegister(long).startsWith(listPrefixFor(long.slice(0, 1000)))).toBe(true);
  });

  it('eternal values carry (ts, tombstone, value) with a small header', () => {
    const value = new Uint8Array([0, 1, 2, 255]);
    const enc = encodeEternal({ ts: { num: 5, clientId: 'c' }, tombstone: false, value });
    expect(enc.length).toBeLessThan(value.length + 40);
    expect(decodeEternal(enc)).toEqual({ ts: { num: 5, clientId: 'c' }, tombstone: false, value });
    expect(decodeEternal(encodeEternal({ ts: { num: 1, clientId: 'x' }, tombstone: true, value: new Uint8Array(0), name: 'n' }))).toMatchObject({
      tombstone: true,
      name: 'n',
    });
    expect(() => decodeEternal(bytes('garbage!'))).toThrow(/RKE1/);
  });
});

describe('robust store over tricky names', () => {
  it('writes, reads and lists them (long names included)', async () => {
    const store = createRobustStore({ replicas: memories(3), variant: 'atomic', clientId: 'k' });
    const long1 = 'deep/'.repeat(150) + 'one';
    const long2 = 'deep/'.repeat(150) + 'two';
    // the register encoding takes the empty name, but the store refuses the empty key, as every store does
    await expect(store.put('', bytes('v'))).rejects.toMatchObject({ name: 'ConfigError', path: 'key' });
    const names = [...tricky.filter((n) => n !== ''), long1, long2];
    for (const name of names) await store.put(name, bytes(`v:${name}`));
    for (const name of names) expect(text(await store.get(name))).toBe(text(bytes(`v:${name}`)));
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(await store.list('')).toEqual(sorted);
    expect(await store.list('a/')).toEqual(['a//b/', 'a/b/c']);
    expect(await store.list('.')).toEqual(['..', '../..', './x/.']);
    expect(await store.list('deep/deep/')).toEqual([long1, long2]);
    expect(await store.list(long1.slice(0, 700))).toEqual([long1, long2]);
    expect(await store.list(long1)).toEqual([long1]);
    await store.remove(long2);
    expect(await store.list('deep/')).toEqual([long1]);
    expect(await store.get(long2)).toBeNull();
  });
});
