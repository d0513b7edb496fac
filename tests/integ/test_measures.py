"""Measures as case files through the API (docs/API.md, core/lifecycle.h):
the judicial decision checked against every legal rule with the rules'
names and messages; the persons' facts taken from their files; the
installation checklist filled by the units' own reports and the activation
it brings; which alarms a measure raises where it stands (pending,
active, suspended, ended); new versions (revision, renewal) made from the
version read, every version kept; lifting; who may change what."""
import copy
import datetime
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_users import CHEAP, PASSWORD, Client  # noqa: E402
from vigie_harness import (ACK, EVENT, FIX, SOS, STATUS, Daemon, connect_ready,  # noqa: E402
                           decision, event_body, fix_body, now_ms, record, records,
                           status_body)

HOME = (47.2184, -1.5536)  # hers, in Nantes
FAR = (47.45, -0.55)       # his, near Angers (80 km)
TODAY = datetime.date.today()


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def period(stage="pre_sentencing", start=-1, end=150, decided=None, protected=None, author=None):
    decided = day(start) if decided is None else decided
    p = {"stage": stage, "decision_date": decided, "start": day(start), "end": day(end),
         "consents": {}}
    if protected is not False:
        p["consents"]["protected"] = protected or decided
    if author is not False:
        p["consents"]["author"] = author or decided
    return p


class MeasuresTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra=CHEAP)
        self.d.start()
        self.addCleanup(self.d.cleanup)
        self.n = 0

    def session(self, name, role, court=None):
        """A new account of that role, logged in as a browser would be."""
        c = Client(self.d.http_port)
        user = {"name": name, "role": role, "password": PASSWORD}
        if court:
            user["court"] = court
        status, doc, _ = c.request("POST", "/api/v1/users", user, bearer=self.d.token)
        self.assertEqual(status, 201, doc)
        self.assertEqual(c.login(name, PASSWORD)[0], 200)
        return c

    def api(self, method, path, body=None):
        status, text = self.d.http(method, path,
                                   json.dumps(body).encode() if body is not None else None)
        return status, json.loads(text) if text.strip() else None

    def definition(self, name=None, radius=2000, bracelet=False, **kw):
        self.n += 1
        name = name or "M-%d" % self.n
        units = {"author": name + "-A", "protected": name + "-P"}
        if bracelet:
            units["bracelet"] = name + "-B"
        d = {"name": name, "alert_radius_m": radius, "court": "TJ-Nantes", "units": units,
             "decision": decision()}
        d.update(kw)
        return d

    def create(self, definition):
        status, doc = self.api("POST", "/api/v1/measures", definition)
        self.assertEqual(status, 201, doc)
        return doc["id"]

    def refused(self, definition, rule):
        status, doc = self.api("POST", "/api/v1/measures", definition)
        self.assertEqual(status, 422, doc)
        self.assertEqual(doc["error"]["code"], "rule_violation")
        rules = [v["rule"] for v in doc["error"]["violations"] if v["severity"] == "error"]
        self.assertIn(rule, rules, doc)
        v = [v for v in doc["error"]["violations"] if v["rule"] == rule][0]
        self.assertTrue(v["message"] and v["message_fr"], v)
        return doc

    def get(self, mid):
        status, doc = self.api("GET", "/api/v1/measures/%d" % mid)
        self.assertEqual(status, 200, doc)
        return doc

    def alarm_kinds(self, mid):
        return [k for (k,) in self.d.query("SELECT kind FROM alarms WHERE measure_id = ? "
                                           "ORDER BY seq", mid)]

    def wait(self, cond, what, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def person(self, last, home):
        p = {"identity": {"last_name": last, "first_names": "X", "birth_date": "1984-01-01"},
             "addresses": [{"label": "home", "text": "somewhere", "location": list(home)}]}
        status, doc = self.api("POST", "/api/v1/persons", p)
        self.assertEqual(status, 201, doc)
        return doc["id"]

    def units(self, name):
        self.d.issue(name + "-A")
        self.d.issue(name + "-P")
        a, _ = connect_ready(self.d, name + "-A")
        p, _ = connect_ready(self.d, name + "-P")
        self.addCleanup(a.close)
        self.addCleanup(p.close)
        return a, p

    def send(self, unit, *recs):
        unit.send(records(*recs))
        unit.expect(ACK)


class LegalRules(MeasuresTest):
    def test_the_decision_is_required(self):
        d = self.definition()
        del d["decision"]
        status, doc = self.api("POST", "/api/v1/measures", d)
        self.assertEqual(status, 400)
        self.assertIn("decision", doc["error"]["message"])

    def test_malformed_decisions(self):
        for change, where in (
                (lambda d: d.update(magistrate=""), "decision.magistrate"),
                (lambda d: d.update(offence="felony"), "decision.offence"),
                (lambda d: d.update(periods=[]), "decision.periods"),
                (lambda d: d["periods"][0].update(stage="probation"), "stage"),
                (lambda d: d["periods"][0].update(end="2026-02-30"), "periods[0].end"),
                (lambda d: d["periods"][0].update(start="tomorrow"), "periods[0].start"),
                (lambda d: d["periods"][0]["consents"].update(victim=day(0)), "unknown key"),
                (lambda d: d.update(color="red"), "unknown key"),
                (lambda d: d["author"].update(home=[91, 0]), "decision.author.home")):
            d = self.definition()
            change(d["decision"])
            status, doc = self.api("POST", "/api/v1/measures", d)
            self.assertEqual(status, 400, (where, doc))
            self.assertIn(where, doc["error"]["message"])
        self.assertEqual(self.api("GET", "/api/v1/measures")[1], [])  # none declared

    def test_every_rule_through_the_api(self):
        def with_decision(**changes):
            d = self.definition()
            for key, value in changes.items():
                d["decision"][key] = value
            return d

        # a period over six months
        self.refused(with_decision(periods=[period(end=200)]), "period_too_long")
        # the homes closer than R
        d = self.definition()
        d["decision"]["author"]["home"] = [HOME[0] + 0.01, HOME[1]]
        self.refused(d, "homes_within_alert")
        # a minor
        d = self.definition()
        d["decision"]["protected"]["birth_date"] = day(-365 * 10)
        self.refused(d, "protected_not_adult")
        d = self.definition()
        d["decision"]["author"]["birth_date"] = day(-365 * 17)
        self.refused(d, "author_not_adult")
        # no consent of hers
        self.refused(with_decision(periods=[period(protected=False)]),
                     "protected_consent_missing")
        # her consent after the decision
        self.refused(with_decision(periods=[period(protected=day(2), start=-1)]),
                     "consent_date_invalid")
        # penal: an offence punishable by less than three years, or none
        self.refused(with_decision(offence_penalty_years=2), "offence_penalty")
        d = self.definition()
        del d["decision"]["offence"]
        self.refused(d, "offence_missing")
        # civil: his consent is needed, and given again for a renewal
        civil = self.definition()
        civil["decision"].pop("offence")
        civil["decision"].pop("offence_penalty_years")
        civil["decision"]["periods"] = [period("protection_order", author=False)]
        self.refused(civil, "author_consent_missing")
        civil["decision"]["periods"] = [
            period("protection_order", start=-100, end=50),
            period("protection_order", start=50, end=150, decided=day(-1),
                   protected=day(-100), author=day(-1))]
        self.refused(civil, "consent_not_renewed")
        # judicial control beyond two years in all
        periods, start = [], -720
        while start < 60:
            periods.append(period(start=start, end=start + 180, decided=day(start)))
            start += 180
        self.refused(with_decision(periods=periods), "pre_sentencing_cap")
        # periods that overlap, stages that go back
        self.refused(with_decision(periods=[period(start=-10, end=100),
                                            period(start=50, end=150, decided=day(-10))]),
                     "periods_overlap")
        self.refused(with_decision(periods=[period("post_sentencing", start=-10, end=20),
                                            period(start=20, end=150, decided=day(-10))]),
                     "stage_order")
        # a fixed zone out of the legal range of R
        d = self.definition(zones=[{"id": 1, "category": "school", "shape": "circle",
                                    "center": [47.19, -1.56], "alert_radius_m": 500}])
        status, doc = self.api("POST", "/api/v1/measures", d)
        self.assertIn(status, (400, 422), doc)
        self.assertEqual(self.api("GET", "/api/v1/measures")[1], [])  # nothing declared

    def test_warnings_are_returned_with_the_creation(self):
        d = self.definition(radius=2000)
        d["decision"]["author"]["home"] = [HOME[0] + 0.027, HOME[1]]  # 3 km: within 2R
        status, doc = self.api("POST", "/api/v1/measures", d)
        self.assertEqual(status, 201, doc)
        self.assertEqual([w["rule"] for w in doc["warnings"]], ["homes_within_prealert"])
        self.assertEqual(doc["status"], "pending_installation")

    def test_facts_from_the_persons_files(self):
        def person(last, birth, home=None):
            p = {"identity": {"last_name": last, "first_names": "X", "birth_date": birth}}
            if home:
                p["addresses"] = [{"label": "home", "text": "somewhere",
                                   "location": list(home)}]
            status, doc = self.api("POST", "/api/v1/persons", p)
            self.assertEqual(status, 201, doc)
            return doc["id"]

        her = person("Martin", "1985-05-06", HOME)
        him = person("Bernard", "1980-02-01", FAR)
        d = self.definition(persons={"author": him, "protected": her})
        del d["decision"]["author"]
        del d["decision"]["protected"]
        self.create(d)
        # his file says he lives 1 km from her: the law refuses it
        near = person("Durand", "1980-02-01", (HOME[0] + 0.009, HOME[1]))
        d = self.definition(persons={"author": near, "protected": her})
        del d["decision"]["author"]
        del d["decision"]["protected"]
        self.refused(d, "homes_within_alert")
        # a file without a home's location, and none in the decision
        nowhere = person("Petit", "1980-02-01")
        d = self.definition(persons={"author": nowhere, "protected": her})
        del d["decision"]["author"]
        status, doc = self.api("POST", "/api/v1/measures", d)
        self.assertEqual(status, 400, doc)
        self.assertIn("decision.author.home", doc["error"]["message"])


class Lifecycle(MeasuresTest):
    def test_checklist_activation_and_what_each_status_raises(self):
        mid = self.create(self.definition("L1", bracelet=True))
        m = self.get(mid)
        self.assertEqual((m["status"], m["version"], m["raising"]),
                         ("pending_installation", 1, "safety"))
        self.assertFalse(m["installation"]["complete"])
        self.assertIsNone(m["installation"]["author_fix"])
        a, p = self.units("L1")
        t = now_ms()
        # during the installation: the devices' health is not raised...
        self.send(a, record(STATUS, 1, status_body(t, battery=3)))
        # ...the persons' safety is: both within R of each other
        self.send(a, record(FIX, 2, fix_body(t, HOME[0] + 0.005, HOME[1])))
        self.send(p, record(FIX, 1, fix_body(t, HOME[0], HOME[1])))
        self.wait(lambda: 3 in self.alarm_kinds(mid), "the alert while pending")
        kinds = self.alarm_kinds(mid)
        self.assertFalse({9, 10} & set(kinds))  # battery low/critical: not during installation
        m = self.get(mid)
        self.assertEqual(m["status"], "pending_installation")  # the bracelet is not paired yet
        self.assertTrue(m["installation"]["author_fix"] and m["installation"]["protected_fix"])
        # the bracelet: paired, then its strap closed: the checklist is complete
        self.send(a, record(STATUS, 3, status_body(t, link=1)))
        self.assertEqual(self.get(mid)["status"], "pending_installation")
        self.send(a, record(STATUS, 4, status_body(t, strap=1, subject=1)))
        self.wait(lambda: self.get(mid)["status"] == "active", "activation")
        m = self.get(mid)
        self.assertEqual((m["version"], m["raising"], m["in_force"]), (2, "all", True))
        self.assertTrue(m["installation"]["complete"])
        # active: every alarm, the devices' health too
        self.send(a, record(STATUS, 5, status_body(now_ms(), battery=3)))
        self.wait(lambda: {9, 10} & set(self.alarm_kinds(mid)), "the battery once active")

        # suspended: his approach is not raised, her SOS is
        status, doc = self.api("POST", "/api/v1/measures/%d/suspend" % mid, {"based_on": 2})
        self.assertEqual(status, 400, doc)  # a note is required
        status, doc = self.api("POST", "/api/v1/measures/%d/suspend" % mid,
                               {"based_on": 1, "note": "hospitalised"})
        self.assertEqual((status, doc["error"]["code"]), (409, "stale"))
        status, doc = self.api("POST", "/api/v1/measures/%d/suspend" % mid,
                               {"based_on": 2, "note": "hospitalised (order of 3 Dec)"})
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["version"], 3)
        self.assertEqual(self.get(mid)["raising"], "persons")
        before = len(self.alarm_kinds(mid))
        t = now_ms()
        self.send(a, record(FIX, 6, fix_body(t, HOME[0] + 0.02, HOME[1])))
        self.send(a, record(FIX, 7, fix_body(t + 1000, HOME[0] + 0.001, HOME[1])))
        self.send(p, record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: 20 in self.alarm_kinds(mid)[before:], "her SOS while suspended")
        time.sleep(0.5)
        self.assertEqual(self.alarm_kinds(mid)[before:], [20])
        status, doc = self.api("POST", "/api/v1/measures/%d/suspend" % mid,
                               {"based_on": 3, "note": "again"})
        self.assertEqual((status, doc["error"]["code"]), (409, "state"))
        # resumed: he is inside the zone now, and that is raised at once
        status, doc = self.api("POST", "/api/v1/measures/%d/resume" % mid,
                               {"based_on": 3, "note": "out of hospital"})
        self.assertEqual(status, 200, doc)
        self.wait(lambda: 3 in self.alarm_kinds(mid)[before:], "the alert on resumption")

        # lifted: ended, nothing raised, nothing more changes
        status, doc = self.api("POST", "/api/v1/measures/%d/lift" % mid,
                               {"based_on": 4, "note": "mainlevée, order of 4 Dec"})
        self.assertEqual(status, 200, doc)
        m = self.get(mid)
        self.assertEqual((m["status"], m["end_reason"], m["raising"]), ("ended", "lifted", "none"))
        n = len(self.alarm_kinds(mid))
        self.send(p, record(EVENT, 3, event_body(now_ms(), SOS)))
        time.sleep(0.5)
        self.assertEqual(len(self.alarm_kinds(mid)), n)
        for action in ("resume", "suspend", "lift", "revoke"):
            status, doc = self.api("POST", "/api/v1/measures/%d/%s" % (mid, action),
                                   {"based_on": 5, "note": "x"})
            self.assertEqual((status, doc["error"]["code"]), (409, "state"), action)
        status, doc = self.api("PUT", "/api/v1/measures/%d" % mid,
                               {"based_on": 5, "note": "x", "definition": m["definition"]})
        self.assertEqual(status, 409, doc)
        # every version kept, newest first, with who and why
        status, versions = self.api("GET", "/api/v1/measures/%d/versions" % mid)
        self.assertEqual(status, 200)
        self.assertEqual([(v["version"], v["status"]) for v in versions],
                         [(5, "ended"), (4, "active"), (3, "suspended"), (2, "active"),
                          (1, "pending_installation")])
        self.assertEqual(versions[0]["note"], "mainlevée, order of 4 Dec")
        self.assertEqual(versions[3]["actor"], "centre")  # the activation
        # the units of an ended measure serve a new one
        self.create(self.definition("L1-bis", units={"author": "L1-A", "protected": "L1-P"}))
        actions = [r[0] for r in self.d.query("SELECT action FROM journal WHERE subject = 'L1' "
                                              "ORDER BY id")]
        for expected in ("measure.create", "measure.installation", "measure.activate",
                         "measure.suspend", "measure.resume", "measure.lift", "measure.read",
                         "measure.versions"):
            self.assertIn(expected, actions)

    def test_a_measure_without_bracelet_activates_on_both_fixes(self):
        mid = self.create(self.definition("L2"))
        a, p = self.units("L2")
        self.send(a, record(FIX, 1, fix_body(now_ms(), *FAR)))
        self.assertEqual(self.get(mid)["status"], "pending_installation")
        # a "no fix" record is not a first fix
        self.send(p, record(FIX, 1, fix_body(now_ms(), 0, 0, quality=0)))
        self.assertEqual(self.get(mid)["status"], "pending_installation")
        self.send(p, record(FIX, 2, fix_body(now_ms(), *HOME)))
        self.wait(lambda: self.get(mid)["status"] == "active", "activation")

    def test_a_decision_not_yet_in_force(self):
        d = self.definition("L3")
        d["decision"]["periods"] = [period(start=3, end=100, decided=day(-1))]
        mid = self.create(d)
        a, p = self.units("L3")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, HOME[0] + 0.005, HOME[1])))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        self.send(p, record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: 20 in self.alarm_kinds(mid), "her SOS")
        time.sleep(0.3)
        m = self.get(mid)
        # installed, but the decision starts in three days: not active, and
        # only a person's call for help is raised
        self.assertEqual((m["status"], m["raising"]), ("pending_installation", "persons"))
        self.assertTrue(m["installation"]["complete"])
        self.assertEqual(self.alarm_kinds(mid), [20])


class Incidents(MeasuresTest):
    def incidents(self, mid):
        return self.d.query("SELECT id, state, priority, first_kind, n_alarms, previous_id "
                            "FROM incidents WHERE measure_id = ? ORDER BY id", mid)

    def test_alarms_open_one_incident_per_situation_kept_across_a_restart(self):
        mid = self.create(self.definition("I1"))
        a, p = self.units("I1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        self.wait(lambda: self.get(mid)["status"] == "active", "activation")
        self.send(p, record(EVENT, 2, event_body(now_ms(), SOS)))
        self.wait(lambda: self.incidents(mid), "an incident")
        # SOS is alert priority (1), kind 20, one alarm
        self.assertEqual(self.incidents(mid), [(1, 1, 1, 20, 1, 0)])
        # a second SOS joins it: one situation, one incident
        self.send(p, record(EVENT, 3, event_body(now_ms(), SOS)))
        self.wait(lambda: self.incidents(mid)[0][4] == 2, "the second alarm joined")
        a.close()
        p.close()
        self.d.stop()
        self.d.start()
        p, _ = connect_ready(self.d, "I1-P")
        self.addCleanup(p.close)
        self.send(p, record(EVENT, 4, event_body(now_ms(), SOS)))
        self.wait(lambda: self.incidents(mid)[0][4] == 3, "joined after a restart")
        self.assertEqual(len(self.incidents(mid)), 1)


class Expiry(MeasuresTest):
    def test_a_measure_expires_after_its_last_period(self):
        d = self.definition("E1")
        d["decision"]["periods"] = [period(start=-1, end=30)]
        ended = self.create(d)
        d = self.definition("E2")
        d["decision"]["periods"] = [period(start=-1, end=30),
                                    period(start=30, end=60, decided=day(0))]
        renewed = self.create(d)
        self.d.stop()
        # vigied again, 40 days later: the first has expired (its last
        # period ended on day 30), the renewed one has not
        self.d.start(days_later=40)
        m = self.get(ended)
        self.assertEqual((m["status"], m["end_reason"], m["raising"]),
                         ("ended", "expired", "none"))
        self.assertEqual(self.get(renewed)["status"], "pending_installation")
        versions = self.api("GET", "/api/v1/measures/%d/versions" % ended)[1]
        self.assertEqual((versions[0]["actor"], versions[0]["status"]), ("centre", "ended"))
        self.assertIn(("centre", "measure.expire", "E1"),
                      self.d.query("SELECT actor, action, subject FROM journal"))
        self.d.stop()
        self.d.start(days_later=70)
        self.assertEqual(self.get(renewed)["end_reason"], "expired")


class Retention(MeasuresTest):

    def test_archive_after_a_month_then_deletion_after_six_years(self):
        her, him = self.person("Martin", HOME), self.person("Bernard", FAR)
        d = self.definition("R1", persons={"author": him, "protected": her})
        del d["decision"]["author"], d["decision"]["protected"]
        mid = self.create(d)
        a, p = self.units("R1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: self.alarm_kinds(mid), "her SOS")
        self.wait(lambda: self.get(mid)["status"] == "active", "activation")
        status, doc = self.api("POST", "/api/v1/measures/%d/lift" % mid,
                               {"based_on": 2, "note": "mainlevée"})
        self.assertEqual(status, 200, doc)
        # the same units and her file serve a new measure, which keeps its records
        time.sleep(0.05)
        d2 = self.definition("R2", persons={"protected": her},
                             units={"author": "R1-A", "protected": "R1-P"})
        del d2["decision"]["protected"]
        m2 = self.create(d2)
        self.send(a, record(FIX, 3, fix_body(now_ms(), *FAR)))
        self.send(p, record(FIX, 3, fix_body(now_ms(), *HOME)))
        a.close()
        p.close()
        units = [u for (u,) in self.d.query("SELECT id FROM units WHERE serial LIKE 'R1-%'")]
        count = ("SELECT (SELECT count(*) FROM fixes WHERE unit_id IN (%s)) + "
                 "(SELECT count(*) FROM events WHERE unit_id IN (%s))" %
                 ((",".join(map(str, units)),) * 2))
        self.assertEqual(self.d.query(count)[0][0], 5)
        self.d.stop()

        # a month and more after the end: archived, out of the active base
        self.d.start(days_later=40)
        # the retention job runs at start, on a thread of its own
        self.wait(lambda: [m["name"] for m in self.api("GET", "/api/v1/measures")[1]] == ["R2"],
                  "the archive")
        status, doc = self.api("GET", "/api/v1/measures/%d" % mid)
        self.assertEqual(status, 400, doc)  # the administrator must say why
        self.assertIn("reason", doc["error"]["message"])
        status, doc = self.api("GET", "/api/v1/measures/%d?reason=appeal%%20of%%203%%20Jan" % mid)
        self.assertEqual(status, 200, doc)
        self.assertTrue(doc["archived"])
        self.assertEqual([v["version"] for v in doc["versions"]], [3, 2, 1])
        op = Client(self.d.http_port)
        self.assertEqual(op.request("POST", "/api/v1/users", {"name": "u-op", "role": "operator",
                                                              "password": PASSWORD},
                                    bearer=self.d.token)[0], 201)
        self.assertEqual(op.login("u-op", PASSWORD)[0], 200)
        self.assertEqual(op.request("GET", "/api/v1/measures/%d?reason=x" % mid)[0], 404)
        journal = self.d.query("SELECT actor, action, subject, detail FROM journal")
        self.assertIn(("retention", "retention.archive", "R1"), [j[:3] for j in journal])
        self.assertIn(("admin-token", "measure.read_archive", "R1", '{"reason":"appeal of 3 Jan"}'),
                      journal)
        self.d.stop()

        # six years after the end: deleted, but what the new measure holds stays
        self.d.start(days_later=6 * 366 + 40)
        self.wait(lambda: self.api("GET", "/api/v1/measures/%d?reason=x" % mid)[0] == 404,
                  "the deletion")
        for table in ("measures", "measure_versions", "alarms", "engine_states", "incidents",
                      "reports"):
            column = "id" if table == "measures" else "measure_id"
            self.assertEqual(self.d.query("SELECT count(*) FROM %s WHERE %s = ?" % (table, column),
                                          mid)[0][0], 0, table)
        self.assertEqual(self.d.query(count)[0][0], 2)  # R2's two fixes
        self.assertEqual(self.d.query("SELECT id FROM persons ORDER BY id"), [(her,)])
        self.assertEqual(self.d.query("SELECT count(*) FROM person_versions WHERE person_id = ?",
                                      him)[0][0], 0)
        self.assertEqual(self.get(m2)["name"], "R2")
        journal = self.d.query("SELECT actor, action, subject, detail FROM journal")
        deleted = [j for j in journal if j[1] == "retention.delete"]
        self.assertEqual(len(deleted), 1)
        self.assertEqual(json.loads(deleted[0][3])["records"], 3)
        self.d.stop()
        res = self.d.vigie("journal", "verify", "--data-dir", self.d.dir)
        self.assertIn("journal intact", res.stdout)


class Transfer(MeasuresTest):
    def test_export_then_import_into_another_centre_loses_nothing(self):
        her, him = self.person("Martin", HOME), self.person("Bernard", FAR)
        d = self.definition("T1", persons={"author": him, "protected": her})
        del d["decision"]["author"], d["decision"]["protected"]
        mid = self.create(d)
        a, p = self.units("T1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)), record(STATUS, 2, status_body(t, battery=55)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: self.get(mid)["status"] == "active", "activation")
        self.wait(lambda: self.alarm_kinds(mid), "her SOS")
        d["alert_radius_m"] = 3000
        status, doc = self.api("PUT", "/api/v1/measures/%d" % mid,
                               {"based_on": 2, "note": "R to 3 km", "definition": d})
        self.assertEqual(status, 200, doc)
        status, export = self.api("GET", "/api/v1/measures/%d/export" % mid)
        self.assertEqual(status, 200, export)
        self.assertEqual((export["format"], export["format_version"]), ("vigie.measure-export", 1))
        self.assertEqual([v["version"] for v in export["measure"]["versions"]], [1, 2, 3])
        self.assertEqual(sorted(p_["id"] for p_ in export["persons"]), sorted([her, him]))
        self.assertEqual(sum(len(u["records"]) for u in export["units"]), 4)
        self.assertEqual([al["kind_name"] for al in export["alarms"]],
                         [k for k in ["sos"]])
        subjects = {e["subject"] for e in export["journal"]}
        ours = {"T1", "person/%d" % her, "person/%d" % him}
        self.assertLessEqual(ours, subjects)  # and its incident's entries, if any
        self.assertLessEqual(subjects, ours | {"incident/%d" % export["incidents"][0]["id"]})
        self.assertIn(("admin-token", "measure.export", "T1"),
                      self.d.query("SELECT actor, action, subject FROM journal"))
        installer = Client(self.d.http_port)
        installer.request("POST", "/api/v1/users", {"name": "u-i", "role": "installer",
                                                    "password": PASSWORD}, bearer=self.d.token)
        self.assertEqual(installer.login("u-i", PASSWORD)[0], 200)
        self.assertEqual(installer.request("GET", "/api/v1/measures/%d/export" % mid)[0], 403)
        path = os.path.join(self.d.dir, "t1.json")
        with open(path, "w") as f:
            json.dump(export, f)
        a.close()
        p.close()

        other = Daemon(extra=CHEAP)
        other.start()
        self.addCleanup(other.cleanup)
        imp = lambda *args: other.vigie("measure", "import", *args, "--data-dir",  # noqa: E731
                                        other.dir, check=False)
        res = imp(path)
        self.assertEqual(res.returncode, 1)  # vigied runs on it
        self.assertIn("in use", res.stderr)
        other.stop()
        # an altered document is refused, and nothing is written
        altered = copy.deepcopy(export)
        altered["journal"][1]["detail"] += " "
        bad = os.path.join(self.d.dir, "bad.json")
        with open(bad, "w") as f:
            json.dump(altered, f)
        res = imp(bad)
        self.assertEqual(res.returncode, 1)
        self.assertIn("altered", res.stderr)
        res = imp(path)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("3 versions, 4 records, 1 alarms, 1 incidents", res.stdout)
        res = imp(path)
        self.assertEqual(res.returncode, 1)
        self.assertIn("exists here already", res.stderr)
        other.start()
        listed = json.loads(other.http("GET", "/api/v1/measures")[1])
        self.assertEqual([(m["name"], m["status"], m["version"], m["alert_radius_m"])
                          for m in listed], [("T1", "active", 3, 3000)])
        nid = listed[0]["id"]
        again = json.loads(other.http("GET", "/api/v1/measures/%d/export" % nid)[1])
        self.assertEqual(len(export["incidents"]), 1)
        self.assertEqual(export["incidents"][0]["first_kind"], 20)
        for key in ("measure", "persons", "units", "alarms", "incidents"):
            self.assertEqual(again[key], export[key], key)
        self.assertEqual(other.query("SELECT count(*) FROM imported_journal")[0][0],
                         len(export["journal"]))
        self.assertIn(("vigie-import", "measure.import", "T1"),
                      other.query("SELECT actor, action, subject FROM journal"))
        other.stop()
        res = other.vigie("journal", "verify", "--data-dir", other.dir)
        self.assertIn("journal intact", res.stdout)


class Versions(MeasuresTest):
    def test_revision_renewal_and_what_a_version_may_not_change(self):
        d = self.definition("V1")
        mid = self.create(d)
        put = lambda body: self.api("PUT", "/api/v1/measures/%d" % mid, body)  # noqa: E731
        # a revision of R
        revised = copy.deepcopy(d)
        revised["alert_radius_m"] = 5000
        status, doc = put({"based_on": 1, "note": "R to 5 km, order of 2 Dec",
                           "definition": revised})
        self.assertEqual((status, doc["version"]), (200, 2), doc)
        self.assertEqual(self.get(mid)["definition"]["alert_radius_m"], 5000)
        self.assertEqual(self.get(mid)["alert_radius_m"], 5000)
        # made from an old version: refused, nothing changed
        status, doc = put({"based_on": 1, "note": "x", "definition": d})
        self.assertEqual((status, doc["error"]["code"]), (409, "stale"))
        # a renewal adds a period
        renewed = copy.deepcopy(revised)
        renewed["decision"]["periods"].append(period(start=149, end=300, decided=day(0)))
        status, doc = put({"based_on": 2, "note": "renewal", "definition": renewed})
        self.assertEqual((status, doc["version"]), (200, 3), doc)
        # the law still holds across versions: a third period over the two-year cap
        capped = copy.deepcopy(renewed)
        capped["decision"]["periods"] += [period(start=s, end=s + 180, decided=day(0))
                                          for s in (299, 479, 659)]
        status, doc = put({"based_on": 3, "note": "x", "definition": capped})
        self.assertEqual(status, 422, doc)
        self.assertIn("pre_sentencing_cap", [v["rule"] for v in doc["error"]["violations"]])
        # what a version may not change
        for change, word in ((lambda x: x["units"].update(author="OTHER-A"), "units"),
                             (lambda x: x.update(name="V1-renamed"), "name"),
                             (lambda x: x["decision"]["periods"][0].update(end=day(100)),
                              "periods[0]"),
                             (lambda x: x["decision"]["periods"].pop(), "periods")):
            bad = copy.deepcopy(renewed)
            change(bad)
            status, doc = put({"based_on": 3, "note": "x", "definition": bad})
            self.assertEqual(status, 400, (word, doc))
            self.assertIn(word, doc["error"]["message"])
        for body in ({"note": "x", "definition": renewed}, {"based_on": 3, "note": "x"},
                     {"based_on": 3, "definition": renewed, "extra": 1},
                     {"based_on": "3", "definition": renewed}):
            self.assertEqual(put(body)[0], 400, body)
        status, versions = self.api("GET", "/api/v1/measures/%d/versions" % mid)
        self.assertEqual([v["version"] for v in versions], [3, 2, 1])
        self.assertEqual([v["definition"]["alert_radius_m"] for v in versions],
                         [5000, 5000, 2000])
        self.assertEqual(versions[1]["note"], "R to 5 km, order of 2 Dec")
        self.assertEqual(self.api("GET", "/api/v1/measures/999")[0], 404)
        self.assertEqual(self.api("GET", "/api/v1/measures/%d/nothing" % mid)[0], 404)
        self.assertEqual(self.api("DELETE", "/api/v1/measures/%d" % mid)[0], 405)


class Cli(MeasuresTest):
    def vigie(self, *args, check=True):
        return self.d.vigie("measure", *args, "--http", "127.0.0.1:%d" % self.d.http_port,
                            "--data-dir", self.d.dir, check=check)

    def test_the_whole_life_through_the_cli(self):
        path = os.path.join(self.d.dir, "m.json")
        d = self.definition("C1", bracelet=True)
        with open(path, "w") as f:
            json.dump(d, f)
        res = self.vigie("create", path)
        self.assertIn("pending installation", res.stdout)
        mid = int(res.stdout.split("id ")[1].split(",")[0])
        res = self.vigie("create", path, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("exists already", res.stderr)
        bad = copy.deepcopy(d)
        bad["name"] = "C2"
        bad["units"] = {"author": "C2-A", "protected": "C2-P"}
        bad["decision"]["periods"] = [period(end=250)]
        with open(path, "w") as f:
            json.dump(bad, f)
        res = self.vigie("create", path, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("period_too_long", res.stderr)  # each broken rule on its line
        out = self.vigie("show", str(mid)).stdout
        for text in ("C1", "pending_installation", "[ ] first fix of the author's unit",
                     "bracelet's strap closed", "pre_sentencing", "Mme J. Durand, JLD",
                     "misdemeanour, punishable by 5 years"):
            self.assertIn(text, out)
        self.assertEqual(json.loads(self.vigie("show", str(mid), "--json").stdout)["version"], 1)
        d["alert_radius_m"] = 3000
        with open(path, "w") as f:
            json.dump(d, f)
        res = self.vigie("update", str(mid), path, "--based-on", "1", check=False)
        self.assertEqual(res.returncode, 2)  # no note
        self.assertIn("--note", res.stderr)
        res = self.vigie("update", str(mid), path, "--based-on", "1", "--note", "R to 3 km")
        self.assertIn("version 2", res.stdout)
        res = self.vigie("lift", str(mid), "--based-on", "1", "--note", "x", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("read it again", res.stderr)
        self.vigie("lift", str(mid), "--based-on", "2", "--note", "mainlevée")
        out = self.vigie("versions", str(mid)).stdout
        self.assertIn("ended/lifted", out)
        self.assertIn("R to 3 km", out)
        self.assertIn("3000", out)
        self.assertEqual(len(json.loads(self.vigie("versions", str(mid), "--json").stdout)), 3)
        out = self.vigie("list").stdout
        self.assertIn("ended", out)
        self.assertEqual(self.vigie("show", "abc", check=False).returncode, 2)
        self.assertEqual(self.vigie("show", "99", check=False).returncode, 1)
        self.assertEqual(self.vigie("frobnicate", check=False).returncode, 2)


class Roles(MeasuresTest):
    def test_who_may_read_and_change_a_measure(self):
        mine = self.create(self.definition("R-A", court="TJ-A"))
        other = self.create(self.definition("R-B", court="TJ-B"))
        body = {"based_on": 1, "note": "order"}
        for role, court, may_change in (("operator", None, False), ("supervisor", None, False),
                                        ("statistician", None, False),
                                        ("installer", None, True),
                                        ("magistrate", "TJ-A", True),
                                        ("administrator", None, True)):
            c = self.session("u-" + role, role, court)
            status, doc, _ = c.request("GET", "/api/v1/measures/%d" % mine)
            self.assertEqual(status, 403 if role == "statistician" else 200, (role, doc))
            status, doc, _ = c.request("GET", "/api/v1/measures/%d/versions" % other)
            want = {"statistician": 403, "magistrate": 404}.get(role, 200)
            self.assertEqual(status, want, (role, doc))
            # a magistrate of another court: as if the measure did not exist;
            # the others get through to the lifecycle (a pending measure
            # does not resume) or are refused the right
            status, doc, _ = c.request("POST", "/api/v1/measures/%d/resume" % other, body)
            want = 404 if role == "magistrate" else 409 if may_change else 403
            self.assertEqual(status, want, (role, doc))
            status, doc, _ = c.request("POST", "/api/v1/measures/%d/suspend" % mine, body,
                                       csrf=False)
            self.assertEqual(status, 403, (role, doc))  # no CSRF token, or no right
        self.assertEqual([v["version"] for v in
                          self.api("GET", "/api/v1/measures/%d/versions" % mine)[1]], [1])


if __name__ == "__main__":
    unittest.main()
