/**
 * The exact gate: compares the exact metrics of two model suite runs (exact.csv, record/exact.ts)
 * at zero tolerance. Every (cell key, replica, metric) of the baseline is matched in the current
 * run; any increase is a regression, any decrease an improvement (the baseline is then stale). The
 * changes of one cell key are told in one line per family of metrics, e.g.
 * `atomic/fast read (model mixed 1024B 1c 8r 1w closed): requests/op 6 → 9 (+1 get per replica)`.
 */
import { cellId, cellKeyString, loadLabel, type CellKey } from '../config/cell.js';
import { readMeta } from '../record/read.js';
import { exactId, readExactCsv } from '../record/exact.js';
import { ALL_REPLICAS, METRIC_LABELS, type ExactMetric, type ExactMetricName } from '../run/exact.js';

export type ExactVerdict = 'regressed' | 'improved' | 'unchanged';

/** One matched (cell key, replica, metric). `difference` is current - baseline. */
export interface ExactChange {
  key: CellKey;
  replica: string;
  metric: ExactMetricName;
  baseline: number;
  current: number;
  difference: number;
  verdict: ExactVerdict;
}

/** The changes of one family of metrics of one cell key, told in one line. */
export interface ExactFinding {
  key: CellKey;
  family: string;
  verdict: 'regressed' | 'improved';
  /** E.g. `atomic/fast read (model mixed 1024B 1c 8r 1w closed): requests/op 6 → 9 (+1 get per replica)`. */
  message: string;
}

export interface ExactCompareResult {
  baselineDir: string;
  currentDir: string;
  baselineSuite: string;
  currentSuite: string;
  changes: ExactChange[];
  findings: ExactFinding[];
  /** Cell keys (with their op) holding at least one regressed metric. */
  regressions: number;
  improvements: number;
  onlyInBaseline: CellKey[];
  onlyInCurrent: CellKey[];
  warnings: string[];
}

/** Families: the metrics told together, in the order of the output. */
const FAMILIES: { family: string; metrics: ExactMetricName[] }[] = [
  { family: 'requests', metrics: ['requests', 'lists', 'gets', 'puts', 'removes'] },
  { family: 'bytes sent', metrics: ['bytes_up'] },
  { family: 'bytes received', metrics: ['bytes_down'] },
  { family: 'rounds', metrics: ['rounds'] },
  { family: 'latency', metrics: ['latency_p50_ms', 'latency_p99_ms', 'latency_mean_ms', 'latency_max_ms'] },
  { family: 'errors', metrics: ['errors'] },
  { family: 'copies at peak', metrics: ['copies_peak'] },
  { family: 'copies at quiescence', metrics: ['copies_quiescent'] },
];

/** Every metric but the operation count is worse when it grows. */
const NOT_JUDGED: ReadonlySet<ExactMetricName> = new Set(['ops']);

/** A short number: integers as they are, others to 6 significant digits. */
export function fmtExact(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

const signed = (x: number) => `${x > 0 ? '+' : x < 0 ? '-' : '±'}${fmtExact(Math.abs(x))}`;

/** `atomic/fast read (model mixed 1024B 1c 8r 1w closed)`: the whole key, variant and op first. */
export function exactLabel(k: CellKey): string {
  const vs = k.schedule && k.schedule !== 'none' ? `${k.variant}/${k.schedule}` : k.variant;
  return `${vs} ${k.op || 'storage'} (${k.config} ${k.workload} ${k.value_bytes}B ${k.clients}c ${k.registers}r ${k.workers}w ${loadLabel(k)})`;
}

/** Compares two lists of exact metrics. */
export function compareExactMetrics(base: readonly ExactMetric[], cur: readonly ExactMetric[], dirs: { baseline: string; current: string; baselineSuite?: string; currentSuite?: string }): ExactCompareResult {
  const curById = new Map(cur.map((m) => [exactId(m), m]));
  const baseKeys = new Map(base.map((m) => [cellId(m.key), m.key]));
  const curKeys = new Map(cur.map((m) => [cellId(m.key), m.key]));
  const changes: ExactChange[] = [];
  for (const b of base) {
    const c = curById.get(exactId(b));
    if (!c) continue;
    const difference = c.value - b.value;
    const verdict: ExactVerdict = NOT_JUDGED.has(b.metric) || difference === 0 ? 'unchanged' : difference > 0 ? 'regressed' : 'improved';
    changes.push({ key: b.key, replica: b.replica, metric: b.metric, baseline: b.value, current: c.value, difference, verdict });
  }
  const warnings: string[] = [];
  const onlyInBaseline = [...baseKeys].filter(([id]) => !curKeys.has(id)).map(([, k]) => k);
  const onlyInCurrent = [...curKeys].filter(([id]) => !baseKeys.has(id)).map(([, k]) => k);
  if (onlyInBaseline.length) warnings.push(`${onlyInBaseline.length} cell key(s) only in the baseline (not compared): ${onlyInBaseline.map(cellKeyString).join(', ')}`);
  if (onlyInCurrent.length) warnings.push(`${onlyInCurrent.length} cell key(s) only in the current run (not compared): ${onlyInCurrent.map(cellKeyString).join(', ')}`);
  for (const ch of changes)
    if (ch.metric === 'ops' && ch.difference !== 0)
      warnings.push(`${exactLabel(ch.key)}: ${fmtExact(ch.baseline)} measured operations in the baseline, ${fmtExact(ch.current)} now: the runs did not run the same workload (suite, --ops or --seed differ)`);
  const findings = findingsOf(changes);
  const count = (v: ExactVerdict) => new Set(changes.filter((c) => c.verdict === v).map((c) => cellId(c.key))).size;
  return {
    baselineDir: dirs.baseline,
    currentDir: dirs.current,
    baselineSuite: dirs.baselineSuite ?? '?',
    currentSuite: dirs.currentSuite ?? '?',
    changes,
    findings,
    regressions: count('regressed'),
    improvements: count('improved'),
    onlyInBaseline,
    onlyInCurrent,
    warnings,
  };
}

/** One finding per (cell key, family) with a change, regressions first. */
function findingsOf(changes: readonly ExactChange[]): ExactFinding[] {
  const byKey = new Map<string, ExactChange[]>();
  for (const c of changes) {
    const id = cellId(c.key);
    const list = byKey.get(id) ?? [];
    list.push(c);
    byKey.set(id, list);
  }
  const out: ExactFinding[] = [];
  for (const list of byKey.values()) {
    const key = list[0]!.key;
    for (const f of FAMILIES) {
      const mine = list.filter((c) => f.metrics.includes(c.metric));
      const changed = mine.filter((c) => c.verdict !== 'unchanged');
      if (!changed.length) continue;
      const verdict = changed.some((c) => c.verdict === 'regressed') ? 'regressed' : 'improved';
      out.push({ key, family: f.family, verdict, message: `${exactLabel(key)}: ${describeFamily(f.family, mine)}` });
    }
  }
  return out.sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'regressed' ? -1 : 1));
}

function describeFamily(family: string, mine: readonly ExactChange[]): string {
  const all = (m: ExactMetricName) => mine.find((c) => c.metric === m && c.replica === ALL_REPLICAS);
  const arrow = (c: ExactChange, unit = '') => `${fmtExact(c.baseline)}${unit} → ${fmtExact(c.current)}${unit}`;
  if (family === 'requests') {
    const total = all('requests');
    return total ? `${METRIC_LABELS.requests} ${arrow(total)} (${requestBreakdown(mine)})` : requestBreakdown(mine);
  }
  if (family === 'latency') {
    const parts = mine.filter((c) => c.difference !== 0).map((c) => `${c.metric.replace(/^latency_|_ms$/g, '')} ${arrow(c, ' ms')}`);
    return `virtual latency ${parts.join(', ')}`;
  }
  if (family.startsWith('copies')) {
    const changed = mine.filter((c) => c.difference !== 0);
    const same = changed.every((c) => c.baseline === changed[0]!.baseline && c.current === changed[0]!.current);
    const where = same && changed.length === mine.length ? 'at every replica' : `at ${changed.map((c) => c.replica).join(', ')}`;
    return same ? `${METRIC_LABELS[changed[0]!.metric]} ${arrow(changed[0]!)} ${where}` : changed.map((c) => `${METRIC_LABELS[c.metric]} ${arrow(c)} at ${c.replica}`).join(', ');
  }
  const c = mine.find((x) => x.replica === ALL_REPLICAS) ?? mine[0]!;
  return `${METRIC_LABELS[c.metric]} ${arrow(c)} (${signed(c.difference)})`;
}

/** `+1 get per replica`, `+1 get, +1 list per replica`, or per replica when they differ: `+2 get at r0, +1 get at r1`. */
function requestBreakdown(mine: readonly ExactChange[]): string {
  const types: ExactMetricName[] = ['lists', 'gets', 'puts', 'removes'];
  const replicas = [...new Set(mine.filter((c) => c.replica !== ALL_REPLICAS).map((c) => c.replica))];
  const diff = (replica: string, m: ExactMetricName) => mine.find((c) => c.replica === replica && c.metric === m)?.difference ?? 0;
  const name = (m: ExactMetricName) => m.slice(0, -1);
  if (replicas.length === 0) {
    const parts = types.filter((m) => diff(ALL_REPLICAS, m) !== 0).map((m) => `${signed(diff(ALL_REPLICAS, m))} ${name(m)}`);
    return parts.length ? `${parts.join(', ')} in all` : 'no change by call type';
  }
  const uniform = types.every((m) => replicas.every((r) => diff(r, m) === diff(replicas[0]!, m)));
  if (uniform) {
    const parts = types.filter((m) => diff(replicas[0]!, m) !== 0).map((m) => `${signed(diff(replicas[0]!, m))} ${name(m)}`);
    return parts.length ? `${parts.join(', ')} per replica` : 'no change by call type';
  }
  const parts: string[] = [];
  for (const r of replicas) for (const m of types) if (diff(r, m) !== 0) parts.push(`${signed(diff(r, m))} ${name(m)} at ${r}`);
  return parts.join(', ');
}

/** Reads both directories' exact.csv and compares them; null when neither has one. */
export async function compareExactDirs(baselineDir: string, currentDir: string): Promise<{ result: ExactCompareResult | null; missing: 'baseline' | 'current' | null }> {
  const [base, cur] = await Promise.all([readExactCsv(baselineDir), readExactCsv(currentDir)]);
  if (!base && !cur) return { result: null, missing: null };
  if (!base || !cur) return { result: null, missing: base ? 'current' : 'baseline' };
  const [bm, cm] = await Promise.all([readMeta(baselineDir), readMeta(currentDir)]);
  const suite = (m: Record<string, unknown> | null) => (typeof m?.suite === 'string' ? m.suite : '?');
  return { result: compareExactMetrics(base, cur, { baseline: baselineDir, current: currentDir, baselineSuite: suite(bm), currentSuite: suite(cm) }), missing: null };
}
