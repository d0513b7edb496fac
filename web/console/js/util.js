// Small helpers: building DOM without HTML strings (whatever the centre
// sends is text, never markup), formatting, the API client.
import { t, getLang } from './i18n.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// 75 s -> "1 min 15 s"; 3 h 2 min...
export function duration(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  let s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return m + ' min ' + String(s).padStart(2, '0') + ' s';
  const hh = Math.floor(m / 60);
  if (hh < 48) return hh + ' h ' + String(m % 60).padStart(2, '0');
  return Math.floor(hh / 24) + ' j';
}

export function metres(m) {
  if (m === null || m === undefined || !isFinite(m)) return '—';
  if (m < 1000) return Math.round(m) + ' m';
  return (m / 1000).toLocaleString(getLang() === 'en' ? 'en-GB' : 'fr-FR', { maximumFractionDigits: 1 }) + ' km';
}

export function clock(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleTimeString(getLang() === 'en' ? 'en-GB' : 'fr-FR');
}

export function dateTime(ms) {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(getLang() === 'en' ? 'en-GB' : 'fr-FR');
}

const compassFr = { N: 'nord', NE: 'nord-est', E: 'est', SE: 'sud-est', S: 'sud', SW: 'sud-ouest', W: 'ouest', NW: 'nord-ouest' };
const compassEn = { N: 'north', NE: 'north-east', E: 'east', SE: 'south-east', S: 'south', SW: 'south-west', W: 'west', NW: 'north-west' };
export function compass(c) {
  return (getLang() === 'en' ? compassEn : compassFr)[c] || c || '';
}

// ---- the API ------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message || code || String(status));
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export const api = {
  csrf: null,
  onUnauthorized: null, // called on a 401 (session gone)
  async call(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    let r;
    try {
      r = await fetch(path, {
        method, headers, credentials: 'same-origin', cache: 'no-store',
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new ApiError(0, 'network', t('login.unreachable'));
    }
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!r.ok) {
      const err = data && data.error ? data.error : {};
      const e = new ApiError(r.status, err.code, err.message, Number(r.headers.get('Retry-After')) || 0);
      if (r.status === 401 && path !== '/api/v1/session' && this.onUnauthorized) this.onUnauthorized();
      throw e;
    }
    return data;
  },
  get(path) { return this.call('GET', path); },
  post(path, body) { return this.call('POST', path, body === undefined ? {} : body); },
  del(path) { return this.call('DELETE', path); },
};

// The distance between two WGS84 points (haversine on the mean sphere: the
// chart's scale, not the engine's geodesy).
export function distanceM(lat1, lon1, lat2, lon2) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2 +
    Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
}

// The point at d metres from (lat, lon) along bearing deg (sphere).
export function destination(lat, lon, deg, d) {
  const r = Math.PI / 180, R = 6371008.8;
  const p1 = lat * r, l1 = lon * r, b = deg * r, dr = d / R;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(dr) + Math.cos(p1) * Math.sin(dr) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(dr) * Math.cos(p1), Math.cos(dr) - Math.sin(p1) * Math.sin(p2));
  return [p2 / r, l2 / r];
}

// Whether an authorisation window of a zone is open at `now` in the measure's
// time zone: weekly {days, start, end} (end at or before start: the next day)
// or one-off {from, to} in local time.
const dayNames = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
export function localParts(ms, tz) {
  const f = new Intl.DateTimeFormat('en-GB', {
    timeZone: tz || 'Europe/Paris', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  });
  const p = {};
  for (const part of f.formatToParts(new Date(ms))) p[part.type] = part.value;
  return {
    day: p.weekday.toLowerCase().slice(0, 3),
    minutes: Number(p.hour) * 60 + Number(p.minute),
    stamp: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`,
  };
}

function hm(s) {
  const [a, b] = s.split(':').map(Number);
  return a * 60 + b;
}

export function windowOpen(w, ms, tz) {
  const now = localParts(ms, tz);
  if (w.from && w.to) return now.stamp >= w.from && now.stamp < w.to;
  if (!w.days || !w.start || !w.end) return false;
  const s = hm(w.start), e = hm(w.end);
  if (e > s) return w.days.includes(now.day) && now.minutes >= s && now.minutes < e;
  // overnight: from start on a listed day, to end the next day
  const yesterday = dayNames[(dayNames.indexOf(now.day) + 6) % 7];
  return (w.days.includes(now.day) && now.minutes >= s) || (w.days.includes(yesterday) && now.minutes < e);
}
