// The operators' console in a real browser (Debian's Chromium driven by
// playwright-core), against a real vigied and vigie-sim units on loopback:
//
//  - the page loads with no request leaving 127.0.0.1 and no error (CSP
//    violations included); a wrong password is refused, the right one opens it;
//  - an approach (tests/scenarios/console_approach.json) makes an incident
//    appear in the queue and on the map within 2 s of the alarm (the alarm's
//    time read from the centre's database);
//  - the operator takes it with the keyboard, records the protocol's steps with
//    the buttons, sees the persons' phones, the chart, who approached whom, and
//    closes it with a summary: the report exists (GET /incidents/ID/report);
//  - vigied restarts: the page says the connection is lost, reconnects by
//    itself (sessions are kept in the database), and catches up from the
//    journal with what another operator did meanwhile;
//  - the measure file, the floor (as a supervisor), the language switch.
//
// Screenshots at 1366x768 go to BUILD/tests/console-artifacts/.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { ROOT, BUILD, Daemon, Session, until, sleep } from './harness.mjs';

const require = createRequire(path.join(ROOT, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const ARTIFACTS = path.join(BUILD, 'tests', 'console-artifacts');
const PASSWORD = 'correct horse battery staple';
const SCENARIO = path.join(ROOT, 'tests', 'scenarios', 'console_approach.json');
const CHROMIUM = process.env.VIGIE_CHROMIUM || '/usr/bin/chromium';

const daemon = new Daemon(['--report-interval-ms', '5000', '--heartbeat-interval-ms', '10000',
  '--stream-heartbeat-ms', '2000', '--password-memory-kib', '8192', '--password-iterations', '1']);
let browser = null;
let sim = null;
let failed = false;
const offHost = []; // requests for anything but 127.0.0.1
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
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png') });
}

async function newPage(lang) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: lang === 'en' ? 'en-GB' : 'fr-FR' });
  // nothing may leave the machine: any other host is refused and noted
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname !== '127.0.0.1') {
      offHost.push(u.href);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['http:', 'data:', 'blob:'].includes(u.protocol) || (u.protocol === 'http:' && u.hostname !== '127.0.0.1')) offHost.push(r.url());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    // a refused request is an error too (CSP: "Refused to ..."); the 401s of
    // a session that ended with vigied are expected and said on the page
    if (m.type() === 'error' && !/status of 40[14]|ERR_CONNECTION_REFUSED|net::ERR_/.test(m.text())) pageErrors.push(m.text());
  });
  return page;
}

async function login(page, name, password) {
  await page.fill('#login-name', name);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
}

const rowOf = (page, id) => page.locator(`#queue li[data-incident="${id}"]`);

async function incidentOf(session, measureName) {
  const q = await session.call('GET', '/api/v1/incidents');
  return q.body.find((i) => i.measure === measureName);
}

// Gives both persons of a measure a file (phones, contacts, household), as an
// installer would: the page shows them to the operator with tel: links.
async function givePersons(measureName) {
  const list = await until('measure ' + measureName, async () => {
    const r = await daemon.admin('GET', '/api/v1/measures');
    return r.status === 200 && r.body.find((m) => m.name === measureName);
  }, 30000, 200);
  const her = await daemon.admin('POST', '/api/v1/persons', {
    identity: { last_name: 'Martin', first_names: 'Claire', birth_date: '1988-04-02', sex: 'F' },
    phones: [{ label: 'mobile', number: '+33612345678' }],
    addresses: [{ label: 'home', text: '3 rue de la Paix, 44000 Nantes' }],
    emergency_contacts: [{ name: 'Anne Martin', relation: 'sœur', phone: '+33698765432' }],
    household: { children: [{ first_name: 'Léo', birth_date: '2015-09-01' }], pets: [{ kind: 'chien', name: 'Rex', notes: 'aboie, pas dangereux' }] },
    police_notes: 'Rez-de-chaussée.\nCode 4512B.',
  });
  const him = await daemon.admin('POST', '/api/v1/persons', {
    identity: { last_name: 'Bernard', first_names: 'Paul', birth_date: '1980-02-01', sex: 'M' },
    phones: [{ label: 'mobile', number: '+33611112222' }],
  });
  assert.equal(her.status, 201);
  assert.equal(him.status, 201);
  // a new version of the measure naming them (the centre may move it on
  // meanwhile, activating it: read again and retry)
  await until('persons added to ' + measureName, async () => {
    const m = await daemon.admin('GET', '/api/v1/measures/' + list.id);
    const def = { ...m.body.definition, persons: { author: him.body.id, protected: her.body.id } };
    const r = await daemon.admin('PUT', '/api/v1/measures/' + list.id, { based_on: m.body.version, note: 'files of the persons', definition: def });
    if (r.status !== 200 && r.status !== 409) throw new Error(JSON.stringify(r.body));
    return r.status === 200;
  }, 20000, 200);
  return list.id;
}

// A step of the story: a failure stops the story (what follows needs it).
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

test('the operators\' console', { timeout: 240000 }, async (t) => {
  try {
    await daemon.start();
    daemon.addUser('op1', 'operator', PASSWORD);
    daemon.addUser('op2', 'operator', PASSWORD);
    daemon.addUser('sup1', 'supervisor', PASSWORD);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const page = await newPage('fr');

    await step(t, 'login', async () => {
      await page.goto(daemon.base + '/');
      await page.waitForSelector('body[data-ready="true"]');
      assert.ok(await page.isVisible('#login-form'));
      assert.equal(await page.getAttribute('html', 'lang'), 'fr');
      await shot(page, '01-login');
      await login(page, 'op1', 'not the password at all');
      await page.waitForSelector('#login-error:not([hidden])');
      assert.match(await page.textContent('#login-error'), /refusé/);
      await login(page, 'op1', PASSWORD);
      await page.waitForSelector('#app:not([hidden])');
      await page.waitForSelector('#conn[data-state="live"]');
      assert.ok(await page.isHidden('#login'));
      assert.match(await page.textContent('#who'), /op1 \(operator\)/);
      // the offline base layer is drawn, with its attribution
      await page.waitForSelector('#map[data-base-loaded="true"]');
      assert.match(await page.textContent('.leaflet-control-attribution'), /IGN, INSEE/);
    });

    sim = daemon.simulate(SCENARIO, 'ui');
    const measureId = await givePersons('ui-approach');
    const op1 = await new Session(daemon).login('op1', PASSWORD);
    let incident;

    await step(t, 'an approach appears in the queue and on the map within 2 s of the alarm', async () => {
      incident = await until('the approach\'s incident', () => incidentOf(op1, 'ui-approach'), 90000, 250);
      await rowOf(page, incident.id).waitFor({ timeout: 5000 });
      await page.waitForSelector(`.incident-marker[data-incident="${incident.id}"]`, { timeout: 5000 });
      const [alarm] = daemon.query(`select seq, kind, raised_ms from alarms where measure_id = ${measureId} order by seq limit 1`);
      const seen = await page.evaluate((id) => [window.vigie.seen[id], window.vigie.seenOnMap[id]], incident.id);
      const inQueue = seen[0] - alarm.raised_ms, onMap = seen[1] - alarm.raised_ms;
      console.log(`# alarm raised -> queue ${inQueue} ms, map ${onMap} ms`);
      assert.ok(inQueue >= 0 && inQueue <= 2000, `in the queue ${inQueue} ms after the alarm`);
      assert.ok(onMap >= 0 && onMap <= 2000, `on the map ${onMap} ms after the alarm`);
      const row = rowOf(page, incident.id);
      assert.equal(await row.getAttribute('data-state'), 'open');
      assert.equal(incident.first_alarm, 'prealert_entered');
      assert.match(await row.textContent(), /Entrée en zone de pré-alerte/);
      assert.match(await row.textContent(), /en attente/);
      assert.ok((await page.evaluate(() => window.vigie.sounds)) >= 1, 'a sound for the new alert');
    });

    await step(t, 'the operator takes it, records the steps and closes it: the report exists', async () => {
      await rowOf(page, incident.id).click();
      await page.waitForSelector(`#incident-body[data-incident="${incident.id}"]`);
      await page.keyboard.press('t');
      await page.waitForSelector('#incident-body[data-state="taken"]');
      assert.equal(await rowOf(page, incident.id).getAttribute('data-operator'), 'op1');
      // the persons' file for the police and the phones as tel: links
      await page.waitForSelector('#incident-body a[href="tel:+33612345678"]');
      assert.ok(await page.isVisible('#incident-body a[href="tel:+33611112222"]'));
      assert.ok(await page.isVisible('#incident-body a[href="tel:+33698765432"]'));
      assert.match(await page.textContent('#incident-body'), /Rex/);
      assert.match(await page.textContent('#incident-body'), /Code 4512B/);
      // the steps, with the outcomes that fit them
      const steps = [['author_called', 'not_reached', 'messagerie'], ['protected_called', 'guided', 'vers le commissariat'],
        ['police_alerted', null, 'réf. 2026-77'], ['magistrate_informed', null, '']];
      for (const [i, [step, outcome, text]] of steps.entries()) {
        if (text) await page.fill('#step-text', text);
        await page.click(outcome ? `#steps button[data-step="${step}"][data-outcome="${outcome}"]` : `#steps button[data-step="${step}"]:not([data-outcome])`);
        await page.waitForSelector(`#step-list li:nth-child(${i + 1})`);
      }
      assert.equal(await page.locator('#step-list li').count(), 4);
      // no outcome that does not fit: "guided" is not one of the author's
      assert.equal(await page.locator('#steps button[data-step="author_called"][data-outcome="guided"]').count(), 0);
      // the alert may have joined by now; the chart has both tracks' distance
      // (her track while the incident is in progress) and its alarms marked
      await until('the chart', async () => Number(await page.getAttribute('#chart', 'data-points')) > 0, 20000, 250);
      assert.ok(Number(await page.getAttribute('#chart', 'data-alarms')) >= 1);
      assert.equal(await page.getAttribute('#approach', 'data-by'), 'author');
      assert.ok(await page.locator('path.track-author').count() >= 1, 'his track on the map');
      assert.ok(await page.locator('path.track-protected').count() >= 1, 'hers, the incident being in progress');
      assert.ok(await page.locator('path.ring-r').count() === 1 && await page.locator('path.ring-2r').count() === 1, 'R and 2R around her');
      await shot(page, '02-incident');
      await page.keyboard.press('c');
      await page.waitForSelector('#close-dialog[open]');
      await page.fill('#close-summary', 'Pré-alerte puis alerte : auteur non joint, victime guidée, police alertée.');
      await page.click('#close-confirm');
      await page.waitForSelector('#report-note');
      await until('the row gone', async () => (await rowOf(page, incident.id).count()) === 0, 5000);
      const report = await op1.call('GET', `/api/v1/incidents/${incident.id}/report`);
      assert.equal(report.status, 200);
      assert.equal(report.body.content.summary, 'Pré-alerte puis alerte : auteur non joint, victime guidée, police alertée.');
      assert.deepEqual(report.body.content.steps.map((s) => [s.step, s.outcome]),
        [['author_called', 'not_reached'], ['protected_called', 'guided'], ['police_alerted', 'none'], ['magistrate_informed', 'none']]);
      assert.equal(report.body.content.steps[2].text, 'réf. 2026-77');
      assert.equal(report.body.content.incident.operator, 'op1');
    });

    let sos;
    await step(t, 'the page catches up after vigied restarts', async () => {
      sos = await until('the SOS incident', () => incidentOf(op1, 'ui-sos'), 60000, 200);
      await rowOf(page, sos.id).waitFor({ timeout: 5000 });
      assert.equal(await rowOf(page, sos.id).getAttribute('data-priority'), '1');
      await shot(page, '03-queue');
      const before = Number(await page.evaluate(() => window.vigie.lastEventId));
      assert.equal(await daemon.stop(), 0);
      await page.waitForSelector('#banner:not([hidden])', { timeout: 10000 });
      await page.waitForSelector('#conn:is([data-state="reconnecting"], [data-state="offline"])');
      await daemon.start(); // the same ports and data: the page's origin
      // meanwhile another operator takes the SOS and records a step
      const op2 = await new Session(daemon).login('op2', PASSWORD);
      assert.equal((await op2.call('POST', `/api/v1/incidents/${sos.id}/take`, {})).status, 200);
      assert.equal((await op2.call('POST', `/api/v1/incidents/${sos.id}/step`, { step: 'protected_called', outcome: 'reached' })).status, 200);
      // sessions are kept in the database: the page reconnects by itself,
      // without asking for the password again...
      await page.waitForSelector('#conn[data-state="live"]', { timeout: 20000 });
      assert.equal(await page.isVisible('#login'), false, 'the session held across the restart');
      await shot(page, '04-reconnected');
      // ...and resumes the stream where it was: the events it missed replayed
      const ready = await page.evaluate(() => window.vigie.ready);
      assert.equal(ready.reset, false);
      assert.ok(ready.last_event_id >= before, `resumed from ${ready.last_event_id} (had ${before})`);
      await until('the take seen', async () => (await rowOf(page, sos.id).getAttribute('data-operator')) === 'op2', 5000);
      const replayed = await page.evaluate((b) => window.vigie.events.filter((e) => e.event === 'incident' && Number(e.id) > b).length, before);
      assert.ok(replayed >= 2, `the take and the step replayed from the journal (${replayed})`);
      assert.match(await rowOf(page, sos.id).textContent(), /pris par op2/);
    });

    await step(t, 'the measure file and the floor', async () => {
      await page.keyboard.press('m');
      await page.waitForSelector(`#measures-table tr[data-measure="${measureId}"]`);
      await page.click(`#measures-table tr[data-measure="${measureId}"] button`);
      await page.waitForSelector(`#measure-file[data-measure="${measureId}"] #units-table tbody tr`);
      assert.equal(await page.locator('#units-table tbody tr').count(), 2);
      assert.match(await page.textContent('#measure-file'), /Mme J\. Durand|JLD|Magistrat/);
      assert.equal(await page.locator('#measure-file li[data-zone]').count(), 2);
      await shot(page, '05-measure');
      await page.keyboard.press('f');
      await page.waitForSelector('#floor-operators');
      // an operator sees his own line only
      assert.deepEqual(await page.locator('#floor-operators tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.operator)), ['op1']);
      const sup = await newPage('fr');
      await sup.goto(daemon.base + '/');
      await sup.waitForSelector('#login-form');
      await login(sup, 'sup1', PASSWORD);
      await sup.waitForSelector('#conn[data-state="live"]');
      await sup.keyboard.press('f');
      await sup.waitForSelector('#floor-operators tbody tr[data-operator="op2"]');
      const ops = await sup.locator('#floor-operators tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.operator));
      assert.deepEqual(ops.sort(), ['op1', 'op2']);
      await shot(sup, '06-floor-supervisor');
      await sup.context().close();
    });

    await step(t, 'English, remembered', async () => {
      await page.keyboard.press('i');
      await page.keyboard.press('l');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.match(await page.textContent('#tab-measures'), /Measures/);
      await page.reload();
      await page.waitForSelector('#conn[data-state="live"]');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.match(await rowOf(page, sos.id).textContent(), /taken by op2/);
      await page.keyboard.press('?');
      await page.waitForSelector('#help-dialog[open]');
      assert.match(await page.textContent('#help-dialog'), /take the chosen incident/);
      await shot(page, '07-help-en');
      await page.keyboard.press('Escape');
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
