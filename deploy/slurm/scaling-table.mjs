#!/usr/bin/env node
// Prints, for every cell measured in all the given runs, its throughput (successful operations per
// second, all ops of the cell together, from latency.csv) in each run and the ratio to the first run,
// as a Markdown table. The runs are the same suite with 1, 2, ... shards (deploy/slurm/demo.sh):
//   node deploy/slurm/scaling-table.mjs "1 shard=reports/x-1shard" "2 shards=reports/x-2shard" ...
// Cells are matched on their whole key (config, variant, schedule, value_bytes, clients, registers,
// workers, workload, mode, open_rate): a cell missing from a run is left out (and named below the
// table), never approximated. Exit 2 for bad arguments, 1 for a report it cannot read.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';

const KEY = ['config', 'variant', 'schedule', 'value_bytes', 'clients', 'registers', 'workers', 'workload', 'mode', 'open_rate'];
const runs = process.argv.slice(2).map((a) => {
  const i = a.indexOf('=');
  if (i < 1) {
    process.stderr.write(`scaling-table.mjs: expected LABEL=REPORT_DIR, got ${JSON.stringify(a)}\n`);
    process.exit(2);
  }
  return { label: a.slice(0, i), dir: a.slice(i + 1) };
});
if (runs.length < 2) {
  process.stderr.write('scaling-table.mjs: give at least two runs, LABEL=REPORT_DIR each\n');
  process.exit(2);
}
const perRun = runs.map(({ label, dir }) => {
  const file = path.join(dir, 'latency.csv');
  let rows;
  try {
    rows = parse(readFileSync(file, 'utf8'), { columns: true });
  } catch (e) {
    process.stderr.write(`scaling-table.mjs: ${label}: cannot read ${file} (${e.message}); give the directory of a report (rkvs bench or rkvs merge)\n`);
    process.exit(1);
  }
  const missing = ['ops_per_s', 'errors', 'count', ...KEY].filter((f) => rows.length && !(f in rows[0]));
  if (missing.length) {
    process.stderr.write(`scaling-table.mjs: ${label}: ${file} has no column ${missing.join(', ')} (a report of format 2 is needed)\n`);
    process.exit(1);
  }
  const cells = new Map();
  for (const r of rows) {
    const k = KEY.map((f) => r[f]).join(' ');
    const c = cells.get(k) ?? { opsPerS: 0, errors: 0, count: 0 };
    c.opsPerS += Number(r.ops_per_s);
    c.errors += Number(r.errors);
    c.count += Number(r.count);
    cells.set(k, c);
  }
  return cells;
});
const all = [...new Set(perRun.flatMap((m) => [...m.keys()]))];
const keys = all.filter((k) => perRun.every((m) => m.has(k)));
if (!keys.length) {
  process.stderr.write('scaling-table.mjs: no cell was measured in every run: the runs are not the same suite and options\n');
  process.exit(1);
}
const head = ['cell (config variant schedule bytes clients registers workers workload mode rate)', ...runs.map((r) => `${r.label} ops/s`), ...runs.slice(1).map((r) => `${r.label} / ${runs[0].label}`)];
const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
for (const k of keys) {
  const v = perRun.map((m) => m.get(k));
  const base = v[0].opsPerS;
  lines.push(`| ${k} | ${v.map((c) => `${c.opsPerS.toFixed(1)}${c.errors ? ` (${c.errors} errors)` : ''}`).join(' | ')} | ${v.slice(1).map((c) => (base > 0 ? `x${(c.opsPerS / base).toFixed(2)}` : 'n/a')).join(' | ')} |`);
}
const partial = all.filter((k) => !keys.includes(k));
if (partial.length) lines.push('', `Left out, not measured in every run: ${partial.map((k) => `\`${k}\` (${runs.filter((_, i) => !perRun[i].has(k)).map((r) => r.label).join(', ')} missing)`).join('; ')}.`);
process.stdout.write(`${lines.join('\n')}\n`);
