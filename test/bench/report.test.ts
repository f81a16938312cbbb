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
import { demoReport, writeSyntheticReport } from '../../src/bench/report/synthetic.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const exec = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'rkvs.js');
const SEED = Number(process.env.TEST_SEED ?? 3);

let root: string;
let dir: string;
let charts: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rkvs-report-'));
  const spec = demoReport({ seed: SEED, samples: 1500 });
  spec.cost = [
    { config: 'emulators', variant: 'atomic', op: 'put', usd_per_million_ops: 21.5, usd_per_gb_month: 0.07 },
    { config: 'emulators', variant: 'regular', op: 'put', usd_per_million_ops: 15.2, usd_per_gb_month: 0.07 },
    { config: 'emulators', variant: 'atomic', op: 'get', usd_per_million_ops: 4.1, usd_per_gb_month: 0.07 },
  ];
  dir = await writeSyntheticReport(join(root, 'run'), spec);
  charts = (await writeHtmlReport(dir)).charts;
});

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('writeHtmlReport', () => {
  it('draws every chart and writes SVG and PNG files of each', async () => {
    expect(charts).toEqual([
      'latency-percentiles-emulators',
      'latency-percentiles-latency-model',
      'latency-p50-p99',
      'storage-overhead',
      'requests-per-op',
      'cost-per-op',
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
    expect(html).toContain('20260101-000000-synthetic');
    expect(html).toContain('usd_per_million_ops');
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
async function openInChromium(file: string, screenshot?: string): Promise<{ found: ChartFound[]; problems: string[]; network: string[] }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with "apt-get update && apt-get install -y chromium" (or set CHROMIUM_PATH)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'rkvs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
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
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { found, problems, network };
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

describe('report.html in headless Chromium', () => {
  it('renders every chart with marks, no console errors and no network request', async () => {
    const { found, problems, network } = await openInChromium(join(dir, 'report.html'), join(dir, 'screenshot.png'));
    expectChartsDrawn(found, charts);
    expect(problems).toEqual([]);
    expect(network).toEqual([]);
  });
  it('the report of the checked-in baseline (a default-suite run) shows every chart offline', async () => {
    const baseline = join(import.meta.dirname, '..', '..', 'reports', 'baseline');
    const out = join(root, 'baseline-report.html');
    const r = await writeHtmlReport(baseline, { out, svgFiles: false, pngFiles: false });
    expect(r.charts).toContain('latency-percentiles-emulators');
    expect(r.charts).toContain('storage-overhead');
    expect(r.charts).toContain('requests-per-op');
    const { found, problems, network } = await openInChromium(out);
    expectChartsDrawn(found, r.charts);
    expect(problems).toEqual([]);
    expect(network).toEqual([]);
  });
});

describe('rkvs report (CLI)', () => {
  it('writes report.html; exits 2 on a directory that is not a report', async () => {
    const r = await exec(process.execPath, [BIN, 'report', dir, '--no-png']);
    expect(r.stdout).toMatch(/wrote .*report.html \(6 charts\)/);
    const bad = await exec(process.execPath, [BIN, 'report', root]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toMatch(/has no latency.csv/);
  });
});
