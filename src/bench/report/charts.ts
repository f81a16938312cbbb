/**
 * Charts of a report, as Vega-Lite specifications rendered to SVG at report time by Vega's
 * server-side renderer (no browser, no network), and to PNG by resvg for papers and slides:
 * latency by percentile, p50 and p99, throughput against clients, latency over time
 * (charts-latency.ts); storage per replica and a simulation's copies over time (charts-storage.ts);
 * requests, cost and the probe's raw call latency (charts-requests.ts). The rules every chart
 * keeps are in chart-kit.ts.
 */
import type { ReportData } from '../record/read.js';
import type { ChartSpec } from './chart-kit.js';
import { overTimeCharts, percentileBarsChart, percentileCharts, throughputChart } from './charts-latency.js';
import { costCharts, probeChart, requestsChart } from './charts-requests.js';
import { simulationCharts, storageChart } from './charts-storage.js';

export { renderPng, renderSvg, slug, type ChartSpec } from './chart-kit.js';

/** Every chart of a report, in display order. */
export function reportCharts(data: ReportData): ChartSpec[] {
  return [
    ...percentileCharts(data),
    percentileBarsChart(data),
    throughputChart(data),
    ...overTimeCharts(data),
    storageChart(data),
    ...simulationCharts(data),
    requestsChart(data),
    ...costCharts(data),
    probeChart(data),
  ].filter((c): c is ChartSpec => c !== null);
}
