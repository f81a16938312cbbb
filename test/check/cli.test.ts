import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
    // the search alone cannot finish it; the polynomial checker decides it at once
    const unknown = rkvs('check', hard, '--timeout', '1', '--no-minimize', '--method', 'search');
    expect(unknown.code, unknown.out + unknown.err).toBe(3);
    expect(unknown.out).toMatch(/^unknown: time limit reached while searching register ""; time limit 1 ms, raise --timeout/);
    const decided = rkvs('check', hard, '--timeout', '1000');
    expect(decided.code, decided.out + decided.err).toBe(1);
  });

  it('checks many files and directories in one call: one verdict per file, the worst exit code', () => {
    const dir = tempDir('rkvs-check-many-');
    const some = ['sequential.ok-ok.jsonl', 'new-old-inversion.violation-ok.jsonl', 'remove.ok-ok.jsonl'];
    for (const f of some) copyFileSync(join(GOLDEN, f), join(dir, f));
    writeFileSync(join(dir, 'notes.txt'), 'not a history\n');
    const html = join(dir, 'witness.html');
    const r = rkvs('check', dir, join(GOLDEN, 'two-registers.ok-ok.jsonl'), '--format', 'jsonl', '--model', 'atomic', '--html', html);
    expect(r.code, r.err).toBe(1);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.file.split('/').pop(), l.verdict])).toEqual([
      ['new-old-inversion.violation-ok.jsonl', 'violation'],
      ['remove.ok-ok.jsonl', 'ok'],
      ['sequential.ok-ok.jsonl', 'ok'],
      ['two-registers.ok-ok.jsonl', 'ok'],
    ]);
    for (const l of lines) {
      expect(Object.keys(l).slice(0, 6)).toEqual(['file', 'model', 'verdict', 'ops', 'ms', 'decidedBy']);
      expect(l.model).toBe('linearizable');
      expect(l.decidedBy).toBe('polynomial');
      expect(typeof l.ms).toBe('number');
    }
    expect(lines[0]).toMatchObject({ ops: 4, register: 'x', witness: [0, 1, 2, 3], minimal: true });
    // the page: self-contained, a lane per client, the witness highlighted
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(page).toMatch(/new-old-inversion\.violation-ok\.jsonl: not linearizable/);
    for (const c of ['c1', 'c2', 'c3']) expect(page).toContain(`<div class="name" title="${c}">${c}</div>`);
    expect(page.match(/class="op [wr] hl[^"]*" style=/g)).toHaveLength(4);
    expect(page).toContain('r → &quot;a&quot;');

    // text: one line per file, prefixed by its name; regular: all ok
    const text = rkvs('check', dir, '--model', 'regular');
    expect(text.code, text.err).toBe(0);
    expect(text.out.trim().split('\n')).toHaveLength(3);
    expect(text.out).toMatch(/new-old-inversion\.violation-ok\.jsonl: ok: history of 4 operations is regular \[polynomial, \d+ ms\]/);

    // unknown is worse than ok, violation worse than unknown
    const rnd = new Random(4);
    const recs = [];
    for (let i = 0; i < 40; i++) recs.push({ client: `w${i}`, op: 'write' as const, input: `v${i % 20}`, call: 0, return: 1000 });
    for (let i = 0; i < 40; i++) recs.push({ client: `r${i}`, op: 'read' as const, output: `v${rnd.int(0, 19)}`, call: 1 + i, return: 999 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v0', call: 1001, return: 1002 });
    recs.push({ client: 'z', op: 'read' as const, output: 'v1', call: 1003, return: 1004 });
    const hard = join(dir, 'zz-hard.jsonl');
    writeFileSync(hard, formatHistory(normalizeHistory(recs)));
    const worst = rkvs('check', join(dir, 'sequential.ok-ok.jsonl'), hard, '--timeout', '300', '--format', 'jsonl');
    expect(worst.code, worst.out + worst.err).toBe(3);
    expect(JSON.parse(worst.out.trim().split('\n')[1])).toMatchObject({ verdict: 'unknown', decidedBy: 'search' });

    // registers only the search can decide go to worker threads, started from the TypeScript sources
    const twice = [];
    for (const register of ['k0', 'k1']) {
      twice.push(
        { client: 'c0', op: 'write' as const, register, input: 'v0', call: 10, return: null },
        { client: 'c2', op: 'read' as const, register, output: 'v1', call: 14, return: 16 },
        { client: 'c3', op: 'write' as const, register, input: 'v0', call: 5, return: 12 },
        { client: 'c4', op: 'read' as const, register, output: 'v0', call: 8, return: 13 },
        { client: 'c5', op: 'read' as const, register, output: 'v0', call: 17, return: 19 },
        { client: 'c6', op: 'write' as const, register, input: 'v1', call: 6, return: 11 },
      );
    }
    const repeated = join(tempDir('rkvs-check-repeated-'), 'repeated.jsonl');
    writeFileSync(repeated, formatHistory(normalizeHistory(twice)));
    const searched = rkvs('check', repeated, '--format', 'jsonl', '--workers', '2');
    expect(searched.code, searched.out + searched.err).toBe(0);
    expect(JSON.parse(searched.out)).toMatchObject({ verdict: 'ok', decidedBy: 'search', ops: 12 });

    // usage errors name the flag or the path
    const bad = rkvs('check', dir, '--format', 'yaml');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--format: unknown format "yaml"; use text or jsonl/);
    const empty = tempDir('rkvs-check-empty-');
    const none = rkvs('check', empty);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/holds no \.jsonl files/);
    const method = rkvs('check', dir, '--method', 'fast');
    expect(method.code).toBe(2);
    expect(method.err).toMatch(/--method: unknown method "fast"; use auto, polynomial, search/);
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

  it('--history keeps the failing run, --keep-failures every failing run', () => {
    const dir = tempDir('rkvs-soak-');
    const history = join(dir, 'run.jsonl');
    const keep = join(dir, 'failures');
    // seed 8 fails (regular and atomic, classic schedule); seeds 9 and 10 pass after it
    const r = rkvs('soak', '--mutant', 'quorum-minus-one', '--strategy', 'gc-early', '--seeds', '10', '--max-failures', '10', '--no-progress', '--history', history, '--keep-failures', keep);
    expect(r.code, r.out + r.err).toBe(1);
    const failed = [...r.out.matchAll(/^FAILED (\w+)\/(\w+) seed (\d+)/gm)].map((m) => `${m[1]}-${m[2]}-seed${m[3]}.jsonl`);
    expect(failed.length).toBeGreaterThan(0);
    expect(readdirSync(keep).sort()).toEqual([...failed].sort());
    // --history holds the first failing run, which the checker rejects
    expect(readFileSync(history, 'utf8')).toBe(readFileSync(join(keep, failed[0]), 'utf8'));
    const check = rkvs('check', keep, '--model', 'regular', '--format', 'jsonl');
    expect(check.code, check.err).toBe(1);
    for (const l of check.out.trim().split('\n')) expect(JSON.parse(l).verdict).toBe('violation');

    // no failure: the last run
    const ok = rkvs('soak', '--variant', 'atomic', '--schedule', 'fast', '--start', '3', '--seeds', '2', '--no-progress', '--verbose', '--history', history);
    expect(ok.code, ok.out + ok.err).toBe(0);
    const ops = Number(/seed 4: ok \((\d+) ops/.exec(ok.out)![1]);
    expect(readFileSync(history, 'utf8').trim().split('\n')).toHaveLength(ops);
  });
});
