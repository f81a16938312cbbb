/**
 * `rkvs check --html FILE`: a self-contained page (inline CSS, no scripts, nothing fetched) with,
 * for every history that violates its model, a timeline of the witness: one lane per client, each
 * operation a bar from its call to its return labelled with its value, the operations of the
 * witness highlighted and the other operations of the register in the same time span drawn faintly
 * for context. Hovering a bar shows the operation in full (the browser's own tooltip).
 */
import { describeOperation, isComplete, type Operation, type Verdict } from './history.js';

export interface HtmlEntry {
  file: string;
  verdict: Verdict;
  ops: number;
  ms: number;
  /** The history (for context around a witness); only needed for violations. */
  history?: readonly Operation[];
}

/** Context operations drawn around a witness at most (the closest in time first). */
const MAX_CONTEXT = 400;

const CSS = `
body { font-family: DejaVu Sans, Liberation Sans, Arial, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: .2em; font-size: 1.2em; }
table { border-collapse: collapse; font-size: .85em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1a7f37; } .violation { color: #c62828; font-weight: bold; } .unknown { color: #9a6700; }
.msg { background: #fff4f4; border-left: 4px solid #c62828; padding: .5em 1em; }
.timeline { position: relative; margin: 1em 0 2em; font-size: 12px; }
.axis { position: relative; height: 18px; margin-left: 9em; border-bottom: 1px solid #999; }
.tick { position: absolute; bottom: 0; height: 6px; border-left: 1px solid #999; }
.tick span { position: absolute; bottom: 7px; transform: translateX(-50%); color: #555; white-space: nowrap; }
.lane { display: flex; border-bottom: 1px solid #eee; }
.lane .name { width: 9em; flex: none; padding: 2px 4px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-family: monospace; }
.lane .track { position: relative; flex: 1; }
.op { position: absolute; height: 18px; box-sizing: border-box; border: 1px solid #bbb; background: #f2f2f2; color: #888;
      border-radius: 3px; overflow: hidden; white-space: nowrap; font-family: monospace; line-height: 16px; padding: 0 3px; min-width: 3px; }
.op.w { background: #eef3fb; } .op.r { background: #f5f5f5; }
.op.hl { border: 2px solid #c62828; color: #111; font-weight: bold; z-index: 2; line-height: 14px; }
.op.hl.w { background: #ffd9a8; } .op.hl.r { background: #bfe3ff; }
.op.pending { border-right-style: dashed; background-image: linear-gradient(to right, transparent 70%, #fff); }
.op.failed { border-style: dashed; }
.legend span { display: inline-block; margin-right: 1.5em; }
.legend .op { position: static; display: inline-block; height: auto; vertical-align: middle; }
ol.witness { font-family: monospace; font-size: .9em; }
`;

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function label(o: Operation): string {
  if (o.op === 'write') return o.input === null ? 'remove' : `w ${JSON.stringify(o.input)}`;
  if (!isComplete(o)) return 'r ?';
  return `r → ${o.output === null ? 'absent' : JSON.stringify(o.output)}`;
}

function fmtTime(t: number): string {
  const a = Math.abs(t);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) return t.toExponential(2);
  return Number(t.toFixed(a < 10 ? 3 : a < 1000 ? 1 : 0)).toString();
}

/** The operations to draw for a violation: the witness and nearby operations of its register. */
function selectOps(witness: readonly Operation[], history: readonly Operation[] | undefined, register: string): { ops: Operation[]; t0: number; t1: number } {
  const end = (o: Operation) => (o.return === null ? Number.POSITIVE_INFINITY : o.return);
  let t0 = Math.min(...witness.map((o) => o.call));
  let t1 = Math.max(...witness.map((o) => (o.return === null ? o.call : o.return)));
  if (t1 === t0) t1 = t0 + 1;
  const ids = new Set(witness.map((o) => o.id));
  const context = (history ?? [])
    .filter((o) => o.register === register && !ids.has(o.id) && o.call <= t1 && end(o) >= t0)
    .sort((a, b) => Math.abs(a.call - t0) - Math.abs(b.call - t0))
    .slice(0, MAX_CONTEXT);
  const ops = [...witness, ...context];
  // widen a little so bars at the edges stay visible
  const pad = (t1 - t0) * 0.03;
  return { ops, t0: t0 - pad, t1: t1 + pad };
}

/** One violation's timeline. */
export function renderTimeline(witness: readonly Operation[], history: readonly Operation[] | undefined, register: string): string {
  const { ops, t0, t1 } = selectOps(witness, history, register);
  const span = t1 - t0;
  const pct = (t: number) => Math.min(100, Math.max(0, ((t - t0) / span) * 100));
  const hl = new Set(witness.map((o) => o.id));
  // lanes: one per client, ordered by first call; overlapping operations of a client stack in rows
  const byClient = new Map<string, Operation[]>();
  for (const o of [...ops].sort((a, b) => a.call - b.call || a.id - b.id)) {
    let l = byClient.get(o.client);
    if (!l) byClient.set(o.client, (l = []));
    l.push(o);
  }
  const lanes: string[] = [];
  for (const [client, list] of byClient) {
    const rowEnds: number[] = [];
    const bars: string[] = [];
    for (const o of list) {
      const end = o.return === null ? t1 : o.return;
      let row = rowEnds.findIndex((e) => e < o.call);
      if (row < 0) row = rowEnds.push(end) - 1;
      else rowEnds[row] = end;
      const cls = ['op', o.op === 'write' ? 'w' : 'r'];
      if (hl.has(o.id)) cls.push('hl');
      if (o.return === null) cls.push('pending');
      if (o.error !== undefined) cls.push('failed');
      const left = pct(o.call);
      const width = Math.max(0.2, pct(end) - left);
      bars.push(
        `<div class="${cls.join(' ')}" style="left:${left.toFixed(3)}%;width:${width.toFixed(3)}%;top:${row * 20 + 2}px" title="${esc(describeOperation(o))}">${esc(label(o))}</div>`,
      );
    }
    lanes.push(`<div class="lane"><div class="name" title="${esc(client)}">${esc(client)}</div><div class="track" style="height:${rowEnds.length * 20 + 4}px">${bars.join('')}</div></div>`);
  }
  const ticks: string[] = [];
  for (let i = 0; i <= 8; i++) {
    const t = t0 + (span * i) / 8;
    ticks.push(`<div class="tick" style="left:${((i / 8) * 100).toFixed(2)}%"><span>${esc(fmtTime(t))}</span></div>`);
  }
  return `<div class="timeline"><div class="axis">${ticks.join('')}</div>${lanes.join('\n')}</div>`;
}

/** The whole page: a summary of every file checked and a timeline per violation. */
export function renderCheckPage(entries: readonly HtmlEntry[], title = 'rkvs check'): string {
  const rows = entries
    .map((e, i) => {
      const v = e.verdict;
      const name = v.result === 'violation' ? `<a href="#v${i}">${esc(e.file)}</a>` : esc(e.file);
      const what = v.result === 'violation' ? `register ${esc(JSON.stringify(v.register))}: ${v.operations.length} operations` : v.result === 'unknown' ? esc(v.message) : '';
      return `<tr><td>${name}</td><td>${esc(v.model)}</td><td class="${v.result}">${v.result}</td><td class="n">${e.ops}</td><td class="n">${Math.round(e.ms)}</td><td>${esc(v.decidedBy)}</td><td>${what}</td></tr>`;
    })
    .join('\n');
  const sections = entries
    .map((e, i) => {
      const v = e.verdict;
      if (v.result !== 'violation') return '';
      const list = [...v.operations].sort((a, b) => a.call - b.call || a.id - b.id).map((o) => `<li>${esc(describeOperation(o))}</li>`).join('');
      return (
        `<section id="v${i}"><h2>${esc(e.file)}: not ${esc(v.model)}${v.register ? `, register ${esc(JSON.stringify(v.register))}` : ''}</h2>\n` +
        `<p class="msg">${esc(v.message)}</p>\n` +
        `<p>The ${v.operations.length} highlighted operations ${v.minimal ? 'form a minimal witness: without any one of them the rest is consistent' : 'form a witness (not shrunk to a minimal one)'}; ` +
        `decided by the ${esc(v.decidedBy)} checker. Faint bars are other operations of the register in the same span.</p>\n` +
        renderTimeline(v.operations, e.history, v.register) +
        `\n<ol class="witness">${list}</ol></section>`
      );
    })
    .filter(Boolean);
  const violations = entries.filter((e) => e.verdict.result === 'violation').length;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>${entries.length} histor${entries.length === 1 ? 'y' : 'ies'} checked, ${violations} with a violation.
Times in each history's own unit (virtual time in simulation, milliseconds in real runs).</p>
<p class="legend"><span><span class="op w hl">w "v"</span> write in the witness</span><span><span class="op r hl">r → "v"</span> read in the witness</span>
<span><span class="op w">w "v"</span> other operation</span><span><span class="op w pending">w "v"</span> never returned</span><span><span class="op w failed">w "v"</span> failed</span></p>
<table><tr><th>file</th><th>model</th><th>verdict</th><th>operations</th><th>ms</th><th>decided by</th><th></th></tr>
${rows}
</table>
${sections.length ? sections.join('\n') : '<p>No violation to show.</p>'}
</body>
</html>
`;
}
