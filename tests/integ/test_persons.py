"""Persons' files through the API, end to end: create, read, a new version
from the one read (a stale one refused), every version kept and listable,
strict validation, who may read and write, and the journal of every read
and change (what changed, not the values).

    python3 tests/integ/test_persons.py   (VIGIE_BUILD=build dir)
"""
import copy
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from test_users import CHEAP, PASSWORD, Client  # noqa: E402
from vigie_harness import Daemon, binary, decision  # noqa: E402

CLAIRE = {
    "identity": {"last_name": "Martin", "first_names": "Claire", "birth_date": "1988-04-02",
                 "sex": "F"},
    "phones": [{"label": "mobile", "number": "+33612345678"}],
    "addresses": [{"label": "home", "text": "3 rue de la Paix, 44000 Nantes",
                   "location": [47.2184, -1.5536]}],
    "emergency_contacts": [{"name": "Anne Martin", "relation": "sister",
                            "phone": "+33698765432"}],
    "household": {"children": [{"first_name": "Léo", "birth_date": "2015-09-01"}],
                  "pets": [{"kind": "dog", "name": "Rex", "notes": "barks, not dangerous"}]},
    "police_notes": "Ground floor.\nCode 4512B.",
}


class Persons(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(extra=CHEAP)
        self.d.start()
        self.addCleanup(self.d.cleanup)
        for role in ("operator", "installer", "statistician"):
            status, doc, _ = self.client().request(
                "POST", "/api/v1/users",
                {"name": "u-" + role, "role": role, "password": PASSWORD}, bearer=self.d.token)
            self.assertEqual(status, 201, doc)
        status, doc, _ = self.client().request(
            "POST", "/api/v1/users", {"name": "u-magistrate", "role": "magistrate",
                                      "court": "TJ-A", "password": PASSWORD}, bearer=self.d.token)
        self.assertEqual(status, 201, doc)

    def client(self):
        return Client(self.d.http_port)

    def session(self, name):
        c = self.client()
        self.assertEqual(c.login(name, PASSWORD)[0], 200)
        return c

    def test_create_read_version(self):
        inst = self.session("u-installer")
        status, doc, _ = inst.request("POST", "/api/v1/persons", CLAIRE)
        self.assertEqual(status, 201, doc)
        pid = doc["id"]
        self.assertEqual(doc["version"], 1)
        self.assertTrue(0 < pid < 2 ** 53)
        op = self.session("u-operator")
        status, got, _ = op.request("GET", "/api/v1/persons/%d" % pid)
        self.assertEqual(status, 200, got)
        self.assertEqual(got["person"], CLAIRE)
        self.assertEqual((got["display"], got["actor"], got["version"]),
                         ("Martin Claire", "u-installer", 1))
        # a new version from version 1: she moved
        moved = copy.deepcopy(CLAIRE)
        moved["addresses"][0]["text"] = "12 quai de la Fosse, 44000 Nantes"
        status, doc, _ = inst.request("PUT", "/api/v1/persons/%d" % pid,
                                      {"based_on": 1, "person": moved})
        self.assertEqual((status, doc.get("version")), (200, 2), doc)
        # a change made from version 1 again is stale
        status, doc, _ = inst.request("PUT", "/api/v1/persons/%d" % pid,
                                      {"based_on": 1, "person": CLAIRE})
        self.assertEqual((status, doc["error"]["code"]), (409, "conflict"))
        self.assertIn("version 2", doc["error"]["message"])
        # every version kept, newest first; the old one readable
        status, versions, _ = op.request("GET", "/api/v1/persons/%d/versions" % pid)
        self.assertEqual([v["version"] for v in versions], [2, 1])
        self.assertEqual(versions[1]["person"], CLAIRE)
        status, v1, _ = op.request("GET", "/api/v1/persons/%d?version=1" % pid)
        self.assertEqual((status, v1["person"]), (200, CLAIRE))
        status, lst, _ = op.request("GET", "/api/v1/persons")
        self.assertEqual([(p["id"], p["version"], p["display"]) for p in lst],
                         [(pid, 2, "Martin Claire")])
        for path in ("/api/v1/persons/999", "/api/v1/persons/%d?version=3" % pid,
                     "/api/v1/persons/abc", "/api/v1/persons/%d/other" % pid):
            self.assertEqual(op.request("GET", path)[0], 404, path)
        # the journal: each read and change, what changed, never the content
        rows = self.d.query("SELECT actor, action, subject, detail FROM journal "
                            "WHERE action LIKE 'person.%' ORDER BY id")
        subject = "person/%d" % pid
        self.assertEqual(rows[0], ("u-installer", "person.create", subject, '{"version":1}'))
        self.assertIn(("u-operator", "person.read", subject, '{"version":1}'), rows)
        self.assertIn(("u-installer", "person.update", subject,
                       '{"sections":["addresses"],"version":2}'), rows)
        self.assertIn(("u-operator", "person.read", subject, '{"versions":"all"}'), rows)
        self.assertIn(("u-operator", "person.list", "*", '{"count":1}'), rows)
        for row in rows:
            self.assertNotIn("Nantes", row[3])
            self.assertNotIn("Martin", "".join(row))

    def test_cli(self):
        """vigie person: the same through the command line, tables and --json."""
        path = os.path.join(self.d.dir, "claire.json")
        with open(path, "w") as f:
            json.dump(CLAIRE, f)

        def vigie(*args, stdin=None):
            return subprocess.run([binary("vigie"), "person"] + list(args) +
                                  ["--http", "127.0.0.1:%d" % self.d.http_port,
                                   "--data-dir", self.d.dir],
                                  input=stdin, capture_output=True, text=True)
        res = vigie("add", path)
        self.assertEqual(res.returncode, 0, res.stderr)
        pid = int(res.stdout.split()[1].rstrip(","))
        self.assertIn("version 1", res.stdout)
        res = vigie("show", str(pid))
        self.assertEqual(res.returncode, 0, res.stderr)
        for text in ("Martin Claire, born 1988-04-02", "+33612345678", "dog Rex",
                     "Code 4512B", "by admin-token"):
            self.assertIn(text, res.stdout)
        moved = copy.deepcopy(CLAIRE)
        moved["phones"][0]["number"] = "+33600000000"
        res = vigie("update", str(pid), "--based-on", "1", "-", stdin=json.dumps(moved))
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("version 2", res.stdout)
        res = vigie("update", str(pid), "--based-on", "1", path)
        self.assertEqual(res.returncode, 1)
        self.assertIn("409", res.stderr)
        res = vigie("versions", str(pid))
        self.assertEqual([l.split()[1] for l in res.stdout.splitlines()], ["2", "1"])
        res = vigie("show", str(pid), "--version", "1", "--json")
        self.assertEqual(json.loads(res.stdout)["person"], CLAIRE)
        res = vigie("list", "--json")
        self.assertEqual([(p["id"], p["version"]) for p in json.loads(res.stdout)], [(pid, 2)])
        self.assertIn("Martin Claire", vigie("list").stdout)
        bad = os.path.join(self.d.dir, "bad.json")
        with open(bad, "w") as f:
            json.dump({"identity": {"last_name": "X"}}, f)
        res = vigie("add", bad)
        self.assertEqual(res.returncode, 1)
        self.assertIn("first_names", res.stderr)
        self.assertEqual(vigie("show", "abc").returncode, 2)
        self.assertEqual(vigie("update", str(pid), path).returncode, 2)  # no --based-on

    def test_permissions(self):
        inst = self.session("u-installer")
        pid = inst.request("POST", "/api/v1/persons", CLAIRE)[1]["id"]
        c = self.session("u-statistician")
        for path in ("/api/v1/persons", "/api/v1/persons/%d" % pid):
            status, doc, _ = c.request("GET", path)
            self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"))
            self.assertNotIn("Claire", json.dumps(doc))
        # a magistrate sees only the persons of his court's measures: none yet
        mag = self.session("u-magistrate")
        self.assertEqual(mag.request("GET", "/api/v1/persons")[:2], (200, []))
        status, doc, _ = mag.request("GET", "/api/v1/persons/%d" % pid)
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))
        self.assertEqual(mag.request("GET", "/api/v1/persons/%d/versions" % pid)[0], 404)
        self.assertNotIn("Claire", json.dumps(doc))
        op = self.session("u-operator")
        self.assertEqual(op.request("POST", "/api/v1/persons", CLAIRE)[0], 403)
        self.assertEqual(op.request("PUT", "/api/v1/persons/%d" % pid,
                                    {"based_on": 1, "person": CLAIRE})[0], 403)
        self.assertEqual(inst.request("POST", "/api/v1/persons", CLAIRE, csrf=False)[0], 403)
        self.assertEqual(self.client().request("GET", "/api/v1/persons")[0], 401)

    def test_magistrate_reads_the_persons_of_his_courts_measures(self):
        inst = self.session("u-installer")
        claire = inst.request("POST", "/api/v1/persons", CLAIRE)[1]["id"]
        other = copy.deepcopy(CLAIRE)
        other["identity"]["last_name"] = "Durand"
        durand = inst.request("POST", "/api/v1/persons", other)[1]["id"]
        bob = copy.deepcopy(CLAIRE)
        bob["identity"].update({"last_name": "Bernard", "first_names": "Paul", "sex": "M"})
        bernard = inst.request("POST", "/api/v1/persons", bob)[1]["id"]

        def measure(name, court, author, protected_person):
            return inst.request("POST", "/api/v1/measures", {
                "name": name, "court": court, "alert_radius_m": 2000,
                "units": {"author": name + "-A", "protected": name + "-P"},
                "persons": {"author": author, "protected": protected_person},
                "decision": decision()})

        self.assertEqual(measure("M-A", "TJ-A", bernard, claire)[0], 201)
        status, doc, _ = measure("M-B", "TJ-B", bernard + 1 if bernard + 1 not in
                                 (claire, durand) else bernard + 2, durand)
        self.assertEqual(status, 400)  # no such person
        self.assertIn("no person", doc["error"]["message"])
        self.assertEqual(measure("M-X", "TJ-A", claire, claire)[0], 400)  # one person twice
        mag = self.session("u-magistrate")
        status, lst, _ = mag.request("GET", "/api/v1/persons")
        self.assertEqual(sorted(p["id"] for p in lst), sorted([claire, bernard]))
        self.assertEqual(mag.request("GET", "/api/v1/persons/%d" % claire)[1]["person"], CLAIRE)
        self.assertEqual(mag.request("GET", "/api/v1/persons/%d" % durand)[0], 404)
        self.assertEqual(mag.request("POST", "/api/v1/persons", CLAIRE)[0], 403)

    def test_validation(self):
        inst = self.session("u-installer")

        def with_(path, value):
            p = copy.deepcopy(CLAIRE)
            node = p
            for k in path[:-1]:
                node = node[k]
            if value is None:
                del node[path[-1]]
            else:
                node[path[-1]] = value
            return p

        bad = [
            (with_(["identity"], None), "identity"),
            (with_(["identity", "last_name"], ""), "last_name"),
            (with_(["identity", "birth_date"], "1988-02-30"), "not a day"),
            (with_(["identity", "birth_date"], "02/04/1988"), "YYYY-MM-DD"),
            (with_(["identity", "birth_date"], "2099-01-01"), "future"),
            (with_(["identity", "sex"], "female"), "sex"),
            (with_(["identity", "nickname"], "x"), "unknown key"),
            (with_(["phones"], [{"number": "0612345678"}]), "international"),
            (with_(["phones"], [{"number": "+33612345678"}] * 9), "at most 8"),
            (with_(["addresses"], [{"text": "x", "location": [95, 0]}]), "not on Earth"),
            (with_(["addresses"], [{"text": "x", "location": "here"}]), "latitude"),
            (with_(["emergency_contacts"], [{"name": "A"}]), "phone"),
            (with_(["household", "pets"], [{"name": "Rex"}]), "kind"),
            (with_(["household", "cats"], []), "unknown key"),
            (with_(["police_notes"], "x" * 2001), "2000"),
            (with_(["police_notes"], "bell\u0007"), "control"),
            (with_(["phones"], {"number": "+33612345678"}), "list"),
        ]
        for person, why in bad:
            status, doc, _ = inst.request("POST", "/api/v1/persons", person)
            self.assertEqual(status, 400, (why, doc))
            self.assertIn(why, doc["error"]["message"])
        self.assertEqual(inst.request("POST", "/api/v1/persons", raw=b"[1,2]")[0], 400)
        self.assertEqual(inst.request("POST", "/api/v1/persons",
                                      raw=b'{"identity":{},"identity":{}}')[0], 400)
        pid = inst.request("POST", "/api/v1/persons", CLAIRE)[1]["id"]
        for body in ({"person": CLAIRE}, {"based_on": 0, "person": CLAIRE},
                     {"based_on": 1, "person": with_(["identity"], None)},
                     {"based_on": 1, "person": CLAIRE, "more": 1}):
            self.assertEqual(inst.request("PUT", "/api/v1/persons/%d" % pid, body)[0], 400, body)
        self.assertEqual(inst.request("PUT", "/api/v1/persons/12345",
                                      {"based_on": 1, "person": CLAIRE})[0], 404)
        self.assertEqual(inst.request("DELETE", "/api/v1/persons/%d" % pid)[0], 405)
        # nothing of the refusals was stored
        status, lst, _ = inst.request("GET", "/api/v1/persons")
        self.assertEqual([(p["id"], p["version"]) for p in lst], [(pid, 1)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
