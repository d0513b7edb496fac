// A measure's activity over a period, in its file (GET /api/v1/measures/ID/
// activity): the alert burden a magistrate weighs before revising the
// distance or lifting the measure, and the same tracks replayed with another
// R side by side with the measure's own. Local days in the measure's time
// zone, the last 30 by default.
import { t, getLang } from './i18n.js';
import { h, clear, api, duration, localParts } from './util.js';
import { barChart } from './bars.js';

const DAY = 86400000;

// "YYYY-MM-DD" of the day ms falls on in time zone tz.
export function localDate(ms, tz) {
  return localParts(ms, tz).stamp.slice(0, 10);
}

function number(v, digits = 0) {
  if (v === null || v === undefined || !isFinite(v)) return '—';
  return Number(v).toLocaleString(getLang() === 'en' ? 'en-GB' : 'fr-FR', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

// The rows of the comparison: [key, label key, value of one replay, format].
const ROWS = [
  ['operator_alerts', 'act.operator_alerts', (r) => r.operator_alerts, (v) => number(v)],
  ['operator_alerts_per_day', 'act.per_day', (r) => r.operator_alerts_per_day, (v) => number(v, 2)],
  ['alert', 'prio.1', (r) => r.alarms_by_priority.alert, (v) => number(v)],
  ['neutralisation', 'prio.2', (r) => r.alarms_by_priority.neutralisation, (v) => number(v)],
  ['prealert', 'prio.3', (r) => r.alarms_by_priority.prealert, (v) => number(v)],
  ['technical', 'prio.4', (r) => r.alarms_by_priority.technical, (v) => number(v)],
  ['rings_alert', 'act.rings_alert', (r) => r.rings.alert, (v) => number(v)],
  ['rings_prealert', 'act.rings_prealert', (r) => r.rings.prealert, (v) => number(v)],
  // what her notification policy kept quiet (a vibration, the screen only)
  ['quiet_alert', 'act.quiet_alert', (r) => (r.quiet_notices ? r.quiet_notices.alert : null), (v) => number(v)],
  ['quiet_prealert', 'act.quiet_prealert', (r) => (r.quiet_notices ? r.quiet_notices.prealert : null), (v) => number(v)],
  ['nights_disturbed', 'act.nights', (r) => r.nights_disturbed, (v) => number(v)],
  ['battery_incidents', 'act.battery', (r) => r.battery_incidents, (v) => number(v)],
  ['loss_author', 'act.loss_author', (r) => r.signal_loss_s.author, (v) => duration(v * 1000)],
  ['loss_protected', 'act.loss_protected', (r) => r.signal_loss_s.protected, (v) => duration(v * 1000)],
  ['loss_bracelet', 'act.loss_bracelet', (r) => r.signal_loss_s.bracelet, (v) => duration(v * 1000)],
  ['records', 'act.records', (r) => r.records, (v) => number(v)],
];

function metresText(m) {
  return number(m) + ' m';
}

function render(box, doc) {
  clear(box);
  const tz = doc.timezone;
  const a = doc.replayed, w = doc.what_if;
  box.dataset.from = String(doc.from_ms);
  box.dataset.to = String(doc.to_ms);
  box.dataset.whatIf = w ? String(w.radius_m) : '';
  box.append(h('p', { class: 'sub', id: 'activity-period', text: t('act.period', {
    from: localParts(doc.from_ms, tz).stamp.replace('T', ' '), to: localParts(doc.to_ms, tz).stamp.replace('T', ' '),
    days: number(doc.days, 1), tz }) }));
  // the alert burden, both radii side by side
  const head = h('tr', {}, h('th', { scope: 'col', text: t('act.figure') }),
    h('th', { scope: 'col', class: 'num', text: t('act.actual', { r: metresText(a.radius_m) }) }),
    w ? h('th', { scope: 'col', class: 'num', text: t('act.what_if', { r: metresText(w.radius_m) }) }) : null);
  const rows = ROWS.map(([key, label, get, fmt]) => h('tr', { dataset: { figure: key } },
    h('th', { scope: 'row', text: t(label) }),
    h('td', { class: 'num actual', dataset: { value: String(get(a)) }, text: fmt(get(a)) }),
    w ? h('td', { class: 'num what-if' + (get(w) !== get(a) ? ' differs' : ''), dataset: { value: String(get(w)) }, text: fmt(get(w)) }) : null));
  box.append(h('h4', { text: t('act.burden') }),
    h('p', { class: 'muted', text: t('act.burden_note') }),
    h('table', { class: 'grid compact', id: 'activity-table' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  // charts: the operator's alerts by local hour, the alarms by kind
  const hours = [...Array(24).keys()].map((i) => String(i));
  const series = (name, r) => ({ name, values: r.operator_alerts_by_hour });
  const rName = (r) => 'R = ' + metresText(r.radius_m);
  box.append(h('h4', { text: t('act.by_hour', { tz }) }),
    barChart({ id: 'activity-hours', title: t('act.by_hour', { tz }), labels: hours, series: [series(rName(a), a), ...(w ? [series(rName(w), w)] : [])], format: (v) => number(v) }));
  const kinds = [...new Set([...Object.keys(a.alarms_by_kind), ...(w ? Object.keys(w.alarms_by_kind) : [])])];
  if (kinds.length) {
    const vals = (r) => kinds.map((k) => r.alarms_by_kind[k] || 0);
    box.append(h('h4', { text: t('act.by_kind') }),
      barChart({ id: 'activity-kinds', title: t('act.by_kind'), labels: kinds.map((k, i) => String(i + 1)),
        series: [{ name: rName(a), values: vals(a) }, ...(w ? [{ name: rName(w), values: vals(w) }] : [])], format: (v) => number(v) }),
      h('ol', { class: 'kind-legend', id: 'activity-kind-list' }, ...kinds.map((k) => h('li', { dataset: { kind: k } },
        t('kind.' + k) + ' : ' + number(a.alarms_by_kind[k] || 0) + (w ? ' / ' + number(w.alarms_by_kind[k] || 0) : '')))));
  } else {
    box.append(h('p', { class: 'muted', id: 'activity-kinds-none', text: t('act.no_alarm') }));
  }
  // what the centre recorded (the alarms as raised, the incidents, how fast taken)
  const rec = doc.recorded;
  const recKinds = Object.keys(rec.alarms_by_kind);
  box.append(h('h4', { text: t('act.recorded') }),
    h('dl', { class: 'timers', id: 'activity-recorded' },
      h('dt', { text: t('act.incidents') }), h('dd', { dataset: { figure: 'incidents' }, text: number(rec.incidents) }),
      h('dt', { text: t('act.take_median') }), h('dd', { dataset: { figure: 'time_to_take' }, text: rec.time_to_take_median_s === null ? '—' : duration(rec.time_to_take_median_s * 1000) }),
      h('dt', { text: t('act.recorded_alarms') }), h('dd', { dataset: { figure: 'recorded_alarms' },
        text: recKinds.length ? recKinds.map((k) => `${t('kind.' + k)} : ${rec.alarms_by_kind[k]}`).join(' · ') : '0' })));
}

// The activity section of a measure's file.
export function activitySection(measure, onError) {
  const tz = (measure.definition && measure.definition.timezone) || 'Europe/Paris';
  const now = Date.now();
  const from = h('input', { type: 'date', id: 'activity-from', value: localDate(now - 29 * DAY, tz), max: localDate(now, tz), required: true });
  const to = h('input', { type: 'date', id: 'activity-to', value: localDate(now, tz), max: localDate(now, tz), required: true });
  const radius = h('input', { type: 'number', id: 'activity-radius', min: '1000', max: '10000', step: '100', inputmode: 'numeric', placeholder: t('act.radius_placeholder') });
  const out = h('div', { id: 'activity-result', 'aria-live': 'polite' }, h('p', { class: 'muted', text: t('act.loading') }));
  const error = h('p', { class: 'error', id: 'activity-error', role: 'alert', hidden: true });
  async function run(ev) {
    if (ev) ev.preventDefault();
    error.hidden = true;
    const q = new URLSearchParams({ from: from.value, to: to.value });
    if (radius.value) q.set('radius_m', radius.value);
    out.dataset.state = 'loading';
    try {
      const doc = await api.get(`/api/v1/measures/${measure.id}/activity?${q}`);
      render(out, doc);
      out.dataset.state = 'ready';
    } catch (e) {
      out.dataset.state = 'error';
      error.textContent = t('err.action', { msg: e.message });
      error.hidden = false;
      if (e.status !== 400 && onError) onError(e);
    }
  }
  const form = h('form', { class: 'period', id: 'activity-form', onsubmit: run },
    h('label', {}, t('period.from'), ' ', from), h('label', {}, t('period.to'), ' ', to),
    h('label', { title: t('act.radius_help') }, t('act.radius'), ' ', radius),
    h('button', { type: 'submit', class: 'primary', id: 'activity-run', text: t('act.run') }));
  const section = h('section', { class: 'box', id: 'activity' }, h('h3', { text: t('act.title') }), form, error, out);
  run();
  return section;
}
