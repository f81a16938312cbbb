/**
 * Latency histograms: hdr-histogram-js (pure-JS build), microsecond resolution, 3 significant digits.
 *
 * Percentile definition (HdrHistogram's): the value at percentile p is the smallest recorded value v
 * such that at least p% of the recorded values are <= v, reported at the histogram's resolution
 * (3 significant digits: within 0.1% of the recorded value).
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

/** Largest latency tracked before auto-resize kicks in: one hour in microseconds. */
const HIGHEST_US = 3_600_000_000;

/** A new empty latency histogram in microseconds (3 significant digits). */
export function createHistogram(): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

/** Records one latency given in milliseconds (stored in microseconds, rounded, at least 0). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(0, Math.round(ms * 1000)));
}

/** Records a latency given in milliseconds with HdrHistogram's coordinated-omission correction. */
export function recordMsCorrected(h: Histogram, ms: number, expectedIntervalMs: number): void {
  h.recordValueWithExpectedInterval(Math.max(0, Math.round(ms * 1000)), Math.max(1, Math.round(expectedIntervalMs * 1000)));
}

/** Summary of a histogram in milliseconds, as written to latency.csv. */
export interface LatencySummary {
  count: number;
  mean_ms: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
}

/** Percentiles and mean of a microsecond histogram, converted to milliseconds. */
export function summarize(h: Histogram): LatencySummary {
  const n = h.totalCount;
  if (n === 0) return { count: 0, mean_ms: 0, p50_ms: 0, p90_ms: 0, p99_ms: 0, p999_ms: 0, max_ms: 0 };
  return {
    count: n,
    mean_ms: h.mean / 1000,
    p50_ms: h.getValueAtPercentile(50) / 1000,
    p90_ms: h.getValueAtPercentile(90) / 1000,
    p99_ms: h.getValueAtPercentile(99) / 1000,
    p999_ms: h.getValueAtPercentile(99.9) / 1000,
    // the highest equivalent value of the largest sample: the same for a histogram and any merge of it
    max_ms: h.getValueAtPercentile(100) / 1000,
  };
}

/** Compressed base64 encoding (mergeable across runs, machines and shards). */
export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Decodes a histogram written by `encodeHistogram`. */
export function decodeHistogram(encoded: string): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** A new histogram holding the sum of the given ones (they are not changed). */
export function mergeHistograms(hs: Iterable<Histogram>): Histogram {
  const out = createHistogram();
  for (const h of hs) out.add(h);
  return out;
}

/**
 * HdrHistogram percentile distribution text in milliseconds (the `.hgrm` format read by
 * HdrHistogram's plotter and `hdr-plot`).
 */
export function percentileText(h: Histogram): string {
  if (h.totalCount === 0) return '#[No values recorded]\n';
  return h.outputPercentileDistribution(5, 1000);
}
