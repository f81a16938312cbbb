/**
 * Every measurement carries its whole cell key: a small suite on memory replicas (several value
 * sizes, client counts, register counts, an open loop, a size distribution, two repetitions, and a
 * replica that fails some puts) and, for every CSV it writes, the key columns are complete and
 * unique per row, and the rows cover exactly the cells that ran. Storage: one peak and one
 * quiescent row per (cell, replica), peak >= quiescent, and exactly 2.00 copies per register with
 * one client (writes never overlap).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/adapters/memory.js';
import { compose } from '../../src/layers/compose.js';
import { faults } from '../../src/layers/faults.js';
import { quiescentChecks } from '../../src/bench/analyze/checks.js';
import { compareDirs } from '../../src/bench/analyze/compare.js';
import { COST_COLUMNS } from '../../src/bench/analyze/cost.js';
import { CELL_COLUMNS, CELL_KEY_COLUMNS, cellId, NUMERIC_CELL_FIELDS, OPTIONAL_CELL_FIELDS, type Cell } from '../../src/bench/config/cell.js';
import { memoryConfiguration } from '../../src/bench/config/configurations.js';
import { parseSuite } from '../../src/bench/config/suite.js';
import type { ConfigurationHandle } from '../../src/bench/config/types.js';
import { runBench, type BenchOutcome } from '../../src/bench/pipeline.js';
import { parseCsv, type CsvRow } from '../../src/bench/record/read.js';
import { ERRORS_COLUMNS, LATENCY_COLUMNS, OVERHEAD_COLUMNS, REQUESTS_COLUMNS, ROW_KEYS } from '../../src/bench/record/schema.js';
import { COMPARE_CSV_COLUMNS, writeCompareCsv } from '../../src/bench/report/compare.js';
import { summaryTable } from '../../src/bench/report/table.js';
import { cellOf, planCells } from '../../src/bench/run/plan.js';
import { createProgress } from '../../src/bench/run/progress.js';

const suite = parseSuite(
  {
    name: 'cells',
    variants: ['raw', 'regular', 'atomic'],
    schedules: ['fast'],
    repeat: 2,
    seed: 5,
    sampleMs: 5,
    workloads: [
      { name: 'mixed', mix: { write: 1, read: 1 }, valueBytes: [64, 1024], registers: 4, clients: 1, ops: 30, warmupOps: 4 },
      { name: 'writes', mix: { write: 1 }, valueBytes: [256], registers: 3, clients: 1, ops: 24, warmupOps: 3 },
      { name: 'busy', mix: { write: 2, read: 1, remove: 1 }, valueBytes: [128], registers: 2, clients: 3, ops: 40, warmupOps: 3, variants: ['regular', 'atomic'] },
      { name: 'sizes', mix: { write: 1, read: 1 }, valueBytes: { distribution: 'uniform', min: 10, max: 3000 }, registers: 4, ops: 30, variants: ['regular'] },
      { name: 'paced', mix: { write: 1, read: 1 }, valueBytes: [64], registers: 4, clients: 2, ops: 20, mode: { openRate: 400 }, variants: ['raw', 'regular'] },
    ],
  },
  'inline',
);

/** Three memory replicas, the first failing a quarter of its puts: raw cells count errors, the register masks them. */
const flaky: ConfigurationHandle = {
  name: 'flaky',
  describe: () => ({ name: 'flaky', kind: 'memory' }),
  async open() {
    const replicas = [0, 1, 2].map((i) => {
      const m = createMemoryStore({ name: `f${i}` });
      return i === 0 ? compose(m, faults({ seed: 3, errorRate: 0.25, ops: ['put'] })) : m;
    });
    return { replicas, t: 1, close: async () => void (await Promise.all(replicas.map((r) => r.close()))) };
  },
};

let tmp: string;
let out: BenchOutcome;
const csv: Record<string, CsvRow[]> = {};
const headers: Record<string, string[]> = {};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rkvs-cells-'));
  out = await runBench({
    suite,
    configurations: [memoryConfiguration({ name: 'mem' }), flaky],
    outDir: tmp,
    history: true,
    progress: createProgress({ mode: 'quiet', stream: { write: () => true } as unknown as NodeJS.WriteStream }),
    now: new Date(Date.UTC(2026, 1, 3, 4, 5, 6)),
  });
  const compared = await compareDirs(out.dir, out.dir, { resamples: 50 });
  await writeCompareCsv(compared, out.dir);
  for (const f of ['latency', 'overhead', 'requests', 'errors', 'cost', 'compare']) {
    const text = await readFile(path.join(out.dir, `${f}.csv`), 'utf8');
    headers[f] = text.split('\n')[0]!.split(',');
    csv[f] = parseCsv(text, f);
  }
}, 120_000);
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Every key column present and filled (numbers where the key holds numbers; `mayBeEmpty` and the
 * optional fields — `fault`, empty for a healthy cell — aside), and each key once.
 */
function expectKeyed(file: string, keyColumns: readonly string[], mayBeEmpty: readonly string[] = []): void {
  mayBeEmpty = [...mayBeEmpty, ...OPTIONAL_CELL_FIELDS];
  const rows = csv[file]!;
  expect(rows.length, file).toBeGreaterThan(0);
  for (const c of keyColumns) expect(headers[file], `${file}.csv has a ${c} column`).toContain(c);
  rows.forEach((r, i) => {
    for (const c of keyColumns) {
      if (mayBeEmpty.includes(c)) continue;
      expect(r[c], `${file}.csv row ${i + 1}: ${c}`).not.toBe('');
      if (NUMERIC_CELL_FIELDS.has(c)) expect(Number.isFinite(Number(r[c])), `${file}.csv row ${i + 1}: ${c} = ${r[c]}`).toBe(true);
    }
  });
  const keys = rows.map((r) => keyColumns.map((c) => r[c]).join('|'));
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  expect(dup, `${file}.csv: key ${dup} on two rows`).toBeUndefined();
}

const num = (r: CsvRow, c: string) => Number(r[c]);
const cellOfRow = (r: CsvRow): Cell => Object.fromEntries(CELL_COLUMNS.map((c) => [c, NUMERIC_CELL_FIELDS.has(c) ? Number(r[c]) : r[c]])) as unknown as Cell;
const keyOfRow = (r: CsvRow) => CELL_KEY_COLUMNS.map((c) => r[c]).join('|');

/** The cells the plan ran (a distribution's value_bytes is 0: its write rows carry the size bucket). */
function plannedCells(): Cell[] {
  return ['mem', 'flaky'].flatMap((config) => planCells(suite, {}).filter((p) => p.repeat === 0).map((p) => cellOf(p, config, 1)));
}
const cellIdOfRow = (r: CsvRow) => {
  const c = cellOfRow(r);
  return cellId(c.workload === 'sizes' ? { ...c, value_bytes: 0 } : c);
};

describe('every CSV is keyed by the whole cell, complete and unique per row', () => {
  it('the run measured without failures and meta.json says format 2', async () => {
    expect(out.failures).toEqual([]);
    const meta = JSON.parse(await readFile(path.join(out.dir, 'meta.json'), 'utf8'));
    expect(meta.format).toBe(2);
  });

  it('latency.csv: one row per cell key; its cells are exactly the planned ones', () => {
    expect(headers.latency).toEqual([...LATENCY_COLUMNS]);
    expectKeyed('latency', ROW_KEYS.latency);
    const planned = new Set(plannedCells().map(cellId));
    const measured = new Set(csv.latency!.map(cellIdOfRow));
    expect([...measured].sort()).toEqual([...planned].sort());
    // the open loop, the 3-client, the 2-register cells and the size buckets each have rows of their own
    expect(csv.latency!.some((r) => r.mode === 'open' && num(r, 'open_rate') === 400 && num(r, 'clients') === 2)).toBe(true);
    expect(csv.latency!.some((r) => num(r, 'clients') === 3 && num(r, 'registers') === 2 && r.op === 'remove')).toBe(true);
    expect(new Set(csv.latency!.filter((r) => r.workload === 'sizes' && r.op === 'write').map((r) => r.value_bytes)).size).toBeGreaterThan(2);
  });

  it('overhead.csv: one peak and one quiescent row per (cell, replica), for every cell of the plan', () => {
    expect(headers.overhead).toEqual([...OVERHEAD_COLUMNS]);
    expectKeyed('overhead', ROW_KEYS.overhead);
    const phases = new Map<string, string[]>();
    for (const r of csv.overhead!) {
      const k = `${cellId(cellOfRow(r))}|${r.replica}`;
      phases.set(k, [...(phases.get(k) ?? []), r.phase!]);
    }
    for (const [k, p] of phases) expect(p.sort(), k).toEqual(['peak', 'quiescent']);
    const cells = new Set(csv.overhead!.map((r) => cellId(cellOfRow(r))));
    expect(cells.size).toBe(plannedCells().length);
    for (const c of cells) {
      const replicas = csv.overhead!.filter((r) => cellId(cellOfRow(r)) === c && r.phase === 'quiescent');
      expect(replicas.length, c).toBe(replicas[0]!.variant === 'raw' ? 1 : 3);
    }
  });

  it('overhead.csv: peak >= quiescent for objects and bytes, at every replica of every cell', () => {
    for (const q of csv.overhead!.filter((r) => r.phase === 'quiescent')) {
      const peak = csv.overhead!.find((r) => r.phase === 'peak' && r.replica === q.replica && cellId(cellOfRow(r)) === cellId(cellOfRow(q)))!;
      const what = `${cellId(cellOfRow(q))} ${q.replica}`;
      expect(num(peak, 'objects'), what).toBeGreaterThanOrEqual(num(q, 'objects'));
      expect(num(peak, 'stored_bytes'), what).toBeGreaterThanOrEqual(num(q, 'stored_bytes'));
      // both rows of a pair come from the same repetition and the same registers
      expect([peak.repeat, peak.registers_written, peak.logical_bytes]).toEqual([q.repeat, q.registers_written, q.logical_bytes]);
    }
  });

  it('with one client (writes never overlap): exactly 2.00 copies per register at quiescence on every replica', () => {
    const one = csv.overhead!.filter((r) => r.config === 'mem' && r.variant !== 'raw' && r.phase === 'quiescent' && num(r, 'clients') === 1);
    // mixed (2 sizes) and writes for both variants, sizes for regular: 7 cells x 3 replicas
    expect(one).toHaveLength(21);
    for (const r of one) expect(r.copies_per_register, `${cellId(cellOfRow(r))} ${r.replica}`).toBe('2');
    // the summary check keyed by clients = 1 agrees, on every repetition (the replicas that miss no put)
    const [one1] = quiescentChecks(out.results.quiescent.filter((q) => q.config === 'mem'));
    expect(one1).toMatchObject({ name: 'copies per register at quiescence, one client', detail: '2.00 at every replica', pass: true, measured: '2.00 at every replica', bound: 'exactly 2.00' });
    expect(one1!.meaning).toMatch(/garbage collection leaves no leak/);
  });

  it('requests.csv: one row per (cell key, replica), value sizes kept apart, ops = measured operations of the key', () => {
    expect(headers.requests).toEqual([...REQUESTS_COLUMNS]);
    expectKeyed('requests', ROW_KEYS.requests);
    const latency = new Map(csv.latency!.map((r) => [keyOfRow(r), r]));
    for (const r of csv.requests!) {
      const l = latency.get(keyOfRow(r));
      expect(l, keyOfRow(r)).toBeDefined();
      expect(num(r, 'ops'), keyOfRow(r)).toBe(num(l!, 'count') + num(l!, 'errors'));
    }
    // a raw write sends its value and key: 64 B and 1 KiB writes are not averaged together
    const rawWrite = (bytes: number) => csv.requests!.find((r) => r.config === 'mem' && r.variant === 'raw' && r.workload === 'mixed' && r.op === 'write' && num(r, 'value_bytes') === bytes)!;
    expect(num(rawWrite(64), 'bytes_up')).toBeGreaterThan(64);
    expect(num(rawWrite(64), 'bytes_up')).toBeLessThan(100);
    expect(num(rawWrite(1024), 'bytes_up')).toBeGreaterThan(1024);
    expect(num(rawWrite(1024), 'bytes_up')).toBeLessThan(1060);
  });

  it('errors.csv: one row per (cell key, kind), adding up to the errors of latency.csv', () => {
    expect(headers.errors).toEqual([...ERRORS_COLUMNS]);
    expectKeyed('errors', ROW_KEYS.errors);
    expect(csv.errors!.every((r) => r.config === 'flaky' && r.variant === 'raw' && r.kind === 'Unavailable')).toBe(true);
    for (const l of csv.latency!) {
      const n = csv.errors!.filter((e) => keyOfRow(e) === keyOfRow(l)).reduce((a, e) => a + num(e, 'count'), 0);
      expect(n, keyOfRow(l)).toBe(num(l, 'errors'));
    }
    expect(csv.latency!.filter((r) => num(r, 'errors') > 0).length).toBeGreaterThan(0);
  });

  it('cost.csv: one row per cell key (requests) and per (cell, phase) (storage)', () => {
    expect(headers.cost).toEqual([...COST_COLUMNS]);
    // phase: peak or quiescent on storage rows (op storage), empty on request rows
    expectKeyed('cost', [...CELL_KEY_COLUMNS, 'phase'], ['phase']);
    expect(csv.cost!.every((r) => (r.op === 'storage') === (r.phase !== ''))).toBe(true);
    const requests = csv.cost!.filter((r) => r.op !== 'storage');
    expect(new Set(requests.map(keyOfRow))).toEqual(new Set(csv.requests!.map(keyOfRow)));
    const storage = csv.cost!.filter((r) => r.op === 'storage');
    const overheadCells = new Set(csv.overhead!.map((r) => `${cellId(cellOfRow(r))}|${r.phase}`));
    expect(new Set(storage.map((r) => `${cellId(cellOfRow(r))}|${r.phase}`))).toEqual(overheadCells);
  });

  it('compare.csv: one row per (cell key, metric), matching latency.csv', () => {
    expect(headers.compare).toEqual([...COMPARE_CSV_COLUMNS]);
    expectKeyed('compare', [...CELL_KEY_COLUMNS, 'metric']);
    expect(new Set(csv.compare!.map(keyOfRow))).toEqual(new Set(csv.latency!.map(keyOfRow)));
  });

  it('the summary prints one storage line per cell, and every history line carries its cell', async () => {
    const text = summaryTable(out.results, out.dir);
    const lines = text.split('\n');
    const start = lines.indexOf('storage at quiescence (objects per register, per replica):');
    const storage = lines.slice(start + 1, lines.indexOf('', start + 1));
    expect(new Set(storage).size).toBe(storage.length);
    expect(storage).toHaveLength(new Set(csv.overhead!.map((r) => cellId(cellOfRow(r)))).size);
    const history = (await readFile(path.join(out.dir, 'history.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const planned = new Set(plannedCells().map(cellId));
    for (const h of history) {
      expect(h.cell_id).toMatch(/^cell\d{4}$/);
      expect(planned.has(cellId(h.cell)), JSON.stringify(h.cell)).toBe(true);
    }
  });
});
