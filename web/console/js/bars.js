// Bar charts drawn as SVG (no library: a few rectangles and labels): one group
// of bars per label, one bar per series, each series its own colour. A value
// withheld by the centre (small counts) is marked "<5" where its bar would be,
// a value that does not exist (null) is left out. The figures themselves are
// in the tables next to the charts: the chart is for the eye.
const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#0b3d91', '#b86e00', '#0f6b35', '#7a3e00', '#6b2c91', '#44546a', '#b3261e', '#1d7a8c'];

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// A rounded maximum for the axis: 1, 2, 5 times a power of ten.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

// series: [{name, values: [number | null | {suppressed: true}]}], one value per label.
// Returns the <svg> (its data-bars: how many bars were drawn).
export function barChart({ id, title, labels, series, format = (v) => String(v), width = 640, height = 190, suppressedText = '<5' }) {
  const left = 44, right = 8, top = 10, bottom = series.length > 1 ? 44 : 28;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'bars', role: 'img', 'aria-label': title });
  if (id) svg.id = id;
  const numbers = series.flatMap((s) => s.values.filter((v) => typeof v === 'number'));
  const max = niceMax(Math.max(0, ...numbers));
  const plotW = width - left - right, plotH = height - top - bottom;
  const y = (v) => top + plotH - (v / max) * plotH;
  svg.append(el('title', {}, title));
  // the axis: 0, half, max
  for (const v of [0, max / 2, max]) {
    svg.append(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid-line' }));
    svg.append(el('text', { x: left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, format(v)));
  }
  const groupW = plotW / Math.max(1, labels.length);
  const barW = Math.max(2, Math.min(28, (groupW * 0.8) / Math.max(1, series.length)));
  const every = Math.ceil(labels.length / 14); // labels that fit at this width
  let bars = 0;
  labels.forEach((label, i) => {
    const x0 = left + i * groupW + (groupW - barW * series.length) / 2;
    series.forEach((s, k) => {
      const v = s.values[i];
      const x = x0 + k * barW;
      if (v && typeof v === 'object' && v.suppressed) {
        svg.append(el('text', { x: x + barW / 2, y: y(0) - 3, 'text-anchor': 'middle', class: 'suppressed-mark' }, suppressedText));
        return;
      }
      if (typeof v !== 'number') return;
      const r = el('rect', { x, y: y(v), width: Math.max(1, barW - 1), height: Math.max(0, y(0) - y(v)), fill: COLOURS[k % COLOURS.length] });
      r.append(el('title', {}, `${s.name} — ${label} : ${format(v)}`));
      svg.append(r);
      bars++;
    });
    if (i % every === 0) svg.append(el('text', { x: left + i * groupW + groupW / 2, y: top + plotH + 14, 'text-anchor': 'middle', class: 'axis' }, label));
  });
  if (series.length > 1) {
    let x = left;
    series.forEach((s, k) => {
      svg.append(el('rect', { x, y: height - 14, width: 10, height: 10, fill: COLOURS[k % COLOURS.length] }));
      const text = el('text', { x: x + 14, y: height - 5, class: 'axis' }, s.name);
      svg.append(text);
      x += 24 + 7 * s.name.length;
    });
  }
  svg.dataset.bars = String(bars);
  return svg;
}
