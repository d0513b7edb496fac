"""The statistician's figures end to end (docs/API.md, "Statistics"), against
a real vigied whose measures were declared, installed (their units' first
fixes over TLS), raised alarms (her SOS) and, some, lifted: the counts by
court and month, small counts withheld, a small court folded into "other
courts", nothing that names anyone in the answer, who may read it (a
magistrate his court only), bad periods refused, the CSV the same as the
JSON, the read journaled, and `vigie stats`.

    VIGIE_BUILD=build python3 tests/integ/test_statistics.py [-k NAME]
"""
import csv
import datetime
import io
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_users import CHEAP, PASSWORD, Client  # noqa: E402
from vigie_harness import (ACK, EVENT, FIX, SOS, Daemon, binary, connect_ready,  # noqa: E402
                           decision, event_body, fix_body, now_ms, record, records)

HOME = (47.2184, -1.5536)  # hers, in Nantes
FAR = (47.45, -0.55)       # his, near Angers
OTHER = "other courts"
# Names that must never come out of the statistics: measures' names, units'
# serials (both start with this), and the persons' ids (set below).
SECRET = "Zq7"


def this_month():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")


def cells(month):
    """A month's cells by metric name, as the CSV names them."""
    out = {}
    for key, cell in month.items():
        if key in ("measures_ended", "alarms_by_kind"):
            out.update({key + "." + sub: x for sub, x in cell.items()})
        elif key != "month":
            out[key] = cell
    return out


# what changes from one read to the next: time goes by while measures are active
MOVING = ("measures_active_days", "alarms_per_pair_day", "device_uptime_share")
# shares and durations: not counts
SHARES = ("false_alarm_share", "time_to_take_median_s", "time_to_police_median_s")


def months_back(month, n):
    y, m = map(int, month.split("-"))
    k = y * 12 + m - 1 - n
    return "%04d-%02d" % (k // 12, k % 12 + 1)


class Statistics(unittest.TestCase):
    """One centre for every test: 6 measures in TJ-A, active, each with an
    SOS, 2 of them lifted; 2 in TJ-B, active, one with an SOS."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(extra=CHEAP)
        cls.d.start()
        try:
            cls.populate()
        except BaseException:
            cls.d.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        for u in getattr(cls, "units", []):
            u.close()
        cls.d.cleanup()

    @classmethod
    def api(cls, method, path, body=None):
        status, text = cls.d.http(method, path,
                                  json.dumps(body).encode() if body is not None else None)
        return status, json.loads(text) if text.strip() else None

    @classmethod
    def populate(cls):
        tok = cls.d.token
        for name, role, court in (("u-statistician", "statistician", None),
                                  ("u-supervisor", "supervisor", None),
                                  ("u-operator", "operator", None),
                                  ("u-installer", "installer", None),
                                  ("u-magistrate", "magistrate", "TJ-A"),
                                  ("u-magistrate-b", "magistrate", "TJ-B")):
            body = {"name": name, "role": role, "password": PASSWORD}
            if court:
                body["court"] = court
            status, doc, _ = Client(cls.d.http_port).request("POST", "/api/v1/users", body,
                                                             bearer=tok)
            assert status == 201, doc
        # persons' files for one of the measures: their ids must not come out
        cls.person_ids = []
        for last, birth, home in (("Martin", "1985-05-06", HOME), ("Bernard", "1980-02-01", FAR)):
            status, doc = cls.api("POST", "/api/v1/persons", {
                "identity": {"last_name": last, "first_names": "X", "birth_date": birth},
                "addresses": [{"label": "home", "text": "somewhere", "location": list(home)}]})
            assert status == 201, doc
            cls.person_ids.append(doc["id"])
        cls.ids = {}
        for court, n in (("TJ-A", 6), ("TJ-B", 2)):
            for i in range(1, n + 1):
                name = "%s-%s-%d" % (SECRET, court, i)
                d = {"name": name, "court": court, "alert_radius_m": 2000,
                     "units": {"author": name + "-A", "protected": name + "-P"},
                     "decision": decision(author_home=FAR, protected_home=HOME)}
                if court == "TJ-A" and i == 1:
                    d["persons"] = {"protected": cls.person_ids[0], "author": cls.person_ids[1]}
                    del d["decision"]["author"], d["decision"]["protected"]
                status, doc = cls.api("POST", "/api/v1/measures", d)
                assert status == 201, doc
                cls.ids[name] = doc["id"]
        # installed: both units' first fixes make each measure active
        cls.units, cls.protected = [], {}
        for name in cls.ids:
            cls.d.issue(name + "-A")
            cls.d.issue(name + "-P")
            a, _ = connect_ready(cls.d, name + "-A")
            p, _ = connect_ready(cls.d, name + "-P")
            cls.units += [a, p]
            cls.protected[name] = p
            for unit, where in ((a, FAR), (p, HOME)):
                unit.send(records(record(FIX, 1, fix_body(now_ms(), *where))))
                unit.expect(ACK)
        cls.wait(lambda: all(m["status"] == "active"
                             for m in cls.api("GET", "/api/v1/measures")[1]),
                 "every measure active")
        # her SOS: every measure of TJ-A, one of TJ-B
        sos = [n for n in cls.ids if "TJ-A" in n] + ["%s-TJ-B-1" % SECRET]
        for name in sos:
            p = cls.protected[name]
            p.send(records(record(EVENT, 2, event_body(now_ms(), SOS))))
            p.expect(ACK)
        cls.wait(lambda: cls.d.query("SELECT count(*) FROM alarms WHERE kind = 20")[0][0]
                 == len(sos), "the SOS raised")
        # two of TJ-A lifted
        for i in (5, 6):
            mid = cls.ids["%s-TJ-A-%d" % (SECRET, i)]
            status, doc = cls.api("POST", "/api/v1/measures/%d/lift" % mid,
                                  {"based_on": 2, "note": "mainlevée"})
            assert status == 200, doc

    @classmethod
    def wait(cls, cond, what, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if cond():
                return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for " + what)

    sessions = {}

    def session(self, name):
        """One login per user for the whole class: an address gets 10 at once."""
        if name not in self.sessions:
            c = Client(self.d.http_port)
            status, doc, _ = c.login(name, PASSWORD)
            self.assertEqual(status, 200, doc)
            self.sessions[name] = c
        return self.sessions[name]

    def read(self, who="u-statistician", query=""):
        status, doc, r = self.session(who).request("GET", "/api/v1/statistics" + query)
        self.assertEqual(status, 200, doc)
        return doc, r

    @staticmethod
    def month(doc, court, month=None):
        row = [c for c in doc["courts"] if c["court"] == court][0]
        return [m for m in row["months"] if m["month"] == (month or this_month())][0]

    def assertShown(self, cell, value=None):
        self.assertNotIn("suppressed", cell)
        self.assertIsNotNone(cell["value"])
        if value is not None:
            self.assertEqual(cell["value"], value)

    def assertWithheld(self, cell):
        self.assertEqual(cell, {"value": None, "suppressed": True})

    # ---- the figures ------------------------------------------------------------------------

    def test_by_court_and_month(self):
        doc, r = self.read()
        self.assertEqual(r.getheader("Content-Type"), "application/json; charset=utf-8")
        # by default the 12 months to this one
        self.assertEqual((doc["from"], doc["to"]), (months_back(this_month(), 11), this_month()))
        self.assertEqual(doc["threshold"], 5)
        # TJ-B has two measures: folded into "other courts", never named
        self.assertEqual([c["court"] for c in doc["courts"]], ["TJ-A", OTHER])
        for c in doc["courts"]:
            self.assertEqual([m["month"] for m in c["months"]],
                             [months_back(this_month(), 11 - k) for k in range(12)])
        a = self.month(doc, "TJ-A")
        self.assertShown(a["measures_declared"], 6)
        self.assertShown(a["activations"], 6)
        self.assertShown(a["activation_delay_median_hours"])
        self.assertLess(a["activation_delay_median_hours"]["value"], 1)
        self.assertShown(a["measures_active_days"])
        self.assertShown(a["alarms_by_kind"]["sos"], 6)
        self.assertShown(a["alarms_by_kind"]["alert_entered"], 0)
        self.assertShown(a["alarms"], 6)
        self.assertShown(a["alarms_per_pair_day"])
        self.assertShown(a["measures_ended"]["expired"], 0)
        self.assertWithheld(a["measures_ended"]["lifted"])  # 2
        # each SOS opened an incident, none taken nor closed: no time to take, no share
        self.assertShown(a["incidents"], 6)
        self.assertEqual(a["time_to_take_median_s"], {"value": None})
        self.assertEqual(a["false_alarm_share"], {"value": None})
        # six active measures with two units each: the uptime is published, a share
        self.assertShown(a["device_uptime_share"])
        self.assertTrue(0 <= a["device_uptime_share"]["value"] <= 1)
        # a month without anything: zeros are shown, a ratio of nothing is null
        before = self.month(doc, "TJ-A", months_back(this_month(), 1))
        self.assertShown(before["measures_declared"], 0)
        self.assertShown(before["measures_active_days"], 0)
        self.assertEqual(before["activation_delay_median_hours"], {"value": None})
        self.assertEqual(before["alarms_per_pair_day"], {"value": None})

    def test_small_counts_are_withheld(self):
        doc, _ = self.read()
        o = self.month(doc, OTHER)
        for cell in (o["measures_declared"], o["activations"], o["activation_delay_median_hours"],
                     o["measures_active_days"], o["alarms_by_kind"]["sos"], o["alarms"],
                     o["alarms_per_pair_day"]):
            self.assertWithheld(cell)
        # no count from 1 to 4 anywhere (days and ratios are not counts)
        for c in doc["courts"]:
            for m in c["months"]:
                for metric, x in cells(m).items():
                    if metric not in MOVING + ("activation_delay_median_hours",) + SHARES:
                        self.assertFalse(x["value"] is not None and 1 <= x["value"] <= 4,
                                         (c["court"], m["month"], metric, x))

    def test_nothing_names_anyone(self):
        for query in ("", "?format=csv"):
            status, body, _ = self.session("u-statistician").request(
                "GET", "/api/v1/statistics" + query)
            self.assertEqual(status, 200)
            text = body if isinstance(body, str) else json.dumps(body)
            self.assertNotIn(SECRET, text)  # no measure name, no unit serial
            self.assertNotIn("TJ-B", text)  # the small court
            for pid in self.person_ids:
                self.assertNotIn(str(pid), text)
            for word in ('"id"', '"name"', "serial", "person", "author", "U-"):
                self.assertNotIn(word, text, query)

    # ---- who may read -----------------------------------------------------------------------

    def test_who_may_read(self):
        for who, want in (("u-statistician", 200), ("u-supervisor", 200), ("u-magistrate", 200),
                          ("u-operator", 403), ("u-installer", 403)):
            status, doc, _ = self.session(who).request("GET", "/api/v1/statistics")
            self.assertEqual(status, want, (who, doc))
            if want == 403:
                self.assertEqual(doc["error"]["code"], "forbidden")
        # the token's tools (vigie stats)
        status, _ = self.api("GET", "/api/v1/statistics")
        self.assertEqual(status, 200)
        status, doc, _ = Client(self.d.http_port).request("GET", "/api/v1/statistics")
        self.assertEqual(status, 401)
        status, doc, r = self.session("u-statistician").request("POST", "/api/v1/statistics", {})
        self.assertEqual(status, 405)
        self.assertEqual(r.getheader("Allow"), "GET")

    def test_a_magistrate_sees_his_court_only(self):
        full, _ = self.read()
        doc, _ = self.read("u-magistrate")
        self.assertEqual([c["court"] for c in doc["courts"]], ["TJ-A"])
        for mine, all_of_them in zip(doc["courts"][0]["months"], full["courts"][0]["months"]):
            a, b = cells(mine), cells(all_of_them)
            for metric in MOVING:
                del a[metric], b[metric]
            self.assertEqual(a, b)
        # TJ-B is small: its magistrate gets it as "other courts", withheld
        doc, _ = self.read("u-magistrate-b")
        self.assertEqual([c["court"] for c in doc["courts"]], [OTHER])
        self.assertWithheld(self.month(doc, OTHER)["measures_declared"])
        self.assertNotIn("TJ-A", json.dumps(doc))

    # ---- periods ----------------------------------------------------------------------------

    def test_periods(self):
        now = this_month()
        doc, _ = self.read(query="?from=%s&to=%s" % (now, now))
        self.assertEqual([m["month"] for m in doc["courts"][0]["months"]], [now])
        doc, _ = self.read(query="?from=%s" % months_back(now, 35))
        self.assertEqual(len(doc["courts"][0]["months"]), 36)
        # a period before anything: no court at all
        doc, _ = self.read(query="?from=2020-01&to=2020-03")
        self.assertEqual(doc["courts"], [])
        c = self.session("u-statistician")
        for query, says in (("?from=2026-13", "from"), ("?from=x", "from"), ("?to=2026-1", "to"),
                            ("?from=2026-05&to=2026-04", "after"),
                            ("?from=%s" % months_back(now, 36), "36"),
                            ("?from=2026-01&from=2026-02", "twice"), ("?court=TJ-B", "unknown"),
                            ("?format=xml", "format")):
            status, doc, _ = c.request("GET", "/api/v1/statistics" + query)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid"), query)
            self.assertIn(says, doc["error"]["message"], query)

    # ---- CSV --------------------------------------------------------------------------------

    def test_csv_is_the_json(self):
        doc, _ = self.read()
        c = self.session("u-statistician")
        status, text, r = c.request("GET", "/api/v1/statistics?format=csv")
        self.assertEqual(status, 200)
        self.assertEqual(r.getheader("Content-Type"), "text/csv; charset=utf-8")
        rows = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual(list(rows[0].keys()), ["court", "month", "metric", "value", "suppressed"])
        expected = {(court["court"], m["month"], metric): x
                    for court in doc["courts"] for m in court["months"]
                    for metric, x in cells(m).items()}
        got = {(row["court"], row["month"], row["metric"]): row for row in rows}
        self.assertEqual(len(rows), len(got))  # one row per court, month and metric
        self.assertEqual(set(got), set(expected))
        for k, cell in expected.items():
            row = got[k]
            self.assertEqual(row["suppressed"], "true" if cell.get("suppressed") else "false", k)
            if cell["value"] is None:
                self.assertEqual(row["value"], "", k)
            elif k[2] in MOVING:  # time went by between the two reads
                self.assertGreaterEqual(float(row["value"]), 0, k)
            else:
                self.assertAlmostEqual(float(row["value"]), cell["value"], places=6, msg=k)
        self.assertEqual(got[("TJ-A", this_month(), "alarms_by_kind.sos")]["value"], "6")
        self.assertEqual(got[(OTHER, this_month(), "measures_declared")],
                         {"court": OTHER, "month": this_month(), "metric": "measures_declared",
                          "value": "", "suppressed": "true"})

    # ---- the journal and the CLI ------------------------------------------------------------

    def test_the_read_is_journaled(self):
        now = this_month()
        self.read(query="?from=%s&to=%s&format=csv" % (now, now))
        self.read("u-magistrate")
        rows = self.d.query("SELECT actor, subject, detail FROM journal "
                            "WHERE action = 'statistics.read' ORDER BY id")
        details = [(a, s, json.loads(d)) for a, s, d in rows]
        self.assertIn(("u-statistician", "statistics",
                       {"from": now, "to": now, "format": "csv"}), details)
        self.assertIn(("u-magistrate", "statistics",
                       {"from": months_back(now, 11), "to": now, "format": "json",
                        "court": "TJ-A"}), details)
        # a refused read is not a read
        self.session("u-operator").request("GET", "/api/v1/statistics")
        self.assertNotIn("u-operator", [a for a, _, _ in self.d.query(
            "SELECT actor, subject, detail FROM journal WHERE action = 'statistics.read'")])

    def cli(self, *args):
        return subprocess.run([binary("vigie"), "stats"] + list(args) +
                              ["--http", "127.0.0.1:%d" % self.d.http_port,
                               "--data-dir", self.d.dir], capture_output=True, text=True)

    def test_cli(self):
        res = self.cli()
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("TJ-A", res.stdout)
        self.assertIn(OTHER, res.stdout)
        self.assertIn("<5", res.stdout)
        self.assertIn("sos 6", res.stdout)
        self.assertNotIn(SECRET, res.stdout)
        line = [l for l in res.stdout.splitlines() if l.strip().startswith(this_month())][0]
        self.assertEqual(line.split()[1:3], ["6", "6"])  # declared, activated
        now = this_month()
        res = self.cli("--from", now, "--to", now, "--json")
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        self.assertEqual((doc["from"], doc["to"]), (now, now))
        res = self.cli("--csv", "--from", now)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(res.stdout.startswith("court,month,metric,value,suppressed\n"))
        n_metrics = len(cells(doc["courts"][0]["months"][0]))
        self.assertEqual(n_metrics, 37)
        self.assertEqual(len(res.stdout.splitlines()), 1 + 2 * n_metrics)  # TJ-A, other courts
        for bad in (("--from", "2026-13"), ("--csv", "--json"), ("--to",), ("--court", "x")):
            res = self.cli(*bad)
            self.assertEqual(res.returncode, 2, (bad, res.stderr))
        res = self.cli("--from", "2000-01")  # beyond 36 months: the API refuses it
        self.assertEqual(res.returncode, 1)
        self.assertIn("36", res.stderr)


if __name__ == "__main__":
    unittest.main()
