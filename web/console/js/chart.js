// The distance-over-time chart: a small canvas drawing (no library needed):
// the distance between them from both tracks (hers only while an incident is
// in progress) and the distances the alarms were judged at, the R and 2R
// lines, and each alarm marked at its time.
import { t } from './i18n.js';
import { distanceM, metres, clock } from './util.js';

const PRIO_COLOUR = { 1: '#b3261e', 2: '#8a4b00', 3: '#9a6b00', 4: '#44546a', 5: '#44546a' };

// The distance at each of his fixes, from her fix nearest in time (within 90 s).
export function distanceSeries(author, protectedPts) {
  const out = [];
  if (!author || !protectedPts || !protectedPts.length) return out;
  let j = 0;
  for (const a of author) {
    while (j + 1 < protectedPts.length && Math.abs(protectedPts[j + 1].time_ms - a.time_ms) <= Math.abs(protectedPts[j].time_ms - a.time_ms)) j++;
    const p = protectedPts[j];
    if (Math.abs(p.time_ms - a.time_ms) > 90000) continue;
    out.push({ t: a.time_ms, d: distanceM(a.lat, a.lon, p.lat, p.lon) });
  }
  return out;
}

export function drawChart(canvas, { series, alarms, R, from, to }) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 360, hgt = canvas.clientHeight || 150;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  g.clearRect(0, 0, w, hgt);
  const left = 44, right = 8, top = 8, bottom = 20;
  const pts = series.slice();
  alarms = alarms.filter((a) => a.at_ms >= from);
  for (const a of alarms) if (a.distance_m !== undefined && a.distance_m !== null) pts.push({ t: a.at_ms, d: a.distance_m });
  const t0 = from;
  const t1 = Math.max(to, ...pts.map((p) => p.t), t0 + 60000);
  const dmax = Math.max(2.4 * R, ...pts.map((p) => p.d)) * 1.05;
  const x = (tm) => left + ((tm - t0) / (t1 - t0)) * (w - left - right);
  const y = (d) => top + (1 - d / dmax) * (hgt - top - bottom);
  // frame and axis labels
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, w, hgt);
  g.strokeStyle = '#8a939e';
  g.lineWidth = 1;
  g.strokeRect(left + 0.5, top + 0.5, w - left - right - 1, hgt - top - bottom - 1);
  g.fillStyle = '#2b3440';
  g.font = '11px system-ui, sans-serif';
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const d of [0, R, 2 * R]) g.fillText(metres(d), left - 4, y(d));
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
  g.fillText(clock(t0), left, hgt - 5);
  g.textAlign = 'right';
  g.fillText(clock(t1), w - right, hgt - 5);
  // R and 2R
  const hline = (d, colour, label) => {
    g.strokeStyle = colour;
    g.setLineDash([6, 4]);
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(left, y(d));
    g.lineTo(w - right, y(d));
    g.stroke();
    g.setLineDash([]);
    g.fillStyle = colour;
    g.textAlign = 'left';
    g.fillText(label, left + 4, y(d) - 3);
  };
  hline(2 * R, '#b86e00', '2R');
  hline(R, '#b3261e', 'R');
  // the alarms
  for (const a of alarms) {
    const xa = x(a.at_ms);
    g.strokeStyle = PRIO_COLOUR[a.priority] || '#44546a';
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(xa, top);
    g.lineTo(xa, hgt - bottom);
    g.stroke();
    if (a.distance_m !== undefined && a.distance_m !== null) {
      g.fillStyle = PRIO_COLOUR[a.priority] || '#44546a';
      g.beginPath();
      g.arc(xa, y(a.distance_m), 4, 0, 2 * Math.PI);
      g.fill();
    }
  }
  // the distance
  if (series.length) {
    g.strokeStyle = '#0b3d91';
    g.lineWidth = 2;
    g.beginPath();
    series.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.d)) : g.moveTo(x(p.t), y(p.d))));
    g.stroke();
  }
  const min = pts.length ? Math.min(...pts.map((p) => p.d)) : null;
  const summary = pts.length
    ? t('inc.chart.summary', { n: series.length, min: metres(min), r: metres(R), r2: metres(2 * R), a: alarms.length })
    : t('inc.chart.empty');
  canvas.setAttribute('aria-label', t('inc.chart') + '. ' + summary);
  canvas.dataset.points = String(series.length);
  canvas.dataset.alarms = String(alarms.length);
  return summary;
}
