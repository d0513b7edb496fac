// The reports, a measure's activity and the statistics in the console (issue
// 11), in a real browser (Debian's Chromium driven by playwright-core)
// against a real vigied and vigie-sim units on loopback
// (tests/scenarios/console_reports.json):
//
//  - an operator takes and closes the approach's incident: the closed
//    incident shows its report, a link per recipient that downloads a real
//    PDF (its magic, its size, its text by pdftotext), and the outbox's
//    dispatch records (one per recipient, as the journal has them);
//  - the measure file's activity: the figures of the fixture, known by hand
//    (R = 2 km: one pre-alert, one alert; with R = 1 km: one pre-alert, no
//    alert), the same as the API's JSON, and another R changes them;
//  - the statistics page: the table by court and month as the API has it,
//    withheld counts shown "<5", the CSV downloaded with its header;
//  - a statistician sees the statistics alone (no queue, no map, no request
//    for incidents or positions); an operator has no statistics tab; a
//    magistrate sees his court's measures (their reports, a PDF per
//    recipient; the activity) and figures only;
//  - no request leaves 127.0.0.1, nothing goes wrong in the page.
//
// Screenshots at 1366x768 go to BUILD/tests/console-artifacts/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, BUILD, Daemon, Session, until } from './harness.mjs';

const require = createRequire(path.join(ROOT, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const ARTIFACTS = path.join(BUILD, 'tests', 'console-artifacts');
const PASSWORD = 'correct horse battery staple';
const SCENARIO = path.join(ROOT, 'tests', 'scenarios', 'console_reports.json');
const CHROMIUM = process.env.VIGIE_CHROMIUM || '/usr/bin/chromium';
const RECIPIENTS = [
  { role: 'magistrate', name: 'Mme J. Durand, JLD', contact: 'jld@tj-nantes.test' },
  { role: 'probation', name: 'SPIP 44', contact: '' },
  { role: 'victim_support', name: 'France Victimes 44', contact: '' },
];

const daemon = new Daemon(['--report-interval-ms', '5000', '--heartbeat-interval-ms', '10000',
  '--stream-heartbeat-ms', '2000', '--password-memory-kib', '8192', '--password-iterations', '1']);
let browser = null;
let sim = null;
let failed = false;
const offHost = [];
const pageErrors = [];

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (sim && sim.exitCode === null) {
    sim.kill('SIGKILL');
    await sim.exited;
  }
  const code = await daemon.stop();
  if (failed) console.log('# kept for inspection: ' + daemon.dir);
  daemon.cleanup(failed);
  assert.equal(code, 0, 'vigied stopped cleanly (no sanitizer finding)');
});

async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: false });
}

// A page of its own (its own cookies), every request noted.
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'fr-FR', acceptDownloads: true });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname !== '127.0.0.1') {
      offHost.push(u.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.requests = [];
  page.on('request', (r) => {
    page.requests.push(r.url());
    const u = new URL(r.url());
    if (!['http:', 'data:', 'blob:'].includes(u.protocol) || (u.protocol === 'http:' && u.hostname !== '127.0.0.1')) offHost.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[14]|net::ERR_/.test(m.text())) pageErrors.push(m.text());
  });
  return page;
}

async function login(page, name) {
  await page.goto(daemon.base + '/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#login-name', name);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#app:not([hidden])');
}

// A download started by clicking `selector`: its bytes.
async function download(page, selector) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  assert.equal(await dl.failure(), null, 'the download completed');
  return { name: dl.suggestedFilename(), bytes: fs.readFileSync(await dl.path()) };
}

function pdfText(bytes) {
  const file = path.join(daemon.dir, 'check.pdf');
  fs.writeFileSync(file, bytes);
  const r = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function step(t, name, fn) {
  await t.test(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
  if (failed) throw new Error('stopped after: ' + name);
}

// The measure of that name once the simulator declared it, with a court and
// the recipients of its reports (a new version, as an installer would make).
async function prepareMeasure(name) {
  const m = await until('measure ' + name, async () => {
    const r = await daemon.admin('GET', '/api/v1/measures');
    return r.status === 200 && r.body.find((x) => x.name === name);
  }, 30000, 200);
  await until('court and recipients on ' + name, async () => {
    const cur = await daemon.admin('GET', '/api/v1/measures/' + m.id);
    const def = { ...cur.body.definition, court: 'TJ-Nantes', report_to: RECIPIENTS };
    const r = await daemon.admin('PUT', '/api/v1/measures/' + m.id, { based_on: cur.body.version, note: 'reports', definition: def });
    if (r.status !== 200 && r.status !== 409) throw new Error(JSON.stringify(r.body));
    return r.status === 200;
  }, 20000, 200);
  return m.id;
}

const cell = (page, figure, col) => page.textContent(`#activity-table tr[data-figure="${figure}"] td.${col}`);
const cellValue = (page, figure, col) => page.getAttribute(`#activity-table tr[data-figure="${figure}"] td.${col}`, 'data-value');

test('reports, activity and statistics in the console', { timeout: 280000 }, async (t) => {
  try {
    await daemon.start();
    daemon.addUser('op1', 'operator', PASSWORD);
    daemon.addUser('sup1', 'supervisor', PASSWORD);
    daemon.addUser('stat1', 'statistician', PASSWORD);
    daemon.vigie(['user', 'add', 'mag1', '--role', 'magistrate', '--court', 'TJ-Nantes', '--password-stdin'], PASSWORD + '\n');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    sim = daemon.simulate(SCENARIO, 'rp');
    const measureId = await prepareMeasure('rp-approach');
    const op1 = await new Session(daemon).login('op1', PASSWORD);
    const page = await newPage();
    await login(page, 'op1');
    await page.waitForSelector('#conn[data-state="live"]');
    let incident;

    await step(t, 'the closed incident\'s report: a PDF per recipient, the dispatches', async () => {
      // the alert joins the pre-alert's incident: wait for both before closing
      incident = await until('the approach\'s alert', async () => {
        const q = await op1.call('GET', '/api/v1/incidents');
        const i = q.body.find((x) => x.measure === 'rp-approach');
        return i && i.priority === 1 && i;
      }, 120000, 250);
      await page.click(`#queue li[data-incident="${incident.id}"]`);
      await page.waitForSelector(`#incident-body[data-incident="${incident.id}"]`);
      await page.keyboard.press('t');
      await page.waitForSelector('#incident-body[data-state="taken"]');
      await page.fill('#step-text', 'réf. 2026-99');
      await page.click('#steps button[data-step="police_alerted"]');
      await page.waitForSelector('#step-list li');
      await page.keyboard.press('c');
      await page.waitForSelector('#close-dialog[open]');
      await page.fill('#close-summary', 'Approche jusqu’à 1,5 km : police alertée.');
      await page.click('#close-confirm');
      await page.waitForSelector('#report #report-recipients li');
      assert.deepEqual(await page.locator('#report-recipients li').evaluateAll((ls) => ls.map((l) => l.dataset.role)),
        RECIPIENTS.map((r) => r.role));
      assert.match(await page.textContent('#report-recipients'), /SPIP 44/);
      // each link downloads the PDF drawn for that recipient
      for (const r of RECIPIENTS) {
        const pdf = await download(page, `#report-recipients li[data-role="${r.role}"] a.pdf`);
        assert.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-', r.role);
        assert.ok(pdf.bytes.length > 10000, `${r.role}: ${pdf.bytes.length} bytes`);
        assert.equal(pdf.name, `incident-${incident.id}-${r.role}.pdf`);
        const text = pdfText(pdf.bytes);
        assert.match(text, new RegExp(`${incident.id}`));
        assert.match(text, /rp-approach/);
        assert.ok(text.includes(r.name), `${r.role}: addressed to ${r.name}`);
      }
      const pdfReads = daemon.query(`select detail from journal where action = 'report.pdf' and subject = 'incident/${incident.id}'`);
      assert.deepEqual(pdfReads.map((x) => JSON.parse(x.detail).for), RECIPIENTS.map((r) => r.role));
      // the outbox's dispatches, once journaled, shown after a refresh
      await until('three dispatches journaled', () => daemon.query(`select id from journal where action = 'report.dispatch' and subject = 'incident/${incident.id}'`).length === 3, 30000, 250);
      await page.click('#report-refresh');
      await page.waitForSelector('#report-dispatches tbody tr:nth-child(3)');
      const rows = await page.locator('#report-dispatches tbody tr').evaluateAll((rs) => rs.map((r) => [r.dataset.for, r.cells[2].textContent]));
      const journaled = daemon.query(`select detail from journal where action = 'report.dispatch' and subject = 'incident/${incident.id}' order by id`).map((x) => JSON.parse(x.detail));
      assert.deepEqual(rows.map((r) => r[0]).sort(), RECIPIENTS.map((r) => r.role).sort());
      assert.deepEqual(rows, journaled.map((x) => [x.for, x.file]));
      for (const x of journaled) assert.ok(fs.existsSync(path.join(daemon.dir, 'outbox', x.file)), x.file);
      await shot(page, '11-report');
    });

    await step(t, 'the measure\'s activity: the fixture\'s figures, and another R', async () => {
      await page.keyboard.press('d');
      await page.waitForSelector(`#measure-file[data-measure="${measureId}"] #activity-result[data-state="ready"]`, { timeout: 30000 });
      // by hand: R = 2 km, he came from 4.5 km to 1.5 km: one pre-alert (4 km), one alert (2 km)
      assert.equal(await cellValue(page, 'operator_alerts', 'actual'), '2');
      assert.equal(await cellValue(page, 'alert', 'actual'), '1');
      assert.equal(await cellValue(page, 'prealert', 'actual'), '1');
      assert.equal(await cellValue(page, 'rings_alert', 'actual'), '1');
      assert.equal(await cellValue(page, 'rings_prealert', 'actual'), '1');
      assert.equal(await cellValue(page, 'battery_incidents', 'actual'), '0');
      assert.equal(await page.locator('#activity-table td.what-if').count(), 0, 'no other R asked yet');
      assert.equal(await page.getAttribute('#activity-kind-list li[data-kind="prealert_entered"]', 'data-kind'), 'prealert_entered');
      assert.match(await page.textContent('#activity-recorded [data-figure="incidents"]'), /^1$/);
      // the API's JSON for the same period says the same
      const from = await page.inputValue('#activity-from'), to = await page.inputValue('#activity-to');
      const api = (await op1.call('GET', `/api/v1/measures/${measureId}/activity?from=${from}&to=${to}&radius_m=1000`)).body;
      assert.equal(api.replayed.operator_alerts, 2);
      assert.deepEqual([api.replayed.alarms_by_kind.prealert_entered, api.replayed.alarms_by_kind.alert_entered], [1, 1]);
      // the alerts by local hour: the hours of the stored alarms in Paris
      const hours = new Array(24).fill(0);
      for (const a of daemon.query(`select at_ms from alarms where measure_id = ${measureId} and kind in (1, 3) order by seq`)) {
        hours[Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', hourCycle: 'h23' }).format(new Date(a.at_ms)))]++;
      }
      assert.deepEqual(api.replayed.operator_alerts_by_hour, hours);
      // her unit rang at both (live records): a night disturbed if one rang between 22:00 and 07:00
      const nights = new Set();
      for (const a of daemon.query(`select at_ms from alarms where measure_id = ${measureId} and kind in (1, 3)`)) {
        const local = new Date(new Date(a.at_ms).toLocaleString('en-US', { timeZone: 'Europe/Paris' }));
        if (local.getHours() >= 22) nights.add(local.toDateString());
        else if (local.getHours() < 7) nights.add(new Date(local - 86400000).toDateString());
      }
      assert.equal(await cellValue(page, 'nights_disturbed', 'actual'), String(nights.size));
      assert.equal(await page.getAttribute('#activity-hours', 'data-bars'), '24', 'a bar an hour');
      // another R: 1 km, so 2R = 2 km: the pre-alert where the alert was, no alert
      await page.fill('#activity-radius', '1000');
      await page.click('#activity-run');
      await page.waitForSelector('#activity-result[data-what-if="1000"][data-state="ready"]');
      assert.equal(await cellValue(page, 'operator_alerts', 'what-if'), '1');
      assert.equal(await cellValue(page, 'alert', 'what-if'), '0');
      assert.equal(await cellValue(page, 'prealert', 'what-if'), '1');
      assert.equal(await cellValue(page, 'rings_alert', 'what-if'), '0');
      assert.equal(await cellValue(page, 'operator_alerts', 'actual'), '2');
      assert.equal(api.what_if.operator_alerts, 1);
      assert.equal(api.what_if.alarms_by_kind.alert_entered, undefined);
      assert.match(await page.getAttribute('#activity-table tr[data-figure="operator_alerts"] td.what-if', 'class'), /differs/);
      assert.match(await cell(page, 'operator_alerts', 'what-if'), /^1$/);
      await page.evaluate(() => document.getElementById('activity').scrollIntoView());
      await shot(page, '12-activity');
      // an operator has no statistics
      assert.ok(await page.isHidden('#tab-statistics'));
    });

    await step(t, 'the statistics page: the table, "<5", the CSV', async () => {
      const sup = await newPage();
      await login(sup, 'sup1');
      await sup.keyboard.press('g');
      await sup.waitForSelector('#stats-result[data-state="ready"] #stats-table tbody tr');
      const from = await sup.inputValue('#stats-from'), to = await sup.inputValue('#stats-to');
      const s = await new Session(daemon).login('sup1', PASSWORD);
      const doc = (await s.call('GET', `/api/v1/statistics?from=${from}&to=${to}`)).body;
      // a row per court and month, every cell as the API has it
      const rows = await sup.locator('#stats-table tbody tr').evaluateAll((rs) => rs.map((r) => ({
        court: r.dataset.court, month: r.dataset.month,
        cells: Object.fromEntries([...r.querySelectorAll('td[data-metric]')].map((c) => [c.dataset.metric, c.dataset.suppressed ? 'suppressed' : c.dataset.value])),
      })));
      const expected = doc.courts.flatMap((c) => c.months.map((m) => ({ court: c.court, month: m.month })));
      assert.deepEqual(rows.map((r) => [r.court, r.month]), expected.map((r) => [r.court, r.month]));
      // two measures, one court: folded into "other courts", small counts withheld
      assert.deepEqual(doc.courts.map((c) => c.court), ['other courts']);
      const month = doc.courts[0].months[doc.courts[0].months.length - 1];
      const last = rows[rows.length - 1];
      assert.equal(month.measures_declared.suppressed, true);
      assert.equal(last.cells.measures_declared, 'suppressed');
      assert.equal(await sup.textContent(`#stats-table tbody tr:last-child td[data-metric="measures_declared"]`), '<5');
      assert.equal(last.cells['measures_ended.lifted'], String(month.measures_ended.lifted.value));
      assert.ok(Number(await sup.locator('#stats-chart-measures_active_days').count()) === 1);
      await shot(sup, '13-statistics-supervisor');
      const csv = await download(sup, '#stats-csv');
      const lines = csv.bytes.toString('utf8').trim().split('\n');
      assert.equal(lines[0], 'court,month,metric,value,suppressed');
      assert.ok(lines.includes(`other courts,${month.month},measures_declared,,true`), lines.slice(0, 5).join('|'));
      assert.match(csv.name, /^vigie-statistiques-\d{4}-\d{2}-\d{4}-\d{2}\.csv$/);
      // no name, serial or phone in the download
      assert.doesNotMatch(csv.bytes.toString('utf8'), /rp-approach|rp-quiet|Durand|SPIP/);
      // the CSV follows the months chosen: the last one alone
      await sup.fill('#stats-from', to);
      const one = (await download(sup, '#stats-csv')).bytes.toString('utf8').trim().split('\n');
      assert.equal(one[0], 'court,month,metric,value,suppressed');
      assert.ok(one.length > 10 && one.slice(1).every((l) => l.split(',')[1] === to), one.slice(0, 3).join('|'));
      await sup.context().close();
    });

    await step(t, 'a statistician sees the statistics alone', async () => {
      const st = await newPage();
      await login(st, 'stat1');
      await st.waitForSelector('#stats-result[data-state="ready"] #stats-table');
      assert.ok(await st.isVisible('#view-statistics'));
      for (const v of ['incidents', 'measures', 'floor']) {
        assert.ok(await st.isHidden('#tab-' + v), v + ' tab hidden');
        assert.ok(await st.isHidden('#view-' + v), v + ' view hidden');
      }
      assert.equal(await st.locator('.leaflet-container').count(), 0, 'no map');
      assert.equal(await st.locator('#queue li').count(), 0, 'no queue');
      for (const k of ['i', 'm', 'f']) await st.keyboard.press(k);
      assert.ok(await st.isVisible('#view-statistics'), 'the keys lead nowhere else');
      const asked = st.requests.filter((u) => /\/api\/v1\/(incidents|stream|measures|persons|units|floor)/.test(u));
      assert.deepEqual(asked, []);
      await shot(st, '14-statistics-statistician');
      // in English too
      await st.keyboard.press('l');
      await st.waitForSelector('#stats-result[data-state="ready"] #stats-table');
      assert.equal(await st.getAttribute('html', 'lang'), 'en');
      assert.match(await st.textContent('#view-statistics h2'), /Statistics \(anonymised\)/);
      assert.match(await st.textContent('#stats-table thead'), /Active measure-days/);
      assert.match(await st.textContent('#stats-csv'), /Download the CSV/);
      await st.context().close();
    });

    await step(t, 'a magistrate sees his court\'s measures and figures, no queue', async () => {
      const mg = await newPage();
      await login(mg, 'mag1');
      // his first view: the measures, his court's only (rp-quiet has no court)
      await mg.waitForSelector('#measures-table tbody tr');
      assert.deepEqual(await mg.locator('#measures-table tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.measure))), [measureId]);
      for (const v of ['incidents', 'floor']) assert.ok(await mg.isHidden('#tab-' + v), v + ' tab hidden');
      assert.ok(await mg.isVisible('#tab-statistics'));
      assert.equal(await mg.locator('.leaflet-container').count(), 0, 'no map');
      await mg.click(`#measures-table tr[data-measure="${measureId}"] button`);
      await mg.waitForSelector('#activity-result[data-state="ready"]', { timeout: 30000 });
      assert.equal(await cellValue(mg, 'operator_alerts', 'actual'), '2');
      // the measure's reports: the incident closed above, a PDF per recipient
      await mg.waitForSelector(`#measure-reports tr[data-incident="${incident.id}"]`);
      assert.deepEqual(await mg.locator(`#measure-reports tr[data-incident="${incident.id}"] a.pdf`).evaluateAll((as) => as.map((a) => a.dataset.role)),
        RECIPIENTS.map((r) => r.role));
      const pdf = await download(mg, `#measure-reports tr[data-incident="${incident.id}"] a.pdf[data-role="magistrate"]`);
      assert.equal(pdf.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(pdfText(pdf.bytes).includes('Mme J. Durand, JLD'));
      assert.equal(daemon.query(`select actor from journal where action = 'report.pdf' and actor = 'mag1'`).length, 1);
      await mg.evaluate(() => document.getElementById('measure-reports').scrollIntoView());
      await shot(mg, '15-measure-magistrate');
      await mg.keyboard.press('g');
      await mg.waitForSelector('#stats-result[data-state="ready"]');
      assert.match(await mg.textContent('#view-statistics'), /TJ-Nantes/);
      assert.deepEqual(mg.requests.filter((u) => /\/api\/v1\/(incidents|stream|floor)/.test(u)), []);
      await mg.context().close();
    });

    await step(t, 'nothing left the machine, nothing went wrong in the page', () => {
      assert.deepEqual(offHost, []);
      assert.deepEqual(pageErrors, []);
    });
  } catch (e) {
    failed = true;
    throw e;
  }
});
