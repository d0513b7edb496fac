"""The units as a resource of the API (docs/API.md, "Units"), against a real
vigied: a certificate and key issued through the API that a unit then
connects with over real TLS 1.3; one issue per serial; a revocation that
refuses the unit from its very next connection (no SIGHUP); the list with
each unit's health from its measure's engine; who may do what (every role,
a magistrate's court, CSRF); strict bodies; the journal (never a key); and
`vigie units` end to end.

    VIGIE_BUILD=build-a python3 tests/integ/test_units_api.py [-k NAME]
"""
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_users import CHEAP, PASSWORD, Client  # noqa: E402
from vigie_harness import (ACK, FIX, STATUS, WELCOME, Daemon, Unit, binary,  # noqa: E402
                           decision, fix_body, hello, now_ms, record, records, status_body)

ROLES = ["operator", "supervisor", "installer", "magistrate", "statistician", "administrator"]
FAR = (47.45, -0.55)


class UnitsApiTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra=CHEAP)
        self.d.start()
        self.addCleanup(self.d.cleanup)
        self.files = tempfile.mkdtemp(prefix="vigie-units-")
        self.addCleanup(shutil.rmtree, self.files, True)

    def api(self, method, path, body=None):
        status, text = self.d.http(method, path,
                                   json.dumps(body).encode() if body is not None else None)
        return status, json.loads(text) if text.strip() else None

    def issue(self, serial):
        """Issued through the API; its files written as an installer would
        load them into the unit: (crt, key, ca)."""
        status, doc = self.api("POST", "/api/v1/units", {"serial": serial})
        self.assertEqual(status, 201, doc)
        self.assertEqual(doc["serial"], serial)
        paths = []
        for name, key in ((serial + ".crt", "certificate"), (serial + ".key", "key"),
                          ("ca-%s.crt" % serial, "ca")):
            path = os.path.join(self.files, name)
            with open(path, "w") as f:
                f.write(doc[key])
            paths.append(path)
        return tuple(paths)

    def measure(self, name, author, protected, court=None, bracelet=None):
        units = {"author": author, "protected": protected}
        if bracelet:
            units["bracelet"] = bracelet
        definition = {"name": name, "alert_radius_m": 2000, "units": units,
                      "decision": decision()}
        if court:
            definition["court"] = court
        status, doc = self.api("POST", "/api/v1/measures", definition)
        self.assertEqual(status, 201, doc)
        return doc["id"]

    def connect(self, files):
        crt, key, ca = files
        u = Unit(self.d.devices_port, crt, key, ca)
        self.addCleanup(u.close)
        u.send(hello())
        return u, u.expect(WELCOME)

    def assert_refused(self, files):
        crt, key, ca = files
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError, AssertionError)):
            u = Unit(self.d.devices_port, crt, key, ca)
            try:
                u.send(hello())
                if u.recv_frame(3) is None:
                    raise AssertionError("closed")
            finally:
                u.close()

    def journal(self, action=None):
        rows = self.d.query("SELECT actor, action, subject, detail FROM journal ORDER BY id")
        return [r for r in rows if action is None or r[1] == action]

    def units(self, client=None):
        if client is None:
            status, doc = self.api("GET", "/api/v1/units")
        else:
            status, doc, _ = client.request("GET", "/api/v1/units")
        self.assertEqual(status, 200, doc)
        return {u["serial"]: u for u in doc}

    def add_user(self, name, role, court=None):
        body = {"name": name, "role": role, "password": PASSWORD}
        if court:
            body["court"] = court
        status, doc = self.api("POST", "/api/v1/users", body)
        self.assertEqual(status, 201, doc)

    def session(self, name):
        c = Client(self.d.http_port)
        status, doc, _ = c.login(name, PASSWORD)
        self.assertEqual(status, 200, doc)
        return c


class IssueAndRevoke(UnitsApiTest):
    def test_issued_unit_connects_then_revoked_is_refused(self):
        a = self.issue("U-A1")
        p = self.issue("U-P1")
        with open(a[0]) as f:
            self.assertIn("BEGIN CERTIFICATE", f.read())
        with open(a[1]) as f:
            self.assertIn("PRIVATE KEY", f.read())
        with open(a[2]) as f, open(os.path.join(self.d.pki, "ca.crt")) as g:
            self.assertEqual(f.read(), g.read())
        self.measure("M-1", "U-A1", "U-P1")
        unit, welcome = self.connect(a)
        self.assertEqual(welcome["acked_seq"], 0)
        unit.send(records(record(FIX, 1, fix_body(now_ms(), *FAR))))
        self.assertEqual(unit.expect(ACK)["cumulative"], 1)
        unit.close()
        # one issue per serial, whatever became of the first
        status, doc = self.api("POST", "/api/v1/units", {"serial": "U-A1"})
        self.assertEqual((status, doc["error"]["code"]), (409, "conflict"), doc)
        # revoked: refused at its next connection, without a SIGHUP
        her, _ = self.connect(p)
        status, doc = self.api("POST", "/api/v1/units/U-A1/revoke", {"note": "unit stolen"})
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc, {"serial": "U-A1", "revoked": True})
        self.assert_refused(a)
        # her unit, not revoked, goes on and connects again
        her.send(records(record(FIX, 1, fix_body(now_ms(), 47.2184, -1.5536))))
        self.assertEqual(her.expect(ACK)["cumulative"], 1)
        her.close()
        self.connect(p)
        self.assertEqual(self.units()["U-A1"]["certificate"], "revoked")
        self.assertEqual(self.units()["U-P1"]["certificate"], "valid")
        # twice is a conflict; an unknown serial is not found; the note is required
        status, doc = self.api("POST", "/api/v1/units/U-A1/revoke", {"note": "again"})
        self.assertEqual((status, doc["error"]["code"]), (409, "state"), doc)
        status, doc = self.api("POST", "/api/v1/units/U-GHOST/revoke", {"note": "x"})
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"), doc)
        status, doc = self.api("POST", "/api/v1/units/U-P1/revoke", {})
        self.assertEqual(status, 400, doc)
        self.assertEqual(self.units()["U-P1"]["certificate"], "valid")
        # the journal: who issued and revoked what, why; never a key
        issued = self.journal("unit.issue")
        self.assertEqual([(r[0], r[2]) for r in issued],
                         [("admin-token", "unit/U-A1"), ("admin-token", "unit/U-P1")])
        self.assertTrue(all(json.loads(r[3])["certificate_serial"] for r in issued))
        revoked = self.journal("unit.revoke")
        self.assertEqual(len(revoked), 1)
        self.assertEqual(revoked[0][2], "unit/U-A1")
        self.assertEqual(json.loads(revoked[0][3]), {"note": "unit stolen", "crl_reloaded": True})
        everything = json.dumps(self.journal())
        self.assertNotIn("PRIVATE KEY", everything)
        self.assertNotIn("BEGIN", everything)
        self.assertIn("revocation list reloaded", self.d.log_text())

    def test_repaired_unit_issued_again(self):
        """OPERATIONS.md: a revoked unit's files moved out of units/, the
        same serial gets a new certificate; the list shows the good one."""
        old = self.issue("U-R1")
        self.issue("U-R2")
        self.measure("M-R", "U-R1", "U-R2")
        self.assertEqual(self.api("POST", "/api/v1/units/U-R1/revoke", {"note": "broken"})[0], 200)
        self.assert_refused(old)
        attic = os.path.join(self.files, "attic")
        os.mkdir(attic)
        for ext in (".crt", ".key"):
            os.rename(os.path.join(self.d.pki, "units", "U-R1" + ext),
                      os.path.join(attic, "U-R1" + ext))
        os.rename(old[0], old[0] + ".old")
        os.rename(old[1], old[1] + ".old")
        new = self.issue("U-R1")
        self.assertEqual(self.units()["U-R1"]["certificate"], "valid")
        self.connect(new)
        self.assert_refused((old[0] + ".old", old[1] + ".old", old[2]))

    def test_strict_bodies_and_routes(self):
        for body, where in (({"serial": "U-1", "role": "author"}, "unknown key"),
                            ({}, "serial"),
                            ({"serial": 12}, "serial"),
                            ({"serial": ""}, "serial"),
                            ({"serial": "../etc"}, "serial"),
                            ({"serial": ".hidden"}, "serial"),
                            ({"serial": "-x"}, "serial"),
                            ({"serial": "U" * 65}, "serial"),
                            ({"serial": "U 1"}, "serial")):
            status, doc = self.api("POST", "/api/v1/units", body)
            self.assertEqual((status, doc["error"]["code"]), (400, "invalid"), body)
            self.assertIn(where, doc["error"]["message"], body)
        status, text = self.d.http("POST", "/api/v1/units", b"{\"serial\": \"U-1\"")
        self.assertEqual(status, 400, text)
        status, text = self.d.http("POST", "/api/v1/units", b"{\"serial\": \"U-1\", "
                                   b"\"serial\": \"U-2\"}")
        self.assertEqual(status, 400, text)  # duplicate keys
        status, text = self.d.http("POST", "/api/v1/units", b"serial=U-1",
                                   content_type="application/x-www-form-urlencoded")
        self.assertEqual(status, 415, text)
        self.assertEqual(self.units(), {})  # nothing was issued
        self.assertEqual(os.listdir(os.path.join(self.d.pki, "units")), [])
        self.issue("U-1")
        for body in ({"note": "x", "why": "y"}, {"note": 3}, {"note": ""}, {"note": "x" * 1001}):
            status, doc = self.api("POST", "/api/v1/units/U-1/revoke", body)
            self.assertEqual(status, 400, body)
        for method, path, want in (("PUT", "/api/v1/units", 405),
                                   ("DELETE", "/api/v1/units", 405),
                                   ("GET", "/api/v1/units/U-1/revoke", 405),
                                   ("GET", "/api/v1/units/U-1", 404),
                                   ("POST", "/api/v1/units/U-1/suspend", 404),
                                   ("POST", "/api/v1/units/..%2Fx/revoke", 404),
                                   ("POST", "/api/v1/units//revoke", 404)):
            status, doc = self.api(method, path, {"note": "x"} if method == "POST" else None)
            self.assertEqual(status, want, (method, path, doc))
        # no credentials at all
        status, _ = self.d.http("GET", "/api/v1/units", token=False)
        self.assertEqual(status, 401)
        self.assertEqual(self.units()["U-1"]["certificate"], "valid")


class List(UnitsApiTest):
    def test_health_from_the_engine(self):
        a = self.issue("U-A1")
        p = self.issue("U-P1")
        self.issue("U-SPARE")  # a certificate, no measure yet
        mid = self.measure("M-1", "U-A1", "U-P1", court="TJ-A", bracelet="B-1")
        before = self.units()
        self.assertEqual(sorted(before), ["B-1", "U-A1", "U-P1", "U-SPARE"])
        self.assertIsNone(before["U-A1"]["last_heard_ms"])  # not heard yet
        self.assertFalse(before["U-A1"]["connected"])
        unit, _ = self.connect(a)
        her, _ = self.connect(p)
        t = now_ms()
        unit.send(records(record(STATUS, 1, status_body(t, battery=40)),
                          record(FIX, 2, fix_body(t, *FAR))))
        self.assertEqual(unit.expect(ACK)["cumulative"], 2)
        units = self.units()
        au = units["U-A1"]
        self.assertEqual(au["role"], "author")
        self.assertEqual(au["measure"], {"id": mid, "name": "M-1",
                                         "status": "pending_installation"})
        self.assertTrue(au["connected"])
        self.assertEqual(au["acked_seq"], 2)
        self.assertEqual(au["battery_pct"], 40)
        self.assertGreaterEqual(au["last_heard_ms"], t - 1000)
        self.assertLessEqual(au["last_heard_ms"], now_ms() + 1000)
        self.assertFalse(au["comm_lost"])
        self.assertFalse(au["powered_off"])
        self.assertEqual(au["certificate"], "valid")
        pu = units["U-P1"]
        self.assertEqual((pu["role"], pu["connected"], pu["acked_seq"]), ("protected", True, 0))
        self.assertIsNone(pu["battery_pct"])  # unknown: she sent no status
        self.assertIsNone(pu["last_heard_ms"])
        # the bracelet has no certificate of its own; it is heard through his unit
        b = units["B-1"]
        self.assertEqual((b["role"], b["certificate"], b["connected"]), ("bracelet", None, True))
        self.assertIsNone(b["strap_closed"])
        spare = units["U-SPARE"]
        self.assertEqual((spare["role"], spare["measure"], spare["connected"],
                          spare["certificate"], spare["battery_pct"]),
                         (None, None, False, "valid", None))
        # his unit goes away: the list says so
        unit.close()
        deadline = time.time() + 10
        while self.units()["U-A1"]["connected"] and time.time() < deadline:
            time.sleep(0.05)
        self.assertFalse(self.units()["U-A1"]["connected"])
        # every list journaled, with how many units it showed
        lists = self.journal("unit.list")
        self.assertGreaterEqual(len(lists), 3)
        self.assertEqual(lists[-1][:3], ("admin-token", "unit.list", "*"))
        self.assertEqual(json.loads(lists[-1][3]), {"count": 4})


class Roles(UnitsApiTest):
    def setUp(self):
        super().setUp()
        for role in ROLES:
            self.add_user("u-" + role, role, court="TJ-A" if role == "magistrate" else None)
        self.add_user("u-magistrate-b", "magistrate", court="TJ-B")
        self.measure("M-A", "A-A", "A-P", court="TJ-A")
        self.measure("M-B", "B-A", "B-P", court="TJ-B")
        self.measure("M-C", "C-A", "C-P")  # no court: no magistrate's

    def test_matrix(self):
        readers = {"operator", "supervisor", "installer", "magistrate", "administrator"}
        issuers = {"installer", "administrator"}
        sessions = {role: self.session("u-" + role) for role in ROLES}  # 10 logins at most
        for role in ROLES:
            c = sessions[role]
            status, doc, _ = c.request("GET", "/api/v1/units")
            if role in readers:
                self.assertEqual(status, 200, (role, doc))
            else:
                self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"), role)
                self.assertNotIn("A-A", json.dumps(doc))
            serial = "N-" + role
            status, doc, _ = c.request("POST", "/api/v1/units", {"serial": serial}, csrf=False)
            self.assertEqual(status, 403, (role, doc))  # no CSRF token, or no right
            status, doc, _ = c.request("POST", "/api/v1/units", {"serial": serial})
            if role in issuers:
                self.assertEqual(status, 201, (role, doc))
                self.assertIn("PRIVATE KEY", doc["key"])
            else:
                self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"), role)
            status, doc, _ = c.request("POST", "/api/v1/units/N-administrator/revoke"
                                       if role != "administrator" else
                                       "/api/v1/units/N-installer/revoke", {"note": "x"},
                                       csrf=False)
            self.assertEqual(status, 403, (role, doc))
        # what was refused was not done
        issued = sorted(r[2] for r in self.journal("unit.issue"))
        self.assertEqual(issued, ["unit/N-administrator", "unit/N-installer"])
        self.assertEqual(sorted(os.listdir(os.path.join(self.d.pki, "units"))),
                         ["N-administrator.crt", "N-administrator.key",
                          "N-installer.crt", "N-installer.key"])
        # revoking: the installer and the administrator only
        for role in ROLES:
            status, doc, _ = sessions[role].request(
                "POST", "/api/v1/units/N-installer/revoke", {"note": "by " + role})
            if role == "installer":
                self.assertEqual(status, 200, doc)
            elif role == "administrator":
                self.assertEqual(status, 409, doc)  # already, by the installer
            else:
                self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"), role)
        revokes = self.journal("unit.revoke")
        self.assertEqual([(r[0], r[2]) for r in revokes], [("u-installer", "unit/N-installer")])

    def test_magistrate_sees_his_court_units_only(self):
        self.issue("A-A")
        s = {name: self.session(name) for name in ("u-magistrate", "u-magistrate-b",
                                                   "u-operator", "u-installer")}
        for name, want in (("u-magistrate", ["A-A", "A-P"]), ("u-magistrate-b", ["B-A", "B-P"])):
            units = self.units(s[name])
            self.assertEqual(sorted(units), want, name)
            self.assertTrue(all(u["measure"]["name"] == "M-" + want[0][0]
                                for u in units.values()))
        # the others see every unit, and the certificates without a measure
        units = self.units(s["u-operator"])
        self.assertEqual(sorted(units), ["A-A", "A-P", "B-A", "B-P", "C-A", "C-P"])
        units = self.units(s["u-installer"])
        self.assertEqual(len(units), 6)
        self.issue("LOOSE")
        self.assertIn("LOOSE", self.units(s["u-installer"]))
        self.assertNotIn("LOOSE", self.units(s["u-magistrate"]))
        lists = [(r[0], json.loads(r[3])["count"]) for r in self.journal("unit.list")]
        self.assertIn(("u-magistrate", 2), lists)
        self.assertIn(("u-operator", 6), lists)
        self.assertIn(("u-installer", 7), lists)


class Cli(UnitsApiTest):
    def cli(self, *args):
        return subprocess.run([binary("vigie"), "units"] + list(args) +
                              ["--http", "127.0.0.1:%d" % self.d.http_port,
                               "--data-dir", self.d.dir],
                              capture_output=True, text=True)

    def test_round_trip(self):
        out = os.path.join(self.files, "provisioning")
        res = self.cli("issue", "U-C1", "--out", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        key = os.path.join(out, "U-C1.key")
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(sorted(os.listdir(out)), ["U-C1.crt", "U-C1.key", "ca.crt"])
        with open(key) as f:
            first_key = f.read()
        # never over a file, and the centre is not even asked (the serial is not spent)
        res = self.cli("issue", "U-C1", "--out", out)
        self.assertEqual(res.returncode, 1)
        self.assertIn("already exists", res.stderr)
        with open(key) as f:
            self.assertEqual(f.read(), first_key)
        self.assertEqual(len(self.journal("unit.issue")), 1)
        # a second unit into the same directory: the same CA's file stays
        res = self.cli("issue", "U-C2", "--out", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        # the centre refuses a serial issued before (its files elsewhere)
        res = self.cli("issue", "U-C1", "--out", os.path.join(self.files, "other"))
        self.assertEqual(res.returncode, 1)
        self.assertIn("409", res.stderr)
        # usage errors
        for args in (("issue", "U-C3"), ("issue", "../U", "--out", out), ("revoke", "U-C1"),
                     ("issue", "U-C3", "--out", out, "--json"), ("list", "U-C1"), ("frob",)):
            res = self.cli(*args)
            self.assertEqual(res.returncode, 2, (args, res.stderr))
        self.assertFalse(os.path.exists(os.path.join(out, "U-C3.key")))
        # the files let the units connect
        self.measure("M-CLI", "U-C1", "U-C2")
        ca = os.path.join(out, "ca.crt")
        c1 = (os.path.join(out, "U-C1.crt"), key, ca)
        unit, _ = self.connect(c1)
        unit.send(records(record(STATUS, 1, status_body(now_ms(), battery=55))))
        unit.expect(ACK)
        res = self.cli("list")
        self.assertEqual(res.returncode, 0, res.stderr)
        line = [l for l in res.stdout.splitlines() if l.startswith("U-C1 ")][0]
        for word in ("author", "M-CLI", "pending_installation", "yes", "55%", "valid"):
            self.assertIn(word, line)
        self.assertIn("SERIAL", res.stdout.splitlines()[0])
        res = self.cli("list", "--json")
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = {u["serial"]: u for u in json.loads(res.stdout)}
        self.assertEqual(doc["U-C2"]["role"], "protected")
        unit.close()
        # revoked: refused next time
        res = self.cli("revoke", "U-C1", "--note", "lost in transit")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("revoked", res.stdout)
        self.assert_refused(c1)
        res = self.cli("revoke", "U-C1", "--note", "again")
        self.assertEqual(res.returncode, 1)
        self.assertIn("already revoked", res.stderr)
        res = self.cli("revoke", "U-NONE", "--note", "x")
        self.assertEqual(res.returncode, 1)
        self.assertIn("404", res.stderr)
        self.assertEqual(json.loads(self.journal("unit.revoke")[0][3])["note"], "lost in transit")


if __name__ == "__main__":
    unittest.main()
