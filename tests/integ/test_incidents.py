"""The operators' incidents through the API (core/incident.h, docs/API.md
"Incidents"): an alarm opens an incident in the queue, one operator takes
it (a second is refused; a supervisor reassigns), the protocol's steps with
outcomes that fit them, closing with a summary, a new alarm after closing
opens a new incident linked to the previous one; everything journaled.
Closing makes the report addressed to the recipients the measure names,
kept with the SHA-256 of its content in the journal, read from the store
(an old incident's too), carried by the export and the import."""
import copy
import hashlib
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_measures import HOME, FAR, MeasuresTest  # noqa: E402
from test_users import CHEAP  # noqa: E402
from vigie_harness import (EVENT, FIX, SOS, Daemon, decision, event_body,  # noqa: E402
                           fix_body, now_ms, record)


class Queue(MeasuresTest):
    def test_the_operators_protocol(self):
        op1, op2 = self.session("op1", "operator"), self.session("op2", "operator")
        sup = self.session("sup", "supervisor")
        inst = self.session("inst", "installer")
        self.create(self.definition("Q1"))
        a, p = self.units("Q1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: op1.request("GET", "/api/v1/incidents")[1], "the incident in the queue")
        status, queue, _ = op1.request("GET", "/api/v1/incidents")
        self.assertEqual(status, 200)
        self.assertEqual([(i["measure"], i["state"], i["first_alarm"], i["priority"])
                          for i in queue], [("Q1", "open", "sos", 1)])
        iid = queue[0]["id"]
        path = "/api/v1/incidents/%d/" % iid
        self.assertEqual(inst.request("GET", "/api/v1/incidents")[0], 403)
        # one operator at a time
        status, doc, _ = op1.request("POST", path + "take", {})
        self.assertEqual((status, doc["state"], doc["operator"]), (200, "taken", "op1"))
        status, doc, _ = op2.request("POST", path + "take", {})
        self.assertEqual((status, doc["error"]["code"]), (409, "state"))
        self.assertIn("op1", doc["error"]["message"])
        # an operator does not hand it over; a supervisor does
        self.assertEqual(op1.request("POST", path + "take", {"operator": "op2"})[0], 403)
        status, doc, _ = sup.request("POST", path + "take", {"operator": "op2"})
        self.assertEqual((status, doc["operator"]), (200, "op2"))
        # steps: only its operator, only outcomes that fit
        body = {"step": "protected_called", "outcome": "reached", "text": "she is safe"}
        self.assertEqual(op1.request("POST", path + "step", body)[0], 409)
        status, doc, _ = op2.request("POST", path + "step", body)
        self.assertEqual((status, doc["steps"]), (200, 1))
        status, doc, _ = op2.request("POST", path + "step",
                                     {"step": "author_called", "outcome": "guided"})
        self.assertEqual(status, 400, doc)
        self.assertEqual(op2.request("POST", path + "step", {"step": "flew"})[0], 400)
        self.assertEqual(op2.request("POST", path + "step", {"outcome": "reached"})[0], 400)
        self.assertEqual(op2.request("POST", path + "step", {"step": "note", "x": 1})[0], 400)
        status, doc, _ = op2.request("POST", path + "step",
                                     {"step": "police_alerted", "text": "ref 2026-1234"})
        self.assertEqual((status, doc["steps"]), (200, 2))
        # closing needs a summary
        self.assertEqual(op2.request("POST", path + "close", {"summary": " "})[0], 400)
        self.assertEqual(op2.request("POST", path + "close", {})[0], 400)
        status, doc, _ = op2.request("POST", path + "close",
                                     {"summary": "SOS: she was safe, police informed"})
        self.assertEqual((status, doc["state"]), (200, "closed"))
        self.assertEqual(op1.request("GET", "/api/v1/incidents")[1], [])
        status, doc, _ = op2.request("POST", path + "step", body)
        self.assertEqual((status, doc["error"]["code"]), (409, "state"))  # closed: no more steps
        self.assertIn("closed", doc["error"]["message"])
        # a new alarm: a new incident, linked to the previous one
        self.send(p, record(EVENT, 3, event_body(now_ms(), SOS)))
        self.wait(lambda: op1.request("GET", "/api/v1/incidents")[1], "a new incident")
        queue = op1.request("GET", "/api/v1/incidents")[1]
        self.assertEqual((queue[0]["previous_id"], queue[0]["state"]), (iid, "open"))
        self.assertNotEqual(queue[0]["id"], iid)
        # every action in the journal, with who and what
        # (the report's dispatch is journaled by the outbox's thread, whenever it comes)
        journal = self.d.query("SELECT actor, action, subject, detail FROM journal "
                               "WHERE subject = ? AND action <> 'report.dispatch' ORDER BY id",
                               "incident/%d" % iid)
        self.assertEqual([(j[0], j[1]) for j in journal],
                         [("engine", "incident.alarm"),  # opened by the SOS, whole
                          ("op1", "incident.take"), ("sup", "incident.take"),
                          ("op2", "incident.step"), ("op2", "incident.step"),
                          ("op2", "incident.close"), ("op2", "report.create")])
        self.assertEqual(json.loads(journal[0][3])["incident"]["first_alarm"], "sos")
        self.assertEqual(json.loads(journal[4][3])["text"], "ref 2026-1234")
        self.assertEqual(json.loads(journal[5][3])["summary"], "SOS: she was safe, police informed")
        self.assertEqual(json.loads(journal[5][3])["incident"]["state"], "closed")
        row = self.d.query("SELECT state, n_steps, operator FROM incidents WHERE id = ?", iid)
        self.assertEqual(row, [(3, 2, "op2")])

    def queue_of(self, client, name):
        return [i for i in client.request("GET", "/api/v1/incidents")[1] if i["measure"] == name]

    def test_the_report_at_closing(self):
        op = self.session("op1", "operator")
        mag = self.session("mag", "magistrate", court="TJ-Nantes")
        mag_b = self.session("mag-b", "magistrate", court="TJ-B")
        inst = self.session("inst", "installer")
        report_to = [{"role": "magistrate", "name": "Mme J. Durand, JLD",
                      "contact": "jld@tj-nantes.example"},
                     {"role": "victim_support", "name": "France Victimes 44"},
                     {"role": "probation", "name": "SPIP de Loire-Atlantique",
                      "contact": "+33 2 40 00 00 00"}]
        # report_to is read strictly
        for bad, key in (([], "report_to"), ([{"role": "judge", "name": "X"}], "role"),
                         ([{"role": "prosecutor"}], "name"),
                         ([{"role": "prosecutor", "name": "  "}], "name"),
                         ([{"role": "prosecutor", "name": "X" * 129}], "name"),
                         ([{"role": "prosecutor", "name": "X", "contact": "a\nb"}], "contact"),
                         ([{"role": "prosecutor", "name": "X", "email": "x@y"}], "email"),
                         ([{"role": "prosecutor", "name": "X"}] * 9, "report_to"),
                         ({"role": "prosecutor", "name": "X"}, "report_to")):
            status, doc = self.api("POST", "/api/v1/measures",
                                   self.definition("Bad", report_to=bad))
            self.assertEqual(status, 400, (bad, doc))
            self.assertIn(key, doc["error"]["message"], bad)
        mid = self.create(self.definition("Q2", report_to=report_to))
        self.create(self.definition("Q3"))  # no report_to: the decision's magistrate
        a, p = self.units("Q2")
        a3, p3 = self.units("Q3")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)),
                  record(EVENT, 3, event_body(t + 1000, SOS)))
        self.wait(lambda: [i["alarms"] for i in self.queue_of(op, "Q2")] == [2],
                  "both SOS in one incident")
        iid = self.queue_of(op, "Q2")[0]["id"]
        path = "/api/v1/incidents/%d/" % iid
        # no report before the close; steps as they come
        self.assertEqual(op.request("GET", path + "report")[0], 404)
        self.assertEqual(op.request("POST", path + "take", {})[0], 200)
        steps = [{"step": "protected_called", "outcome": "reached", "text": "she is safe"},
                 {"step": "police_alerted", "text": "ref 2026-42"},
                 {"step": "author_called", "outcome": "not_reached"}]
        for k, body in enumerate(steps):
            status, doc, _ = op.request("POST", path + "step", body)
            self.assertEqual((status, doc["steps"]), (200, k + 1), doc)
        status, listed, _ = op.request("GET", path + "steps")
        self.assertEqual(status, 200, listed)
        self.assertEqual([(s["n"], s["step"], s["outcome"], s["text"], s["operator"])
                          for s in listed],
                         [(1, "protected_called", "reached", "she is safe", "op1"),
                          (2, "police_alerted", "none", "ref 2026-42", "op1"),
                          (3, "author_called", "not_reached", "", "op1")])
        self.assertEqual(sorted(s["at_ms"] for s in listed), [s["at_ms"] for s in listed])
        summary = "Two SOS: she was reached and safe, police alerted (ref 2026-42)"
        status, doc, _ = op.request("POST", path + "close", {"summary": summary})
        self.assertEqual((status, doc["state"]), (200, "closed"), doc)
        closed_ms = doc["closed_ms"]

        status, rep, _ = op.request("GET", path + "report")
        self.assertEqual(status, 200, rep)
        self.assertEqual((rep["incident_id"], rep["measure_id"], rep["measure"]),
                         (iid, mid, "Q2"))
        want = [dict(r, contact=r.get("contact", "")) for r in report_to]
        self.assertEqual(rep["recipients"], want)
        content = json.loads(rep["content_text"])
        self.assertEqual(rep["content"], content)
        self.assertEqual(content["recipients"], want)
        self.assertEqual(content["summary"], summary)
        self.assertEqual(content["steps"], listed)  # in order, with times and operators
        self.assertEqual([(al["kind"], al["seq"]) for al in content["alarms"]],
                         [("sos", 1), ("sos", 2)])
        self.assertEqual(content["measure"], {"id": mid, "name": "Q2", "court": "TJ-Nantes",
                                              "magistrate": "Mme J. Durand, JLD"})
        inc = content["incident"]
        self.assertEqual((inc["id"], inc["operator"], inc["closed_ms"], inc["first_alarm"]),
                         (iid, "op1", closed_ms, "sos"))
        self.assertTrue(inc["opened_ms"] <= inc["taken_ms"] <= closed_ms, inc)
        self.assertEqual(rep["created_ms"], closed_ms)
        # the content is kept byte for byte, and the journal holds its hash
        digest = hashlib.sha256(rep["content_text"].encode()).hexdigest()
        self.assertEqual(rep["content_sha256"], digest)
        stored = self.d.query("SELECT content, recipients FROM reports WHERE incident_id = ?", iid)
        self.assertEqual(stored[0][0], rep["content_text"])
        self.assertEqual(json.loads(stored[0][1]), want)
        created = self.d.query("SELECT actor, detail FROM journal WHERE action = 'report.create' "
                               "AND subject = ?", "incident/%d" % iid)
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0][0], "op1")
        detail = json.loads(created[0][1])
        self.assertEqual((detail["sha256"], detail["recipients"], detail["steps"]),
                         (digest, 3, 3))
        # in the close's transaction: the close's entry right before it
        ids = self.d.query("SELECT id, action FROM journal WHERE subject = ? AND action IN "
                           "('incident.close', 'report.create') ORDER BY id", "incident/%d" % iid)
        self.assertEqual([x[1] for x in ids], ["incident.close", "report.create"])
        self.assertEqual(ids[1][0], ids[0][0] + 1)
        # who reads it: the magistrate of the measure's court, not another's, not an installer
        self.assertEqual(mag.request("GET", path + "report")[1]["content_text"],
                         rep["content_text"])
        self.assertEqual(mag.request("GET", path + "steps")[0], 200)
        self.assertEqual(mag_b.request("GET", path + "report")[0], 404)
        self.assertEqual(mag_b.request("GET", path + "steps")[0], 404)
        self.assertEqual(inst.request("GET", path + "report")[0], 403)
        self.assertEqual(mag.request("POST", path + "take", {})[0], 403)
        self.assertEqual(op.request("GET", "/api/v1/incidents/999/report")[0], 404)
        self.assertEqual(op.request("GET", "/api/v1/incidents/999/steps")[0], 404)
        reads = self.d.query("SELECT actor FROM journal WHERE action = 'report.read' "
                             "AND subject = ?", "incident/%d" % iid)
        self.assertEqual(sorted(r[0] for r in reads), ["mag", "op1"])

        # a new alarm opens a new incident: the old one's report is still read
        self.send(p, record(EVENT, 4, event_body(now_ms(), SOS)))
        self.wait(lambda: self.queue_of(op, "Q2"), "a new incident")
        self.assertNotEqual(self.queue_of(op, "Q2")[0]["id"], iid)
        status, again, _ = op.request("GET", path + "report")
        self.assertEqual((status, again["content_text"]), (200, rep["content_text"]))

        # a measure without report_to: the decision's magistrate alone
        self.send(a3, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p3, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: self.queue_of(op, "Q3"), "Q3's incident")
        path3 = "/api/v1/incidents/%d/" % self.queue_of(op, "Q3")[0]["id"]
        self.assertEqual(op.request("POST", path3 + "take", {})[0], 200)
        self.assertEqual(op.request("POST", path3 + "close", {"summary": "a false SOS"})[0], 200)
        status, rep3, _ = op.request("GET", path3 + "report")
        self.assertEqual(status, 200, rep3)
        self.assertEqual(rep3["recipients"], [{"role": "magistrate",
                                               "name": decision()["magistrate"],
                                               "contact": ""}])
        self.assertEqual((rep3["content"]["steps"], rep3["content"]["summary"]),
                         ([], "a false SOS"))

        # the export carries the steps and the report; the import checks the
        # report against the source's journal and keeps it
        status, export = self.api("GET", "/api/v1/measures/%d/export" % mid)
        self.assertEqual(status, 200, export)
        first = [i for i in export["incidents"] if i["id"] == iid][0]
        self.assertEqual(first["steps"], listed)
        self.assertEqual(first["report"]["content"], rep["content_text"])
        self.assertEqual(first["report"]["recipients"], want)
        self.assertIn(("report.create", "incident/%d" % iid),
                      [(e["action"], e["subject"]) for e in export["journal"]])
        for u in (a, p, a3, p3):
            u.close()
        other = Daemon(extra=CHEAP)
        other.start()
        self.addCleanup(other.cleanup)
        other.stop()
        altered = copy.deepcopy(export)
        altered_first = [i for i in altered["incidents"] if i["id"] == iid][0]
        altered_first["report"]["content"] = rep["content_text"].replace("safe", "fine")
        paths = []
        for name, doc in (("altered.json", altered), ("q2.json", export)):
            paths.append(os.path.join(self.d.dir, name))
            with open(paths[-1], "w") as f:
                json.dump(doc, f)
        res = other.vigie("measure", "import", paths[0], "--data-dir", other.dir, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("altered", res.stderr)
        self.assertEqual(other.query("SELECT count(*) FROM measures")[0][0], 0)
        res = other.vigie("measure", "import", paths[1], "--data-dir", other.dir, check=False)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("2 incidents (3 steps, 1 reports)", res.stdout)
        kept = other.query("SELECT i.id, r.content FROM reports r JOIN incidents i "
                           "ON i.id = r.incident_id")
        self.assertEqual([k[1] for k in kept], [rep["content_text"]])
        self.assertEqual(other.query("SELECT n, kind, text, operator FROM incident_steps "
                                     "WHERE incident_id = ? ORDER BY n", kept[0][0]),
                         [(1, 2, "she is safe", "op1"), (2, 3, "ref 2026-42", "op1"),
                          (3, 1, "", "op1")])


    def test_guidance_with_the_incident(self):
        """GET /api/v1/incidents/ID: the incident with guidance for both
        persons (core/guidance.h), never her position; journaled."""
        op = self.session("op-g", "operator")
        inst = self.session("inst-g", "installer")

        def queued(name):
            return [i for i in op.request("GET", "/api/v1/incidents")[1] if i["measure"] == name]
        m_lat = 1 / 111_200.0  # degrees of latitude per metre, near enough here
        north = lambda m: (HOME[0] + m * m_lat, HOME[1])  # noqa: E731
        places = [{"name": "Poste nord (between them)", "location": list(north(600))},
                  {"name": "Gendarmerie (past him)", "location": list(north(1400))},
                  {"name": "Commissariat sud", "location": list(north(-900))},
                  {"name": "Hôtel de police (too far)", "location": list(north(-1700))}]
        # safe_places is read strictly
        for bad, key in (({"name": "X", "location": HOME}, "safe_places"),
                         ([{"name": "X"}], "location"),
                         ([{"name": " ", "location": list(HOME)}], "name"),
                         ([{"name": "X" * 121, "location": list(HOME)}], "name"),
                         ([{"name": "a\tb", "location": list(HOME)}], "name"),
                         ([{"name": "X", "location": [91, 0]}], "safe_places[0]"),
                         ([{"name": "X", "location": list(HOME), "phone": "17"}], "phone"),
                         ([{"name": "X", "location": list(HOME)}] * 17, "safe_places")):
            status, doc = self.api("POST", "/api/v1/measures",
                                   self.definition("Bad", safe_places=bad))
            self.assertEqual(status, 400, (bad, doc))
            self.assertIn(key, doc["error"]["message"], bad)
        self.create(self.definition("G1", safe_places=places))
        self.create(self.definition("G2"))
        a, p = self.units("G1")
        a2, p2 = self.units("G2")
        t = now_ms()
        # he is 1.2 km north of her (R = 2 km); she calls for help
        self.send(a, record(FIX, 1, fix_body(t, *north(1200))))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        # G2: her SOS, and nothing yet from him
        self.send(p2, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: queued("G1") and queued("G2"), "the incidents")
        iid = queued("G1")[0]["id"]
        status, doc, _ = op.request("GET", "/api/v1/incidents/%d" % iid)
        self.assertEqual(status, 200, doc)
        item = queued("G1")[0]  # the queue's item, and the guidance
        self.assertEqual(set(doc), set(item) | {"guidance", "alarm_list"})
        # its alarms (the console's chart and "who approached whom"): as stored
        # so far, in order, each with the engine's judgement, never a position
        alarms = doc["alarm_list"]
        self.assertTrue(alarms)
        self.assertEqual([a["seq"] for a in alarms], sorted(a["seq"] for a in alarms))
        for a in alarms:
            self.assertLessEqual({"seq", "kind", "priority", "unit", "zone_index", "zone_id",
                                  "at_ms", "raised_ms", "approached_by", "late", "urgent"},
                                 set(a))
            self.assertLessEqual(set(a) - {"distance_m", "threshold_m"},
                                 {"seq", "kind", "priority", "unit", "zone_index", "zone_id",
                                  "at_ms", "raised_ms", "approached_by", "late", "urgent"})
        sos = [a for a in alarms if a["kind"] == "sos"]
        self.assertEqual(len(sos), 1, alarms)
        self.assertEqual((sos[0]["priority"], sos[0]["unit"], sos[0]["zone_index"],
                          sos[0]["approached_by"]), (1, "protected_unit", -1, "none"))
        crossings = [a for a in alarms if a["kind"].endswith("_entered")]
        for a in crossings:  # he came to her: the engine says so
            self.assertGreaterEqual(a["zone_index"], 0)
            self.assertIn(a["approached_by"], ("author", "none"))
            self.assertAlmostEqual(a["distance_m"], 1200, delta=30)
        self.assertEqual([doc[k] for k in ("id", "measure", "measure_id", "state")],
                         [item[k] for k in ("id", "measure", "measure_id", "state")])
        g = doc["guidance"]
        self.assertEqual(g["reasons"], [])
        self.assertAlmostEqual(g["distance_m"], 1200, delta=3)
        self.assertLess(g["her_fix_age_s"], 10)
        her, him = g["protected"], g["author"]
        # she goes south, away from him, to the police station on that side;
        # not to the nearer one between them, nor the one past him
        self.assertTrue(her["valid"])
        self.assertEqual((her["away_compass"], her["compass"]), ("S", "S"))
        self.assertIn(her["away_bearing_deg"], (179, 180, 181))
        self.assertEqual(her["safe_place"]["name"], "Commissariat sud")
        self.assertAlmostEqual(her["safe_place"]["distance_m"], 900, delta=3)
        # he is told north (she is south of him: N/S, the first pair), the
        # distance that takes him out wherever she is in 2R, rounded
        self.assertEqual((him["valid"], him["compass"], him["bearing_deg"]), (True, "N", 0))
        self.assertEqual((him["inside"], him["paired"]), (True, True))
        self.assertEqual(him["tell_m"], 4500)  # 2R + both uncertainties, to 500 m
        self.assertAlmostEqual(him["leave_m"], 4000 - 1200, delta=5)
        # never her position
        def keys(x):
            if isinstance(x, dict):
                return set(x) | set().union(*map(keys, x.values()))
            return set().union(*map(keys, x)) if isinstance(x, list) else set()
        self.assertFalse(keys(doc) & {"lat", "lon", "latitude", "longitude", "location"})
        for coordinate in ("%.4f" % HOME[0], "%.4f" % HOME[1], "47.21", "-1.55"):
            self.assertNotIn(coordinate, json.dumps(doc))
        # without his fix: said, no direction given
        status, doc2, _ = op.request("GET", "/api/v1/incidents/%d" % queued("G2")[0]["id"])
        self.assertEqual(status, 200, doc2)
        self.assertEqual(doc2["guidance"]["reasons"], ["his_missing"])
        self.assertIsNone(doc2["guidance"]["his_fix_age_s"])
        self.assertEqual(doc2["guidance"]["protected"], {"valid": False})
        self.assertEqual(doc2["guidance"]["author"], {"valid": False})
        # who may read it, what there is
        self.assertEqual(inst.request("GET", "/api/v1/incidents/%d" % iid)[0], 403)
        status, doc, _ = op.request("GET", "/api/v1/incidents/999999")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))
        self.assertEqual(op.request("POST", "/api/v1/incidents/%d" % iid, {})[0], 405)
        # each read journaled, with what was shown
        reads = self.d.query("SELECT actor, detail FROM journal WHERE action = 'incident.read' "
                             "AND subject = ?", "incident/%d" % iid)
        self.assertEqual([r[0] for r in reads], ["op-g"])
        shown = json.loads(reads[0][1])
        self.assertEqual((shown["author"]["compass"], shown["protected"]["safe_place"]["name"]),
                         ("N", "Commissariat sud"))
        self.assertNotIn("%.4f" % HOME[0], reads[0][1])

if __name__ == "__main__":
    unittest.main()
