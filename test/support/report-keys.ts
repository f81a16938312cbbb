/**
 * Checks a report directory the way a reader relies on it: in every CSV the cell key columns are
 * filled and each key appears once; overhead.csv has one peak and one quiescent row per (cell,
 * replica), with peak >= quiescent for objects and bytes. Returns the parsed rows for more checks.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { CELL_COLUMNS, CELL_KEY_COLUMNS, NUMERIC_CELL_FIELDS, OPTIONAL_CELL_FIELDS } from '../../src/bench/config/cell.js';
import { parseCsv, type CsvRow } from '../../src/bench/record/read.js';
import { ROW_KEYS } from '../../src/bench/record/schema.js';

const KEYS: Record<string, { key: readonly string[]; mayBeEmpty?: readonly string[] }> = {
  latency: { key: ROW_KEYS.latency },
  overhead: { key: ROW_KEYS.overhead },
  requests: { key: ROW_KEYS.requests },
  errors: { key: ROW_KEYS.errors },
  cost: { key: [...CELL_KEY_COLUMNS, 'phase'], mayBeEmpty: ['phase'] },
};

export async function expectReportKeyed(dir: string): Promise<Record<string, CsvRow[]>> {
  const out: Record<string, CsvRow[]> = {};
  for (const [file, { key, mayBeEmpty = [] }] of Object.entries(KEYS)) {
    const text = await readFile(path.join(dir, `${file}.csv`), 'utf8');
    const header = text.split('\n')[0]!.split(',');
    for (const c of key) expect(header, `${file}.csv has a ${c} column`).toContain(c);
    const rows = parseCsv(text, file);
    rows.forEach((r, i) => {
      for (const c of key) {
        if (mayBeEmpty.includes(c) || OPTIONAL_CELL_FIELDS.has(c)) continue; // a healthy cell has no fault
        expect(r[c], `${file}.csv row ${i + 1}: ${c}`).not.toBe('');
        if (NUMERIC_CELL_FIELDS.has(c)) expect(Number.isFinite(Number(r[c])), `${file}.csv row ${i + 1}: ${c} = ${r[c]}`).toBe(true);
      }
    });
    const ids = rows.map((r) => key.map((c) => r[c]).join('|'));
    const dup = ids.find((k, i) => ids.indexOf(k) !== i);
    expect(dup, `${file}.csv: key ${dup} on two rows`).toBeUndefined();
    out[file] = rows;
  }
  const cellOf = (r: CsvRow) => [...CELL_COLUMNS.map((c) => r[c]), r.replica].join('|');
  const pairs = new Map<string, Record<string, CsvRow>>();
  for (const r of out.overhead!) pairs.set(cellOf(r), { ...pairs.get(cellOf(r)), [r.phase!]: r });
  for (const [k, p] of pairs) {
    expect(Object.keys(p).sort(), k).toEqual(['peak', 'quiescent']);
    expect(Number(p.peak!.objects), `${k} objects`).toBeGreaterThanOrEqual(Number(p.quiescent!.objects));
    expect(Number(p.peak!.stored_bytes), `${k} stored_bytes`).toBeGreaterThanOrEqual(Number(p.quiescent!.stored_bytes));
  }
  return out;
}
