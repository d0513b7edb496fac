"""The live stream, GET /api/v1/stream (http/stream.c, docs/API.md
"Stream"): alarms and incidents as Server-Sent Events whose ids are the
journal's; resume with Last-Event-ID after a dropped connection and after
a restart of vigied, nothing missed and nothing twice; positions, the
protected person's only while an incident is in progress and journaled;
heartbeats; the stream ends with its session; escalation timers raising
what is not taken or not progressing to the supervisors."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sse import Stream  # noqa: E402
from test_measures import FAR, HOME, MeasuresTest  # noqa: E402
from test_users import CHEAP, PASSWORD, Client  # noqa: E402
from vigie_harness import (EVENT, FIX, SOS, Daemon, event_body, fix_body,  # noqa: E402
                           now_ms, record)

NEAR_HOME = (HOME[0] + 0.001, HOME[1])  # about 110 m north of her home


def data(e):
    return json.loads(e["data"])


class StreamTest(MeasuresTest):
    EXTRA = ["--stream-heartbeat-ms", "300"]

    def setUp(self):
        self.d = Daemon(extra=CHEAP + self.EXTRA)
        self.d.start()
        self.addCleanup(self.d.cleanup)
        self.addCleanup(self.stopped_clean)
        self.n = 0
        self.streams = []

    def tearDown(self):
        for s in self.streams:
            s.close()

    def stopped_clean(self):
        """vigied stops with status 0: no leak, no error (the sanitizers'
        reports make it fail), whatever the clients did."""
        time.sleep(0.3)  # the last clients' departures seen
        self.assertEqual(self.d.stop(), 0, self.d.log_text()[-3000:])

    def stream(self, client, **kw):
        s = Stream(self.d.http_port, cookie=client.cookie, **kw)
        self.streams.append(s)
        return s

    def sos(self, name):
        """A measure whose protected person calls for help: an incident opens."""
        self.create(self.definition(name))
        a, p = self.units(name)
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        return a, p

    def journal(self, action):
        return self.d.query("SELECT id, actor, subject, detail FROM journal WHERE action = ? "
                            "ORDER BY id", action)


class LiveAndResume(StreamTest):
    def test_events_live_then_resumed_after_a_drop(self):
        op = self.session("op1", "operator")
        s = self.stream(op)
        self.assertEqual(s.status, 200)
        self.assertTrue(s.headers["content-type"].startswith("text/event-stream"))
        ready = s.next()
        self.assertEqual(ready["event"], "ready")
        self.assertEqual(int(ready["id"]), data(ready)["last_event_id"])
        self.sos("S1")
        got = s.until(lambda e: e["event"] == "incident")
        alarms = [data(e) for e in got if e["event"] == "alarm"]
        self.assertEqual([(a["measure"], a["kind"], a["priority"]) for a in alarms],
                         [("S1", "sos", 1)])
        inc = data(got[-1])
        self.assertEqual((inc["action"], inc["effect"], inc["by"]), ("alarm", "opened", "engine"))
        self.assertEqual((inc["incident"]["state"], inc["incident"]["measure"]), ("open", "S1"))
        iid = inc["incident"]["id"]
        self.assertEqual(alarms[0]["incident"], iid)
        # the ids are the journal's
        ids = [int(e["id"]) for e in got if e["event"] in ("alarm", "incident")]
        rows = self.d.query("SELECT id, action FROM journal WHERE id IN (%s) ORDER BY id"
                            % ",".join(map(str, ids)))
        self.assertEqual([r[1] for r in rows], ["alarm.raised", "incident.alarm"])
        # an action: the incident as it stands after it
        status, doc, _ = op.request("POST", "/api/v1/incidents/%d/take" % iid, {})
        self.assertEqual(status, 200, doc)
        e = s.until(lambda e: e["event"] == "incident")[-1]
        self.assertEqual((data(e)["action"], data(e)["by"], data(e)["incident"]["operator"]),
                         ("take", "op1", "op1"))
        last = int(e["id"])
        s.close()
        # while it is away: a step and a note
        for step in ({"step": "protected_called", "outcome": "reached"},
                     {"step": "note", "text": "she is safe at a neighbour's"}):
            status, doc, _ = op.request("POST", "/api/v1/incidents/%d/step" % iid, step)
            self.assertEqual(status, 200, doc)
        # back, from where it was: exactly what it missed, in order
        s2 = self.stream(op, last_event_id=last)
        self.assertEqual(s2.next()["event"], "ready")
        missed = [s2.next(), s2.next()]
        self.assertEqual([(data(e)["action"], data(e)["step"]) for e in missed],
                         [("step", "protected_called"), ("step", "note")])
        self.assertEqual(data(missed[1])["text"], "she is safe at a neighbour's")
        self.assertTrue(all(int(e["id"]) > last for e in missed))
        self.assertEqual([e for e in s2.drain(0.8) if e["event"] != "heartbeat"], [])
        # and live again
        status, doc, _ = op.request("POST", "/api/v1/incidents/%d/close" % iid,
                                    {"summary": "false alarm, pressed by mistake"})
        self.assertEqual(status, 200, doc)
        e = s2.until(lambda e: e["event"] == "incident")[-1]
        self.assertEqual((data(e)["action"], data(e)["incident"]["state"]), ("close", "closed"))

    def test_resumed_across_a_restart(self):
        op = self.session("op1", "operator")
        s = self.stream(op)
        s.next()
        self.sos("S2")
        e = s.until(lambda e: e["event"] == "incident")[-1]
        iid, last = data(e)["incident"]["id"], int(e["id"])
        s.close()
        status, doc, _ = op.request("POST", "/api/v1/incidents/%d/take" % iid, {})
        self.assertEqual(status, 200, doc)
        self.d.stop()
        self.d.start()
        # a new login (the old session would do too: sessions live in the
        # database), resume from the last id seen
        op = Client(self.d.http_port)
        self.assertEqual(op.login("op1", PASSWORD)[0], 200)
        s2 = self.stream(op, query="?last_event_id=%d" % last)
        self.assertEqual(data(s2.next())["last_event_id"], last)
        e = s2.next()
        self.assertEqual((data(e)["action"], data(e)["incident"]["operator"]), ("take", "op1"))
        status, doc, _ = op.request("POST", "/api/v1/incidents/%d/step" % iid,
                                    {"step": "police_alerted", "text": "ref 2026-4471"})
        self.assertEqual(status, 200, doc)
        e = s2.until(lambda e: e["event"] == "incident")[-1]
        self.assertEqual((data(e)["step"], data(e)["text"]), ("police_alerted", "ref 2026-4471"))

    def test_resume_points(self):
        op = self.session("op1", "operator")
        s = self.stream(op, last_event_id="12x")
        self.assertEqual(s.status, 400)
        head = self.d.query("SELECT MAX(id) FROM journal")[0][0]
        s = self.stream(op, last_event_id=head + 1000)  # another journal's: start from now
        r = data(s.next())
        self.assertTrue(r["reset"])
        self.assertLessEqual(r["last_event_id"], head + 5)

    def test_who_may_listen(self):
        inst = self.session("inst", "installer")
        self.assertEqual(self.stream(inst).status, 403)
        self.assertEqual(Stream(self.d.http_port).status, 401)
        sup = self.session("sup", "supervisor")
        self.assertEqual(self.stream(sup).status, 200)
        status, text = self.d.http("POST", "/api/v1/stream", b"{}")
        self.assertEqual(status, 405)

    def test_heartbeats_and_the_end_of_the_session(self):
        op = self.session("op1", "operator")
        s = self.stream(op)
        s.next()
        beats = [e for e in s.drain(1.2) if e["event"] == "heartbeat"]
        self.assertGreaterEqual(len(beats), 2)
        self.assertEqual(self.d.metrics().get("vigie_stream_clients"), 1)
        status, _, _ = op.request("DELETE", "/api/v1/session")
        self.assertEqual(status, 204)
        e = s.next(timeout=5)
        self.assertEqual((e["event"], data(e)["reason"]), ("end", "session ended"))
        self.assertTrue(s.closed.wait(5))
        # a client that leaves is forgotten
        s2 = self.stream(self.session("op2", "operator"))
        s2.next()
        s2.close()
        self.wait(lambda: self.d.metrics().get("vigie_stream_clients") == 0,
                  "the clients gone from the metrics")


class Positions(StreamTest):
    def test_hers_only_with_an_incident_in_progress(self):
        op = self.session("op1", "operator")
        self.create(self.definition("P1"))
        a, p = self.units("P1")
        s = self.stream(op)
        s.next()
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        got = s.until(lambda e: e["event"] == "position")
        pos = data(got[-1])
        self.assertEqual((pos["person"], pos["measure"]), ("author", "P1"))
        self.assertAlmostEqual(pos["lat"], FAR[0], places=6)
        self.assertEqual([e for e in s.drain(1.0) if e["event"] == "position"], [],
                         "her position was streamed without an incident")
        self.assertEqual(self.journal("position.disclose"), [])
        # she calls for help: now her positions go to the operators
        t = now_ms()
        self.send(p, record(FIX, 2, fix_body(t, *NEAR_HOME)), record(EVENT, 3, event_body(t, SOS)))
        got = s.until(lambda e: e["event"] == "position" and data(e)["person"] == "protected")
        hers = data(got[-1])
        self.assertAlmostEqual(hers["lat"], NEAR_HOME[0], places=6)
        self.assertGreater(hers["incident"], 0)
        self.send(p, record(FIX, 4, fix_body(now_ms(), *HOME)))
        s.until(lambda e: e["event"] == "position" and data(e)["person"] == "protected")
        # journaled once per incident and client, before it was sent
        rows = self.journal("position.disclose")
        self.assertEqual(len(rows), 1)
        self.assertEqual((rows[0][1], rows[0][2]), ("op1", "P1"))
        self.assertEqual(json.loads(rows[0][3])["incident"], hers["incident"])
        # closed: hers stop again
        iid = hers["incident"]
        for path, body in (("take", {}), ("close", {"summary": "help came"})):
            status, doc, _ = op.request("POST", "/api/v1/incidents/%d/%s" % (iid, path), body)
            self.assertEqual(status, 200, doc)
        s.until(lambda e: e["event"] == "incident" and data(e)["action"] == "close")
        self.send(p, record(FIX, 5, fix_body(now_ms(), *HOME)))
        self.send(a, record(FIX, 2, fix_body(now_ms(), *FAR)))
        got = s.until(lambda e: e["event"] == "position" and data(e)["person"] == "author")
        self.assertEqual([e for e in got + s.drain(0.8) if e["event"] == "position"
                          and data(e)["person"] == "protected"], [])


class Tracks(StreamTest):
    def test_her_track_only_with_an_incident_in_progress(self):
        op = self.session("op1", "operator")
        inst = self.session("inst", "installer")
        mid = self.create(self.definition("T1"))
        a, p = self.units("T1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t - 2000, *FAR)), record(FIX, 2, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        path = "/api/v1/measures/%d/positions" % mid
        status, doc, _ = op.request("GET", path)
        self.assertEqual(status, 200, doc)
        self.assertEqual(len(doc["author"]["points"]), 2)
        self.assertAlmostEqual(doc["author"]["points"][-1]["lat"], FAR[0], places=6)
        self.assertIsNone(doc["protected"])
        self.assertIn("no incident", doc["protected_withheld"])
        # her SOS: an incident in progress, her track is given, and journaled
        self.send(p, record(EVENT, 2, event_body(now_ms(), SOS)))
        self.wait(lambda: op.request("GET", "/api/v1/incidents")[1], "the incident")
        status, doc, _ = op.request("GET", path + "?minutes=5")
        self.assertEqual(status, 200, doc)
        self.assertEqual(len(doc["protected"]["points"]), 1)
        self.assertGreater(doc["incident"], 0)
        reads = [(r[1], json.loads(r[3])["protected"]) for r in self.journal("position.read")]
        self.assertEqual(reads, [("op1", False), ("op1", True)])
        # who may ask, and how
        self.assertEqual(inst.request("GET", path)[0], 403)
        self.assertEqual(op.request("GET", path + "?minutes=0")[0], 400)
        self.assertEqual(op.request("GET", path + "?minutes=x")[0], 400)
        self.assertEqual(op.request("GET", "/api/v1/measures/999/positions")[0], 404)
        self.assertEqual(op.request("POST", path, {})[0], 405)


class Escalation(StreamTest):
    EXTRA = ["--stream-heartbeat-ms", "300", "--escalate-take-ms", "1500,1500,1500,1500,1500",
             "--escalate-progress-ms", "1500,1500,1500,1500,1500"]

    def test_not_taken_then_not_progressing(self):
        sup = self.session("sup", "supervisor")
        op = self.session("op1", "operator")
        s = self.stream(sup)
        s.next()
        self.sos("E1")
        opened = s.until(lambda e: e["event"] == "incident")[-1]
        iid = data(opened)["incident"]["id"]
        e = s.until(lambda e: e["event"] == "incident" and data(e)["action"] == "escalate",
                    timeout=6)[-1]
        self.assertEqual((data(e)["by"], data(e)["reason"]), ("centre", "not_taken"))
        self.assertGreaterEqual(e["t"] - opened["t"], 1.0)
        inc = data(e)["incident"]
        self.assertEqual((inc["escalation"], inc["state"]), ("not_taken", "open"))
        self.assertGreater(inc["escalated_ms"], 0)
        status, queue, _ = op.request("GET", "/api/v1/incidents")
        self.assertEqual(queue[0]["escalation"], "not_taken")
        # raised once: nothing more while nobody takes it
        self.assertEqual([x for x in s.drain(2.0) if x["event"] == "incident"], [])
        # taken: the clock starts again, for progress this time
        status, doc, _ = op.request("POST", "/api/v1/incidents/%d/take" % iid, {})
        self.assertEqual((status, doc["escalation"]), (200, "none"))
        e = s.until(lambda e: e["event"] == "incident" and data(e)["action"] == "escalate",
                    timeout=6)[-1]
        self.assertEqual(data(e)["reason"], "not_progressing")
        # durable: a restart keeps it, and does not raise it again
        self.d.stop()
        self.d.start()
        op = Client(self.d.http_port)
        self.assertEqual(op.login("op1", PASSWORD)[0], 200)
        status, queue, _ = op.request("GET", "/api/v1/incidents")
        self.assertEqual(queue[0]["escalation"], "not_progressing")
        time.sleep(2.0)
        self.assertEqual(len(self.journal("incident.escalate")), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
