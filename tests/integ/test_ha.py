"""Two sites, one service (issue 10; docs/DEPLOYMENT.md, "Two sites"): two
vigied on one PostgreSQL database, one active (the lease's holder), the
other standing by, under steady load from vigie-loadgen whose units know
both sites' addresses.

After each failure: the take-over time is measured and printed, every
record any unit saw acknowledged is stored exactly once, and the engine's
decisions are those the stored records call for: one SOS alarm per SOS
press stored (none lost, none twice), and no incident twice.

Run through scripts/pg-test-cluster ($VIGIE_TEST_PG): suite 'ha'.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import vigie_harness as H  # noqa: E402
from ha_drive import Drive  # noqa: E402
from vigie_harness import Daemon, binary  # noqa: E402

TTL_MS = 3000


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Site(Daemon):
    """A vigied of one site: fixed ports (a unit knows them), the shared
    database, the lease's time; started active or standing by."""

    def __init__(self, name, db, data_dir=None):
        super().__init__(data_dir=data_dir, pg=True,
                         extra=["--site", name, "--lease-ttl-ms", str(TTL_MS)])
        H._pg_databases[os.path.realpath(self.dir)] = db  # both sites: one database
        self.name = name
        self.devices_port = free_port()
        self.http_port = free_port()

    def start(self, expect=None):
        """Start; wait until it is active ('ready') or standing by; the role."""
        self.log = open(self.log_path, "ab")
        skip = self.log.tell()
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen(
            [binary("vigied"), "--data-dir", self.dir,
             "--devices", "127.0.0.1:%d" % self.devices_port,
             "--http", "127.0.0.1:%d" % self.http_port,
             "--db", H.pg_location(self.dir)] + self.extra,
            stdout=self.log, stderr=self.log, env=env)
        end = time.time() + 60
        while time.time() < end:
            text = self.log_text()[skip:]
            lines = text[:text.rfind("\n") + 1].splitlines()
            if any("msg=ready" in l for l in lines):
                role = "active"
                break
            if any('msg="standing by"' in l for l in lines):
                role = "standby"
                break
            if self.proc.poll() is not None:
                raise AssertionError("vigied exited at start:\n" + text[-3000:])
            time.sleep(0.05)
        else:
            raise AssertionError("vigied not ready:\n" + self.log_text()[-3000:])
        if expect:
            assert role == expect, "%s started %s, not %s" % (self.name, role, expect)
        return role

    def start_waiting(self):
        """Start without waiting for it to be ready (its database may not
        be there yet: it waits for it)."""
        self.log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.proc = subprocess.Popen(
            [binary("vigied"), "--data-dir", self.dir,
             "--devices", "127.0.0.1:%d" % self.devices_port,
             "--http", "127.0.0.1:%d" % self.http_port,
             "--db", H.pg_location(self.dir)] + self.extra,
            stdout=self.log, stderr=self.log, env=env)

    def health(self, timeout=30):
        try:
            status, body = self.http("GET", "/healthz", token=False, timeout=timeout)
        except (urllib.error.URLError, ConnectionError, OSError):
            return None, {}
        try:
            return status, json.loads(body)
        except ValueError:
            return status, {}

    def wait_active(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            status, h = self.health()
            if status == 200 and h.get("status") == "ok":
                return time.time()
            time.sleep(0.02)
        raise AssertionError("%s did not take over:\n%s" % (self.name, self.log_text()[-3000:]))


class SitesCase(unittest.TestCase):
    """Sites A (active) and B (standing by) on one database; helpers."""

    n_databases = 0

    def database(self):
        """The sites' database: a new one in the cluster around the test
        (the harness names databases after a path: one that is never made)."""
        SitesCase.n_databases += 1
        return H.pg_location(os.path.join(tempfile.gettempdir(), "vigie-ha-db-%d-%d" % (
            os.getpid(), SitesCase.n_databases)))

    def db_of(self, site):
        """The location a site's vigied is given (the same for both here)."""
        return self.db

    def setUp(self):
        self.db = self.database()
        self.a = Site("site-a", self.db_of("a"))
        self.a.start(expect="active")
        # the second site shares the PKI (the units' CA, the server's
        # certificate) and the administrator's token: deployed to both
        self.b = Site("site-b", self.db_of("b"))
        shutil.copytree(self.a.pki, self.b.pki)
        shutil.copy(os.path.join(self.a.dir, "admin.token"), self.b.dir)
        self.b.start(expect="standby")
        self.sites = [self.a, self.b]

    def tearDown(self):
        for s in self.sites:  # each, whatever happened to the others
            try:
                if s.proc:
                    s.proc.send_signal(signal.SIGCONT)  # a paused one stops too
                s.cleanup()
            except Exception:
                if s.proc:
                    s.proc.kill()
                    s.proc.wait()
                    s.proc = None
                raise

    def provision(self, prefix, measures):
        token = os.path.join(self.a.dir, "admin.token")
        subprocess.run([binary("vigie-loadgen"), "provision", "--http",
                        "127.0.0.1:%d" % self.active().http_port, "--token-file", token,
                        "--pki", self.a.pki, "--prefix", prefix, "--measures", str(measures)],
                       check=True, capture_output=True, timeout=120)

    def active(self):
        for s in self.sites:
            if s.proc and s.health()[0] == 200:
                return s
        raise AssertionError("no site is active")

    def load(self, prefix, measures, per_unit, rate, acked_file):
        return subprocess.Popen(
            [binary("vigie-loadgen"), "run", "--server", "127.0.0.1:%d" % self.a.devices_port,
             "--server", "127.0.0.1:%d" % self.b.devices_port, "--pki", self.a.pki,
             "--prefix", prefix, "--measures", str(measures), "--per-unit", str(per_unit),
             "--rate", str(rate), "--reconnect", "--acked-file", acked_file,
             "--sos-permille", "4", "--window", "100", "--frame", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def check_nothing_lost(self, gen, acked_file, what, units_cut=True):
        """units_cut: the failure cut the units off (a vigied went), not
        only the database behind it."""
        out, err = gen.communicate(timeout=300)
        self.assertEqual(gen.returncode, 0, err)
        summary = json.loads(out)
        if units_cut:
            self.assertGreater(summary["disconnects"], 0, "%s happened after the run" % what)
        acked = set()
        with open(acked_file) as f:
            for line in f:
                serial, seq = line.split()
                acked.add((serial, int(seq)))
        q = self.active().query
        prefix = re.escape(gen.args[gen.args.index("--prefix") + 1]) + "-"
        stored = [r for r in q(
            "SELECT u.serial, f.seq FROM fixes f JOIN units u ON u.id = f.unit_id "
            "UNION ALL SELECT u.serial, e.seq FROM events e JOIN units u ON u.id = e.unit_id")
            if re.match(prefix, r[0])]
        stored_set = set(stored)
        self.assertEqual(len(stored), len(stored_set), "a record is stored twice")
        missing = acked - stored_set
        self.assertFalse(missing, "acknowledged but lost: %d, e.g. %s" % (len(missing),
                                                                          sorted(missing)[:5]))
        self.assertEqual(len(stored_set), summary["sent"])
        # the engine's decisions: one SOS alarm per SOS press stored
        presses = set(q("SELECT u.measure_id, e.t_ms FROM events e JOIN units u "
                        "ON u.id = e.unit_id WHERE e.kind = %d" % H.SOS))
        self.assertGreater(len(presses), 0, "the load pressed SOS")
        kinds = set(k for (k,) in q(
            "SELECT DISTINCT a.kind FROM alarms a JOIN events e ON e.t_ms = a.at_ms AND e.kind = "
            "%d JOIN units u ON u.id = e.unit_id AND u.measure_id = a.measure_id" % H.SOS))
        self.assertEqual(len(kinds), 1, "the SOS alarms' kind: %s" % kinds)
        sos_kind = kinds.pop()
        alarms = q("SELECT measure_id, at_ms FROM alarms WHERE kind = %d" % sos_kind)
        self.assertEqual(len(alarms), len(set(alarms)), "an SOS alarm raised twice")
        self.assertEqual(set(alarms), presses, "SOS alarms lost or made up")
        seqs = q("SELECT measure_id, seq FROM alarms")
        self.assertEqual(len(seqs), len(set(seqs)), "an alarm numbered twice")
        # one incident per situation: never two open at once for a measure
        open_twice = q("SELECT measure_id, count(*) FROM incidents WHERE state < 3 "
                       "GROUP BY measure_id HAVING count(*) > 1")
        self.assertEqual(open_twice, [], "an incident duplicated")
        return summary

    def wait_records_flow(self, since_ms, timeout=60):
        """When the database first shows a record received after since_ms
        (the centre's clock): records flow again."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                n = H.psql(self.db, "SELECT count(*) FROM fixes WHERE received_ms > %d" % since_ms)
                if n and n[0][0] > 0:
                    return time.time()
            except AssertionError:
                pass  # no primary yet
            time.sleep(0.05)
        raise AssertionError("no record stored after the failure")


class TwoSites(SitesCase):
    def test_standby_serves_health_only(self):
        status, h = self.b.health()
        self.assertEqual(status, 503)
        self.assertEqual(h["status"], "standby")
        self.assertTrue(h["active_site"].startswith("site-a/"), h)
        self.assertTrue(h["site"].startswith("site-b/"), h)
        self.assertEqual(self.b.http("GET", "/api/v1/measures")[0], 503)
        status, h = self.a.health()
        self.assertEqual(status, 200)
        self.assertGreater(h["epoch"], 0)
        # the standby's device port is closed: a unit tries the other site
        with self.assertRaises(OSError):
            H.Unit(self.b.devices_port, *self.a.cert(self.issue_unit("U-X")),
                   os.path.join(self.a.pki, "ca.crt"), timeout=2)
        m = self.b.metrics()
        self.assertEqual(m["vigie_active"], 0)
        self.assertEqual(self.a.metrics()["vigie_active"], 1)

    def issue_unit(self, serial):
        self.a.vigie("pki", "issue-unit", serial, "--dir", self.a.pki)
        return serial

    def test_kill9_active_under_load(self):
        """(a) kill -9 of the active vigied: the standby takes over."""
        self.provision("KA", 20)
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("KA", 20, 600, 4000, acked_file)
        time.sleep(2.0)
        killed = time.time()
        self.a.kill9()
        took = self.b.wait_active()
        print("take-over after kill -9 of the active vigied: %.2f s" % (took - killed),
              flush=True)
        summary = self.check_nothing_lost(gen, acked_file, "the kill")
        self.assertGreater(summary["resent"], 0)
        # the old site comes back: it stands by, it does not act
        self.a.start(expect="standby")
        status, h = self.a.health()
        self.assertEqual((status, h["status"]), (503, "standby"))
        self.assertTrue(h["active_site"].startswith("site-b/"), h)

    def test_clean_stop_hands_over_at_once(self):
        """A clean stop lets the lease go: the other site needs no lapse."""
        self.provision("CS", 5)
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("CS", 5, 400, 1000, acked_file)
        time.sleep(1.5)
        stopped = time.time()
        self.assertEqual(self.a.stop(), 0)
        took = self.b.wait_active()
        print("take-over after a clean stop: %.2f s" % (took - stopped), flush=True)
        self.assertLess(took - stopped, TTL_MS / 1000.0,
                        "the lease was not released: the standby waited for it to lapse")
        self.check_nothing_lost(gen, acked_file, "the stop")

    def test_console_resumes_on_the_other_site(self):
        """Sessions live in the database (their tokens' hashes only): after a
        take-over the console's cookie holds at the other site, and its live
        stream resumes there from the last event's id, nothing missed nor
        repeated."""
        from sse import Stream
        from test_users import PASSWORD, Client
        op = Client(self.a.http_port)
        status, doc, _ = op.request("POST", "/api/v1/users", {
            "name": "op1", "role": "operator", "password": PASSWORD}, bearer=self.a.token)
        self.assertEqual(status, 201, doc)
        self.assertEqual(op.login("op1", PASSWORD)[0], 200)
        # the database holds the token's hash, not the token
        stored = H.psql(self.db, "SELECT encode(token_hash, 'hex'), user_name FROM sessions")
        self.assertEqual(stored, [(hashlib.sha256(op.cookie.encode()).hexdigest(), "op1")])
        s = Stream(self.a.http_port, cookie=op.cookie)
        self.assertEqual(s.status, 200)
        first = int(s.next()["id"])  # ready: the journal's head
        self.provision("CO", 5)
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("CO", 5, 2000, 500, acked_file)
        seen = []
        end = time.time() + 20
        skip = ("heartbeat", "position")  # positions have no id: state, not events
        while len(seen) < 5 and time.time() < end:
            seen.append(int(s.next(timeout=20, skip=skip)["id"]))
        self.assertGreaterEqual(len(seen), 5, "events on the stream before the take-over")
        self.a.kill9()
        # drain what A sent before it went
        while True:
            try:
                seen.append(int(s.next(timeout=0.5, skip=skip)["id"]))
            except AssertionError:
                break
        s.close()
        last = seen[-1]
        self.b.wait_active()
        # the same cookie at the other site: the same session, no new login
        op.port = self.b.http_port
        status, doc, _ = op.request("GET", "/api/v1/session")
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc["name"], "op1")
        s2 = Stream(self.b.http_port, cookie=op.cookie, last_event_id=last)
        self.assertEqual(s2.status, 200, s2.body)
        ready = s2.next()
        self.assertEqual(json.loads(ready["data"])["last_event_id"], last)
        gen.communicate(timeout=300)
        after = []
        while True:
            try:
                after.append(int(s2.next(timeout=2, skip=skip)["id"]))
            except AssertionError:
                break
        s2.close()
        self.assertTrue(after, "events after the take-over")
        got = seen + after
        self.assertEqual(got, sorted(set(got)), "an event twice or out of order")
        wanted = [i for (i,) in H.psql(
            self.db, "SELECT id FROM journal WHERE id > %d AND id <= %d AND (action = "
            "'alarm.raised' OR action LIKE 'incident.%%' OR action = 'report.create') "
            "ORDER BY id" % (first, got[-1]))]
        self.assertEqual(got, wanted, "events missed across the take-over")

    def test_decisions_across_a_takeover_equal_an_undisturbed_run(self):
        """The engine's decisions after a take-over are those of an
        undisturbed centre (ha_drive.py): the drive's author fix in flight
        when the active vigied is killed, the rest fed to the other site."""
        drive = Drive(self)
        drive.provision()
        drive.start()
        self.a.kill9()
        self.b.wait_active()
        drive.finish()
        drive.check("a kill -9 of the active vigied")

    def test_paused_old_primary_is_fenced(self):
        """A paused active vigied (SIGSTOP past the lease) comes back fenced:
        it steps down without committing anything on stale state."""
        self.provision("PA", 5)
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("PA", 5, 600, 1000, acked_file)
        time.sleep(1.5)
        paused = time.time()
        self.a.proc.send_signal(signal.SIGSTOP)
        took = self.b.wait_active()
        print("take-over from a paused vigied: %.2f s" % (took - paused), flush=True)
        self.a.proc.send_signal(signal.SIGCONT)
        end = time.time() + 10
        while time.time() < end:
            status, h = self.a.health()
            if h.get("status") == "standby":
                break
            time.sleep(0.05)
        self.assertEqual(h.get("status"), "standby", self.a.log_text()[-2000:])
        # it dropped its centre: its lease lapsed (stepping down), or first its
        # transaction in flight was lost (the server cut the session it
        # left idle in a transaction, or vg_fence refused it)
        log = self.a.log_text()
        self.assertTrue("stepping down" in log or "the centre is built again" in log, log[-2000:])
        self.assertEqual(log.count("lease held: taking over"), 1, "it took the lease back")
        self.check_nothing_lost(gen, acked_file, "the pause")
        self.assertEqual(self.a.proc.poll(), None, "the old primary stays up, standing by")


if __name__ == "__main__":
    if not os.environ.get("VIGIE_TEST_PG"):
        sys.exit("test_ha: run it through scripts/pg-test-cluster (VIGIE_TEST_PG)")
    unittest.main(verbosity=2)
