// The statistics page (GET /api/v1/statistics): the measures' activity by
// court and month, anonymised, for the statistician (only this page), the
// supervisor, the administrator and a magistrate (his court). A withheld
// figure (small counts, docs/API.md "Statistics") is shown as such, never as
// a number. The CSV is the API's own (format=csv), downloaded by a link to it.
import { t, getLang } from './i18n.js';
import { h, clear, api, duration } from './util.js';
import { barChart } from './bars.js';

// The table's columns: [metric path, label key, format].
const COLUMNS = [
  ['measures_declared', 'stats.declared', 'int'],
  ['measures_active_days', 'stats.active_days', 'dec1'],
  ['activations', 'stats.activations', 'int'],
  ['activation_delay_median_hours', 'stats.activation_delay', 'dec1'],
  ['measures_ended.lifted', 'stats.lifted', 'int'],
  ['measures_ended.expired', 'stats.expired', 'int'],
  ['measures_ended.revoked', 'stats.revoked', 'int'],
  ['alarms', 'stats.alarms', 'int'],
  ['alarms_per_pair_day', 'stats.per_pair_day', 'dec2'],
  ['incidents', 'stats.incidents', 'int'],
  ['false_alarm_share', 'stats.false_share', 'pct'],
  ['time_to_take_median_s', 'stats.take', 'dur'],
  ['time_to_police_median_s', 'stats.police', 'dur'],
  ['device_uptime_share', 'stats.uptime', 'pct'],
];
// The charts: the main series, one bar per court and month.
const CHARTS = [
  ['measures_active_days', 'stats.chart.active_days', 'dec1'],
  ['alarms_per_pair_day', 'stats.chart.per_pair_day', 'dec2'],
  ['incidents', 'stats.chart.incidents', 'int'],
  ['time_to_take_median_s', 'stats.chart.take', 'dur'],
];

function fmt(kind, v) {
  const loc = getLang() === 'en' ? 'en-GB' : 'fr-FR';
  const n = (d) => Number(v).toLocaleString(loc, { maximumFractionDigits: d, minimumFractionDigits: d });
  if (kind === 'int') return n(0);
  if (kind === 'dec1') return n(1);
  if (kind === 'dec2') return n(2);
  if (kind === 'pct') return (v * 100).toLocaleString(loc, { maximumFractionDigits: 1 }) + ' %';
  if (kind === 'dur') return duration(v * 1000);
  return String(v);
}

function figure(month, path) {
  const [a, b] = path.split('.');
  const f = b ? (month[a] || {})[b] : month[a];
  return f || { value: null };
}

// For the charts: a number, {suppressed: true}, or null.
function chartValue(f) {
  if (f.suppressed) return { suppressed: true };
  return typeof f.value === 'number' ? f.value : null;
}

function utcMonth(offset) {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
  return m.toISOString().slice(0, 7);
}

const period = { from: null, to: null };

function courtName(c) {
  return c === 'other courts' ? t('stats.other_courts') : c;
}

function render(out, doc) {
  clear(out);
  out.dataset.from = doc.from;
  out.dataset.to = doc.to;
  if (!doc.courts.length) {
    out.append(h('p', { class: 'muted', id: 'stats-empty', text: t('stats.none') }));
    return;
  }
  const head = h('tr', {}, h('th', { scope: 'col', text: t('stats.court') }), h('th', { scope: 'col', text: t('stats.month') }),
    ...COLUMNS.map(([m, label]) => h('th', { scope: 'col', class: 'num', dataset: { metric: m }, text: t(label) })));
  const rows = [];
  for (const c of doc.courts) {
    for (const month of c.months) {
      rows.push(h('tr', { dataset: { court: c.court, month: month.month } },
        h('th', { scope: 'row', text: courtName(c.court) }), h('td', { text: month.month }),
        ...COLUMNS.map(([m, , kind]) => {
          const f = figure(month, m);
          if (f.suppressed) return h('td', { class: 'num suppressed', dataset: { metric: m, suppressed: 'true' }, title: t('stats.suppressed_title'), text: t('stats.suppressed') });
          return h('td', { class: 'num', dataset: { metric: m, value: f.value === null ? '' : String(f.value) }, text: f.value === null ? '—' : fmt(kind, f.value) });
        })));
    }
  }
  out.append(h('div', { class: 'table-scroll' }, h('table', { class: 'grid compact', id: 'stats-table' }, h('thead', {}, head), h('tbody', {}, ...rows))),
    h('p', { class: 'muted', text: t('stats.legend') }));
  const months = doc.courts[0].months.map((m) => m.month);
  const charts = h('div', { class: 'stats-charts' });
  for (const [m, label, kind] of CHARTS) {
    const series = doc.courts.map((c) => ({ name: courtName(c.court), values: months.map((mm) => {
      const month = c.months.find((x) => x.month === mm);
      return month ? chartValue(figure(month, m)) : null;
    }) }));
    charts.append(h('figure', { class: 'chart-box' }, h('figcaption', { text: t(label) }),
      barChart({ id: 'stats-chart-' + m.replace(/\./g, '-'), title: t(label), labels: months.map((x) => x.slice(2)), series, format: (v) => fmt(kind, v), suppressedText: t('stats.suppressed') })));
  }
  out.append(charts);
}

// Draws the page into box; me is the session (the role says whose courts).
export async function renderStatistics(box, me, onError) {
  if (!period.to) {
    period.to = utcMonth(0);
    period.from = utcMonth(-11);
  }
  clear(box);
  const from = h('input', { type: 'month', id: 'stats-from', value: period.from, required: true });
  const to = h('input', { type: 'month', id: 'stats-to', value: period.to, required: true });
  const csv = h('a', { id: 'stats-csv', class: 'button', text: t('stats.csv') });
  const error = h('p', { class: 'error', id: 'stats-error', role: 'alert', hidden: true });
  const out = h('div', { id: 'stats-result', 'aria-live': 'polite' }, h('p', { class: 'muted', text: t('act.loading') }));
  const setLink = () => {
    const q = new URLSearchParams({ from: from.value, to: to.value, format: 'csv' });
    csv.href = '/api/v1/statistics?' + q;
    csv.setAttribute('download', `vigie-statistiques-${from.value}-${to.value}.csv`);
  };
  async function run(ev) {
    if (ev) ev.preventDefault();
    error.hidden = true;
    period.from = from.value;
    period.to = to.value;
    setLink();
    out.dataset.state = 'loading';
    try {
      const doc = await api.get('/api/v1/statistics?' + new URLSearchParams({ from: from.value, to: to.value }));
      render(out, doc);
      out.dataset.state = 'ready';
    } catch (e) {
      out.dataset.state = 'error';
      error.textContent = t('err.action', { msg: e.message });
      error.hidden = false;
      if (e.status !== 400 && onError) onError(e);
    }
  }
  // the CSV follows the months chosen, even before they are shown
  from.addEventListener('change', setLink);
  to.addEventListener('change', setLink);
  box.append(h('h2', { text: t('stats.title') }),
    h('p', { class: 'sub', text: me.role === 'magistrate' ? t('stats.scope_court', { court: me.court }) : t('stats.scope_all') }),
    h('form', { class: 'period', id: 'stats-form', onsubmit: run },
      h('label', {}, t('period.from'), ' ', from), h('label', {}, t('period.to'), ' ', to),
      h('button', { type: 'submit', class: 'primary', id: 'stats-run', text: t('stats.run') }), csv),
    error, out);
  setLink();
  await run();
}
