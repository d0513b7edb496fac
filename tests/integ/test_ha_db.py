"""Two sites, one service: the database's fail-over (issue 10 (b);
docs/DEPLOYMENT.md, "Two sites"). Two PostgreSQL servers as scripts/pg-ha
makes them (site A primary, site B its synchronous standby), a vigied at
each site reaching them through one multi-host location with
target_session_attrs=read-write, steady load from vigie-loadgen.

The primary server stops (immediate: a crash), the procedure promotes site
B's server a second later; vigied finds the new primary by itself. Every
record a unit saw acknowledged is on the promoted server exactly once
(synchronous replication), one SOS alarm per SOS press stored, no incident
twice; the time until records flow again is printed. Then the old primary
rejoins as the new one's standby (pg_rewind) and takes writes after a
second fail-over the other way.

Run through scripts/pg-ha ($VIGIE_HA_DIR, $VIGIE_HA_URI): suite 'ha'.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigie_harness as H  # noqa: E402
from ha_drive import Drive  # noqa: E402
from test_ha import SitesCase  # noqa: E402

HA_DIR = os.environ.get("VIGIE_HA_DIR", "")
PG_HA = os.path.join(os.path.dirname(__file__), "../../scripts/pg-ha")


def pg_ha(*args):
    res = subprocess.run([PG_HA] + list(args), capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise AssertionError("pg-ha %s: %s%s" % (" ".join(args), res.stdout, res.stderr))
    return res.stdout.strip()


class Link:
    """The link between the sites, as the test owns it: a TCP relay from a
    port of its own to a server's. cut() drops every connection through it
    and refuses new ones; restore() lets them through again."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.lock = threading.Lock()
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.up:
                    c.close()
                    continue
                try:
                    s = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                except OSError:
                    c.close()
                    continue
                s.settimeout(None)
                self.socks += [c, s]
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.up = False
            for x in self.socks:
                try:
                    x.shutdown(socket.SHUT_RDWR)
                    x.close()
                except OSError:
                    pass
            self.socks = []

    def restore(self):
        with self.lock:
            self.up = True

    def close(self):
        self.cut()
        self.listener.close()


class DatabaseFailover(SitesCase):
    created = False

    def database(self):
        base = os.environ["VIGIE_HA_URI"]
        if not DatabaseFailover.created:
            H.psql(base + "/postgres?target_session_attrs=read-write", "CREATE DATABASE vigie")
            DatabaseFailover.created = True
        return base + "/vigie?target_session_attrs=read-write"

    def test_primary_database_stops_under_load(self):
        self.assertEqual((pg_ha("role", HA_DIR, "a"), pg_ha("role", HA_DIR, "b")),
                         ("primary", "standby"))
        self.provision("DB", 20)
        drive = Drive(self)
        drive.provision()
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("DB", 20, 600, 3000, acked_file)
        time.sleep(2.0)
        drive.start()  # its author fix in flight when the server goes
        stopped = time.time()
        stopped_ms = int(stopped * 1000)
        pg_ha("stop", HA_DIR, "a", "immediate")
        time.sleep(1.0)  # the procedure: the site is known lost, its standby promoted
        pg_ha("promote", HA_DIR, "b")
        flowing = self.wait_records_flow(stopped_ms)
        print("records flow again %.2f s after the primary database stopped "
              "(promotion at 1 s)" % (flowing - stopped), flush=True)
        drive.finish()
        self.check_nothing_lost(gen, acked_file, "the database's fail-over", units_cut=False)
        drive.check("the database's fail-over")
        self.assertEqual(pg_ha("role", HA_DIR, "b"), "primary")

        # the old primary comes back as the standby, synchronous again; a
        # second fail-over the other way loses nothing either
        pg_ha("rejoin", HA_DIR, "a")
        self.assertEqual(pg_ha("role", HA_DIR, "a"), "standby")
        self.provision("DB2", 20)
        acked_file2 = os.path.join(self.a.dir, "acked2.txt")
        gen = self.load("DB2", 20, 600, 3000, acked_file2)
        time.sleep(1.0)
        stopped_ms = int(time.time() * 1000)
        pg_ha("stop", HA_DIR, "b", "immediate")
        time.sleep(1.0)
        pg_ha("promote", HA_DIR, "a")
        self.wait_records_flow(stopped_ms)
        self.check_nothing_lost(gen, acked_file2, "the second fail-over", units_cut=False)
        # and B back as the standby: the pair as it began (for the next test)
        pg_ha("rejoin", HA_DIR, "b")
        self.assertEqual((pg_ha("role", HA_DIR, "a"), pg_ha("role", HA_DIR, "b")),
                         ("primary", "standby"))


class LinkCut(SitesCase):
    """(c) The link between the sites is cut under load: site B's server
    loses its replication from A, vigied at B loses A's server. B must not
    take over (its server is a standby: nothing it could write), A's
    commits wait for the standby (synchronous), so nothing is acknowledged
    during the cut that exists at one site only; when the link comes back
    everything goes on, nothing lost."""

    def database(self):
        base = os.environ["VIGIE_HA_URI"]
        pa, pb = os.environ["VIGIE_HA_PORTS"].split()
        self.to_a = Link(int(pa))  # site B -> site A's server
        self.to_b = Link(int(pb))  # site A -> site B's server
        H.psql(base + "/postgres?target_session_attrs=read-write", "CREATE DATABASE vigie_link")
        # B's replication through the link
        H.psql("postgresql://vigie@127.0.0.1:%s/postgres" % pb,
               "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=%d user=vigie "
               "application_name=site_b'" % self.to_a.port)
        H.psql("postgresql://vigie@127.0.0.1:%s/postgres" % pb, "SELECT pg_reload_conf()")
        self.uri_a = ("postgresql://vigie@127.0.0.1:%s,127.0.0.1:%d/vigie_link"
                      "?target_session_attrs=read-write" % (pa, self.to_b.port))
        self.uri_b = ("postgresql://vigie@127.0.0.1:%d,127.0.0.1:%s/vigie_link"
                      "?target_session_attrs=read-write" % (self.to_a.port, pb))
        return base + "/vigie_link?target_session_attrs=read-write"

    def db_of(self, site):
        return self.uri_a if site == "a" else self.uri_b

    def tearDown(self):
        # the link back first (a test that failed during the cut): a vigied
        # stops once what it was committing is committed
        self.to_a.restore()
        self.to_b.restore()
        super().tearDown()
        # B's replication straight from A again (the relay goes with the test)
        pa, pb = os.environ["VIGIE_HA_PORTS"].split()
        H.psql("postgresql://vigie@127.0.0.1:%s/postgres" % pb,
               "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=%s user=vigie "
               "application_name=site_b'" % pa)
        H.psql("postgresql://vigie@127.0.0.1:%s/postgres" % pb, "SELECT pg_reload_conf()")
        self.to_a.close()
        self.to_b.close()
        self.wait_sync()

    def wait_sync(self):
        pa = os.environ["VIGIE_HA_PORTS"].split()[0]
        end = time.time() + 30
        while time.time() < end:
            rows = H.psql("postgresql://vigie@127.0.0.1:%s/postgres" % pa,
                          "SELECT sync_state FROM pg_stat_replication")
            if rows == [("sync",)]:
                return
            time.sleep(0.1)
        raise AssertionError("site B does not stream through the link")

    def test_link_cut_under_load(self):
        # each vigied reaches the other site's server through the link
        self.wait_sync()
        self.provision("LC", 10)
        drive = Drive(self)
        drive.provision()
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("LC", 10, 1500, 1500, acked_file)
        time.sleep(2.0)
        drive.start()  # its author fix in flight when the link goes
        cut = time.time()
        self.to_a.cut()
        self.to_b.cut()
        # the active site loses its standby's acknowledgements and its
        # lease: it steps down, and meanwhile it keeps answering (its
        # event loop never waits for a database it cannot reach)
        answered = []
        while time.time() < cut + 6.0:  # twice the lease
            asked = time.time()
            status, h = self.a.health(timeout=5)
            answered.append((round(asked - cut, 1), round(time.time() - asked, 2), status,
                             h.get("status")))
            time.sleep(0.25)
        slow = [x for x in answered if x[1] > 2.0 or x[2] is None]
        self.assertFalse(slow, "site A's /healthz did not answer within 2 s during the cut "
                         "(at s, took s, status, state): %s" % slow)
        self.assertEqual(answered[-1][2:], (503, "standby"),
                         "site A still active without its standby: %s" % answered)
        print("during the cut site A's /healthz answered within %.2f s; standing by %.1f s "
              "after the cut" % (max(x[1] for x in answered),
                                 min(x[0] for x in answered if x[3] == "standby")), flush=True)
        status, h = self.b.health()
        self.assertEqual((status, h.get("status")), (503, "standby"),
                         "site B took over without its database: %s" % h)
        self.assertEqual(self.b.metrics()["vigie_takeovers_total"], 0)
        restored = time.time()
        self.to_a.restore()
        self.to_b.restore()
        self.wait_sync()
        flowing = self.wait_records_flow(int(restored * 1000))
        print("link cut for %.1f s: records flow again %.2f s after it is restored"
              % (restored - cut, flowing - restored), flush=True)
        drive.finish()
        self.check_nothing_lost(gen, acked_file, "the cut", units_cut=False)
        drive.check("the cut link")
        # once the link is back, the lapsed lease goes to whichever site asks
        # first (B may win it: A stood down): exactly one serves
        end = time.time() + 10
        while True:
            states = sorted(site.health()[1].get("status") for site in (self.a, self.b))
            if states == ["ok", "standby"] or time.time() > end:
                break
            time.sleep(0.1)
        self.assertEqual(states, ["ok", "standby"], "not exactly one site serving after the cut")


class RestartAll(SitesCase):
    """(d) Everything goes down at once (both vigied killed, both servers
    crashed) under load, and comes back in a random order (the seed is
    printed; VIGIE_HA_SEED replays one): a vigied whose server is not there
    yet waits for it, the primary's commits wait for its standby; then one
    site is active, the other standing by, and nothing acknowledged is
    lost."""

    created = False

    def database(self):
        base = os.environ["VIGIE_HA_URI"]
        if not RestartAll.created:
            H.psql(base + "/postgres?target_session_attrs=read-write",
                   "CREATE DATABASE vigie_restart")
            RestartAll.created = True
        return base + "/vigie_restart?target_session_attrs=read-write"

    def test_everything_restarted_in_a_random_order(self):
        seed = int(os.environ.get("VIGIE_HA_SEED", str(int(time.time()))))
        rng = random.Random(seed)
        self.assertEqual((pg_ha("role", HA_DIR, "a"), pg_ha("role", HA_DIR, "b")),
                         ("primary", "standby"))
        self.provision("RA", 10)
        drive = Drive(self)
        drive.provision()
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("RA", 10, 1500, 1500, acked_file)
        time.sleep(2.0)
        drive.start()  # its author fix in flight when everything goes
        down = time.time()
        for site in (self.a, self.b):
            site.kill9()
        pg_ha("stop", HA_DIR, "a", "immediate")
        pg_ha("stop", HA_DIR, "b", "immediate")
        parts = [("vigied", self.a), ("vigied", self.b), ("server", "a"), ("server", "b")]
        rng.shuffle(parts)
        order = []
        for kind, what in parts:
            time.sleep(rng.uniform(0, 1.5))
            if kind == "vigied":
                order.append("vigied " + what.name)
                what.start_waiting()
            else:
                order.append("server " + what)
                pg_ha("start", HA_DIR, what)
        print("restarted in the order (seed %d): %s" % (seed, ", ".join(order)), flush=True)
        flowing = self.wait_records_flow(int(down * 1000))
        print("records flow again %.2f s after everything went down" % (flowing - down),
              flush=True)
        drive.finish()
        self.check_nothing_lost(gen, acked_file, "the restart")
        drive.check("the restart in a random order")
        self.assertEqual((pg_ha("role", HA_DIR, "a"), pg_ha("role", HA_DIR, "b")),
                         ("primary", "standby"))
        roles = sorted(site.health()[1].get("status") for site in (self.a, self.b))
        self.assertEqual(roles, ["ok", "standby"], "one site active, the other standing by")


if __name__ == "__main__":
    if not HA_DIR:
        sys.exit("test_ha_db: run it through scripts/pg-ha (VIGIE_HA_DIR)")
    unittest.main(verbosity=2)
