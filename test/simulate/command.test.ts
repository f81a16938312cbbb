import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.js';
import { tempDir } from '../support/tmp.js';

describe('rkvs simulate', () => {
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  it('runs a scenario, prints its headline and checks, writes the report (exit 0)', async () => {
    const dir = tempDir('rkvs-sim-cmd-');
    const code = await main(['node', 'rkvs', 'simulate', 'schedules-and-variants', '--small', '--seed', '3', '--out', dir, '--no-html']);
    expect(code, err).toBe(0);
    expect(out).toMatch(/Schedules and variants \(seed 3, --small/);
    expect(out).toMatch(/checks: (\d+)\/\1 hold/);
    expect(await readFile(join(dir, 'latency.csv'), 'utf8')).toMatch(/^run_id,suite,config/);
  });

  it('never writes into a report directory that holds files: exit 2, unless --overwrite, which replaces it whole', async () => {
    const dir = tempDir('rkvs-sim-cmd-');
    await writeFile(join(dir, 'latency.csv'), 'someone else\'s\n');
    const args = ['node', 'rkvs', 'simulate', 'schedules-and-variants', '--small', '--seed', '3', '--out', dir, '--no-html'];
    expect(await main(args)).toBe(2);
    expect(err).toMatch(/--out: .* already exists and is not empty: a simulation never writes into an existing report .*--overwrite/);
    expect(await readFile(join(dir, 'latency.csv'), 'utf8')).toBe("someone else's\n");
    await writeFile(join(dir, 'stray.txt'), 'x');
    expect(await main([...args, '--overwrite']), err).toBe(0);
    expect(await readFile(join(dir, 'latency.csv'), 'utf8')).toMatch(/^run_id,suite,config/);
    expect(existsSync(join(dir, 'stray.txt'))).toBe(false);
  });

  it('exits 2 with a clear message for an unknown scenario or a bad seed', async () => {
    expect(await main(['node', 'rkvs', 'simulate', 'nope'])).toBe(2);
    expect(err).toMatch(/unknown scenario "nope"; known: space-vs-contention/);
    expect(await main(['node', 'rkvs', 'simulate', 'many-clients', '--seed', '-1'])).toBe(2);
    expect(err).toMatch(/--seed: expected an integer from 0 to 4294967295/);
    expect(await main(['node', 'rkvs', 'simulate', 'many-clients', '--histograms', '/nonexistent.jsonl'])).toBe(2);
    expect(err).toMatch(/cannot read \/nonexistent.jsonl/);
  });

  it('lists scenarios', async () => {
    expect(await main(['node', 'rkvs', 'simulate', '--list'])).toBe(0);
    expect(out).toMatch(/many-clients/);
  });
});
