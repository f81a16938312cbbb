/**
 * Runs in the page (a string: the project compiles without the DOM library) and returns every
 * layout fault at the window's width: the page scrolling sideways, an element sticking out of its
 * parent or scrolling inside it, a chart's text outside its SVG or over another text, and a section
 * with neither a chart nor a table.
 */
export const LAYOUT_CHECK = `(() => {
  const faults = [];
  const d = document;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  const W = d.documentElement.clientWidth;
  if (d.documentElement.scrollWidth > W + 1) faults.push('the page is ' + d.documentElement.scrollWidth + ' px wide in a ' + W + ' px window');
  for (const el of d.body.querySelectorAll('*')) {
    if (el.closest('svg')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const p = el.parentElement.getBoundingClientRect();
    if (r.right > p.right + 1 || r.left < p.left - 1) faults.push(name(el) + ' sticks out of its parent (' + Math.round(r.left) + '..' + Math.round(r.right) + ' in ' + Math.round(p.left) + '..' + Math.round(p.right) + ')');
    if (el.scrollWidth > el.clientWidth + 1 && ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX)) faults.push(name(el) + ' overflows: ' + el.scrollWidth + ' px of content in ' + el.clientWidth + ' px');
  }
  for (const fig of d.querySelectorAll('figure.chart')) {
    const svg = fig.querySelector('svg');
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')]
      .filter((t) => (t.textContent || '').trim() && getComputedStyle(t).opacity !== '0' && t.getAttribute('opacity') !== '0')
      .map((t) => ({ text: t.textContent.trim(), r: t.getBoundingClientRect() }))
      .filter((t) => t.r.width > 0);
    for (const t of texts)
      if (t.r.left < box.left - 1 || t.r.right > box.right + 1 || t.r.top < box.top - 1 || t.r.bottom > box.bottom + 1)
        faults.push(fig.dataset.chart + ': "' + t.text + '" is cut by the edge of the chart');
    for (let i = 0; i < texts.length; i++)
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].r, b = texts[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) faults.push(fig.dataset.chart + ': "' + texts[i].text + '" overlaps "' + texts[j].text + '"');
      }
  }
  for (const s of d.querySelectorAll('section'))
    if (!s.querySelector('figure.chart svg, table')) faults.push('section ' + s.id + ' shows neither a chart nor a table');
  return faults;
})()`;

