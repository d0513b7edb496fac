"""The hash-chained journal end to end: vigied journals a measure's
creation, a read of the measures and an alarm; `vigie journal verify`
finds the chain intact; the hashes are recomputed here from the format in
src/util/journal.h (an independent reading of it); then the database file
is edited behind the daemon's back, and the verification names the first
entry that breaks the chain.

    python3 tests/integ/test_journal.py   (VIGIE_BUILD=build dir)
"""
import hashlib
import json
import os
import re
import sqlite3
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from vigie_harness import (ACK, EVENT, SOS, Daemon, binary, connect_ready, event_body,  # noqa: E402
                           now_ms, record, records)


def entry_hash(row):
    """SHA-256("VGJ1" | id u64 | at_ms i64 | actor | action | subject | detail | prev)."""
    id_, at_ms, actor, action, subject, detail, prev = row[:7]
    data = b"VGJ1" + struct.pack(">Qq", id_, at_ms)
    for text in (actor, action, subject, detail):
        raw = text.encode()
        data += struct.pack(">I", len(raw)) + raw
    return hashlib.sha256(data + bytes(prev)).digest()


class Journal(unittest.TestCase):
    def setUp(self):
        self.d = Daemon()
        self.d.start()
        self.addCleanup(self.d.cleanup)

    def verify(self, *extra):
        # through the harness: on PostgreSQL it names the data directory's database
        return self.d.vigie("journal", "verify", "--data-dir", self.d.dir, *extra, check=False)

    def edit(self, sql, *args):
        self.d.execute(sql, *args)

    def rows(self):
        return self.d.query("SELECT id, at_ms, actor, action, subject, detail, prev_hash, hash "
                            "FROM journal ORDER BY id")

    def test_journal_chain_and_tampering(self):
        for serial in ("J-A1", "J-P1"):
            self.d.issue(serial)
        self.d.create_measure("M-J", "J-A1", "J-P1")
        status, body = self.d.http("GET", "/api/v1/measures")
        self.assertEqual(status, 200, body)
        u, _ = connect_ready(self.d, "J-P1")
        u.send(records(record(EVENT, 1, event_body(now_ms(), SOS))))
        u.expect(ACK)
        u.close()
        self.d.stop()
        head = re.findall(r'msg="journal head at stop" head=(\d+:[0-9a-f]{64})',
                          self.d.log_text())[-1]

        rows = self.rows()
        actions = [(r[2], r[3], r[4]) for r in rows]
        self.assertEqual(actions, [("system", "user.create", "admin"),  # the bootstrap account
                                   ("admin-token", "measure.create", "M-J"),
                                   ("admin-token", "measure.list", "*"),
                                   ("engine", "alarm.raised", "M-J"),
                                   ("engine", "incident.alarm", "incident/1")])
        self.assertEqual(json.loads(rows[3][5])["kind"], "sos")
        self.assertEqual(json.loads(rows[3][5])["incident"], 1)
        self.assertEqual(json.loads(rows[4][5])["effect"], "opened")
        self.assertEqual(json.loads(rows[1][5])["protected_unit"], "J-P1")
        self.assertEqual(json.loads(rows[2][5]), {"count": 1})
        # below, entry 3 (the read) is the one tampered with
        prev = bytes(32)
        for r in rows:  # the chain as documented, recomputed independently
            self.assertEqual(bytes(r[6]), prev)
            self.assertEqual(entry_hash(r), bytes(r[7]))
            prev = bytes(r[7])
        self.assertEqual(head, "%d:%s" % (rows[-1][0], prev.hex()))

        res = self.verify("--head", head)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("journal intact: 5 entries", res.stdout)

        # a detail changed: entry 2 is named
        self.edit("UPDATE journal SET detail = '{\"count\":0}' WHERE id = 3")
        res = self.verify()
        self.assertEqual(res.returncode, 1)
        self.assertIn("entry 3: modified", res.stderr)
        self.edit("UPDATE journal SET detail = '{\"count\":1}' WHERE id = 3")
        self.assertEqual(self.verify().returncode, 0)

        # entry 3 changed and hashed again: entry 4 no longer chains to it
        r2 = list(rows[2])
        r2[5] = '{"count":0}'
        self.edit("UPDATE journal SET detail = ?, hash = ? WHERE id = 3", r2[5], entry_hash(r2))
        res = self.verify()
        self.assertEqual(res.returncode, 1)
        self.assertIn("entry 4: does not chain to entry 3", res.stderr)
        self.edit("UPDATE journal SET detail = '{\"count\":1}', hash = ? WHERE id = 3",
                  bytes(rows[2][7]))

        # entry 3 removed: the gap is named at entry 4
        self.edit("DELETE FROM journal WHERE id = 3")
        res = self.verify("--json")
        self.assertEqual(res.returncode, 1)
        self.assertEqual(json.loads(res.stdout)["bad_entry"], 4)
        self.assertIn("entries 3 to 3 are missing", res.stderr)
        self.edit("DELETE FROM journal")
        self.d.execute("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?, ?, ?)", many=rows)
        self.assertEqual(self.verify("--head", head).returncode, 0)

        # the last entry cut off: a valid chain, but short of the head noted
        self.edit("DELETE FROM journal WHERE id = 5")
        self.assertEqual(self.verify().returncode, 0)
        res = self.verify("--head", head)
        self.assertEqual(res.returncode, 1)
        self.assertIn("cut off at the end", res.stderr)

        # the daemon goes on from the chain as it finds it; the tool never
        # creates a database it was asked to check
        res = subprocess.run([binary("vigie"), "journal", "verify", "--data-dir",
                              os.path.join(self.d.dir, "nowhere")], capture_output=True, text=True)
        self.assertEqual(res.returncode, 1)
        self.assertIn("no database", res.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.d.dir, "nowhere")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
