"""The floor view and the operators' command line (docs/API.md "GET
/api/v1/floor", docs/OPERATIONS.md "Incidents"): an SOS shows on the floor
as one incident waiting, then in hand once an operator takes it with `vigie
incident take`, its response times counted; steps, a note and the closing
through the CLI; the supervisor sees every operator's line, an operator his
own, an installer nothing; every read journaled."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_measures import HOME, FAR, MeasuresTest  # noqa: E402
from test_users import PASSWORD, Client  # noqa: E402
from vigie_harness import EVENT, FIX, SOS, event_body, fix_body, now_ms, record  # noqa: E402


class Floor(MeasuresTest):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.api_addr = "127.0.0.1:%d" % self.d.http_port

    def account(self, name, role):
        status, doc, _ = Client(self.d.http_port).request(
            "POST", "/api/v1/users", {"name": name, "role": role, "password": PASSWORD},
            bearer=self.d.token)
        self.assertEqual(status, 201, doc)

    def session(self, name, role):
        self.account(name, role)
        c = Client(self.d.http_port)
        self.assertEqual(c.login(name, PASSWORD)[0], 200)
        return c

    def floor(self, client, query=""):
        status, doc, _ = client.request("GET", "/api/v1/floor" + query)
        self.assertEqual(status, 200, doc)
        return doc

    def cli(self, session, *args, check=True):
        """vigie ARGS as the user of the session file `session`."""
        return self.d.vigie(*args, "--session", os.path.join(self.tmp.name, session),
                            check=check)

    def login(self, name, role):
        self.account(name, role)
        pw = os.path.join(self.tmp.name, name + ".pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        res = self.d.vigie("login", name, "--password-file", pw, "--http", self.api_addr,
                           "--session", os.path.join(self.tmp.name, name))
        self.assertIn("logged in as %s (%s)" % (name, role), res.stdout)
        self.assertEqual(os.stat(os.path.join(self.tmp.name, name)).st_mode & 0o777, 0o600)

    def test_floor_through_an_sos(self):
        sup = self.session("sup", "supervisor")
        inst = self.session("inst", "installer")
        self.login("op1", "operator")
        self.login("op2", "operator")
        op2 = Client(self.d.http_port)
        self.assertEqual(op2.login("op2", PASSWORD)[0], 200)

        # nothing yet
        f = self.floor(sup)
        self.assertEqual((f["queue"]["open"], f["queue"]["taken"], f["oldest_open"]),
                         (0, 0, None))
        self.assertEqual(f["hours"], 24)
        self.assertEqual(f["response"]["to_take"],
                         {"count": 0, "median_ms": 0, "p90_ms": 0, "max_ms": 0})
        # installers, statisticians, administrators: not theirs
        self.assertEqual(inst.request("GET", "/api/v1/floor")[0], 403)
        self.assertEqual(self.d.http("GET", "/api/v1/floor")[0], 403)  # the admin token
        # the window: 1 to 744 hours, nothing else
        for q in ("?hours=0", "?hours=745", "?hours=x", "?hours=1&hours=2", "?days=1"):
            status, doc, _ = sup.request("GET", "/api/v1/floor" + q)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid"), q)
        self.assertEqual(self.floor(sup, "?hours=744")["hours"], 744)
        self.assertEqual(sup.request("POST", "/api/v1/floor", {})[0], 405)

        # an SOS: one incident waiting
        self.create(self.definition("F1"))
        a, p = self.units("F1")
        t = now_ms()
        self.send(a, record(FIX, 1, fix_body(t, *FAR)))
        self.send(p, record(FIX, 1, fix_body(t, *HOME)), record(EVENT, 2, event_body(t, SOS)))
        self.wait(lambda: self.floor(sup)["queue"]["open"] == 1, "the incident on the floor")
        f = self.floor(sup)
        queue = sup.request("GET", "/api/v1/incidents")[1]
        iid = queue[0]["id"]
        self.assertEqual(f["queue"]["taken"], 0)
        self.assertEqual(f["queue"]["by_priority"][0], {"priority": 1, "open": 1, "taken": 0})
        self.assertEqual([p["open"] for p in f["queue"]["by_priority"]], [1, 0, 0, 0])
        old = f["oldest_open"]
        self.assertEqual((old["id"], old["measure"], old["priority"]), (iid, "F1", 1))
        self.assertEqual(old["age_ms"], f["now_ms"] - queue[0]["opened_ms"])
        # an SOS must be taken within 30 s: late only after that
        late = [e["id"] for e in f["escalated"] if e["overdue"] == "not_taken"]
        self.assertEqual(late, [iid] if old["age_ms"] >= 30000 else [])

        # the CLI: the queue, the incident, and op1 takes it
        out = self.cli("op1", "incident", "list").stdout
        self.assertIn("F1", out)
        self.assertIn("sos", out)
        out = self.cli("op1", "incident", "show", str(iid)).stdout
        self.assertIn("incident %d  measure F1" % iid, out)
        shown = json.loads(self.cli("op1", "incident", "show", str(iid), "--json").stdout)
        shown = shown.get("incident", shown)  # alone, or with what goes with it
        self.assertEqual((shown["id"], shown["state"]), (iid, "open"))
        res = self.cli("op1", "incident", "take", str(iid))
        self.assertEqual(res.stdout.strip(), "incident %d taken by op1" % iid)
        # a second operator is refused with the API's reason
        res = self.cli("op2", "incident", "take", str(iid), check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("409", res.stderr)
        self.assertIn("handled by op1", res.stderr)
        # an operator does not give it away
        res = self.cli("op1", "incident", "take", str(iid), "--for", "op2", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("403", res.stderr)

        f = self.floor(sup)
        inc = [i for i in sup.request("GET", "/api/v1/incidents")[1] if i["id"] == iid][0]
        self.assertEqual((f["queue"]["open"], f["queue"]["taken"]), (0, 1))
        self.assertIsNone(f["oldest_open"])
        took = inc["taken_ms"] - inc["opened_ms"]
        self.assertEqual(f["response"]["to_take"],
                         {"count": 1, "median_ms": took, "p90_ms": took, "max_ms": took})
        self.assertEqual(f["response"]["to_first_step"]["count"], 0)
        self.assertEqual(f["operators"], [{"name": "op1", "holding": 1, "closed": 0}])
        # an operator sees his own line only
        self.assertEqual(self.floor(op2)["operators"], [])
        self.assertEqual(self.floor(op2)["queue"]["taken"], 1)

        # steps, a note and the closing through the CLI
        res = self.cli("op1", "incident", "step", str(iid), "protected_called", "reached",
                       "--text", "she is safe at home")
        self.assertIn("step 1 recorded (protected_called, reached)", res.stdout)
        res = self.cli("op1", "incident", "step", str(iid), "author_called", "guided",
                       check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("400", res.stderr)
        self.cli("op1", "incident", "note", str(iid), "neighbour called too")
        res = self.cli("op1", "incident", "close", str(iid), check=False)
        self.assertEqual(res.returncode, 2)  # no summary: refused before asking
        res = self.cli("op1", "incident", "close", str(iid), "--summary", "SOS: she was safe")
        self.assertEqual(res.stdout.strip(), "incident %d closed by op1" % iid)
        row = self.d.query("SELECT state, n_steps, operator, taken_ms, last_step_ms, opened_ms "
                           "FROM incidents WHERE id = ?", iid)[0]
        self.assertEqual(row[:3], (3, 2, "op1"))

        f = self.floor(sup)
        self.assertEqual((f["queue"]["open"], f["queue"]["taken"], f["closed"]), (0, 0, 1))
        step = f["response"]["to_first_step"]
        # two steps: the first one's time from the store's steps, not the
        # last one's (which only the steps recorded before the store kept
        # them fall back on: core/floor.h, test_floor)
        first = self.d.query("SELECT at_ms FROM incident_steps WHERE incident_id = ? AND n = 1",
                             iid)[0][0]
        self.assertLess(first, row[4])
        self.assertEqual((step["count"], step["median_ms"], step["upper_bounds"]),
                         (1, first - row[3], 0))
        self.assertEqual(f["response"]["to_take"]["median_ms"], row[3] - row[5])
        self.assertEqual(f["operators"], [{"name": "op1", "holding": 0, "closed": 1}])
        # a one-hour window holds it too
        self.assertEqual(self.floor(sup, "?hours=1")["closed"], 1)

        # vigie floor, as a table and as JSON
        out = self.cli("op1", "floor").stdout
        self.assertIn("queue: 0 waiting, 0 in hand", out)
        self.assertIn("closed in the last 24 h: 1", out)
        self.assertIn("op1", out)
        doc = json.loads(self.cli("op1", "floor", "--hours", "2", "--json").stdout)
        self.assertEqual((doc["hours"], doc["closed"]), (2, 1))
        self.assertEqual(doc["operators"], [{"name": "op1", "holding": 0, "closed": 1}])
        self.assertEqual(self.cli("op1", "floor", "--hours", "0", check=False).returncode, 2)
        self.assertEqual(self.cli("op1", "incident", "list").stdout.strip(),
                         "no incident in progress")

        # every read journaled, with its reader and window
        reads = self.d.query("SELECT actor, detail FROM journal WHERE action = 'floor.read'")
        self.assertIn(("sup", '{"hours":744}'), reads)
        self.assertIn(("op1", '{"hours":2}'), reads)
        self.assertIn(("op2", '{"hours":24}'), reads)
        self.assertNotIn("inst", [r[0] for r in reads])
        actions = self.d.query("SELECT actor, action FROM journal WHERE subject = ? AND action "
                               "IN ('incident.take', 'incident.step', 'incident.close')",
                               "incident/%d" % iid)
        self.assertEqual(actions, [("op1", "incident.take"), ("op1", "incident.step"),
                                   ("op1", "incident.step"), ("op1", "incident.close")])

        # logging out ends the session: the CLI then asks to log in
        self.assertIn("logged out op1", self.cli("op1", "logout").stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "op1")))
        res = self.cli("op1", "incident", "list", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("log in first", res.stderr)
        self.assertEqual(self.cli("op1", "incident", "show", "x", check=False).returncode, 2)

    def test_a_session_that_has_ended(self):
        """A session vigied no longer knows (here: the password changed) is
        refused with the API's 401 and a hint to log in again."""
        self.login("op3", "operator")
        status, doc, _ = Client(self.d.http_port).request(
            "PATCH", "/api/v1/users/op3", {"password": PASSWORD + "-new"}, bearer=self.d.token)
        self.assertEqual(status, 200, doc)
        res = self.cli("op3", "floor", check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("401", res.stderr)
        self.assertIn("vigie login", res.stderr)
        # logging out still removes the file
        self.assertIn("already ended", self.cli("op3", "logout").stdout)


if __name__ == "__main__":
    unittest.main()
