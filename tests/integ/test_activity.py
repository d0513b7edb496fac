"""A measure's activity over a period (core/activity.h, docs/API.md
"GET /api/v1/measures/ID/activity"): what was recorded, the engine replayed
on both units' records, and the same records replayed with another R —
the figures a magistrate weighs before revising the distance; who may ask;
journaled."""
import datetime
import json
import os
import sys
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from test_measures import HOME, MeasuresTest  # noqa: E402
from vigie_harness import FIX, fix_body, now_ms, record  # noqa: E402


class Activity(MeasuresTest):
    def approach(self, name, closest_deg):
        """He drives from 6 km north of her home to `closest_deg` of latitude
        from it (about 110 km a degree) at about 120 km/h, a fix every 15 s."""
        mid = self.create(self.definition(name, radius=2000))
        a, p = self.units(name)
        t = now_ms() - 400000
        start, stop = HOME[0] + 0.054, HOME[0] + closest_deg
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        for i in range(12):
            self.send(a, record(FIX, i + 1, fix_body(t + 15000 * i, start + (stop - start) * i / 11,
                                                     HOME[1], 10.0)))
        for i in range(12):  # and stays there a while, both reporting
            self.send(a, record(FIX, 13 + i, fix_body(t + 180000 + 15000 * i, stop, HOME[1], 10.0)))
        self.send(p, record(FIX, 2, fix_body(now_ms(), *HOME)))
        return mid

    def test_replayed_and_compared_with_another_radius(self):
        mid = self.approach("A1", 0.0135)  # 1.5 km: within R = 2 km, within 2R of R = 1 km
        mag = self.session("mag", "magistrate", "TJ-Nantes")
        status, doc, _ = mag.request("GET", "/api/v1/measures/%d/activity?radius_m=1000" % mid)
        self.assertEqual(status, 200, doc)
        self.assertEqual((doc["measure"], doc["timezone"]), ("A1", "Europe/Paris"))
        self.assertAlmostEqual(doc["days"], 30, delta=0.01)
        replayed, what_if = doc["replayed"], doc["what_if"]
        self.assertEqual(replayed["radius_m"], 2000)
        self.assertGreater(replayed["records"], 20)
        self.assertEqual(replayed["alarms_by_kind"].get("prealert_entered"), 1)
        self.assertEqual(replayed["alarms_by_kind"].get("alert_entered"), 1)
        # her unit rings for the present only: these records came all at once, the
        # pre-alert's already old (a backlog), the alert's fresh
        self.assertEqual(replayed["rings"]["alert"], 1)
        self.assertEqual(sum(replayed["operator_alerts_by_hour"]), replayed["operator_alerts"])
        # the same tracks with R = 1 km: a pre-alert, no alert
        self.assertEqual(what_if["radius_m"], 1000)
        self.assertEqual(what_if["alarms_by_kind"].get("prealert_entered"), 1)
        self.assertNotIn("alert_entered", what_if["alarms_by_kind"])
        self.assertEqual(what_if["rings"]["alert"], 0)
        self.assertLess(what_if["operator_alerts"], replayed["operator_alerts"])
        # what was recorded: the stored alarms of the period, by kind
        stored = {}
        for (kind,) in self.d.query("SELECT kind FROM alarms WHERE measure_id = ?", mid):
            stored[kind] = stored.get(kind, 0) + 1
        self.assertEqual(sum(doc["recorded"]["alarms_by_kind"].values()), sum(stored.values()))
        self.assertGreaterEqual(doc["recorded"]["incidents"], 1)
        # journaled
        rows = self.d.query("SELECT actor, subject, detail FROM journal WHERE action = "
                            "'measure.activity'")
        self.assertEqual([(r[0], r[1]) for r in rows], [("mag", "A1")])
        self.assertEqual(json.loads(rows[0][2])["what_if_radius_m"], 1000)
        # from the command line: the two radii side by side
        res = self.d.vigie("measure", "activity", str(mid), "--radius", "1000", "--http",
                           "127.0.0.1:%d" % self.d.http_port, "--data-dir", self.d.dir)
        lines = {l[:28].strip(): l[28:].split() for l in res.stdout.splitlines()}
        self.assertEqual(lines["replayed on the records"], ["R", "2000", "m", "R", "1000", "m"])
        self.assertEqual(lines["rings, alert"], ["1", "0"])
        res = self.d.vigie("measure", "activity", str(mid), "--radius", "1km", "--data-dir",
                           self.d.dir, "--http", "127.0.0.1:%d" % self.d.http_port, check=False)
        self.assertEqual(res.returncode, 2)

    def test_periods_and_who_may_ask(self):
        mid = self.approach("A2", 0.0027)
        sup = self.session("sup", "supervisor")
        # the measure's days are Paris's: yesterday and today there
        local = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/Paris")).date()
        today, yesterday = local.isoformat(), (local - datetime.timedelta(days=1)).isoformat()
        path = "/api/v1/measures/%d/activity" % mid
        status, doc, _ = sup.request("GET", path + "?from=%s&to=%s" % (yesterday, today))
        self.assertEqual(status, 200, doc)
        self.assertLessEqual(doc["days"], 2.05)
        self.assertEqual(doc["replayed"]["alarms_by_kind"].get("alert_entered"), 1)
        self.assertIsNone(doc["what_if"])
        # a period before any record: nothing happened
        status, doc, _ = sup.request("GET", path + "?from=2026-01-01&to=2026-01-31")
        self.assertEqual(status, 200, doc)
        self.assertEqual((doc["replayed"]["records"], doc["replayed"]["operator_alerts"]), (0, 0))
        for bad in ("?from=2026-13-01&to=2026-12-01", "?from=%s" % today, "?radius_m=500",
                    "?radius_m=x", "?from=2025-01-01&to=2026-12-31",
                    "?from=%s&to=2026-01-01" % today):
            status, doc, _ = sup.request("GET", path + bad)
            self.assertEqual(status, 400, (bad, doc))
        other = self.session("mag-b", "magistrate", "TJ-Brest")
        self.assertEqual(other.request("GET", path)[0], 404)
        stat = self.session("stat", "statistician")
        self.assertEqual(stat.request("GET", path)[0], 403)
        self.assertEqual(sup.request("GET", "/api/v1/measures/999/activity")[0], 404)
        self.assertEqual(sup.request("POST", path, {})[0], 405)


if __name__ == "__main__":
    unittest.main(verbosity=2)
