/**
 * The cell key: what one measurement is of. Defined once here and carried by every measurement
 * from the moment it is taken (histograms, counters, storage samples, request counts, errors,
 * history) to every CSV row, chart and table; nothing is averaged or merged across cells.
 *
 * A `Cell` is one workload at one value size and client count, on one configuration, variant and
 * schedule, spread over a number of worker processes, healthy or under one injected fault:
 * everything that ran together against one key namespace. A `CellKey` is one operation of a cell (write, read, remove): the key of every
 * per-operation row (latency, requests, errors, compare, cost). Storage is measured per cell, so
 * overhead rows carry the `Cell` without an op. Repetitions of a cell are the same cell: their
 * histograms are added and their counters summed (docs/report-format.md).
 */

/** How the cell's clients issue operations. */
export type LoadMode = 'closed' | 'open';

export interface Cell {
  /** Configuration name (`latency-model`, `harness-overhead`, `memory-cpu` for the suite's own checks). */
  config: string;
  /** `raw` (replica 0 directly), `regular`, `atomic`. */
  variant: string;
  /** `fast`, `classic`; `none` for raw. */
  schedule: string;
  /** Value size in bytes; 0 when sizes are drawn from a distribution (write rows then carry the size bucket). */
  value_bytes: number;
  /** Concurrent clients (all worker processes and shards together). */
  clients: number;
  /** Registers (keys) the workload spreads its operations over. */
  registers: number;
  /**
   * Worker processes each shard spread the cell's clients over: the `--workers` count the cell ran
   * with (1: one process; a cell with fewer clients than workers uses as many as it has clients).
   */
  workers: number;
  /** Name of the suite's workload (it fixes the operation mix and the register access pattern). */
  workload: string;
  /** `closed` (a client issues its next operation when the previous one returns) or `open`. */
  mode: LoadMode | string;
  /** Target rate of an open loop, operations per second of the whole cell; 0 in a closed loop. */
  open_rate: number;
  /**
   * The fault injected into the cell (`rkvs bench --fault`), as its canonical spec, e.g.
   * `replica=s3-emulator,blackhole,at=0s`; empty for a healthy cell. Healthy and faulty cells are
   * never merged.
   */
  fault: string;
}

/** One operation of a cell: the key of latency, requests, errors, compare and cost rows. */
export interface CellKey extends Cell {
  /** `write`, `read`, `remove`. */
  op: string;
}

/** The cell's fields, in the column order of every report file. */
export const CELL_COLUMNS = ['config', 'variant', 'schedule', 'value_bytes', 'clients', 'registers', 'workers', 'workload', 'mode', 'open_rate', 'fault'] as const;

/** The cell key's fields (the cell's, with op after schedule), in column order. */
export const CELL_KEY_COLUMNS = ['config', 'variant', 'schedule', 'op', 'value_bytes', 'clients', 'registers', 'workers', 'workload', 'mode', 'open_rate', 'fault'] as const;

/** Fields that hold numbers (the others are names). */
export const NUMERIC_CELL_FIELDS: ReadonlySet<string> = new Set(['value_bytes', 'clients', 'registers', 'workers', 'open_rate']);

/**
 * Fields that may be empty (`fault`: a healthy cell), and absent from report files written before
 * they existed (read as empty).
 */
export const OPTIONAL_CELL_FIELDS: ReadonlySet<string> = new Set(['fault']);

/** The cell of a key (the key without its op). */
export function cellOf(k: Cell): Cell {
  return {
    config: k.config,
    variant: k.variant,
    schedule: k.schedule,
    value_bytes: k.value_bytes,
    clients: k.clients,
    registers: k.registers,
    workers: k.workers,
    workload: k.workload,
    mode: k.mode,
    open_rate: k.open_rate,
    // records written before the field existed have none: healthy
    fault: k.fault ?? '',
  };
}

/** The key of one operation of a cell; `valueBytes` overrides the cell's size (a distribution's bucket). */
export function keyOf(cell: Cell, op: string, valueBytes = cell.value_bytes): CellKey {
  const { config, variant, schedule, ...rest } = cellOf(cell);
  return { config, variant, schedule, op, ...rest, value_bytes: valueBytes };
}

/** A stable identity string of a cell or key (for maps); every field takes part. */
export function cellId(k: Cell | CellKey): string {
  const op = 'op' in k ? k.op : '';
  return [k.config, k.variant, k.schedule, op, k.value_bytes, k.clients, k.registers, k.workers, k.workload, k.mode, k.open_rate, k.fault ?? ''].join('\u0000');
}

/** The load in words: `closed`, or `open 200/s`. */
export function loadLabel(k: Pick<Cell, 'mode' | 'open_rate'>): string {
  return k.mode === 'open' ? `open ${Number(k.open_rate)}/s` : String(k.mode);
}

/** The load, and the fault when there is one: `closed`, `open 200/s, fault replica=s3,blackhole,at=0s`. */
export function conditionLabel(k: Pick<Cell, 'mode' | 'open_rate'> & { fault?: string }): string {
  return k.fault ? `${loadLabel(k)}, fault ${k.fault}` : loadLabel(k);
}

/** A readable one-line name of a key, every field included (warnings, compare output). */
export function cellKeyString(k: Cell | CellKey): string {
  const vs = k.schedule && k.schedule !== 'none' ? `${k.variant}/${k.schedule}` : k.variant;
  const op = 'op' in k ? ` ${k.op}` : '';
  return `${k.config} ${vs} ${k.workload}${op} ${k.value_bytes}B ${k.clients}c ${k.registers}r ${k.workers}w ${loadLabel(k)}${k.fault ? ` fault ${k.fault}` : ''}`;
}

/**
 * A short label of a key for charts: variant/schedule, then only the fields that differ among
 * `among` (the other cells of the same chart), so every cell keeps a series of its own.
 */
export function seriesLabel(k: Cell | CellKey, among: readonly (Cell | CellKey)[], opts: { withConfig?: boolean; withOp?: boolean } = {}): string {
  const varies = (f: keyof CellKey) => new Set(among.map((x) => String((x as CellKey)[f]))).size > 1;
  const parts: string[] = [];
  if (opts.withConfig) parts.push(k.config);
  parts.push(k.schedule && k.schedule !== 'none' ? `${k.variant}/${k.schedule}` : k.variant);
  if (varies('workload')) parts.push(k.workload);
  if (opts.withOp && 'op' in k) parts.push(k.op);
  if (varies('value_bytes')) parts.push(`${k.value_bytes}B`);
  if (varies('clients')) parts.push(`${k.clients}c`);
  if (varies('registers')) parts.push(`${k.registers}r`);
  if (varies('workers')) parts.push(`${k.workers}w`);
  if (varies('mode') || varies('open_rate')) parts.push(loadLabel(k));
  if (varies('fault')) parts.push(k.fault ? `fault ${k.fault}` : 'healthy');
  return parts.join(' ');
}

const ORDER: Record<string, readonly string[]> = {
  variant: ['raw', 'regular', 'atomic'],
  schedule: ['none', 'fast', 'classic'],
  op: ['write', 'read', 'remove'],
  mode: ['closed', 'open'],
};

/** Orders keys: config, variant, schedule, workload, op, value size, clients, registers, workers, load, fault (healthy first). */
export function compareCells(a: Cell | CellKey, b: Cell | CellKey): number {
  const rank = (f: string, v: string) => {
    const list = ORDER[f] as readonly string[];
    return list.includes(v) ? list.indexOf(v) : list.length;
  };
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const opA = 'op' in a ? a.op : '';
  const opB = 'op' in b ? b.op : '';
  return (
    text(a.config, b.config) ||
    rank('variant', a.variant) - rank('variant', b.variant) ||
    rank('schedule', a.schedule) - rank('schedule', b.schedule) ||
    text(a.workload, b.workload) ||
    rank('op', opA) - rank('op', opB) ||
    a.value_bytes - b.value_bytes ||
    a.clients - b.clients ||
    a.registers - b.registers ||
    a.workers - b.workers ||
    rank('mode', String(a.mode)) - rank('mode', String(b.mode)) ||
    a.open_rate - b.open_rate ||
    text(a.fault ?? '', b.fault ?? '')
  );
}
