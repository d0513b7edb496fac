"""A transaction the database loses leaves no engine ahead of the store
(issue 10; docs/ARCHITECTURE.md, "Failures"). The engine judges a record
when it arrives, before its batch is committed; if the batch is lost, the
unit is not acknowledged and sends the record again, and an engine that
kept what it judged would judge it twice: an alarm in the lost batch
would never be raised again (the engine is already at that level). On
PostgreSQL the lease's check rebuilds the centre from the store
(test_ha_db's fail-over); on SQLite the same, and this test: another
process holds the database file past the store's busy timeout while the
author's fix that raises the alert is in flight, the batch with the alert
fails, the unit sends the fix again; the alarms then equal an undisturbed
run's (ha_drive.py), the alert among them, once.
"""
import os
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ha_drive import ALERT_AT, Drive  # noqa: E402
from vigie_harness import Daemon  # noqa: E402

BUSY_TIMEOUT_S = 5  # the SQLite store's (store_sqlite.c)


class FileHolder:
    """Another process's write lock on the database file (a tool, a
    backup): BEGIN EXCLUSIVE, held until released."""

    def __init__(self, path):
        self.path = path
        self.con = None

    def take(self):
        self.con = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.con.execute("BEGIN EXCLUSIVE")

    def release(self):
        if self.con:
            self.con.execute("ROLLBACK")
            self.con.close()
            self.con = None


class LostBatch(unittest.TestCase):
    def setUp(self):
        self.d = Daemon(pg=False)
        self.sites = [self.d]
        self.d.start()

    def tearDown(self):
        for s in self.sites:
            s.cleanup()

    def test_an_alert_in_a_lost_batch_is_raised_once(self):
        drive = Drive(self, sites=[self.d])
        drive.provision()
        holder = FileHolder(os.path.join(self.d.dir, "vigie.db"))
        try:
            drive.start(in_flight_at=ALERT_AT, before_in_flight=holder.take)
            time.sleep(BUSY_TIMEOUT_S + 2)  # the batch with the alert fails
        finally:
            holder.release()
        self.assertIn("a batch could not be stored", self.d.log_text(),
                      "the batch in flight was not lost: the test did not test")
        drive.finish()
        drive.check("a batch the database could not store")


if __name__ == "__main__":
    unittest.main(verbosity=2)
