import { describe, expect, it } from 'vitest';
import { checkHistory, normalizeHistory, renderCheckPage } from '../../src/check/index.js';

describe('the HTML timeline of a witness', () => {
  const h = normalizeHistory([
    { client: 'alice', op: 'write', register: 'k', input: '<b>"1"</b>', call: 0, return: 10 },
    { client: 'bob', op: 'write', register: 'k', input: 'two', call: 12, return: 20 },
    { client: 'carol', op: 'read', register: 'k', output: '<b>"1"</b>', call: 25, return: 30 },
    // context: overlapping operations of one client stack in rows; a pending and a failed one
    { client: 'dave', op: 'read', register: 'k', output: 'two', call: 5, return: 28 },
    { client: 'dave', op: 'write', register: 'k', input: 'x', call: 6, return: null },
    { client: 'erin', op: 'write', register: 'k', input: 'y', call: 7, return: 9, error: 'Unavailable' },
    // another register: never drawn
    { client: 'zed', op: 'write', register: 'other', input: 'z', call: 1, return: 2 },
  ]);
  const v = checkHistory(h, 'linearizable');
  const page = renderCheckPage([{ file: 'runs/<a>.jsonl', verdict: v, ops: h.length, ms: 3, history: h }]);

  it('is self-contained and escapes what the history holds', () => {
    expect(v.result).toBe('violation');
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(page).toContain('w &quot;&lt;b&gt;\\&quot;1\\&quot;&lt;/b&gt;&quot;');
    expect(page).toContain('runs/&lt;a&gt;.jsonl');
    expect(page).not.toContain('<b>"1"</b>');
  });

  it('draws one lane per client of the register, the witness highlighted, the rest faint', () => {
    for (const c of ['alice', 'bob', 'carol', 'dave', 'erin']) expect(page).toContain(`title="${c}">${c}</div>`);
    expect(page).not.toContain('title="zed"');
    expect(v.result === 'violation' && v.operations.map((o) => o.client).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(page.match(/class="op [wr] hl[^"]*" style=/g)).toHaveLength(3);
    expect(page).toMatch(/class="op w pending" style="[^"]*top:22px/); // dave's second row
    expect(page).toMatch(/class="op w failed" style=/);
    expect(page).toMatch(/title="#1 bob write\(&quot;two&quot;\) on &quot;k&quot; \[12, 20\]"/);
  });

  it('says when there is nothing to show', () => {
    const ok = renderCheckPage([{ file: 'a.jsonl', verdict: checkHistory(h.slice(0, 2), 'linearizable'), ops: 2, ms: 1 }]);
    expect(ok).toContain('No violation to show.');
    expect(ok).toContain('<td class="ok">ok</td>');
  });
});
