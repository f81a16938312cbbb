import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../../src/bench/report/html.js';
import { writeRichReport } from './report-fixture.js';
import { LAYOUT_CHECK } from './report-layout.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'rkvs.js');
const SEED = Number(process.env.TEST_SEED ?? 3);

let root: string;
let dir: string;
let charts: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rkvs-report-'));
  dir = await writeRichReport(join(root, 'run'), SEED);
  charts = (await writeHtmlReport(dir)).charts;
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('writeHtmlReport', () => {
  it('draws every chart and writes SVG and PNG files of each', async () => {
    expect(charts).toEqual([
      'latency-percentiles-emulators',
      'latency-percentiles-cloud-3',
      'latency-p50-p99',
      'throughput-vs-clients',
      'over-time-emulators',
      'storage',
      'requests-per-op',
      'cost-per-op',
      'cost-storage',
      'probe-latency',
    ]);
    const files = await readdir(join(dir, 'charts'));
    for (const c of charts) {
      expect(files).toContain(`${c}.svg`);
      expect(files).toContain(`${c}.png`);
      const png = await readFile(join(dir, 'charts', `${c}.png`));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.length).toBeGreaterThan(2000);
    }
  });
  it('is one self-contained file: no scripts, no external resources', async () => {
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
    expect(html).toContain('20260101-000000-rich');
    expect(html).toContain('cost_<wbr>per_<wbr>million_<wbr>ops');
  });
  it('puts the checks first, each with its measured value, bound, result and meaning', async () => {
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    const sections = [...html.matchAll(/<section id="([^"]+)"/g)].map((m) => m[1]);
    expect(sections.slice(0, 3)).toEqual(['checks', 'side-by-side', 'latency']);
    expect(html).toContain('1 of 2 checks hold, 1 misses; 1 figure for information (no bound)');
    expect(html).toMatch(/<tr class="miss"><td class="status">misses<\/td><td>latency model regular\/fast read<\/td><td>p50 1.30 ms \(\+30.0%\)<\/td><td>1.00 rounds x 1 ms = 1.0 ms, within 10%<\/td>/);
    expect(html).toContain('A write takes the rounds the protocol prescribes.');
    expect(html).toContain('no bound: for information');
  });
  it('writes report.md with the checks and the configurations side by side', async () => {
    const md = await readFile(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('### Checks');
    expect(md).toContain('| **misses** | latency model regular/fast read |');
    expect(md).toContain('### Configurations side by side');
    expect(md).toMatch(/\| variant \| schedule \| op \| bytes \| clients \| emulators p50 ms \|/);
  });
  it('rejects a directory that is not a report', async () => {
    await expect(writeHtmlReport(join(root, 'missing'))).rejects.toThrow(/does not exist; pass a directory written by rkvs bench/);
  });
});

interface ChartFound {
  name: string | null;
  svgs: number;
  width: number;
  height: number;
  marks: number;
  axes: number;
}

/** Opens an HTML file in headless Chromium (offline), returns what every chart figure holds and any problems. */
async function openInChromium(file: string, screenshot?: string): Promise<{ found: ChartFound[]; problems: string[]; network: string[]; layout: string[] }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'rkvs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    const network: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      network.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // runs in the page; typed loosely because the project compiles without the DOM library
    type El = { getAttribute(n: string): string | null; querySelector(s: string): El | null; querySelectorAll(s: string): { length: number }; getBoundingClientRect(): { width: number; height: number } };
    const found = await page.evaluate(() =>
      [...(globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El> } }).document.querySelectorAll('figure.chart')].map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          name: f.getAttribute('data-chart'),
          svgs: f.querySelectorAll('svg').length,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          marks: f.querySelectorAll('g.mark-line path, g.mark-rect path, g.mark-symbol path').length,
          axes: f.querySelectorAll('g.role-axis').length,
        };
      }),
    );
    const layout = (await page.evaluate(LAYOUT_CHECK)) as string[];
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { found, problems, network, layout };
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

function expectChartsDrawn(found: ChartFound[], names: string[]): void {
  expect(found.map((f) => f.name)).toEqual(names);
  for (const f of found) {
    expect(f.svgs, f.name!).toBeGreaterThan(0);
    expect(f.width, f.name!).toBeGreaterThan(100);
    expect(f.height, f.name!).toBeGreaterThan(100);
    expect(f.marks, f.name!).toBeGreaterThan(2);
    expect(f.axes, f.name!).toBeGreaterThan(0);
  }
}

describe('report.html in headless Chromium', { timeout: 240_000 }, () => {
  it('renders every chart with marks, no console errors and no network request', async () => {
    const { found, problems, network, layout } = await openInChromium(join(dir, 'report.html'), join(dir, 'screenshot.png'));
    expectChartsDrawn(found, charts);
    expect(problems).toEqual([]);
    expect(network).toEqual([]);
    expect(layout, `layout at 1280 px (seed ${SEED}; screenshot ${join(dir, 'screenshot.png')})`).toEqual([]);
  });
  it('the report of the checked-in baseline (a model-suite run, virtual time) shows every chart offline', async () => {
    const baseline = join(import.meta.dirname, '..', '..', 'reports', 'baseline');
    const out = join(root, 'baseline-report.html');
    const r = await writeHtmlReport(baseline, { out, svgFiles: false, pngFiles: false });
    expect(r.charts).toContain('latency-percentiles-model');
    expect(r.charts).toContain('storage');
    expect(r.charts).toContain('requests-per-op');
    const { found, problems, network, layout } = await openInChromium(out);
    expectChartsDrawn(found, r.charts);
    expect(problems).toEqual([]);
    expect(network).toEqual([]);
    expect(layout).toEqual([]);
  });
});

describe('rkvs report (CLI)', { timeout: 120_000 }, () => {
  it('writes report.html; exits 2 on a directory that is not a report', async () => {
    const r = await exec(process.execPath, [BIN, 'report', dir, '--no-png']);
    expect(r.stdout).toMatch(/wrote .*report.html \(10 charts\), .*report.md and 10 chart files/);
    const bad = await exec(process.execPath, [BIN, 'report', root]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/has no latency.csv/);
  });
});
