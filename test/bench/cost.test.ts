import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { COST_COLUMNS, GB, computeCosts, priceKeyForLabel, writeCostCsv, type RequestsRow } from '../../src/bench/analyze/cost.js';
import { DEFAULT_PRICES, loadPricesFile, mergePrices, priceKeyOf, type PriceTable } from '../../src/bench/config/prices.js';

/** Round prices so the expected values are easy to compute by hand. */
const PRICES: PriceTable = {
  s3: { ...DEFAULT_PRICES.s3, putPer1k: 0.005, getPer1k: 0.0004, listPer1k: 0.005, removePer1k: 0, storagePerGBMonth: 0.023, egressPerGB: 0.09 },
  azure: { ...DEFAULT_PRICES.azure, putPer1k: 0.01, getPer1k: 0.001, listPer1k: 0.01, removePer1k: 0, storagePerGBMonth: 0.02, egressPerGB: 0 },
  local: DEFAULT_PRICES.local,
};

/** The cell key fields the rows below share. */
const cell = { schedule: 'fast', value_bytes: 1024, clients: 1, registers: 4, workers: 1, workload: 'w', mode: 'closed', open_rate: 0, fault: '' };

const req = (replica: string, c: Partial<RequestsRow>): RequestsRow => ({
  run_id: 'r1',
  config: 'c',
  variant: 'atomic',
  op: 'write',
  ...cell,
  replica,
  puts: 0,
  gets: 0,
  lists: 0,
  removes: 0,
  bytes_up: 0,
  bytes_down: 0,
  ...c,
});

describe('cost arithmetic', () => {
  it('cost per million operations sums each replica priced by its provider', () => {
    const { rows, warnings } = computeCosts({
      requests: [
        req('s3-a', { puts: 2, gets: 1, lists: 1, removes: 1, bytes_down: GB / 1e6 }),
        req('azure-b', { puts: 2, gets: 1, lists: 1, removes: 1 }),
      ],
      overhead: [],
      replicas: { c: [{ name: 's3-a', priceKey: 's3' }, { name: 'azure-b', priceKey: 'azure' }] },
      prices: PRICES,
    });
    expect(warnings).toEqual([]);
    expect(rows).toHaveLength(1);
    const r = rows[0];
    // s3: (2*0.005 + 1*0.0004 + 1*0.005 + 0) / 1000 * 1e6 = 15.4 ; azure: (0.02 + 0.001 + 0.01) * 1000 = 31
    expect(r.cost_per_million_ops).toBeCloseTo(46.4, 6);
    // 1e6 ops x GB/1e6 bytes = 1 GB out of S3 at 0.09
    expect(r.egress_per_million_ops).toBeCloseTo(0.09, 6);
    expect(r.requests_per_op).toBe(10);
    expect(r.replicas).toBe(2);
    expect(r.price_keys).toBe('azure+s3');
    expect(r.currency).toBe('USD');
  });

  it('storage per logical GB-month = sum of per-replica overhead ratio x storage price', () => {
    const ov = (replica: string, stored: number) => ({
      run_id: 'r1', config: 'c', variant: 'regular', ...cell, replica, phase: 'quiescent', registers: 10, registers_written: 10, value_bytes: 1000, stored_bytes: stored, logical_bytes: 10_000,
    });
    const { rows } = computeCosts({
      requests: [],
      overhead: [ov('s3-a', 20_000), ov('azure-b', 30_000)],
      replicas: { c: [{ name: 's3-a', priceKey: 's3' }, { name: 'azure-b', priceKey: 'azure' }] },
      prices: PRICES,
    });
    expect(rows).toHaveLength(1);
    expect(rows[0].op).toBe('storage');
    expect(rows[0].stored_gb_per_logical_gb).toBeCloseTo(5, 6); // 2 + 3
    expect(rows[0].storage_per_logical_gb_month).toBeCloseTo(2 * 0.023 + 3 * 0.02, 9);
  });

  it('groups by config, variant and op, and leaves unpriced cells empty with a warning', () => {
    const { rows, warnings } = computeCosts({
      requests: [req('s3-a', { puts: 1 }), req('s3-a', { op: 'read', gets: 3 }), req('mystery', { variant: 'regular', puts: 1 })],
      overhead: [],
      replicas: { c: [{ name: 's3-a', priceKey: 's3' }] },
      prices: PRICES,
    });
    expect(rows.map((r) => `${r.variant}/${r.op}`)).toEqual(['atomic/write', 'atomic/read', 'regular/write']);
    expect(rows[1].cost_per_million_ops).toBeCloseTo(1.2, 9);
    expect(rows[2].cost_per_million_ops).toBe('');
    expect(warnings.join()).toMatch(/no price for c\/mystery/);
  });

  it('maps report replica labels to price keys', () => {
    const replicas = [{ name: 's3-emulator', priceKey: 's3' }, { name: 'gcs', priceKey: 'gcs' }];
    expect(priceKeyForLabel('s3-emulator', replicas)).toBe('s3');
    expect(priceKeyForLabel('counted(prefixed(s3-emulator))', replicas)).toBe('s3');
    expect(priceKeyForLabel('1', replicas)).toBe('gcs');
    expect(priceKeyForLabel('replica-1', replicas)).toBe('gcs');
    expect(priceKeyForLabel('azure:rkvs-bench', undefined)).toBe('azure');
    expect(priceKeyForLabel('zzz', undefined)).toBeUndefined();
    expect(priceKeyOf({ provider: 'emulator', kind: 'azure' })).toBe('azure');
    expect(priceKeyOf({ provider: 'memory' })).toBe('local');
    expect(priceKeyOf({ provider: 's3', priceKey: 's3-ia' })).toBe('s3-ia');
  });

  it('every built-in price has a date and a source', () => {
    for (const [k, p] of Object.entries(DEFAULT_PRICES)) {
      expect(p.date, k).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.source, k).toMatch(k === 'local' ? /./ : /^https:\/\//);
    }
  });

  it('overrides merge field by field; a new key must give every price', () => {
    const t = mergePrices(DEFAULT_PRICES, { s3: { putPer1k: 1 } });
    expect(t.s3.putPer1k).toBe(1);
    expect(t.s3.getPer1k).toBe(DEFAULT_PRICES.s3.getPer1k);
    expect(DEFAULT_PRICES.s3.putPer1k).not.toBe(1); // built-ins untouched
    expect(() => mergePrices(DEFAULT_PRICES, { wasabi: { putPer1k: 0 } })).toThrow(/prices\.wasabi: a new price entry must give getPer1k/);
  });
});

describe('writeCostCsv on a report directory', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rkvs-cost-'));
    await writeFile(
      path.join(dir, 'requests.csv'),
      'run_id,config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,replica,ops,puts,gets,lists,removes,bytes_up,bytes_down\n' +
        'r1,emulators,atomic,fast,write,1024,1,4,1,w,closed,0,s3-emulator,10,2,0,1,1,2048,0\n' +
        'r1,emulators,atomic,fast,write,1024,1,4,1,w,closed,0,azure-emulator,10,2,0,1,1,2048,0\n',
    );
    await writeFile(
      path.join(dir, 'overhead.csv'),
      'run_id,config,variant,schedule,value_bytes,clients,registers,workers,workload,mode,open_rate,replica,phase,repeat,registers_written,objects,stored_bytes,logical_bytes,copies_per_register,overhead_ratio\n' +
        'r1,emulators,atomic,fast,1024,1,4,1,w,closed,0,s3-emulator,quiescent,0,4,8,8192,4096,2,2\n' +
        'r1,emulators,atomic,fast,1024,1,4,1,w,closed,0,azure-emulator,quiescent,0,4,8,8192,4096,2,2\n',
    );
    await writeFile(
      path.join(dir, 'meta.json'),
      JSON.stringify({
        format: 2,
        configurations: [
          {
            name: 'emulators',
            replicas: [
              { provider: 'emulator', kind: 's3', name: 's3-emulator' },
              { provider: 'emulator', kind: 'azure', name: 'azure-emulator' },
            ],
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes cost.csv with the documented columns and the expected numbers', async () => {
    const { file, rows } = await writeCostCsv(dir, { azure: { putPer1k: 0.01, listPer1k: 0.01 } });
    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).toBe(COST_COLUMNS.join(','));
    const write = rows.find((r) => r.op === 'write')!;
    // s3: (2*0.005 + 0.005) * 1000 = 15 ; azure (overridden): (2*0.01 + 0.01) * 1000 = 30
    expect(write.cost_per_million_ops).toBeCloseTo(45, 6);
    const storage = rows.find((r) => r.op === 'storage')!;
    expect(storage.stored_gb_per_logical_gb).toBe(4);
    expect(storage.storage_per_logical_gb_month).toBeCloseTo(2 * DEFAULT_PRICES.s3.storagePerGBMonth + 2 * DEFAULT_PRICES.azure.storagePerGBMonth, 9);
  });

  it('a directory without report files is a clear error', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'rkvs-cost-empty-'));
    await expect(writeCostCsv(empty)).rejects.toThrow(/neither requests\.csv nor overhead\.csv/);
    await expect(writeCostCsv(path.join(empty, 'nope'))).rejects.toThrow(/does not exist/);
    await rm(empty, { recursive: true, force: true });
  });

  it('prices files are validated with paths', async () => {
    const good = path.join(dir, 'prices.yaml');
    await writeFile(good, 'prices:\n  s3: { putPer1k: 0.0055, date: "2026-01-01" }\n');
    expect(await loadPricesFile(good)).toEqual({ s3: { putPer1k: 0.0055, date: '2026-01-01' } });
    const bad = path.join(dir, 'bad-prices.yaml');
    await writeFile(bad, 's3: { putPer1k: "cheap", colour: red }\n');
    const e = await loadPricesFile(bad).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(String((e as Error).message)).toMatch(/prices\.s3\.putPer1k: must be a number/);
    expect(String((e as Error).message)).toMatch(/prices\.s3: unknown field\(s\) colour/);
  });
});

describe('rkvs cost command', () => {
  it('prints the cost table and writes cost.csv; a missing directory is a ConfigError', async () => {
    const { Command } = await import('commander');
    const { registerCost } = await import('../../src/commands/cost.js');
    const dir = await mkdtemp(path.join(tmpdir(), 'rkvs-cost-cmd-'));
    await writeFile(
      path.join(dir, 'requests.csv'),
      'run_id,config,variant,schedule,op,value_bytes,clients,registers,workers,workload,mode,open_rate,replica,ops,puts,gets,lists,removes,bytes_up,bytes_down\nr,c,regular,fast,write,1024,1,8,1,w,closed,0,prefixed[rkvs-x/](s3-a),10,1,1,1,0,10,0\n',
    );
    await writeFile(path.join(dir, 'meta.json'), JSON.stringify({ format: 2, configurations: [{ name: 'c', replicas: [{ provider: 's3', name: 's3-a' }] }] }));
    const prices = path.join(dir, 'p.json');
    await writeFile(prices, JSON.stringify({ prices: { s3: { putPer1k: 1, getPer1k: 1, listPer1k: 1 } } }));
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    try {
      const program = new Command().exitOverride();
      registerCost(program);
      await program.parseAsync(['node', 'rkvs', 'cost', dir, '--prices', prices]);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toMatch(/c\s+regular\s+fast\s+write\s+1024\s+1\s+8\s+1\s+w\s+closed\s+-\s+3\s+3000\s/);
    expect(await readFile(path.join(dir, 'cost.csv'), 'utf8')).toContain(',3000,');
    const program = new Command().exitOverride();
    registerCost(program);
    await expect(program.parseAsync(['node', 'rkvs', 'cost', path.join(dir, 'nope')])).rejects.toBeInstanceOf(ConfigError);
    await rm(dir, { recursive: true, force: true });
  });
});
