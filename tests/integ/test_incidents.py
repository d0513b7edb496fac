"""The operators' incidents through the API (core/incident.h, docs/API.md
"Incidents"): an alarm opens an incident in the queue, one operator takes
it (a second is refused; a supervisor reassigns), the protocol's steps with
outcomes that fit them, closing with a summary, a new alarm after closing
opens a new incident linked to the previous one; everything journaled."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_measures import HOME, FAR, MeasuresTest  # noqa: E402
from test_users import PASSWORD, Client  # noqa: E402
from vigie_harness import EVENT, FIX, SOS, event_body, fix_body, now_ms, record  # noqa: E402


class Queue(MeasuresTest):
    def session(self, name, role):
        c = Client(self.d.http_port)
        status, doc, _ = c.request("POST", "/api/v1/users",
                                   {"name": name, "role": role, "password": PASSWORD},
                                   bearer=self.d.token)
        self.assertEqual(status, 201, doc)
        self.assertEqual(c.login(name, PASSWORD)[0], 200)
        return c

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
        journal = self.d.query("SELECT actor, action, subject, detail FROM journal "
                               "WHERE subject = ?", "incident/%d" % iid)
        self.assertEqual([(j[0], j[1]) for j in journal],
                         [("op1", "incident.take"), ("sup", "incident.take"),
                          ("op2", "incident.step"), ("op2", "incident.step"),
                          ("op2", "incident.close")])
        self.assertEqual(json.loads(journal[3][3])["text"], "ref 2026-1234")
        self.assertEqual(json.loads(journal[4][3])["summary"], "SOS: she was safe, police informed")
        row = self.d.query("SELECT state, n_steps, operator FROM incidents WHERE id = ?", iid)
        self.assertEqual(row, [(3, 2, "op2")])


if __name__ == "__main__":
    unittest.main()
