import { describe, expect, it } from 'vitest';
import {
  createHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeHistograms,
  percentileText,
  recordMs,
  summarize,
} from '../../src/bench/run/histogram.js';

describe('latency histograms (microseconds, 3 significant digits)', () => {
  it('percentiles of 1..1000 ms match the known values within the 0.1% resolution', () => {
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i);
    const s = summarize(h);
    expect(s.count).toBe(1000);
    const near = (got: number, want: number) => expect(Math.abs(got - want) / want).toBeLessThanOrEqual(0.001);
    near(s.p50_ms, 500);
    near(s.p90_ms, 900);
    near(s.p99_ms, 990);
    near(s.p999_ms, 999);
    near(s.max_ms, 1000);
    near(s.mean_ms, 500.5);
  });

  it('keeps sub-millisecond latencies at microsecond resolution', () => {
    const h = createHistogram();
    for (const us of [150, 250, 350, 450]) recordMs(h, us / 1000);
    expect(summarize(h).p50_ms).toBeCloseTo(0.25, 3);
    expect(Math.abs(summarize(h).max_ms - 0.45)).toBeLessThanOrEqual(0.001);
  });

  it('a skewed distribution: 99 fast and 1 slow sample', () => {
    const h = createHistogram();
    for (let i = 0; i < 99; i++) recordMs(h, 2);
    recordMs(h, 300);
    const s = summarize(h);
    expect(s.p50_ms).toBeCloseTo(2, 2);
    expect(s.p99_ms).toBeCloseTo(2, 2);
    expect(s.p999_ms).toBeGreaterThan(299);
    expect(s.mean_ms).toBeCloseTo((99 * 2 + 300) / 100, 1);
  });

  it('an empty histogram summarizes to zeros', () => {
    expect(summarize(createHistogram())).toEqual({ count: 0, mean_ms: 0, p50_ms: 0, p90_ms: 0, p99_ms: 0, p999_ms: 0, max_ms: 0 });
    expect(percentileText(createHistogram())).toContain('No values');
  });

  it('encoded histograms decode and merge exactly (repeats, shards)', () => {
    const a = createHistogram();
    const b = createHistogram();
    for (let i = 1; i <= 500; i++) recordMs(a, i);
    for (let i = 501; i <= 1000; i++) recordMs(b, i);
    const merged = mergeHistograms([decodeHistogram(encodeHistogram(a)), decodeHistogram(encodeHistogram(b))]);
    const direct = createHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(direct, i);
    expect(summarize(merged)).toEqual(summarize(direct));
  });

  it('writes HdrHistogram percentile distribution text in milliseconds', () => {
    const h = createHistogram();
    for (let i = 1; i <= 100; i++) recordMs(h, i);
    const text = percentileText(h);
    expect(text.split('\n')[0]).toMatch(/Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(text).toMatch(/#\[Mean\s+=\s+50\.5/);
    expect(text).toMatch(/#\[Max\s+=\s+100\.0/);
  });
});
