import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHistogram, encodeHistogram, percentileText, recordMs } from '../../src/bench/run/histogram.js';
import { ConfigError } from '../../src/errors.js';
import {
  distributionMedian,
  loadRecordedModel,
  parseHgrm,
  PROVIDER_MODELS,
  providerModel,
  sampleDistribution,
  sampleLatency,
  scaleModel,
  type Distribution,
} from '../../src/simulate/models.js';
import { toLayerOptions } from '../../src/simulate/realtime.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from '../support/tmp.js';

function empiricalMedian(d: Distribution, seed: number, n = 20_000): number {
  const r = new Random(seed);
  const xs = Array.from({ length: n }, () => sampleDistribution(d, r)).sort((a, b) => a - b);
  return xs[n / 2];
}

describe('latency models', () => {
  it('sample deterministically for a seed', () => {
    const d: Distribution = { kind: 'lognormal', median: 20, sigma: 0.5 };
    const a = new Random(9);
    const b = new Random(9);
    expect(Array.from({ length: 5 }, () => sampleDistribution(d, a))).toEqual(Array.from({ length: 5 }, () => sampleDistribution(d, b)));
  });

  it('have the medians they claim (seed 3)', () => {
    const cases: Distribution[] = [
      { kind: 'fixed', ms: 7 },
      { kind: 'uniform', min: 10, max: 30 },
      { kind: 'normal', mean: 50, stddev: 5 },
      { kind: 'lognormal', median: 20, sigma: 0.5, min: 3 },
      { kind: 'exponential', mean: 10 },
      { kind: 'quantiles', points: [[0, 1], [0.5, 10], [1, 100]] },
    ];
    for (const d of cases) expect(empiricalMedian(d, 3), d.kind).toBeCloseTo(distributionMedian(d), -0.3);
  });

  it('add the per-KiB transfer cost and scale stragglers', () => {
    const m = { default: { kind: 'fixed', ms: 10 } as Distribution, perKiBMs: 2 };
    expect(sampleLatency(m, 'put', 2048, new Random(1))).toBe(14);
    expect(sampleLatency(scaleModel(m, 10), 'get', 0, new Random(1))).toBe(100);
  });

  it('provider presets exist and unknown names get a clear error', () => {
    expect(Object.keys(PROVIDER_MODELS).length).toBeGreaterThan(3);
    expect(() => providerModel('nope')).toThrow(ConfigError);
    expect(() => providerModel('nope')).toThrow(/known: .*aws-s3-us-east-1/);
  });

  it('convert to the latency layer’s options', () => {
    const o = toLayerOptions(providerModel('aws-s3-us-east-1'), 4);
    expect(o.perOp?.list).toEqual({ kind: 'lognormal', medianMs: 30, sigma: 0.45 });
    expect(o.seed).toBe(4);
  });
});

describe('recorded histograms replayed', () => {
  it('reads histograms.jsonl (merged per op) and .hgrm files', async () => {
    const dir = tempDir('rkvs-sim-models-');
    const h = createHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i / 10); // 0.1 .. 100 ms, median ~50
    const line = (op: string) => JSON.stringify({ config: 'c', variant: 'raw', schedule: 'none', op, value_bytes: 0, clients: 1, repeat: 0, outcome: 'ok', unit: 'us', start_ms: 0, end_ms: 1, encoded: encodeHistogram(h) });
    const jsonl = join(dir, 'histograms.jsonl');
    await writeFile(jsonl, `${line('get')}\n${line('put')}\n${line('get')}\n`);
    const m = await loadRecordedModel(jsonl);
    expect(m.perOp?.get?.kind).toBe('quantiles');
    expect(distributionMedian(m.perOp!.get!)).toBeGreaterThan(45);
    expect(distributionMedian(m.perOp!.get!)).toBeLessThan(55);

    const hgrm = join(dir, 'x.hgrm');
    await writeFile(hgrm, percentileText(h));
    const pts = parseHgrm(percentileText(h));
    expect(pts.length).toBeGreaterThan(5);
    const m2 = await loadRecordedModel(hgrm);
    expect(distributionMedian(m2.default)).toBeGreaterThan(45);
    expect(distributionMedian(m2.default)).toBeLessThan(55);
  });

  it('rejects files that are not recordings, naming the problem', async () => {
    const dir = tempDir('rkvs-sim-models-');
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, 'not json\n');
    await expect(loadRecordedModel(bad)).rejects.toThrow(/bad.jsonl:1 is not JSON/);
    await expect(loadRecordedModel(join(dir, 'missing.jsonl'))).rejects.toThrow(/cannot read/);
    expect(() => parseHgrm('hello')).toThrow(/no percentile rows/);
  });
});
