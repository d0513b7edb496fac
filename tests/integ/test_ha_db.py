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
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigie_harness as H  # noqa: E402
from test_ha import SitesCase  # noqa: E402

HA_DIR = os.environ.get("VIGIE_HA_DIR", "")
PG_HA = os.path.join(os.path.dirname(__file__), "../../scripts/pg-ha")


def pg_ha(*args):
    res = subprocess.run([PG_HA] + list(args), capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise AssertionError("pg-ha %s: %s%s" % (" ".join(args), res.stdout, res.stderr))
    return res.stdout.strip()


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
        acked_file = os.path.join(self.a.dir, "acked.txt")
        gen = self.load("DB", 20, 600, 3000, acked_file)
        time.sleep(2.0)
        stopped = time.time()
        stopped_ms = int(stopped * 1000)
        pg_ha("stop", HA_DIR, "a", "immediate")
        time.sleep(1.0)  # the procedure: the site is known lost, its standby promoted
        pg_ha("promote", HA_DIR, "b")
        flowing = self.wait_records_flow(stopped_ms)
        print("records flow again %.2f s after the primary database stopped "
              "(promotion at 1 s)" % (flowing - stopped), flush=True)
        self.check_nothing_lost(gen, acked_file, "the database's fail-over", units_cut=False)
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


if __name__ == "__main__":
    if not HA_DIR:
        sys.exit("test_ha_db: run it through scripts/pg-ha (VIGIE_HA_DIR)")
    unittest.main(verbosity=2)
