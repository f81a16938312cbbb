/**
 * What every chart of a report is made with: the chart type, the shared Vega-Lite configuration,
 * the layout arithmetic that keeps a chart within a 1280 px window, and the renderers (Vega's
 * server-side SVG renderer, resvg for PNG).
 *
 * Rules every chart keeps (test/bench/report-charts.test.ts holds them to it):
 * - its data are the rows of a CSV file of the report, each value copied as the file has it, each
 *   datum carrying the key of its row, so a bar of 2.02 is a row saying 2.02;
 * - every cell-key field that varies is in the encoding (facet, colour, offset or the cell's
 *   label), so no two cells share a mark; nothing is stacked or summed;
 * - it fits a 1280 px window: panel sizes follow the number of panels, legends sit below the plot,
 *   labels are horizontal and any label cut short carries the full text as an SVG title (hover).
 *
 * The charts themselves: charts-latency.ts, charts-storage.ts, charts-requests.ts; charts.ts
 * lists them in display order.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { CELL_KEY_COLUMNS, NUMERIC_CELL_FIELDS, type Cell, type CellKey } from '../config/cell.js';

/** A chart of the report: a name (file stem), a title, and its Vega-Lite spec. */
export interface ChartSpec {
  name: string;
  title: string;
  description: string;
  /** Which CSV file the chart's data are rows of. */
  source: string;
  /** Report section it belongs to (html.ts). */
  section: 'latency' | 'over-time' | 'storage' | 'simulation' | 'requests' | 'probe';
  spec: TopLevelSpec;
  /** Every label the chart may cut short, for the hover titles. */
  labels: string[];
}

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Width a chart may take: the 1280 px window less the page's margins. */
export const CHART_WIDTH = 1160;

/**
 * Longest axis or legend label, px; longer ones are cut with an ellipsis and get a title. Vega
 * measures text without a canvas here, by its estimate of 0.8 em a character (textWidth).
 */
export const LABEL_LIMIT = 300;

export const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee', labelLimit: LABEL_LIMIT, labelOverlap: true, titlePadding: 8 },
  axisX: { labelAngle: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: LABEL_LIMIT, titleLimit: 600, orient: 'bottom', direction: 'horizontal', symbolLimit: 0 },
  header: { labelFontSize: 12, titleFontSize: 12, labelLimit: 400, titleFontWeight: 'normal' },
  facet: { spacing: 18 },
  concat: { spacing: 18 },
  title: { fontSize: 14, anchor: 'start', offset: 12 },
} as const;

/**
 * Width Vega gives a text at 11 px, px: without a canvas (server-side rendering) it estimates
 * 0.8 em a character, which is also where it cuts a label at its limit.
 */
export function textWidth(s: string, fontPx = 11): number {
  return Math.ceil(s.length * fontPx * 0.8);
}

/** Width of a left axis showing these labels (cut at LABEL_LIMIT), with its title and ticks. */
export function axisWidth(labels: readonly string[]): number {
  return Math.min(LABEL_LIMIT, Math.max(30, ...labels.map((l) => textWidth(l)))) + 36;
}

/**
 * Width of each of `columns` panels side by side so the chart fits CHART_WIDTH: `left` px of axis
 * (once for shared axes; `perPanel` px more in every panel for independent ones).
 */
export function panelWidth(columns: number, left: number, perPanel = 0, max = 420): number {
  const spacing = CONFIG.facet.spacing;
  const w = Math.floor((CHART_WIDTH - left - 40 - columns * perPanel - (columns - 1) * spacing) / Math.max(1, columns));
  return Math.max(120, Math.min(max, w));
}

/** A legend below the plot, in as many columns as its labels fit in the chart's width. */
export function bottomLegend(title: string, labels: readonly string[]): Record<string, unknown> {
  const widest = Math.min(LABEL_LIMIT, Math.max(40, ...labels.map((l) => textWidth(l)))) + 30;
  return { title, orient: 'bottom', direction: 'horizontal', columns: Math.max(1, Math.min(labels.length, Math.floor(CHART_WIDTH / widest))), labelLimit: LABEL_LIMIT };
}

/**
 * The position of each replica among its configuration's replicas (first seen, first): bars of
 * one cell sit side by side in that order, whichever configuration the replicas belong to.
 */
export function replicaSlots(rows: readonly { config?: string; replica?: string }[]): (row: { config?: string; replica?: string }) => number {
  const byConfig = new Map<string, string[]>();
  for (const r of rows) {
    const list = byConfig.get(r.config ?? '') ?? [];
    if (!list.includes(r.replica ?? '')) list.push(r.replica ?? '');
    byConfig.set(r.config ?? '', list);
  }
  return (r) => byConfig.get(r.config ?? '')?.indexOf(r.replica ?? '') ?? 0;
}

/** A colour scheme with enough colours for `n` series. */
export function scheme(n: number): string {
  return n <= 10 ? 'tableau10' : 'category20';
}

/** The cell key fields of a row or key, each datum names the cell it was drawn from. */
export function keyDatum(k: Cell | CellKey | Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const c of CELL_KEY_COLUMNS) {
    const v = (k as Record<string, unknown>)[c];
    if (v !== undefined) out[c] = NUMERIC_CELL_FIELDS.has(c) ? Number(v) : String(v);
  }
  return out;
}

/** A number of a CSV cell, NaN when empty. */
export function num(v: string | undefined): number {
  return v === undefined || v === '' ? NaN : Number(v);
}

/** The Vega-Lite schema every chart spec names. */
export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Operations in the order every chart shows them. */
const OPS = ['write', 'read', 'remove'];
/** Orders operation names as {@link OPS}. */
export const byOp = (a: string, b: string): number => OPS.indexOf(a) - OPS.indexOf(b);
/** The operations of some keys, each once, in chart order. */
export const opsOf = (keys: readonly { op: string }[]): string[] => unique(keys.map((k) => k.op)).sort(byOp);

export function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/** File-name-safe form of a label. */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** `1 KiB`, `64 KiB`, `1 MiB`, `300 B`. */
export function sizeLabel(bytes: number): string {
  if (bytes >= 1 << 20 && bytes % (1 << 20) === 0) return `${bytes / (1 << 20)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** Renders a Vega-Lite spec to a standalone SVG document; labels cut short get their full text as a title. */
export async function renderSvg(spec: TopLevelSpec, labels: readonly string[] = []): Promise<string> {
  const vgSpec = compile(spec).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return addTitles(await view.toSVG(), labels);
  } finally {
    view.finalize();
  }
}

const unescapeXml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Gives every text Vega cut with an ellipsis its full text as an SVG <title>, which browsers show
 * on hover: the full label is the one among `labels` that starts with what was kept.
 */
export function addTitles(svg: string, labels: readonly string[]): string {
  return svg.replace(/<text([^>]*)>([^<]*)…<\/text>/g, (all, attrs: string, kept: string) => {
    const prefix = unescapeXml(kept);
    const full = labels.find((l) => l.startsWith(prefix) && l.length > prefix.length);
    return full ? `<text${attrs}><title>${escapeXml(full)}</title>${kept}…</text>` : all;
  });
}

/** Renders an SVG document to PNG at `zoom` times its size. */
export function renderPng(svg: string, zoom = 2): Buffer {
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: zoom },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}

/** The values a spec draws (its inline data), for tests and for the hover titles. */
export function specValues(spec: TopLevelSpec): Record<string, unknown>[] {
  const data = (spec as { data?: { values?: unknown } }).data;
  return Array.isArray(data?.values) ? (data.values as Record<string, unknown>[]) : [];
}
