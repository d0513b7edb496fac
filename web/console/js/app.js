// The operator console: login, the live queue, the map, the incident being
// handled, the measure file, the floor. Everything comes from vigied's API on
// this origin (docs/API.md); the live stream's events carry the journal's ids,
// so the page resumes from the last one it had after a dropped connection, a
// reload or a restart of the centre (then after logging in again: sessions do
// not outlive vigied).
import { t, setLang, getLang, translate } from './i18n.js';
import { h, clear, duration, metres, clock, dateTime, compass, api, windowOpen } from './util.js';
import { ConsoleMap } from './map.js';
import { drawChart, distanceSeries } from './chart.js';
import { activitySection } from './activity.js';
import { renderStatistics } from './statistics.js';

const STEPS = [
  ['author_called', ['reached', 'not_reached', 'complied', 'refused']],
  ['protected_called', ['reached', 'not_reached', 'guided']],
  ['police_alerted', []],
  ['magistrate_informed', []],
  ['note', []],
];
// What each role sees: the views the API lets it read (docs/API.md's
// matrix), nothing more. The queue, the map and the live stream are the
// operators' and supervisors'; the statistician sees the statistics alone.
const VIEWS = {
  incidents: ['operator', 'supervisor'],
  measures: ['operator', 'supervisor', 'installer', 'magistrate', 'administrator'],
  floor: ['operator', 'supervisor'],
  statistics: ['supervisor', 'magistrate', 'statistician', 'administrator'],
};
const VIEW_NAMES = Object.keys(VIEWS);
const ROLES = [...new Set(Object.values(VIEWS).flat())];
const may = (view) => !!state.me && VIEWS[view].includes(state.me.role);
// who reads incidents' reports (a magistrate: his court's measures')
const mayReports = () => !!state.me && ['operator', 'supervisor', 'magistrate'].includes(state.me.role);
const live = () => may('incidents');
const $ = (id) => document.getElementById(id);

// What the page knows; window.vigie for the browser tests and the curious.
const state = {
  cfg: { escalate_take_ms: [30000, 60000, 120000, 900000, 3600000], escalate_progress_ms: [120000, 300000, 600000, 3600000, 14400000] },
  me: null,
  started: false,
  incidents: new Map(), // id -> the queue's object
  order: [],
  selected: null,
  detail: null, // {inc, measure, positions, steps, persons}
  lastPos: new Map(), // measure_id -> {author, protected}
  measures: new Map(), // measure_id -> GET /measures/ID
  lastEventId: sessionStorage.getItem('vigie.lastEventId'),
  seen: {}, // incident id -> when the page first showed it (ms)
  seenOnMap: {},
  events: [], // the last events received: {id, event, at}
  sounds: 0,
  ready: null,
  conn: 'connecting',
  view: 'incidents',
};
window.vigie = state;

// ---- language -------------------------------------------------------------------------------

function applyLang(l) {
  setLang(l);
  localStorage.setItem('vigie.lang', getLang());
  for (const s of document.querySelectorAll('.lang-select')) s.value = getLang();
  translate(document);
  renderConn();
  renderSound();
  if (state.me) {
    renderWho();
    renderQueue();
    if (state.detail) renderIncident();
    if (state.view === 'measures') loadMeasures();
    if (state.view === 'floor') loadFloor();
    if (state.view === 'statistics') loadStatistics();
  }
}

// ---- sound: generated, no file ---------------------------------------------------------------

let audio = null;
let soundOn = localStorage.getItem('vigie.sound') !== 'off';

function unlockAudio() {
  if (!audio && window.AudioContext) audio = new AudioContext();
  if (audio && audio.state === 'suspended') audio.resume();
}

function beep(priority) {
  if (!soundOn || priority > 3) return;
  state.sounds++;
  if (!audio) return;
  // alert and SOS: three high beeps; neutralisation and pre-alert: two lower ones
  const n = priority === 1 ? 3 : 2, f = priority === 1 ? 880 : 660;
  const start = audio.currentTime + 0.02;
  for (let i = 0; i < n; i++) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.type = 'square';
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, start + i * 0.25);
    g.gain.exponentialRampToValueAtTime(0.25, start + i * 0.25 + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.25 + 0.18);
    o.connect(g).connect(audio.destination);
    o.start(start + i * 0.25);
    o.stop(start + i * 0.25 + 0.2);
  }
}

function renderSound() {
  const b = $('sound');
  b.textContent = t(soundOn ? 'top.sound_on' : 'top.sound_off');
  b.setAttribute('aria-pressed', String(soundOn));
  b.title = t('key.sound') + ' (s)';
}

function toggleSound() {
  soundOn = !soundOn;
  localStorage.setItem('vigie.sound', soundOn ? 'on' : 'off');
  unlockAudio();
  renderSound();
}

// ---- login ------------------------------------------------------------------------------------

function showLogin(note) {
  $('login').hidden = false;
  $('login-note').hidden = !note;
  $('login-note').textContent = note || '';
  $('login-error').hidden = true;
  $('login-password').value = '';
  if (state.me) $('login-name').value = state.me.name;
  ($('login-name').value ? $('login-password') : $('login-name')).focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  unlockAudio();
  const err = $('login-error');
  err.hidden = true;
  $('login-submit').disabled = true;
  try {
    const me = await api.call('POST', '/api/v1/session', { name: $('login-name').value.trim(), password: $('login-password').value });
    $('login-password').value = '';
    if (!ROLES.includes(me.role)) {
      await api.del('/api/v1/session').catch(() => {});
      err.textContent = t('login.role', { role: me.role });
      err.hidden = false;
      return;
    }
    api.csrf = me.csrf_token;
    state.me = me;
    $('login').hidden = true;
    start();
  } catch (e) {
    err.textContent = e.status === 429 ? t('login.locked', { s: e.retryAfter || 60 }) : e.status === 401 ? t('login.failed') : e.message;
    err.hidden = false;
  } finally {
    $('login-submit').disabled = false;
  }
}

// The session is gone (vigied restarted, expired, logged out elsewhere):
// ask for the password again over the console as it stands.
function sessionLost(why) {
  if (!$('login').hidden) return;
  stopStream();
  setConn('login');
  showLogin(t('login.again', { why: why || t('why.restart') }));
}

async function logout() {
  stopStream();
  await api.del('/api/v1/session').catch(() => {});
  sessionStorage.removeItem('vigie.lastEventId');
  location.reload();
}

// ---- the live stream -------------------------------------------------------------------------

let es = null;
let watchdog = null;
let lastMessage = 0;
let retryTimer = null;

function setConn(s) {
  state.conn = s;
  renderConn();
}

function renderConn() {
  const el = $('conn');
  el.dataset.state = state.conn;
  el.textContent = t('conn.' + state.conn);
  const banner = $('banner');
  const bad = state.conn === 'reconnecting' || state.conn === 'offline';
  banner.hidden = !bad;
  banner.textContent = bad ? t('conn.' + state.conn) : '';
}

function stopStream() {
  if (es) es.close();
  es = null;
  clearTimeout(retryTimer);
}

function remember(e) {
  if (e.lastEventId) {
    state.lastEventId = e.lastEventId;
    sessionStorage.setItem('vigie.lastEventId', e.lastEventId);
  }
  lastMessage = Date.now();
  state.events.push({ id: e.lastEventId || null, event: e.type, at: Date.now() });
  if (state.events.length > 500) state.events.splice(0, 100);
}

function connectStream() {
  stopStream();
  const q = state.lastEventId ? '?last_event_id=' + encodeURIComponent(state.lastEventId) : '';
  setConn(state.conn === 'live' ? 'reconnecting' : state.conn === 'login' ? 'connecting' : state.conn);
  es = new EventSource('/api/v1/stream' + q);
  lastMessage = Date.now();
  es.addEventListener('ready', (e) => {
    remember(e);
    state.ready = JSON.parse(e.data);
    setConn('live');
    loadQueue(); // what happened meanwhile, whatever the journal replays
  });
  es.addEventListener('alarm', (e) => { remember(e); onAlarm(JSON.parse(e.data), e); });
  es.addEventListener('incident', (e) => { remember(e); onIncident(JSON.parse(e.data), e); });
  es.addEventListener('report', (e) => { remember(e); });
  es.addEventListener('position', (e) => { lastMessage = Date.now(); onPosition(JSON.parse(e.data)); });
  es.addEventListener('heartbeat', () => { lastMessage = Date.now(); });
  es.addEventListener('end', () => { stopStream(); sessionLost(t('why.ended')); });
  es.onerror = () => {
    if (!es) return;
    if (state.conn === 'live') setConn('reconnecting');
    if (es.readyState === EventSource.CLOSED) {
      // refused (401 after a restart, 503): find out why, then retry
      stopStream();
      retryTimer = setTimeout(checkSession, 1000);
    }
  };
}

async function checkSession() {
  try {
    await api.get('/api/v1/session');
    connectStream();
  } catch (e) {
    if (e.status === 401) sessionLost();
    else {
      setConn('offline');
      retryTimer = setTimeout(checkSession, 2000);
    }
  }
}

// ---- the queue ----------------------------------------------------------------------------------

async function loadQueue() {
  try {
    const list = await api.get('/api/v1/incidents');
    const ids = new Set(list.map((i) => i.id));
    for (const id of [...state.incidents.keys()]) if (!ids.has(id)) dropIncident(id);
    for (const inc of list) upsertIncident(inc, false);
    renderQueue();
  } catch (e) { /* the stream's error handling says what is wrong */ }
}

function upsertIncident(inc, fromEvent) {
  const before = state.incidents.get(inc.id);
  if (inc.state === 'closed') {
    dropIncident(inc.id);
    return;
  }
  state.incidents.set(inc.id, inc);
  placeOnMap(inc);
  if (fromEvent && (!before || inc.priority < before.priority)) {
    // a new incident, or one that became more urgent: heard only if recent
    // (a resume replays older events silently)
    if (Date.now() - (inc.opened_ms || 0) < 120000 || before) beep(inc.priority);
    state.flash = inc.id;
  }
}

function dropIncident(id) {
  state.incidents.delete(id);
  console_map && console_map.removeIncident(id);
}

function sortedIncidents() {
  return [...state.incidents.values()].sort((a, b) => a.priority - b.priority || a.opened_ms - b.opened_ms || a.id - b.id);
}

function escalationText(inc, now) {
  const k = Math.min(5, Math.max(1, inc.priority));
  let due;
  if (inc.state === 'open') due = inc.opened_ms + state.cfg.escalate_take_ms[k - 1];
  else due = Math.max(inc.taken_ms, inc.last_step_ms || 0) + state.cfg.escalate_progress_ms[k - 1];
  const left = due - now;
  return { late: left < 0, text: left < 0 ? t('queue.late', { t: duration(-left) }) : t('queue.escalates_in', { t: duration(left) }) };
}

function renderQueue() {
  const ol = $('queue');
  const now = Date.now();
  const list = sortedIncidents();
  state.order = list.map((i) => i.id);
  clear(ol);
  for (const inc of list) {
    const esc = escalationText(inc, now);
    const who = inc.state === 'taken'
      ? (state.me && inc.operator === state.me.name ? t('queue.mine') : t('queue.taken_by', { op: inc.operator }))
      : t('queue.open');
    const li = h('li', {
      class: `row p${inc.priority} ${inc.state}${inc.id === state.selected ? ' selected' : ''}${state.flash === inc.id ? ' flash' : ''}`,
      role: 'option', 'aria-selected': String(inc.id === state.selected), tabindex: '-1',
      dataset: { incident: String(inc.id), priority: String(inc.priority), state: inc.state, operator: inc.operator || '' },
      onclick: () => selectIncident(inc.id),
    },
    h('span', { class: 'prio', text: t('prio.' + inc.priority) }),
    h('span', { class: 'rid', text: '#' + inc.id }),
    h('span', { class: 'rmeasure', text: inc.measure }),
    h('span', { class: 'rkind', text: t('kind.' + inc.first_alarm) }),
    h('span', { class: 'rage', text: t('queue.age', { t: duration(now - inc.opened_ms) }) }),
    h('span', { class: 'rwho' + (inc.state === 'open' ? ' waiting' : ''), text: who }),
    h('span', { class: 'resc' + (esc.late || inc.escalation !== 'none' ? ' late' : ''), text: inc.escalation !== 'none' ? t('queue.escalated') + ' · ' + esc.text : esc.text }));
    ol.append(li);
    if (!state.seen[inc.id]) state.seen[inc.id] = Date.now();
  }
  state.flash = null;
  $('queue-empty').hidden = list.length > 0;
  $('queue-count').textContent = list.length ? `(${list.length})` : '';
}

// ---- the map ------------------------------------------------------------------------------------

let console_map = null;
const positionAsked = new Set();

function placeOnMap(inc) {
  if (!console_map) return;
  const known = state.lastPos.get(inc.measure_id);
  const pos = known && (known.author || known.protected);
  if (pos) {
    console_map.setIncidentMarker(inc, pos, selectIncident);
    if (!state.seenOnMap[inc.id]) state.seenOnMap[inc.id] = Date.now();
    if (!state.selected) console_map.fitIncidents();
    return;
  }
  if (positionAsked.has(inc.measure_id)) return;
  positionAsked.add(inc.measure_id);
  api.get(`/api/v1/measures/${inc.measure_id}/positions?minutes=10`).then((p) => {
    const last = (tr) => (tr && tr.points && tr.points.length ? tr.points[tr.points.length - 1] : null);
    const cur = state.lastPos.get(inc.measure_id) || {};
    if (!cur.author && last(p.author)) cur.author = last(p.author);
    if (!cur.protected && last(p.protected)) cur.protected = last(p.protected);
    state.lastPos.set(inc.measure_id, cur);
    const i = state.incidents.get(inc.id);
    if (i && (cur.author || cur.protected)) placeOnMap(i);
  }).catch(() => {}).finally(() => setTimeout(() => positionAsked.delete(inc.measure_id), 5000));
}

function onPosition(p) {
  const cur = state.lastPos.get(p.measure_id) || {};
  cur[p.person] = p;
  state.lastPos.set(p.measure_id, cur);
  for (const inc of state.incidents.values()) if (inc.measure_id === p.measure_id && p.person === 'author') placeOnMap(inc);
  const d = state.detail;
  if (d && d.inc.measure_id === p.measure_id && state.view === 'incidents') {
    console_map.addPosition(p.person, p);
    const tr = d.positions || (d.positions = {});
    const who = tr[p.person] || (tr[p.person] = { points: [] });
    who.points.push(p);
    scheduleChart();
  }
}

// ---- events ---------------------------------------------------------------------------------------

function onAlarm(a) {
  const d = state.detail;
  if (d && a.measure_id === d.inc.measure_id) refreshSelected();
}

function onIncident(ev) {
  const inc = ev.incident;
  if (!inc) return;
  upsertIncident(inc, ev.action === 'alarm' || ev.action === 'escalate');
  renderQueue();
  if (state.selected === inc.id) refreshSelected();
}

// ---- the incident being handled -------------------------------------------------------------------

let refreshTimer = null;
function refreshSelected() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => state.selected && loadIncident(state.selected, false), 400);
}

let chartTimer = null;
function scheduleChart() {
  clearTimeout(chartTimer);
  chartTimer = setTimeout(renderChart, 300);
}

async function selectIncident(id) {
  if (state.view !== 'incidents') showView('incidents');
  state.selected = id;
  renderQueue();
  console_map.selectMarker(id);
  const row = document.querySelector(`#queue [data-incident="${id}"]`);
  if (row) row.scrollIntoView({ block: 'nearest' });
  await loadIncident(id, true);
}

async function measureFile(mid, fresh) {
  if (!fresh && state.measures.has(mid)) return state.measures.get(mid);
  const m = await api.get('/api/v1/measures/' + mid);
  state.measures.set(mid, m);
  return m;
}

async function loadIncident(id, first) {
  let inc;
  try {
    inc = await api.get('/api/v1/incidents/' + id);
  } catch (e) {
    if (e.status === 404 && state.detail && state.detail.inc.id === id) return;
    showError(e);
    return;
  }
  if (state.selected !== id) return;
  const mid = inc.measure_id;
  const [measure, positions, steps] = await Promise.all([
    measureFile(mid, first).catch(() => null),
    first || !state.detail ? api.get(`/api/v1/measures/${mid}/positions?minutes=30`).catch(() => null) : Promise.resolve(state.detail.positions),
    api.get(`/api/v1/incidents/${id}/steps`).catch(() => []),
  ]);
  if (state.selected !== id) return;
  let persons = first || !state.detail ? {} : state.detail.persons;
  if (first && measure && measure.definition && measure.definition.persons) {
    const ids = measure.definition.persons;
    const [a, p] = await Promise.all([
      ids.author ? api.get('/api/v1/persons/' + ids.author).catch(() => null) : null,
      ids.protected ? api.get('/api/v1/persons/' + ids.protected).catch(() => null) : null,
    ]);
    persons = { author: a, protected: p };
  }
  if (state.selected !== id) return;
  // keep the text being typed across refreshes
  const typing = $('step-text') ? $('step-text').value : '';
  let report = state.detail && state.detail.inc.id === id ? state.detail.report : null;
  if (inc.state === 'closed' && !report) report = await api.get(`/api/v1/incidents/${id}/report`).catch(() => null);
  if (state.selected !== id) return;
  state.detail = { inc, measure, positions, steps, persons, report };
  if (inc.state !== 'closed') state.incidents.has(inc.id) && upsertIncident(queueObject(inc), false);
  renderIncident();
  if ($('step-text')) $('step-text').value = typing;
  if (measure) {
    if (first) console_map.showMeasure(measure, positions, inc.guidance, true);
    else console_map.setGuidance(inc.guidance);
  }
}

function queueObject(inc) {
  const o = { ...inc };
  delete o.guidance;
  delete o.alarm_list;
  return o;
}

function mine(inc) {
  return inc.state === 'taken' && state.me && inc.operator === state.me.name;
}

function section(titleKey, ...children) {
  return h('section', { class: 'box' }, h('h3', { text: t(titleKey) }), ...children);
}

function renderIncident() {
  const d = state.detail;
  const body = $('incident-body');
  $('incident-none').hidden = !!d;
  body.hidden = !d;
  if (!d) return;
  clear(body);
  const inc = d.inc, now = Date.now();
  const stateText = inc.state === 'open' ? t('inc.state.open') : inc.state === 'closed' ? t('inc.state.closed') : t('inc.state.taken', { op: inc.operator });
  body.dataset.incident = String(inc.id);
  body.dataset.state = inc.state;
  body.append(h('div', { class: `incident-head p${inc.priority}` },
    h('h2', { id: 'incident-title' }, h('span', { class: 'prio', text: t('prio.' + inc.priority) }), ' ', t('inc.title', { id: inc.id })),
    h('p', { class: 'sub' }, h('span', { text: t('inc.measure') + ' ' + inc.measure + ' — ' + t('kind.' + inc.first_alarm) }),
      h('span', { class: 'state', id: 'incident-state', text: stateText }))));
  const actions = h('div', { class: 'actions' },
    h('button', { type: 'button', id: 'take', class: 'primary', disabled: inc.state === 'closed' || mine(inc), onclick: takeSelected },
      t('inc.take'), ' ', h('kbd', { text: 't' })),
    h('button', { type: 'button', id: 'close', disabled: !mine(inc), onclick: openClose }, t('inc.close'), ' ', h('kbd', { text: 'c' })),
    h('button', { type: 'button', id: 'open-measure', onclick: () => openMeasure(inc.measure_id) }, t('inc.measure_file'), ' ', h('kbd', { text: 'd' })));
  body.append(actions);
  if (d.report) {
    body.append(h('p', { class: 'ok', id: 'report-note', text: t('inc.closed_report', { sha: d.report.content_sha256.slice(0, 16) + '…' }) }));
    body.append(reportSection(d.report));
  }

  // timers
  const esc = escalationText(inc, now);
  body.append(section('inc.timers', h('dl', { class: 'timers' },
    h('dt', { text: t('inc.opened') }), h('dd', { 'data-since': inc.opened_ms, text: clock(inc.opened_ms) + ' · ' + t('inc.ago', { t: duration(now - inc.opened_ms) }) }),
    h('dt', { text: t('inc.taken') }), h('dd', { 'data-since': inc.taken_ms || '', text: inc.taken_ms ? clock(inc.taken_ms) + ' · ' + t('inc.ago', { t: duration(now - inc.taken_ms) }) : '—' }),
    h('dt', { text: t('inc.last_step') }), h('dd', { 'data-since': inc.last_step_ms || '', text: inc.last_step_ms ? clock(inc.last_step_ms) + ' · ' + t('inc.ago', { t: duration(now - inc.last_step_ms) }) : '—' }),
    h('dt', { text: t('inc.escalation') }), h('dd', { class: esc.late || inc.escalation !== 'none' ? 'late' : '', text: inc.state === 'closed' ? '—' : (inc.escalation !== 'none' ? t('inc.escalated.' + inc.escalation) + ' · ' : '') + esc.text }))));

  // who approached whom
  const alarms = inc.alarm_list || [];
  const crossing = [...alarms].reverse().find((a) => /entered$/.test(a.kind) && a.zone_index >= 0);
  if (crossing) {
    const zone = crossing.zone_index === 0 ? t('zone.mobile') : '#' + crossing.zone_id;
    body.append(section('inc.approach', h('p', { id: 'approach', dataset: { by: crossing.approached_by }, text: t('inc.approach.' + (crossing.approached_by in { author: 1, protected: 1, both: 1 } ? crossing.approached_by : 'none')) + t('inc.approach.zone', { z: zone }) })));
  }

  // guidance
  const g = inc.guidance;
  if (g) {
    const lines = [];
    if (g.reasons && g.reasons.length) {
      lines.push(h('p', { class: 'warn', text: t('inc.guidance.none', { why: g.reasons.map((r) => t('reason.' + r)).join(', ') }) }));
    }
    if (g.protected && g.protected.valid) {
      const sp = g.protected.safe_place;
      lines.push(h('p', { class: 'guide-her', text: sp ? t('inc.guidance.her_place', { name: sp.name, d: metres(sp.distance_m), c: compass(sp.compass) }) : t('inc.guidance.her', { c: compass(g.protected.compass), deg: Math.round(g.protected.bearing_deg) }) }));
    }
    if (g.author && g.author.valid) {
      lines.push(h('p', { class: 'guide-him', text: t('inc.guidance.him', { c: compass(g.author.compass), km: metres(g.author.tell_m) }) }));
      lines.push(h('p', { class: 'muted', text: t('inc.guidance.him_leave', { km: metres(g.author.leave_m) }) }));
      if (!g.author.paired) lines.push(h('p', { class: 'warn', text: t('inc.guidance.single') }));
    }
    if (g.distance_m !== undefined && g.distance_m !== null) lines.push(h('p', { text: t('inc.guidance.distance', { d: metres(g.distance_m), u: Math.round(g.uncertainty_m || 0) }) }));
    body.append(section('inc.guidance', ...lines));
  }

  // the chart
  const canvas = h('canvas', { id: 'chart', class: 'chart', role: 'img' });
  const summary = h('p', { id: 'chart-summary', class: 'sr-only' });
  body.append(section('inc.chart', canvas, summary));

  // steps
  const can = mine(inc);
  const text = h('input', { id: 'step-text', type: 'text', maxlength: '4000', disabled: !can, 'aria-label': t('inc.steps.text'), placeholder: t('inc.steps.text') });
  const groups = STEPS.map(([step, outcomes]) => {
    if (!outcomes.length) {
      return h('button', { type: 'button', class: 'step', disabled: !can, dataset: { step }, onclick: () => recordStep(step, null) }, t('step.' + step));
    }
    return h('fieldset', { class: 'step-group' }, h('legend', { text: t('step.' + step) }),
      ...outcomes.map((o) => h('button', { type: 'button', class: 'step', disabled: !can, dataset: { step, outcome: o }, 'aria-label': t('step.' + step) + ' : ' + t('outcome.' + o), onclick: () => recordStep(step, o) }, t('outcome.' + o))));
  });
  body.append(section('inc.steps', can ? null : h('p', { class: 'muted', text: inc.state === 'closed' ? t('inc.state.closed') : t('inc.steps.need_take') }),
    h('div', { id: 'steps', class: 'steps' }, ...groups), text));
  const steps = d.steps || [];
  body.append(section('inc.steps.list', steps.length
    ? h('ol', { id: 'step-list', class: 'step-list' }, ...steps.map((s) => h('li', { dataset: { step: s.step, outcome: s.outcome } },
      h('time', { text: clock(s.at_ms) }), ' ', h('strong', { text: t('step.' + s.step) }),
      s.outcome && s.outcome !== 'none' ? ' — ' + t('outcome.' + s.outcome) : '', s.text ? ' — ' + s.text : '', h('span', { class: 'muted', text: ' (' + s.operator + ')' }))))
    : h('p', { id: 'step-list', class: 'muted', text: t('inc.steps.none') })));

  // persons
  body.append(section('inc.persons', personBlock('author', d.persons && d.persons.author), personBlock('protected', d.persons && d.persons.protected)));

  // alarms
  body.append(section('inc.alarms', h('ul', { class: 'alarm-list' }, ...alarms.map((a) => h('li', { class: 'p' + a.priority },
    h('time', { text: clock(a.at_ms) }), ' ', t('kind.' + a.kind),
    a.zone_index === 0 ? ' (' + t('zone.mobile') + ')' : a.zone_index > 0 ? ' (zone #' + a.zone_id + ')' : '',
    a.distance_m !== undefined ? ' — ' + metres(a.distance_m) : '')))));
  renderChart();
}

// The outbox draws the PDFs within moments of the close: the report is
// read again a little later (twice at most) while it is shown and not all
// its recipients have their dispatch.
function awaitDispatches(id, delays) {
  if (!delays.length) return;
  setTimeout(async () => {
    const d = state.detail;
    if (!d || d.inc.id !== id || !d.report) return;
    if ((d.report.dispatches || []).length >= (d.report.recipients || []).length) return;
    const fresh = await api.get(`/api/v1/incidents/${id}/report`).catch(() => null);
    if (fresh && state.detail === d) {
      d.report = fresh;
      renderIncident();
    }
    awaitDispatches(id, delays.slice(1));
  }, delays[0]);
}

// A link per recipient to the report's PDF drawn for that recipient (what
// each may see: GET /incidents/ID/report.pdf?for=ROLE, downloaded from this
// origin with the session); short: the role's name only.
function pdfLinks(id, recipients, short) {
  return recipients.map((x) => h('a', {
    class: 'pdf', href: `/api/v1/incidents/${id}/report.pdf?for=${encodeURIComponent(x.role)}`, download: `incident-${id}-${x.role}.pdf`,
    dataset: { role: x.role }, 'aria-label': t('report.pdf_for', { who: t('recipient.' + x.role) }),
  }, short ? t('recipient.' + x.role) : 'PDF'));
}

// A closed incident's report: who it goes to, the PDF drawn for each (what
// each recipient may see: GET /incidents/ID/report.pdf?for=ROLE, downloaded
// from this origin with the session), and what the outbox dispatched.
function reportSection(r) {
  const id = r.incident_id;
  const recipients = r.recipients || [];
  const dispatches = r.dispatches || [];
  const refresh = async () => {
    const d = state.detail;
    try {
      const fresh = await api.get(`/api/v1/incidents/${id}/report`);
      if (d && d.inc.id === id && state.detail === d) {
        d.report = fresh;
        renderIncident();
      }
    } catch (e) { showError(e); }
  };
  return h('section', { class: 'box', id: 'report', dataset: { incident: String(id) } },
    h('h3', { text: t('inc.report') }),
    h('p', { class: 'muted', text: t('report.made', { at: dateTime(r.created_ms), sha: r.content_sha256.slice(0, 16) + '…' }) }),
    h('h4', { text: t('report.recipients') }),
    h('ul', { id: 'report-recipients', class: 'recipients' }, ...recipients.map((x) => h('li', { dataset: { role: x.role } },
      h('span', { text: `${t('recipient.' + x.role)} — ${x.name}${x.contact ? ' (' + x.contact + ')' : ''} ` }),
      ...pdfLinks(id, [x], false)))),
    h('h4', { text: t('report.dispatches') }),
    dispatches.length
      ? h('table', { class: 'grid compact', id: 'report-dispatches' },
        h('thead', {}, h('tr', {}, ...['report.at', 'report.to', 'report.file', 'report.bytes'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, ...dispatches.map((x) => h('tr', { dataset: { for: x.for, journal: String(x.journal_id) } },
          h('td', { text: dateTime(x.at_ms) }), h('td', { text: `${t('recipient.' + x.for)} — ${x.recipient}` }),
          h('td', { title: 'SHA-256 ' + x.pdf_sha256, text: x.file }), h('td', { class: 'num', text: String(x.bytes) })))))
      : h('p', { class: 'muted', id: 'report-dispatches-none', text: t('report.no_dispatch') }),
    h('button', { type: 'button', id: 'report-refresh', onclick: refresh, text: t('report.refresh') }));
}

function personBlock(role, p) {
  const title = t(role === 'author' ? 'inc.author' : 'inc.protected');
  if (!p || !p.person) return h('div', { class: 'person' }, h('h4', { text: title }), h('p', { class: 'muted', text: t('inc.no_person') }));
  const f = p.person;
  const tel = (n, label) => h('a', { href: 'tel:' + n, class: 'tel' }, label ? label + ' ' : '', n);
  const list = (items, fn) => (items && items.length ? h('ul', {}, ...items.map((x) => h('li', {}, fn(x)))) : null);
  const hh = f.household || {};
  return h('div', { class: 'person', dataset: { role } },
    h('h4', { text: `${title} — ${f.identity.last_name.toUpperCase()} ${f.identity.first_names}` }),
    f.phones && f.phones.length ? h('div', {}, h('strong', { text: t('inc.phones') }), list(f.phones, (x) => tel(x.number, x.label))) : null,
    f.addresses && f.addresses.length ? h('div', {}, h('strong', { text: t('inc.addresses') }), list(f.addresses, (x) => `${x.label} : ${x.text}`)) : null,
    f.emergency_contacts && f.emergency_contacts.length ? h('div', {}, h('strong', { text: t('inc.contacts') }), list(f.emergency_contacts, (x) => h('span', {}, `${x.name} (${x.relation}) `, tel(x.phone)))) : null,
    (hh.children && hh.children.length) || (hh.pets && hh.pets.length) ? h('div', {}, h('strong', { text: t('inc.household') }),
      list(hh.children, (c) => `${t('inc.children')} : ${c.first_name} (${c.birth_date})`),
      list(hh.pets, (x) => `${t('inc.pets')} : ${x.kind} ${x.name || ''}${x.notes ? ' — ' + x.notes : ''}`)) : null,
    f.police_notes ? h('div', {}, h('strong', { text: t('inc.police_notes') }), h('p', { class: 'pre', text: f.police_notes })) : null);
}

function renderChart() {
  const d = state.detail;
  const canvas = $('chart');
  if (!d || !canvas) return;
  const pos = d.positions || {};
  const series = distanceSeries(pos.author && pos.author.points, pos.protected && pos.protected.points);
  const R = (d.measure && d.measure.definition && d.measure.definition.alert_radius_m) || 1000;
  const now = Date.now();
  // from a little before the first point or the opening (at most 30 min back), to now
  const first = Math.min(d.inc.opened_ms, ...series.map((p) => p.t));
  const from = Math.max(now - 1800000, Math.min(first - 30000, now - 120000));
  const summary = drawChart(canvas, { series: series.filter((p) => p.t >= from), alarms: d.inc.alarm_list || [], R, from, to: now });
  $('chart-summary').textContent = summary;
}

function showError(e) {
  const b = $('banner');
  b.hidden = false;
  b.textContent = t('err.action', { msg: e.message });
  clearTimeout(showError.timer);
  showError.timer = setTimeout(renderConn, 6000);
}

async function takeSelected() {
  const d = state.detail;
  if (!d || d.inc.state === 'closed') return;
  try {
    const inc = await api.post(`/api/v1/incidents/${d.inc.id}/take`, {});
    upsertIncident(inc, false);
    renderQueue();
    await loadIncident(d.inc.id, false);
    const first = document.querySelector('#steps button:not([disabled])');
    if (first) first.focus();
  } catch (e) { showError(e); }
}

async function recordStep(step, outcome) {
  const d = state.detail;
  if (!d || !mine(d.inc)) return;
  const body = { step };
  if (outcome) body.outcome = outcome;
  const text = $('step-text').value.trim();
  if (text) body.text = text;
  try {
    await api.post(`/api/v1/incidents/${d.inc.id}/step`, body);
    $('step-text').value = '';
    await loadIncident(d.inc.id, false);
  } catch (e) { showError(e); }
}

function openClose() {
  const d = state.detail;
  if (!d || !mine(d.inc)) return;
  $('close-title').textContent = t('close.title', { id: d.inc.id });
  $('close-error').hidden = true;
  $('close-dialog').showModal();
  $('close-summary').focus();
}

async function confirmClose(ev) {
  ev.preventDefault();
  const d = state.detail;
  const summary = $('close-summary').value.trim();
  if (!summary) {
    $('close-error').textContent = t('close.need_summary');
    $('close-error').hidden = false;
    return;
  }
  try {
    const inc = await api.post(`/api/v1/incidents/${d.inc.id}/close`, { summary });
    $('close-dialog').close();
    $('close-summary').value = '';
    dropIncident(inc.id);
    renderQueue();
    d.report = await api.get(`/api/v1/incidents/${inc.id}/report`).catch(() => null);
    await loadIncident(inc.id, false);
    awaitDispatches(inc.id, [2000, 8000]);
  } catch (e) {
    $('close-error').textContent = t('err.action', { msg: e.message });
    $('close-error').hidden = false;
  }
}

// ---- the measures (read-only) -------------------------------------------------------------------

async function loadMeasures() {
  try {
    const list = await api.get('/api/v1/measures');
    const tb = clear($('measures-table').tBodies[0]);
    for (const m of list) {
      tb.append(h('tr', { dataset: { measure: String(m.id) }, class: state.measureShown === m.id ? 'selected' : '' },
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => openMeasure(m.id) }, m.name)),
        h('td', { text: t('status.' + m.status) }),
        h('td', { text: metres(m.alert_radius_m) }),
        h('td', { class: m.mobile_zone !== 'none' ? 'late' : '', text: t('level.' + m.mobile_zone) }),
        h('td', { text: String(m.alarms) })));
    }
    if (state.measureShown) renderMeasure(state.measureShown);
  } catch (e) { showError(e); }
}

async function openMeasure(id) {
  state.measureShown = id;
  if (state.view !== 'measures') showView('measures');
  else loadMeasures();
}

async function renderMeasure(id) {
  const box = $('measure-file');
  let m, units, reports;
  try {
    [m, units, reports] = await Promise.all([measureFile(id, true), api.get('/api/v1/units'),
      mayReports() ? api.get(`/api/v1/measures/${id}/reports`) : null]);
  } catch (e) { showError(e); return; }
  const def = m.definition || {};
  const dec = def.decision || {};
  const now = Date.now();
  clear(box);
  box.dataset.measure = String(id);
  const mine = units.filter((u) => u.measure && u.measure.id === id);
  box.append(...[h('h2', { text: t('measure.file', { name: m.name }) }),
    h('p', { class: 'sub', text: `${t('status.' + m.status)} · ${t('measure.version', { v: m.version })} · R = ${metres(def.alert_radius_m)} · 2R = ${metres(2 * def.alert_radius_m)} · ${def.timezone || 'Europe/Paris'}` }),
    section('measure.decision', h('dl', { class: 'timers' },
      h('dt', { text: t('measure.magistrate') }), h('dd', { text: dec.magistrate || m.magistrate || '—' }),
      h('dt', { text: t('measure.court') }), h('dd', { text: def.court || '—' }),
      h('dt', { text: t('measure.offence') }), h('dd', { text: dec.offence ? t('offence.' + dec.offence, { y: dec.offence_penalty_years }) : '—' })),
    h('h4', { text: t('measure.periods') }),
    h('ul', {}, ...(dec.periods || []).map((p) => h('li', { text: `${t('stage.' + p.stage)} : ${p.start} → ${p.end} (${p.decision_date}) — ${t('measure.consents', { p: (p.consents && p.consents.protected) || '—', a: (p.consents && p.consents.author) || '—' })}` })))),
    section('measure.zones', (def.zones || []).length ? h('ul', { class: 'zones' }, ...(def.zones || []).map((z) => {
      const open = (z.windows || []).some((w) => windowOpen(w, now, def.timezone));
      return h('li', { dataset: { zone: String(z.id), open: String(open) } },
        h('strong', { text: `#${z.id} ${t('zone.' + z.category)}` }), ` — R ${metres(z.alert_radius_m || def.alert_radius_m)} — `,
        !(z.windows || []).length ? t('map.no_window') : h('span', { class: open ? 'ok' : '', text: open ? t('map.window_open') : t('map.window_closed') }),
        (z.windows || []).length ? h('ul', {}, ...z.windows.map((w) => h('li', { text: w.days ? `${w.days.join(', ')} ${w.start}–${w.end}` : `${w.from} → ${w.to}` }))) : null);
    })) : h('p', { class: 'muted', text: '—' })),
    section('measure.units', h('table', { class: 'grid', id: 'units-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Serial' }), h('th', { scope: 'col', text: 'Rôle / role' }),
        h('th', { scope: 'col', text: t('measure.connected') }), h('th', { scope: 'col', text: t('measure.battery') }), h('th', { scope: 'col', text: t('measure.last_heard') }))),
      h('tbody', {}, ...mine.map((u) => h('tr', { dataset: { serial: u.serial } },
        h('td', { text: u.serial }), h('td', { text: t('unit.' + u.role) }),
        h('td', { class: u.connected ? 'ok' : 'warn', text: u.connected ? t('yes') : t('no') }),
        h('td', { class: u.battery_pct !== null && u.battery_pct < 20 ? 'warn' : '', text: u.battery_pct === null || u.battery_pct === undefined ? t('unknown') : u.battery_pct + ' %' + (u.charging ? ' ⚡' : '') }),
        h('td', { text: u.last_heard_ms ? dateTime(u.last_heard_ms) + ' (' + t('inc.ago', { t: duration(now - u.last_heard_ms) }) + ')' : '—' })))))),
    (def.safe_places || []).length ? section('measure.safe_places', h('ul', {}, ...def.safe_places.map((p) => h('li', { text: p.name })))) : null,
    (def.report_to || []).length ? section('measure.report_to', h('ul', {}, ...def.report_to.map((r) => h('li', { text: `${t('recipient.' + r.role)} : ${r.name}${r.contact ? ' — ' + r.contact : ''}` })))) : null,
    reports ? section('measure.reports', reports.length
      ? h('table', { class: 'grid compact', id: 'measure-reports' },
        h('thead', {}, h('tr', {}, ...['measure.reports.incident', 'measure.reports.closed', 'measure.reports.first', 'measure.reports.operator', 'measure.reports.pdf'].map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {}, ...reports.map((r) => h('tr', { dataset: { incident: String(r.incident_id) } },
          h('td', { text: '#' + r.incident_id }), h('td', { text: dateTime(r.closed_ms) }), h('td', { text: t('kind.' + r.first_alarm) }),
          h('td', { text: r.operator }), h('td', {}, ...pdfLinks(r.incident_id, r.recipients || [], true))))))
      : h('p', { class: 'muted', id: 'measure-reports', text: t('measure.reports.none') })) : null,
    activitySection(m, showError)].filter(Boolean));
}

// ---- the floor ----------------------------------------------------------------------------------

async function loadFloor() {
  let f;
  try { f = await api.get('/api/v1/floor'); } catch (e) { showError(e); return; }
  const box = clear($('floor'));
  const stat = (s) => [s.count, duration(s.median_ms), duration(s.p90_ms), duration(s.max_ms)];
  const row = (label, s) => h('tr', {}, h('th', { scope: 'row', text: label }), ...stat(s).map((v) => h('td', { text: String(v) })));
  box.append(h('h2', { text: t('floor.title') }),
    h('div', { class: 'floor-grid' },
      section('floor.queue', h('table', { class: 'grid', id: 'floor-queue' },
        h('thead', {}, h('tr', {}, h('th', {}), h('th', { scope: 'col', text: t('floor.open') }), h('th', { scope: 'col', text: t('floor.taken') }))),
        h('tbody', {}, ...f.queue.by_priority.map((p) => h('tr', { class: 'p' + p.priority }, h('th', { scope: 'row', text: t('prio.' + p.priority) }), h('td', { text: String(p.open) }), h('td', { text: String(p.taken) }))),
          h('tr', {}, h('th', { scope: 'row', text: 'Σ' }), h('td', { text: String(f.queue.open) }), h('td', { text: String(f.queue.taken) }))))),
      section('floor.oldest', f.oldest_open ? h('p', { id: 'floor-oldest', text: `#${f.oldest_open.id} ${f.oldest_open.measure} — ${t('prio.' + f.oldest_open.priority)} — ${duration(f.oldest_open.age_ms)}` }) : h('p', { class: 'muted', text: t('floor.none_waiting') })),
      section('floor.escalated', f.escalated.length ? h('ul', {}, ...f.escalated.map((e) => h('li', { class: 'p' + e.priority, text: `#${e.id} ${e.measure} — ${e.operator || t('queue.open')} — ${e.escalation !== 'none' ? t('inc.escalated.' + e.escalation) : ''} ${e.late_ms ? t('queue.late', { t: duration(e.late_ms) }) : ''}` }))) : h('p', { class: 'muted', text: '—' })),
      h('section', { class: 'box' }, h('h3', { text: t('floor.response', { h: f.hours }) }),
        h('table', { class: 'grid', id: 'floor-response' },
          h('thead', {}, h('tr', {}, h('th', {}), ...['floor.count', 'floor.median', 'floor.p90', 'floor.max'].map((k) => h('th', { scope: 'col', text: t(k) })))),
          h('tbody', {}, row(t('floor.to_take'), f.response.to_take), row(t('floor.to_first_step'), f.response.to_first_step))),
        h('p', { text: t('floor.closed', { n: f.closed }) })),
      section('floor.operators', h('table', { class: 'grid', id: 'floor-operators' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: t('login.name') }), h('th', { scope: 'col', text: t('floor.holding') }), h('th', { scope: 'col', text: t('floor.closed_col') }))),
        h('tbody', {}, ...f.operators.map((o) => h('tr', { dataset: { operator: o.name } }, h('td', { text: o.name }), h('td', { text: String(o.holding) }), h('td', { text: String(o.closed) }))))),
      state.me.role === 'operator' ? h('p', { class: 'muted', text: t('floor.operator_only') }) : null)));
}

// ---- views and keys -----------------------------------------------------------------------------

function showView(v) {
  if (!may(v)) return;
  state.view = v;
  for (const name of VIEW_NAMES) {
    $('view-' + name).hidden = name !== v;
    $('tab-' + name).setAttribute('aria-selected', String(name === v));
  }
  if (v === 'incidents') console_map.invalidate();
  if (v === 'measures') loadMeasures();
  if (v === 'floor') loadFloor();
  if (v === 'statistics') loadStatistics();
}

function loadStatistics() {
  return renderStatistics($('statistics'), state.me, showError);
}

function move(delta) {
  if (!state.order.length) return;
  const i = state.order.indexOf(state.selected);
  const j = i < 0 ? 0 : Math.min(state.order.length - 1, Math.max(0, i + delta));
  selectIncident(state.order[j]);
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (!$('login').hidden) return;
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys
  const tag = (e.target.tagName || '').toLowerCase();
  if (tag === 'input' || tag === 'textarea' || tag === 'select') {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  const k = e.key;
  const act = {
    j: () => move(1), ArrowDown: () => move(1), k: () => move(-1), ArrowUp: () => move(-1),
    t: takeSelected, c: openClose,
    n: () => { const x = $('step-text'); if (x && !x.disabled) x.focus(); },
    p: () => { const b = document.querySelector('#steps button:not([disabled])'); if (b) b.focus(); },
    d: () => state.detail && may('measures') && openMeasure(state.detail.inc.measure_id),
    i: () => showView('incidents'), m: () => showView('measures'), f: () => showView('floor'), g: () => showView('statistics'),
    s: toggleSound, l: () => applyLang(getLang() === 'fr' ? 'en' : 'fr'),
    '?': () => $('help-dialog').showModal(),
    Escape: () => { if (!live()) return false; state.selected = null; state.detail = null; console_map.clearDetail(); console_map.selectMarker(null); renderQueue(); renderIncident(); },
    Enter: () => { if (document.activeElement === $('queue')) move(0); else return false; return true; },
  }[k];
  if (act) {
    if (act() === false) return;
    e.preventDefault();
  }
}

function renderWho() {
  $('who').textContent = `${state.me.name} (${state.me.role})`;
}

function tick() {
  if (!state.me || !live()) return;
  if (state.view === 'incidents') {
    renderQueue();
    const d = state.detail;
    if (d) {
      const now = Date.now();
      for (const dd of document.querySelectorAll('#incident-body dd[data-since]')) {
        const since = Number(dd.dataset.since);
        if (since) dd.textContent = clock(since) + ' · ' + t('inc.ago', { t: duration(now - since) });
      }
    }
  }
  // a stream that fell silent past two heartbeats is reconnected
  if (es && state.conn === 'live' && Date.now() - lastMessage > 45000) connectStream();
}

let floorTimer = null;

function start() {
  renderWho();
  for (const v of VIEW_NAMES) $('tab-' + v).hidden = !may(v);
  // the live parts (stream, sound, queue, map) only for those who handle incidents
  for (const id of ['conn', 'sound']) $(id).hidden = !live();
  if (!state.started) {
    state.started = true;
    $('app').hidden = false;
    if (live()) console_map = new ConsoleMap($('map'), state.cfg);
    setInterval(tick, 1000);
    floorTimer = setInterval(() => state.view === 'floor' && loadFloor(), 10000);
  }
  if (live()) {
    connectStream();
    if (state.selected) loadIncident(state.selected, true);
  }
  showView(may(state.view) ? state.view : VIEW_NAMES.find(may));
}

async function init() {
  try {
    const cfg = await (await fetch('config.json', { cache: 'no-store' })).json();
    if (cfg.escalate_take_ms && cfg.escalate_take_ms.length === 5) Object.assign(state.cfg, cfg);
    else state.cfg.tiles = cfg.tiles;
  } catch (e) { /* defaults */ }
  applyLang(localStorage.getItem('vigie.lang') || (navigator.language || 'fr').slice(0, 2));
  for (const s of document.querySelectorAll('.lang-select')) s.addEventListener('change', (e) => applyLang(e.target.value));
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', logout);
  $('sound').addEventListener('click', toggleSound);
  $('help').addEventListener('click', () => $('help-dialog').showModal());
  $('close-form').addEventListener('submit', confirmClose);
  $('close-cancel').addEventListener('click', () => $('close-dialog').close());
  for (const b of document.querySelectorAll('.tabs [data-view]')) b.addEventListener('click', () => showView(b.dataset.view));
  document.addEventListener('keydown', onKey);
  api.onUnauthorized = () => sessionLost();
  try {
    const me = await api.get('/api/v1/session');
    if (!ROLES.includes(me.role)) throw new Error('role');
    state.me = me;
    api.csrf = me.csrf_token;
    start();
  } catch (e) {
    showLogin();
  }
  document.body.dataset.ready = 'true';
}

init();
