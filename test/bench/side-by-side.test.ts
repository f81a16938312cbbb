/**
 * Configurations side by side: one row per (variant, schedule, op, value size, clients), one column
 * group per configuration, each later configuration as a ratio to the first with its interval; in
 * the console, Markdown and HTML; and `rkvs compare`'s baseline and current the same way. Also the
 * checks as the console and report.md word them, and the run's overall progress lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareDirs } from '../../src/bench/analyze/compare.js';
import { samplesForInterval, sideBySide, sideCellsOfReport, type SideBySide } from '../../src/bench/analyze/side-by-side.js';
import { readReportDir, type ReportData } from '../../src/bench/record/read.js';
import { checksHeadline, checksMarkdown, checksText, viewOfSummaryCheck } from '../../src/bench/report/check-table.js';
import { compareMarkdown } from '../../src/bench/report/markdown.js';
import { compareSideBySideText, fmtRatio, sideBySideHtml, sideBySideMarkdown, sideBySideText } from '../../src/bench/report/side-by-side.js';
import { demoReport, lognormalSamples, writeSyntheticReport } from '../../src/bench/report/synthetic.js';
import { createProgress, fmtDuration, Overall } from '../../src/bench/run/progress.js';
import { Random } from '../../src/util/random.js';
import { writeRichReport } from './report-fixture.js';

const SEED = Number(process.env.TEST_SEED ?? 7);
const seedMsg = `seed ${SEED} (TEST_SEED to repeat)`;
let root: string;
let data: ReportData;
let sbs: SideBySide;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rkvs-sbs-'));
  data = await readReportDir(await writeRichReport(join(root, 'rich'), SEED));
  sbs = sideBySide(sideCellsOfReport(data), { seed: SEED })!;
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('configurations side by side', () => {
  it('has one row per variant, schedule, op, value size and clients and one group per configuration, in run order', () => {
    expect(sbs.groups).toEqual(['emulators', 'cloud-3']);
    expect(sbs.keyFields).toEqual(['variant', 'schedule', 'op', 'value_bytes', 'clients']);
    expect(sbs.rows).toHaveLength(data.latency.length / 2);
    for (const r of sbs.rows) {
      expect(r.sides.every((s) => s !== null)).toBe(true);
      expect(r.ratios[0]).toBeNull();
    }
  });

  it('takes its values from latency.csv and gives each ratio to the first configuration with an interval around it', () => {
    for (const r of sbs.rows) {
      const row = (config: string) => data.latency.find((l) => l.config === config && (['variant', 'schedule', 'op', 'value_bytes', 'clients'] as const).every((f) => l[f] === String(r.key[f])))!;
      const a = row('emulators');
      const b = row('cloud-3');
      expect(r.sides[0]!.p50).toBe(Number(a.p50_ms));
      expect(r.sides[1]!.p99).toBe(Number(b.p99_ms));
      const q = r.ratios[1]!;
      expect(q.p50.ratio).toBeCloseTo(Number(b.p50_ms) / Number(a.p50_ms), 12);
      expect(q.throughput.ratio).toBeCloseTo(Number(b.ops_per_s) / Number(a.ops_per_s), 12);
      // cloud-3 is 5x slower by construction: the interval holds its ratio and excludes 1
      expect(q.p50.lower, seedMsg).toBeLessThanOrEqual(q.p50.ratio);
      expect(q.p50.upper, seedMsg).toBeGreaterThanOrEqual(q.p50.ratio);
      expect(q.p50.lower, seedMsg).toBeGreaterThan(3.5);
      expect(q.p50.upper, seedMsg).toBeLessThan(7);
      expect(Number.isNaN(q.throughput.lower)).toBe(true);
      expect(q.throughput.why).toMatch(/one throughput per run/);
    }
  });

  it("follows the run's order of configurations and leaves out a configuration that shares no cell", () => {
    const cells = sideCellsOfReport(data);
    expect(sideBySide(cells, { seed: SEED, resamples: 50, order: ['cloud-3', 'emulators'] })!.groups).toEqual(['cloud-3', 'emulators']);
    // a check's own configuration (its own workload) is no column group, and is counted as left out
    const check = { ...cells[0]!, key: { ...cells[0]!.key, config: 'latency-model', workload: 'model-write' } };
    const s = sideBySide([...cells, check], { seed: SEED, resamples: 50 })!;
    expect(s.groups).toEqual(['emulators', 'cloud-3']);
    expect(s.alone).toBe(1);
    expect(sideBySideText(s)).not.toContain('latency-model');
    expect(sideBySideMarkdown(s)).toContain('1 cell measured in one configuration only');
    expect(sideBySide([cells[0]!, check])).toBeNull();
  });

  it('gives no p99 interval below 500 samples a side, and says why', async () => {
    const rng = new Random(SEED);
    const cells = ['a', 'b'].map((config, i) => ({ config, variant: 'regular', schedule: 'fast', op: 'write', value_bytes: 1024, clients: 1, repeats: [{ samplesMs: lognormalSamples(rng, 100, 5 * (i + 1)) }] }));
    const few = sideBySide(sideCellsOfReport(await readReportDir(await writeSyntheticReport(join(root, 'few'), { cells }))), { seed: SEED })!;
    const r = few.rows[0]!.ratios[1]!;
    expect(samplesForInterval(99)).toBe(500);
    expect(Number.isNaN(r.p99.lower)).toBe(true);
    expect(r.p99.why).toBe('an interval of p99 needs 500 samples per side (100 / 100)');
    expect(Number.isFinite(r.p50.lower)).toBe(true);
    expect(fmtRatio(r.p99)).toMatch(/^\d+\.\d\dx$/);
  });

  it('is null for a run of one configuration', async () => {
    const one = await readReportDir(await writeSyntheticReport(join(root, 'one'), demoReport({ seed: SEED, samples: 200, configs: ['only'] })));
    expect(sideBySide(sideCellsOfReport(one))).toBeNull();
  });

  it('prints in the console with the configurations over their columns', () => {
    const lines = sideBySideText(sbs).split('\n');
    expect(lines[0]).toMatch(/^\s+-+ emulators -+\s+-+ cloud-3 -+$/);
    expect(lines[1]).toMatch(/^variant\s+schedule\s+op\s+bytes\s+clients\s+p50 ms\s+p99 ms\s+ops\/s\s+p50 ms\s+p99 ms\s+ops\/s\s+p50 ratio \[95% CI\]\s+p99 ratio \[95% CI\]\s+ops\/s ratio$/);
    expect(lines).toHaveLength(2 + sbs.rows.length);
    const first = sbs.rows[0]!;
    expect(lines[2]).toContain(fmtRatio(first.ratios[1]!.p50));
    expect(lines[2]).toMatch(/\d\.\d\dx \[\d\.\d\d, \d\.\d\d\]/);
  });

  it('writes Markdown and HTML with a column group per configuration', () => {
    const md = sideBySideMarkdown(sbs).split('\n');
    expect(md[0]).toBe('| variant | schedule | op | bytes | clients | emulators p50 ms | emulators p99 ms | emulators ops/s | cloud-3 p50 ms | cloud-3 p99 ms | cloud-3 ops/s | cloud-3 p50 ratio [95% CI] | cloud-3 p99 ratio [95% CI] | cloud-3 ops/s ratio |');
    expect(md.filter((l) => /^\| (raw|regular) \|/.test(l))).toHaveLength(sbs.rows.length);
    const html = sideBySideHtml(sbs);
    expect(html).toContain('<th class="group" colspan="3">emulators</th><th class="group" colspan="6">cloud-3</th>');
    expect(html).toContain('title="one throughput per run: no interval');
  });
});

describe('rkvs compare side by side', () => {
  it('puts baseline and current side by side with the ratio current / baseline and its interval', async () => {
    const rng = new Random(SEED + 1);
    const mk = (name: string, median: number) =>
      writeSyntheticReport(join(root, name), { cells: [{ config: 'mem', variant: 'regular', schedule: 'fast', op: 'write', value_bytes: 1024, clients: 2, repeats: [0, 1].map(() => ({ samplesMs: lognormalSamples(rng, 1500, median) })) }] });
    const result = await compareDirs(await mk('base', 10), await mk('cur', 15), { seed: SEED });
    const text = compareSideBySideText(result);
    expect(text).toMatch(/^side by side \(ratio current \/ baseline\):/);
    expect(text).toMatch(/-+ baseline -+\s+-+ current -+/);
    const m = result.cells[0]!.metrics.find((x) => x.metric === 'p50')!;
    const shown = `${(m.current / m.baseline).toFixed(2)}x [${(1 + m.ciLower).toFixed(2)}, ${(1 + m.ciUpper).toFixed(2)}]`;
    expect(text, seedMsg).toContain(shown);
    expect(compareMarkdown(result)).toContain(shown);
    expect(compareMarkdown(result)).toContain('| baseline p50 ms | baseline p99 ms | baseline ops/s | current p50 ms |');
  });
});

describe('checks, worded so they cannot read as a contradiction', () => {
  const checks = [
    { name: 'copies per register at quiescence, one client', detail: '2.00', pass: true, measured: '2.00 at every replica', bound: 'exactly 2.00', meaning: 'no leak' },
    { name: 'copies per register at quiescence, several clients', detail: '2.00..2.40', pass: null, measured: 'between 2.00 and 2.40', meaning: 'shown, not held to a bound' },
    { name: 'harness overhead', detail: 'x', pass: false, measured: '300 us per operation (9.0%)', bound: 'under 5% of the time inside the store', meaning: 'harness' },
  ].map(viewOfSummaryCheck);

  it('counts the checks with a bound apart from the figures shown for information', () => {
    expect(checksHeadline(checks)).toBe('1 of 2 checks hold, 1 misses; 1 figure for information (no bound)');
    expect(checksHeadline(checks.slice(0, 1))).toBe('1 of 1 check holds');
  });

  it('prints each check with its measured value and its bound, or says it has none', () => {
    const lines = checksText(checks);
    expect(lines[0]).toBe('checks: 1 of 2 checks hold, 1 misses; 1 figure for information (no bound)');
    expect(lines).toContain('    holds  copies per register at quiescence, one client: 2.00 at every replica; bound exactly 2.00');
    expect(lines).toContain('    info   copies per register at quiescence, several clients: between 2.00 and 2.40; no bound');
    expect(lines).toContain('    MISSES harness overhead: 300 us per operation (9.0%); bound under 5% of the time inside the store');
    expect(lines).toContain('  shown, not held to a bound');
    expect(checksMarkdown(checks)).toContain('| **misses** | harness overhead | 300 us per operation (9.0%) | under 5% of the time inside the store |');
  });
});

describe('the run\'s progress across cells', () => {
  it('gives cells done, elapsed time and the time left at the pace so far', () => {
    let now = 0;
    const o = new Overall(() => now);
    o.planned = 4;
    o.startCell(100);
    expect(o.line()).toBe('cells 0/4, 0 s elapsed');
    now = 30_000;
    o.done = 1;
    o.startCell(100);
    now = 60_000;
    o.ops = 50;
    // 1.5 of 4 cells in 60 s: 2.5 more at 40 s each
    expect(o.line()).toBe('cells 1/4, 1m00s elapsed, about 1m40s left');
    o.done = 4;
    expect(o.line()).toBe('cells 4/4, 1m00s elapsed');
    expect(fmtDuration(3_725_000)).toBe('1h02m');
  });

  it('without a bar, prints a line at least every heartbeat while a cell runs, and announces waits', async () => {
    const out: string[] = [];
    const p = createProgress({ mode: 'lines', heartbeatMs: 40, stream: { write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream });
    p.plan(2);
    const done = p.wait('starting the s3 emulator(s)');
    await new Promise((r) => setTimeout(r, 130));
    done();
    p.cell(1, 2, 'mem regular write', 10);
    for (let i = 0; i < 3; i++) p.tick();
    await new Promise((r) => setTimeout(r, 130));
    p.cellDone('10 ok');
    p.stop();
    expect(out[0]).toBe('starting the s3 emulator(s) ...\n');
    expect(out.some((l) => /^starting the s3 emulator\(s\): still waiting after \d+ s\n$/.test(l))).toBe(true);
    expect(out.filter((l) => /^\[1\/2\] mem regular write: 3\/10 ops after \d+ s \(run: cells 0\/2, \d+ s elapsed\)\n$/.test(l)).length).toBeGreaterThanOrEqual(2);
    expect(out.at(-1)).toMatch(/^\[1\/2\] mem regular write: 10 ok \(run: cells 1\/2, \d+ s elapsed, about \d+ s left\)\n$/);
  });
});
