import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatHistory, normalizeHistory } from '../../src/check/index.js';
import { Random } from '../../src/util/random.js';
import { tempDir } from '../support/tmp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(import.meta.dirname, 'golden');

function rkvs(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'rkvs.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('rkvs check', () => {
  it('exits 0 on ok, 1 on a violation, 2 on usage errors, 3 on unknown', () => {
    const ok = rkvs('check', join(GOLDEN, 'new-old-inversion.violation-ok.jsonl'), '--model', 'regular');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^ok: history of 4 operations is regular/);

    const bad = rkvs('check', join(GOLDEN, 'new-old-inversion.violation-ok.jsonl'));
    expect(bad.code, bad.err).toBe(1);
    expect(bad.out).toMatch(/violation: not linearizable/);
    expect(bad.out).toMatch(/#3 c3 read\(\) -> "a"/);

    const usage = rkvs('check', join(GOLDEN, 'sequential.ok-ok.jsonl'), '--model', 'atomicish');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--model: unknown model "atomicish"; use linearizable/);

    const missing = rkvs('check', join(GOLDEN, 'no-such-file.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/cannot read/);

    const dir = tempDir('rkvs-check-');
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, '{"client":"a","op":"write","input":"v","call":0,"return":1}\n{"client":"a","op":"read","call":"x"}\n');
    const parse = rkvs('check', broken);
    expect(parse.code).toBe(2);
    expect(parse.err).toMatch(/broken\.jsonl:2\.call: must be a finite number/);

    // a large, highly concurrent history with a tiny time limit
    const rnd = new Random(3);
    const recs = [];
    for (let i = 0; i < 60; i++) recs.push({ client: `w${i}`, op: 'write' as const, input: `v${i}`, call: 0, return: 1000 });
    for (let i = 0; i < 60; i++) recs.push({ client: `r${i}`, op: 'read' as const, output: `v${rnd.int(0, 59)}`, call: 1 + i, return: 999 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v0', call: 1001, return: 1002 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v1', call: 1003, return: 1004 });
    const hard = join(dir, 'hard.jsonl');
    writeFileSync(hard, formatHistory(normalizeHistory(recs)));
    const unknown = rkvs('check', hard, '--timeout', '1', '--no-minimize');
    expect(unknown.code, unknown.out + unknown.err).toBe(3);
    expect(unknown.out).toMatch(/^unknown: time limit of 1 ms/);
  });
});

describe('rkvs soak', () => {
  it('passes a few seeds of the correct register and fails a mutant with a replay command', () => {
    const ok = rkvs('soak', '--seeds', '5', '--no-progress');
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(ok.out).toMatch(/^ok: 20 runs/m);
    const bad = rkvs('soak', '--seeds', '5', '--variant', 'atomic', '--schedule', 'fast', '--mutant', 'no-write-back', '--strategy', 'inversion', '--max-failures', '1', '--no-progress');
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/FAILED atomic\/fast seed \d+/);
    expect(bad.out).toMatch(/replay: node bin\/rkvs\.js soak --variant atomic --schedule fast --start \d+ --seeds 1 --strategy inversion --mutant no-write-back/);
    const usage = rkvs('soak', '--variant', 'strong');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--variant: unknown value "strong"/);
  });
});
