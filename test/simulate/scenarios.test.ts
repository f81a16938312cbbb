/**
 * Every scenario at small sizes: its checks hold (copies <= contention + 2 and exactly 2 after
 * quiescence, latency >= the q-th-fastest floor, no errors under stragglers/crashes/flapping),
 * and it writes the bench report schema. Seeds are printed on failure.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCENARIOS, findScenario } from '../../benchmarks/sim/index.js';
import { LATENCY_COLUMNS, OVERHEAD_COLUMNS, REQUESTS_COLUMNS } from '../../src/simulate/report.js';
import { runScenario } from '../../src/simulate/index.js';
import { tempDir } from '../support/tmp.js';

const SEED = Number(process.env.RKVS_SIM_SEED ?? 7);

async function tmp(): Promise<string> {
  return tempDir('rkvs-sim-');
}

function header(csv: string): string[] {
  return csv.split('\n')[0].split(',');
}

describe('simulation scenarios (--small)', () => {
  it('lists the five scenarios of the issue', () => {
    expect(SCENARIOS.map((s) => s.name).sort()).toEqual(
      ['latency-vs-n', 'many-clients', 'schedules-and-variants', 'space-vs-contention', 'stragglers-and-crashes'].sort(),
    );
    expect(SCENARIOS.some((s) => s.clocks.includes('real'))).toBe(true);
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: every check holds and the report is written (seed ${SEED})`, async () => {
      const dir = await tmp();
      const res = await runScenario(scenario, { seed: SEED, small: true, out: dir, html: false });
      const failed = res.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
      expect(failed, `seed ${SEED}; replay: rkvs simulate ${scenario.name} --small --seed ${SEED}`).toEqual([]);
      expect(res.checks.length).toBeGreaterThan(3);
      // the report's checks table shows each check's measured value, bound and meaning
      for (const c of res.checks) expect([c.measured, c.bound, c.meaning].every((x) => typeof x === 'string' && x.length > 0), c.name).toBe(true);
      expect(res.headline.length).toBeGreaterThan(0);
      expect(header(await readFile(join(dir, 'latency.csv'), 'utf8'))).toEqual([...LATENCY_COLUMNS]);
      expect(header(await readFile(join(dir, 'overhead.csv'), 'utf8'))).toEqual([...OVERHEAD_COLUMNS]);
      expect(header(await readFile(join(dir, 'requests.csv'), 'utf8'))).toEqual([...REQUESTS_COLUMNS]);
      expect(existsSync(join(dir, 'errors.csv'))).toBe(true);
      expect(existsSync(join(dir, 'summary.csv'))).toBe(true);
      const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8'));
      expect(meta.suite).toBe(`sim-${scenario.name}-small`);
      expect(meta.seeds).toEqual([SEED]);
      const jsonl = (await readFile(join(dir, 'histograms.jsonl'), 'utf8')).trim().split('\n');
      expect(JSON.parse(jsonl[0]).unit).toBe('us');
    });
  }

  it('space-vs-contention checks the bound and writes the time series', async () => {
    const dir = await tmp();
    const res = await runScenario(findScenario('space-vs-contention')!, { seed: SEED, small: true, out: dir, html: false });
    const names = res.checks.map((c) => c.name);
    expect(names.some((n) => n.includes('copies <= overlap contention + 2'))).toBe(true);
    expect(names.some((n) => n.includes('quiescent = 2'))).toBe(true);
    const ts = await readFile(join(dir, 'timeseries.csv'), 'utf8');
    expect(header(ts)).toEqual(['run_id', 'config', 'time_ms', 'replica', 'objects', 'stored_bytes', 'concurrent_writes', 'bound']);
    expect(ts.trim().split('\n').length).toBeGreaterThan(10);
  });

  it("space-vs-contention's report draws copies over time and the headline, its checks first", async () => {
    const dir = await tmp();
    await runScenario(findScenario('space-vs-contention')!, { seed: SEED, small: true, out: dir, html: true });
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('data-chart="copies-over-time"');
    expect(html).toContain('data-chart="copies-headline"');
    expect([...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1])[0]).toBe('checks');
    expect(html).toContain('overlap contention + 2');
    expect(html).not.toMatch(/No overhead\.csv/);
  });

  it('a scenario that measures no storage: its header-only overhead.csv is listed as such and draws nothing', async () => {
    const dir = await tmp();
    await runScenario(findScenario('schedules-and-variants')!, { seed: SEED, small: true, out: dir, html: true });
    expect((await readFile(join(dir, 'overhead.csv'), 'utf8')).trim().split('\n')).toHaveLength(1);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<code>overhead.csv</code></td><td class="n">no rows (header only)</td>');
    expect(html).not.toMatch(/No overhead\.csv/);
    expect(html).not.toContain('<section id="storage">');
    expect(html).toMatch(/data-chart="latency-percentiles/);
  });

  it('virtual-time scenarios are deterministic for a seed', async () => {
    const s = findScenario('stragglers-and-crashes')!;
    const a = await runScenario(s, { seed: SEED, small: true, out: await tmp(), html: false });
    const b = await runScenario(s, { seed: SEED, small: true, out: await tmp(), html: false });
    const strip = (csv: string) => csv.split('\n').map((l) => l.split(',').slice(2).join(',')); // without run_id/suite
    expect(strip(await readFile(join(a.dir, 'latency.csv'), 'utf8'))).toEqual(strip(await readFile(join(b.dir, 'latency.csv'), 'utf8')));
    expect(a.data).toEqual(b.data);
  });
});
