"""Accounts, sessions and permissions end to end, against a real vigied:
the bootstrap administrator without a password, logging in (the cookie's
attributes, the CSRF token), CSRF refusals, the lock-out and the rate limit,
the permission matrix (every role against every endpoint), a magistrate's
court, a user changing his own password, disabled accounts, bad input, and
what the journal keeps (never a password).

    python3 tests/integ/test_users.py [-k NAME]   (VIGIE_BUILD=build dir)
"""
import http.client
import json
import os
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from vigie_harness import Daemon, binary, decision  # noqa: E402

# Argon2id at its floor: the tests log in dozens of times under ASan
CHEAP = ["--password-memory-kib", "8192", "--password-iterations", "1"]
PASSWORD = "correct horse battery"


class Client:
    """An HTTP client keeping the session cookie and CSRF token, like a browser."""

    def __init__(self, port):
        self.port = port
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, csrf=True, bearer=None, raw=None,
                content_type="application/json", extra=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(extra or {})
        if self.cookie:
            headers["Cookie"] = "vigie_session=" + self.cookie
        if csrf and self.csrf and method in ("POST", "PUT", "PATCH", "DELETE"):
            headers["X-CSRF-Token"] = self.csrf
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None and content_type:
            headers["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode()
        conn.close()
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = text
        return r.status, doc, r

    def login(self, name, password):
        status, doc, r = self.request("POST", "/api/v1/session",
                                      {"name": name, "password": password})
        if status == 200:
            cookie = r.getheader("Set-Cookie")
            self.cookie = cookie.split(";")[0].split("=", 1)[1]
            self.csrf = doc["csrf_token"]
        return status, doc, r


class UsersTest(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra=CHEAP)
        self.d.start()
        self.addCleanup(self.d.cleanup)

    def client(self):
        return Client(self.d.http_port)

    def cli(self, *args, password=None):
        return subprocess.run([binary("vigie"), "user"] + list(args) +
                              ["--http", "127.0.0.1:%d" % self.d.http_port,
                               "--data-dir", self.d.dir],
                              input=password, capture_output=True, text=True)

    def add(self, name, role, court=None, password=PASSWORD):
        body = {"name": name, "role": role, "password": password}
        if court:
            body["court"] = court
        status, doc, _ = self.client().request("POST", "/api/v1/users", body, bearer=self.d.token)
        self.assertEqual(status, 201, doc)

    def session(self, name, password=PASSWORD):
        c = self.client()
        status, doc, _ = c.login(name, password)
        self.assertEqual(status, 200, doc)
        return c

    def journal(self):
        return self.d.query("SELECT actor, action, subject, detail FROM journal ORDER BY id")


class Bootstrap(UsersTest):
    def test_admin_without_password_then_set_with_the_token(self):
        res = self.cli("list")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("admin", res.stdout)
        self.assertIn("no password yet", res.stdout)
        c = self.client()
        for guess in ("", "admin", "password1234"):  # no default password works
            self.assertEqual(c.login("admin", guess)[0], 401)
        res = self.cli("passwd", "admin", "--password-stdin", password="short\n")
        self.assertEqual(res.returncode, 1)
        self.assertIn("12 characters", res.stderr)
        res = self.cli("passwd", "admin", "--password-stdin", password=PASSWORD + "\n")
        self.assertEqual(res.returncode, 0, res.stderr)
        status, doc, r = c.login("admin", PASSWORD)
        self.assertEqual(status, 200, doc)
        cookie = r.getheader("Set-Cookie")
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attribute, cookie)
        self.assertEqual(doc["role"], "administrator")
        self.assertEqual(len(doc["csrf_token"]), 64)
        status, me, _ = c.request("GET", "/api/v1/session")
        self.assertEqual((status, me["name"], me["csrf_token"]), (200, "admin", c.csrf))
        # the token is an identity of its own, without CSRF
        status, me, _ = self.client().request("GET", "/api/v1/session", bearer=self.d.token)
        self.assertEqual((status, me["name"], me["role"]), (200, "admin-token", "administrator"))
        self.assertNotIn("csrf_token", me)
        # the accounts survive a restart, and the sessions (in the database:
        # a console moves to the other site with its cookie, issue 10)
        self.d.stop()
        self.d.start()
        c.port = self.d.http_port
        status, me, _ = c.request("GET", "/api/v1/session")
        self.assertEqual((status, me["name"], me["csrf_token"]), (200, "admin", c.csrf))
        self.assertEqual(self.client().login("admin", PASSWORD)[0], 200)
        # a logout ends it for good, restart or not
        self.assertEqual(c.request("DELETE", "/api/v1/session")[0], 204)
        self.d.stop()
        self.d.start()
        c.port = self.d.http_port
        self.assertEqual(c.request("GET", "/api/v1/session")[0], 401)


class Https(UsersTest):
    def setUp(self):
        self.d = Daemon(extra=CHEAP + ["--https", "127.0.0.1:0"])
        self.d.start()
        self.addCleanup(self.d.cleanup)

    def test_login_over_https_sets_a_secure_cookie(self):
        self.add("op1", "operator")
        self.assertGreater(self.d.https_port, 0)
        ctx = ssl.create_default_context(cafile=os.path.join(self.d.pki, "ca.crt"))
        conn = http.client.HTTPSConnection("localhost", self.d.https_port, context=ctx, timeout=30)
        conn.request("POST", "/api/v1/session", body=json.dumps({"name": "op1", "password": PASSWORD}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        doc = json.loads(r.read())
        self.assertEqual(r.status, 200, doc)
        cookie = r.getheader("Set-Cookie")
        self.assertIn("; Secure", cookie)
        conn.request("GET", "/api/v1/session",
                     headers={"Cookie": cookie.split(";")[0]})
        r = conn.getresponse()
        self.assertEqual((r.status, json.loads(r.read())["name"]), (200, "op1"))
        conn.close()
        # over plain HTTP (loopback) the cookie is not Secure
        self.assertNotIn("Secure", self.client().login("op1", PASSWORD)[2].getheader("Set-Cookie"))


class Sessions(UsersTest):
    def test_csrf_and_logout(self):
        self.add("root2", "administrator")
        c = self.session("root2")
        body = {"name": "op1", "role": "operator"}
        status, doc, _ = c.request("POST", "/api/v1/users", body, csrf=False)
        self.assertEqual((status, doc["error"]["code"]), (403, "csrf"))
        status, doc, _ = c.request("POST", "/api/v1/users", body, csrf=False,
                                   extra={"X-CSRF-Token": "0" * 64})
        self.assertEqual((status, doc["error"]["code"]), (403, "csrf"))
        self.assertEqual(c.request("POST", "/api/v1/users", body)[0], 201)
        self.assertEqual(c.request("DELETE", "/api/v1/session", csrf=False)[0], 403)
        status, _, r = c.request("DELETE", "/api/v1/session")
        self.assertEqual(status, 204)
        self.assertIn("Max-Age=0", r.getheader("Set-Cookie"))
        self.assertEqual(c.request("GET", "/api/v1/session")[0], 401)
        self.assertEqual(c.request("GET", "/api/v1/users")[0], 401)
        # a forged cookie is nobody
        c.cookie = "f" * 64
        self.assertEqual(c.request("GET", "/api/v1/session")[0], 401)

    def test_lockout_after_five_failures(self):
        self.add("op1", "operator")
        c = self.client()
        for i in range(5):
            self.assertEqual(c.login("op1", "wrong password %d" % i)[0], 401)
        status, doc, r = c.login("op1", PASSWORD)  # even the right one, while locked
        self.assertEqual((status, doc["error"]["code"]), (429, "locked"))
        self.assertIn(int(r.getheader("Retry-After")), range(250, 301))
        self.assertIn(("system", "user.locked", "op1"),
                      [(a, b, s) for a, b, s, _ in self.journal()])
        status, users, _ = self.client().request("GET", "/api/v1/users", bearer=self.d.token)
        self.assertTrue([u for u in users if u["name"] == "op1"][0]["locked"])
        # an administrator setting a new password lifts the lock
        self.assertEqual(self.cli("passwd", "op1", "--password-stdin",
                                  password="another long password\n").returncode, 0)
        self.assertEqual(c.login("op1", "another long password")[0], 200)

    def test_rate_limit_per_address(self):
        c = self.client()
        codes = [c.login("nobody-%d" % i, "whatever whatever")[0] for i in range(12)]
        self.assertEqual(codes[:10], [401] * 10)
        status, doc, r = c.login("nobody-x", "whatever whatever")
        self.assertEqual((status, doc["error"]["code"]), (429, "rate_limited"))
        self.assertGreaterEqual(int(r.getheader("Retry-After")), 1)

    def test_own_password_and_disabled_account(self):
        self.add("op1", "operator")
        self.add("op2", "operator")
        c = self.session("op1")
        new = {"password": "a brand new secret"}
        self.assertEqual(c.request("PATCH", "/api/v1/users/op1", new)[0], 403)  # no current
        wrong = dict(new, current_password="not it at all")
        self.assertEqual(c.request("PATCH", "/api/v1/users/op1", wrong)[0], 403)
        self.assertEqual(c.request("PATCH", "/api/v1/users/op2", dict(new, current_password=PASSWORD))[0], 403)
        self.assertEqual(c.request("PATCH", "/api/v1/users/op1",
                                   {"role": "administrator", "current_password": PASSWORD})[0], 403)
        ok = dict(new, current_password=PASSWORD)
        self.assertEqual(c.request("PATCH", "/api/v1/users/op1", ok)[0], 200)
        self.assertEqual(c.request("GET", "/api/v1/session")[0], 401)  # sessions closed
        self.assertEqual(self.client().login("op1", PASSWORD)[0], 401)
        c2 = self.session("op1", "a brand new secret")
        # disabled: the session ends, the login fails
        self.assertEqual(self.cli("disable", "op1").returncode, 0)
        self.assertEqual(c2.request("GET", "/api/v1/session")[0], 401)
        self.assertEqual(self.client().login("op1", "a brand new secret")[0], 401)
        self.assertEqual(self.cli("enable", "op1").returncode, 0)
        self.session("op1", "a brand new secret")
        # the journal: who changed what, and never a password
        rows = self.journal()
        self.assertIn(("op1", "user.update", "op1", '{"password_changed":true}'), rows)
        self.assertIn(("admin-token", "user.update", "op1", '{"disabled":true}'), rows)
        self.assertIn("session.open", [r[1] for r in rows])
        for row in rows:
            for secret in (PASSWORD, "a brand new secret"):
                self.assertNotIn(secret, "".join(row))


# (method, path, body maker, allowed roles, status when allowed)
ROLES = ["operator", "supervisor", "installer", "magistrate", "statistician", "administrator"]


class Permissions(UsersTest):
    def setUp(self):
        super().setUp()
        for role in ROLES:
            self.add("u-" + role, role, court="TJ-A" if role == "magistrate" else None)
        self.add("u-magistrate-b", "magistrate", court="TJ-B")
        for name, court in (("M-A", "TJ-A"), ("M-B", "TJ-B")):
            definition = {"name": name, "court": court, "alert_radius_m": 2000,
                          "units": {"author": name + "-A", "protected": name + "-P"},
                          "decision": decision()}
            status, body = self.d.http("POST", "/api/v1/measures", json.dumps(definition).encode())
            self.assertEqual(status, 201, body)

    def test_matrix(self):
        """Every role against every endpoint, as docs/API.md says."""
        allowed = {
            ("GET", "/api/v1/measures"): {"operator", "supervisor", "installer", "magistrate",
                                          "administrator"},
            ("POST", "/api/v1/measures"): {"installer", "administrator"},
            ("GET", "/api/v1/users"): {"administrator"},
            ("POST", "/api/v1/users"): {"administrator"},
            ("PATCH", "/api/v1/users/u-statistician"): {"administrator"},
            ("GET", "/api/v1/session"): set(ROLES),
            ("GET", "/api/v1/measures/M-A"): {"operator", "supervisor", "installer", "magistrate",
                                              "administrator"},
            ("GET", "/api/v1/measures/M-A/versions"): {"operator", "supervisor", "installer",
                                                       "magistrate", "administrator"},
            # through to the measure's own checks: a definition that breaks
            # the rules (400), a pending measure that cannot resume (409)
            ("PUT", "/api/v1/measures/M-A"): {"installer", "magistrate", "administrator"},
            ("POST", "/api/v1/measures/M-A/resume"): {"installer", "magistrate", "administrator"},
            ("GET", "/api/v1/measures/M-A/export"): {"administrator"},
            ("GET", "/api/v1/incidents"): {"operator", "supervisor"},
            # through to the incidents' own checks: there is no incident 999
            ("POST", "/api/v1/incidents/999/take"): {"operator", "supervisor"},
            ("GET", "/api/v1/incidents/999/report"): {"operator", "supervisor", "magistrate"},
            ("GET", "/api/v1/incidents/999/steps"): {"operator", "supervisor", "magistrate"},
            ("GET", "/api/v1/floor"): {"operator", "supervisor"},
            # (the stream's roles are tested in test_stream.py: it does not end)
            ("GET", "/api/v1/measures/M-A/positions"): {"operator", "supervisor"},
            ("GET", "/api/v1/measures/M-A/activity"): {"operator", "supervisor", "installer",
                                                       "magistrate", "administrator"},
        }
        ok = {("PUT", "/api/v1/measures/M-A"): (400,),
              ("POST", "/api/v1/measures/M-A/resume"): (409,),
              ("POST", "/api/v1/incidents/999/take"): (404,),
              ("GET", "/api/v1/incidents/999/report"): (404,),
              ("GET", "/api/v1/incidents/999/steps"): (404,)}
        ids = {m["name"]: m["id"] for m in json.loads(self.d.http("GET", "/api/v1/measures")[1])}
        for role in ROLES:
            c = self.session("u-" + role)
            for (method, route), who in allowed.items():
                path = route.replace("M-A", str(ids["M-A"]))
                body = None
                if path == "/api/v1/measures" and method == "POST":
                    body = {"name": "M-" + role, "alert_radius_m": 1000,
                            "units": {"author": role + "-A", "protected": role + "-P"},
                            "decision": decision()}
                elif path == "/api/v1/users" and method == "POST":
                    body = {"name": "new-by-" + role, "role": "operator"}
                elif method == "PATCH":
                    body = {"court": "TJ-" + role}
                elif method == "PUT":
                    body = {"based_on": 1, "note": "x", "definition": {"name": "M-A"}}
                elif route.endswith("/resume"):
                    body = {"based_on": 1, "note": "x"}
                elif route.endswith("/take"):
                    body = {}
                status, doc, _ = c.request(method, path, body)
                if role in who:
                    self.assertIn(status, ok.get((method, route), (200, 201)),
                                  "%s %s %s: %s" % (role, method, path, doc))
                else:
                    self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"),
                                     "%s %s %s" % (role, method, path))
        # nothing refused was done
        names = [m["name"] for m in json.loads(self.d.http("GET", "/api/v1/measures")[1])]
        self.assertEqual(sorted(n for n in names if n.startswith("M-") and n not in ("M-A", "M-B")),
                         ["M-administrator", "M-installer"])

    def test_magistrate_sees_his_court_only(self):
        for name, court, want in (("u-magistrate", "TJ-A", ["M-A"]),
                                  ("u-magistrate-b", "TJ-B", ["M-B"])):
            c = self.session(name)
            status, measures, _ = c.request("GET", "/api/v1/measures")
            self.assertEqual(status, 200)
            self.assertEqual([m["name"] for m in measures], want)
            self.assertEqual({m["court"] for m in measures}, {court})
        status, measures, _ = self.session("u-operator").request("GET", "/api/v1/measures")
        self.assertEqual(sorted(m["name"] for m in measures), ["M-A", "M-B"])
        # the statistician sees no measure, no unit, no name
        status, doc, _ = self.session("u-statistician").request("GET", "/api/v1/measures")
        self.assertEqual(status, 403)
        self.assertNotIn("M-A", json.dumps(doc))
        # every read is journaled with its reader and what was shown
        reads = [(a, d) for a, act, _, d in self.journal() if act == "measure.list"]
        self.assertIn(("u-magistrate", '{"count":1}'), reads)
        self.assertIn(("u-operator", '{"count":2}'), reads)


class BadInput(UsersTest):
    def test_refusals(self):
        c = self.client()
        tok = self.d.token
        cases = [
            (("POST", "/api/v1/users", {"name": "x1", "role": "pilot"}), 400),
            (("POST", "/api/v1/users", {"name": "x1", "role": "magistrate"}), 400),  # no court
            (("POST", "/api/v1/users", {"name": "x1", "role": "operator", "extra": 1}), 400),
            (("POST", "/api/v1/users", {"name": 7, "role": "operator"}), 400),
            (("POST", "/api/v1/users", {"name": "-x", "role": "operator"}), 400),
            (("POST", "/api/v1/users", {"name": "admin-token", "role": "operator"}), 400),
            (("POST", "/api/v1/users", {"name": "x1", "role": "operator", "password": "short"}), 400),
            (("POST", "/api/v1/users", {"name": "x1", "role": "operator", "disabled": "no"}), 400),
            (("POST", "/api/v1/users", {"name": "admin", "role": "operator"}), 409),
            (("PATCH", "/api/v1/users/ghost", {"court": "TJ-A"}), 404),
            (("PATCH", "/api/v1/users/admin", {}), 400),
            (("PUT", "/api/v1/users", {}), 405),
            (("POST", "/api/v1/nothing", {}), 404),
        ]
        for (method, path, body), want in cases:
            status, doc, _ = c.request(method, path, body, bearer=tok)
            self.assertEqual(status, want, "%s %s %r: %s" % (method, path, body, doc))
            if status != 405 or doc:
                self.assertIn("message", doc["error"])
        self.assertEqual(c.request("POST", "/api/v1/users", raw=b"{not json", bearer=tok)[0], 400)
        self.assertEqual(c.request("POST", "/api/v1/users", raw=b'{"name":"a","name":"b"}',
                                   bearer=tok)[0], 400)  # duplicate keys
        self.assertEqual(c.request("POST", "/api/v1/users", raw=b"{}", bearer=tok,
                                   content_type="text/plain")[0], 415)
        self.assertEqual(c.request("GET", "/api/v1/users", bearer="0" * 64)[0], 401)
        self.assertEqual(c.request("GET", "/api/v1/users",
                                   extra={"Authorization": "Basic YTpi"})[0], 401)
        self.assertEqual(c.request("POST", "/api/v1/session", {"name": "admin"})[0], 400)
        self.assertEqual(c.request("POST", "/api/v1/session",
                                   {"name": "admin", "password": 5})[0], 400)
        # still serving
        self.assertEqual(c.request("GET", "/api/v1/users", bearer=tok)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
