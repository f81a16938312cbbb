/**
 * Cost: turns a report's requests.csv (replica requests per logical operation) and overhead.csv
 * (bytes stored per replica) into money, with the price table of prices.ts:
 *
 * - per cell key (every field of the cell, and the op): cost per million operations of the replica
 *   requests it causes, and of the bytes it downloads (egress, when the client is outside the
 *   provider's region);
 * - per cell and phase (peak, quiescent; op `storage`): cost per GB-month of LOGICAL data, i.e.
 *   the sum over replicas of (bytes stored / logical bytes) x that replica's storage price.
 *
 * Rows are never merged across cells: a cell's replicas are summed, nothing else.
 *
 * Written as cost.csv next to the other files of the report. Pure arithmetic lives in
 * `computeCosts` (tested on fixed inputs); `writeCostCsv` does the file work.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { ConfigError, describeCause } from '../../errors.js';
import { CELL_KEY_COLUMNS, cellId, type Cell, type CellKey } from '../config/cell.js';
import { cellFromRow, cellKeyOf, checkReportFormat, csvHeader, parseCsv, readMeta } from '../record/read.js';
import type { RequestCounts } from '../run/counting.js';
import { DEFAULT_PRICES, mergePrices, priceKeyOf, type PriceEntry, type PriceOverrides, type PriceTable } from '../config/prices.js';

/** Bytes in the GB the providers bill. */
export const GB = 2 ** 30;

export const COST_COLUMNS = [
  'run_id',
  ...CELL_KEY_COLUMNS,
  'phase',
  'replicas',
  'requests_per_op',
  'cost_per_million_ops',
  'egress_per_million_ops',
  'stored_gb_per_logical_gb',
  'storage_per_logical_gb_month',
  'currency',
  'price_keys',
  'price_date',
] as const;

export type CostRow = Record<(typeof COST_COLUMNS)[number], string | number>;

/** One row of requests.csv (numbers parsed): requests per operation of one cell key at one replica. */
export interface RequestsRow extends CellKey, RequestCounts {
  run_id: string;
  replica: string;
}

/** One row of overhead.csv (the fields cost needs). */
export interface OverheadRow extends Cell {
  run_id: string;
  replica: string;
  phase: string;
  registers_written: number;
  stored_bytes: number;
  logical_bytes: number;
}

/** What cost needs to know about a configuration's replicas (from meta.json). */
export interface ReplicaPricing {
  name: string;
  priceKey: string;
}

/**
 * Maps a report's `replica` label to a price key: by the replica's name (exact, or contained in a
 * layered name such as `counted(s3-emulator)`), by index (`0`, `r0`, `replica-0`), and finally by a
 * provider word in the label. Undefined when nothing fits.
 */
export function priceKeyForLabel(label: string, replicas: readonly ReplicaPricing[] | undefined): string | undefined {
  if (replicas?.length) {
    const exact = replicas.find((r) => r.name === label);
    if (exact) return exact.priceKey;
    const contained = [...replicas].sort((a, b) => b.name.length - a.name.length).find((r) => label.includes(r.name));
    if (contained) return contained.priceKey;
    const m = /^(?:r|replica-?|#)?(\d+)$/.exec(label);
    if (m && replicas[Number(m[1])]) return replicas[Number(m[1])].priceKey;
  }
  const l = label.toLowerCase();
  if (/\bs3\b|aws|minio/.test(l)) return 's3';
  if (/azure|azurite|blob/.test(l)) return 'azure';
  if (/gcs|google|gcp/.test(l)) return 'gcs';
  if (/memory|\bmem\d*\b|\bfs\b|local/.test(l)) return 'local';
  return undefined;
}

function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function entryFor(key: string | undefined, prices: PriceTable): PriceEntry | undefined {
  return key === undefined ? undefined : prices[key];
}

/** Rows grouped by the given fields, in order of first appearance (every group is non-empty). */
function groupBy<T>(rows: readonly T[], fields: (r: T) => readonly (string | number)[]): [T, ...T[]][] {
  const groups = new Map<string, [T, ...T[]]>();
  for (const r of rows) {
    const g = fields(r).join('\u0000');
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  return [...groups.values()];
}

/** Prices of one group of rows: which keys, currencies and dates were used, and whether all were priced. */
class PriceUse {
  readonly keys = new Set<string>();
  readonly currencies = new Set<string>();
  readonly dates = new Set<string>();
  priced = true;

  entry(key: string | undefined, prices: PriceTable): PriceEntry | undefined {
    const p = entryFor(key, prices);
    if (!p || key === undefined) {
      this.priced = false;
      return undefined;
    }
    this.keys.add(key);
    this.currencies.add(p.currency);
    this.dates.add(p.date);
    return p;
  }

  columns(): Pick<CostRow, 'currency' | 'price_keys' | 'price_date'> {
    return {
      currency: this.currencies.size === 1 ? [...this.currencies][0]! : this.currencies.size ? 'MIXED' : '',
      price_keys: [...this.keys].sort().join('+'),
      price_date: [...this.dates].sort().join('+'),
    };
  }
}

type CostInput = {
  requests: readonly RequestsRow[];
  overhead: readonly OverheadRow[];
  /** Replicas per configuration name (for price keys). */
  replicas: Readonly<Record<string, readonly ReplicaPricing[]>>;
  prices: PriceTable;
};

/** Cost rows from parsed report rows, with warnings about replicas without a price. Pure: no I/O. */
export function computeCosts(input: CostInput): { rows: CostRow[]; warnings: string[] } {
  const missing = new Set<string>();
  const keyOf = (config: string, replica: string) => {
    const k = priceKeyForLabel(replica, input.replicas[config]);
    if (k === undefined || !input.prices[k]) missing.add(`${config}/${replica}${k ? ` (price key ${k})` : ''}`);
    return k;
  };
  const rows = [
    ...groupBy(input.requests, (r) => [r.run_id, cellId(r)]).map((list) => requestCost(list, keyOf, input.prices)),
    ...groupBy(input.overhead, (r) => [r.run_id, cellId(r), r.phase]).map((list) => storageCost(list, keyOf, input.prices)),
  ];
  const warnings = missing.size
    ? [`no price for ${[...missing].join(', ')}; their cost columns are empty (add a price entry or a priceKey)`]
    : [];
  return { rows, warnings };
}

type PriceKeyOf = (config: string, replica: string) => string | undefined;

const keyColumns = (k: Cell, op: string) => Object.fromEntries(CELL_KEY_COLUMNS.map((c) => [c, c === 'op' ? op : (k as unknown as Record<string, string | number>)[c]]));

/** Requests of one cell key over its replicas: cost per million operations, and egress. */
function requestCost(list: [RequestsRow, ...RequestsRow[]], keyOf: PriceKeyOf, prices: PriceTable): CostRow {
  const first = list[0];
  const use = new PriceUse();
  let reqs = 0;
  let cost = 0;
  let egress = 0;
  for (const r of list) {
    reqs += r.puts + r.gets + r.lists + r.removes;
    const p = use.entry(keyOf(r.config, r.replica), prices);
    if (!p) continue;
    cost += ((r.puts * p.putPer1k + r.gets * p.getPer1k + r.lists * p.listPer1k + r.removes * p.removePer1k) / 1000) * 1e6;
    egress += ((r.bytes_down * 1e6) / GB) * p.egressPerGB;
  }
  return {
    run_id: first.run_id,
    ...keyColumns(first, first.op),
    phase: '',
    replicas: new Set(list.map((r) => r.replica)).size,
    requests_per_op: round(reqs, 4),
    cost_per_million_ops: use.priced ? round(cost, 4) : '',
    egress_per_million_ops: use.priced ? round(egress, 4) : '',
    stored_gb_per_logical_gb: '',
    storage_per_logical_gb_month: '',
    ...use.columns(),
  } as CostRow;
}

/** Storage of one cell in one phase over its replicas: stored per logical GB, and its monthly price. */
function storageCost(list: [OverheadRow, ...OverheadRow[]], keyOf: PriceKeyOf, prices: PriceTable): CostRow {
  const first = list[0];
  const use = new PriceUse();
  let ratio = 0;
  let cost = 0;
  for (const r of list) {
    const rr = r.logical_bytes > 0 ? r.stored_bytes / r.logical_bytes : 0;
    ratio += rr;
    const p = use.entry(keyOf(r.config, r.replica), prices);
    if (p) cost += rr * p.storagePerGBMonth;
  }
  return {
    run_id: first.run_id,
    ...keyColumns(first, 'storage'),
    phase: first.phase,
    replicas: new Set(list.map((r) => r.replica)).size,
    requests_per_op: '',
    cost_per_million_ops: '',
    egress_per_million_ops: '',
    stored_gb_per_logical_gb: round(ratio, 4),
    storage_per_logical_gb_month: use.priced ? round(cost, 6) : '',
    ...use.columns(),
  } as CostRow;
}

async function readCsv(file: string): Promise<Record<string, string>[]> {
  try {
    return parseCsv(await readFile(file, 'utf8'), file);
  } catch (e) {
    throw new ConfigError(path.basename(file), `cannot read ${file}: ${describeCause(e)}`);
  }
}

function num(row: Record<string, string>, col: string, file: string): number {
  const v = row[col];
  const n = v === undefined || v === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${file}.${col}`, `expected a number, got ${JSON.stringify(v)} (is this a robust-kvs report?)`);
  return n;
}

/** Price keys per configuration, from meta.json's `configurations` (array or map of describe() outputs). */
export function replicasFromMeta(meta: unknown): { replicas: Record<string, ReplicaPricing[]>; prices: PriceOverrides } {
  const replicas: Record<string, ReplicaPricing[]> = {};
  let prices: PriceOverrides = {};
  const confs = (meta as { configurations?: unknown } | null)?.configurations;
  const list: unknown[] = Array.isArray(confs) ? confs : confs && typeof confs === 'object' ? Object.values(confs) : [];
  for (const c of list) {
    if (!c || typeof c !== 'object') continue;
    const cc = c as { name?: unknown; replicas?: unknown; prices?: unknown };
    if (typeof cc.name !== 'string' || !Array.isArray(cc.replicas)) continue;
    replicas[cc.name] = cc.replicas.flatMap((r, i) => {
      if (!r || typeof r !== 'object') return [];
      const rr = r as { name?: unknown; provider?: unknown; kind?: unknown; priceKey?: unknown };
      if (typeof rr.provider !== 'string') return [];
      return [
        {
          name: typeof rr.name === 'string' ? rr.name : String(i),
          priceKey: priceKeyOf({
            provider: rr.provider as 's3',
            kind: typeof rr.kind === 'string' ? rr.kind : undefined,
            priceKey: typeof rr.priceKey === 'string' ? rr.priceKey : undefined,
          }),
        },
      ];
    });
    if (cc.prices && typeof cc.prices === 'object') prices = { ...prices, ...(cc.prices as PriceOverrides) };
  }
  return { replicas, prices };
}

/**
 * Reads requests.csv, overhead.csv and meta.json of a report directory and writes cost.csv.
 * `prices` overrides the built-in table (after any overrides recorded in meta.json).
 * Returns the rows written. Missing requests.csv/overhead.csv contribute no rows.
 */
export async function writeCostCsv(
  reportDir: string,
  prices?: PriceOverrides,
): Promise<{ file: string; rows: CostRow[]; warnings: string[] }> {
  if (!existsSync(reportDir)) throw new ConfigError('DIR', `report directory ${reportDir} does not exist`);
  const reqFile = path.join(reportDir, 'requests.csv');
  const ovFile = path.join(reportDir, 'overhead.csv');
  if (!existsSync(reqFile) && !existsSync(ovFile))
    throw new ConfigError('DIR', `${reportDir} has neither requests.csv nor overhead.csv; give a report directory written by rkvs bench`);
  const meta = await readMeta(reportDir);
  checkReportFormat(reportDir, meta, (await csvHeader(reqFile)) ?? (await csvHeader(path.join(reportDir, 'latency.csv'))), 'DIR');
  const fromMeta = replicasFromMeta(meta);
  const table = mergePrices(DEFAULT_PRICES, fromMeta.prices, prices);
  const requests = existsSync(reqFile) ? (await readCsv(reqFile)).map((r, i) => requestsRowOf(r, `${reqFile} row ${i + 1}`)) : [];
  const overhead = existsSync(ovFile) ? (await readCsv(ovFile)).map((r, i) => overheadRowOf(r, `${ovFile} row ${i + 1}`)) : [];
  const { rows, warnings } = computeCosts({ requests, overhead, replicas: fromMeta.replicas, prices: table });
  const file = path.join(reportDir, 'cost.csv');
  await writeFile(file, stringify(rows, { header: true, columns: [...COST_COLUMNS] }));
  return { file, rows, warnings };
}

function requestsRowOf(r: Record<string, string>, where: string): RequestsRow {
  return {
    run_id: r.run_id ?? '',
    ...cellKeyOf(r, where),
    replica: r.replica ?? '',
    puts: num(r, 'puts', 'requests.csv'),
    gets: num(r, 'gets', 'requests.csv'),
    lists: num(r, 'lists', 'requests.csv'),
    removes: num(r, 'removes', 'requests.csv'),
    bytes_up: num(r, 'bytes_up', 'requests.csv'),
    bytes_down: num(r, 'bytes_down', 'requests.csv'),
  };
}

function overheadRowOf(r: Record<string, string>, where: string): OverheadRow {
  return {
    run_id: r.run_id ?? '',
    ...cellFromRow(r, where),
    replica: r.replica ?? '',
    phase: r.phase ?? '',
    registers_written: num(r, 'registers_written', 'overhead.csv'),
    stored_bytes: num(r, 'stored_bytes', 'overhead.csv'),
    logical_bytes: num(r, 'logical_bytes', 'overhead.csv'),
  };
}

/** The price entries a cost run used, for printing (key, description, date, source). */
export function describePrices(table: PriceTable): string[] {
  return Object.entries(table).map(([k, p]) => `${k}: ${p.description} (${p.currency}, ${p.date}, ${p.source})`);
}
