"""vigie-unit end to end: the real unit program against a real vigied, over
TLS 1.3 on loopback, with its flash in a real file; positions from NMEA
recordings (data/nmea, real receivers) replayed directly or through a real
gpsd started by gpsfake.

    python3 tests/integ/test_units.py [-k NAME]   (VIGIE_BUILD=build dir)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from vigie_harness import Daemon, binary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NMEA = os.path.join(ROOT, "data", "nmea")
# gpslim236.log: a receiver standing near Paris (48.90 N, 2.33 E)
PARIS = (48.9043, 2.3330)
EV_POWER_ON = 5
EV_RECORD_LOST = 6


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class UnitProcess:
    """One vigie-unit, its flash and control socket in the daemon's directory."""

    def __init__(self, daemon, serial, role, gnss=None, extra=()):
        self.d = daemon
        self.serial = serial
        self.role = role
        self.gnss = gnss
        self.extra = list(extra)
        self.flash = os.path.join(daemon.dir, serial + ".flash")
        self.ctl_path = os.path.join(daemon.dir, serial + ".ctl")
        self.out_path = os.path.join(daemon.dir, serial + ".out")
        self.err_path = os.path.join(daemon.dir, serial + ".err")
        self.proc = None

    def start(self, port=None):
        args = [binary("vigie-unit"), "run", "--serial", self.serial, "--role", self.role,
                "--server", "127.0.0.1:%d" % (port or self.d.devices_port), "--pki", self.d.pki,
                "--flash", self.flash, "--ctl", self.ctl_path, "--slots", "4096",
                "--report-interval", "1000", "--heartbeat-interval", "5000"] + self.extra
        if self.gnss:
            args += ["--gnss", self.gnss, "--restamp"]
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.out = open(self.out_path, "ab")
        self.err = open(self.err_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.out, stderr=self.err, env=env)
        end = time.time() + 30
        while time.time() < end:
            if os.path.exists(self.ctl_path):
                try:
                    return self.status()
                except (AssertionError, OSError):
                    pass
            if self.proc.poll() is not None:
                raise AssertionError("vigie-unit exited: " + self.err_text()[-2000:])
            time.sleep(0.05)
        raise AssertionError("vigie-unit not ready: " + self.err_text()[-2000:])

    def ctl(self, *cmd):
        res = subprocess.run([binary("vigie-unit"), "ctl", self.ctl_path] + list(cmd),
                             capture_output=True, text=True, timeout=10)
        if res.returncode != 0:
            raise AssertionError("ctl %s: %s %s" % (cmd, res.stdout, res.stderr))
        return res.stdout.strip()

    def status(self):
        return json.loads(self.ctl("status"))

    def wait(self, pred, timeout=30, what="condition"):
        end = time.time() + timeout
        st = None
        while time.time() < end:
            st = self.status()
            if pred(st):
                return st
            time.sleep(0.1)
        raise AssertionError("%s: %s not met; last status %s" % (self.serial, what, st))

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)
        if self.proc:
            self.out.close()
            self.err.close()
        code = self.proc.returncode if self.proc else 0
        self.proc = None
        return code

    def err_text(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def out_text(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")


class UnitTest(unittest.TestCase):
    daemon_extra = ("--report_interval_ms", "1000", "--heartbeat_interval_ms", "5000")

    def setUp(self):
        self.d = Daemon(extra=self.daemon_extra).start()
        self.addCleanup(self.d.cleanup)
        self.units = []

    def tearDown(self):
        for u in self.units:
            u.stop()

    def unit(self, serial, role, **kw):
        u = UnitProcess(self.d, serial, role, **kw)
        self.units.append(u)
        return u

    def provision(self, home=PARIS, author="U-A1", protected_person="U-P1"):
        self.d.issue(author)
        self.d.issue(protected_person)
        return self.d.create_measure("M1", author, protected_person, home=home)

    def rows(self, sql, *args):
        return self.d.query(sql, *args)

    def unit_id(self, serial):
        return self.rows("SELECT id FROM units WHERE serial = ?", serial)[0][0]

    def all_seqs(self, serial):
        uid = self.unit_id(serial)
        return sorted(r[0] for r in self.rows(
            "SELECT seq FROM fixes WHERE unit_id = ?1 UNION ALL "
            "SELECT seq FROM statuses WHERE unit_id = ?1 UNION ALL "
            "SELECT seq FROM events WHERE unit_id = ?1", uid))

    def alarms(self):
        return [r[0] for r in self.rows("SELECT kind FROM alarms ORDER BY seq")]


class NmeaReplay(UnitTest):
    def test_positions_from_a_real_receiver_reach_the_centre(self):
        self.provision()
        u = self.unit("U-P1", "protected", gnss=os.path.join(NMEA, "gpslim236.log"),
                      extra=["--replay-speed", "4"])
        u.start()
        st = u.wait(lambda s: s["link"] == "up" and s["acked"] >= 8 and s["pending"] == 0,
                    what="fixes acknowledged")
        rows = self.rows("SELECT quality, lat_e7, lon_e7, accuracy_cm FROM fixes f "
                         "WHERE unit_id = ? AND quality > 0", self.unit_id("U-P1"))
        self.assertGreaterEqual(len(rows), 3)
        for q, lat, lon, acc in rows:
            self.assertAlmostEqual(lat / 1e7, PARIS[0], delta=0.01)
            self.assertAlmostEqual(lon / 1e7, PARIS[1], delta=0.01)
            self.assertGreater(acc, 0)
        self.assertEqual(self.all_seqs("U-P1"), list(range(1, st["last_seq"] + 1)))
        self.assertEqual(u.stop(), 0)


class Gpsfake(UnitTest):
    def test_positions_through_gpsd(self):
        gpsfake = shutil.which("gpsfake")
        self.assertIsNotNone(gpsfake, "gpsfake (Debian's gpsd-clients) is needed: scripts/deps test")
        self.provision()
        port = free_port()
        # a real gpsd, fed the recording through a pseudo-terminal by gpsfake
        log = open(os.path.join(self.d.dir, "gpsfake.log"), "wb")
        env = dict(os.environ)
        env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"  # gpsd lives in /usr/sbin
        fake = subprocess.Popen([gpsfake, "-q", "-P", str(port), "-c", "0.1",
                                 os.path.join(NMEA, "gpslim236.log")],
                                stdout=log, stderr=log, env=env, start_new_session=True)
        self.addCleanup(lambda: (os.killpg(fake.pid, signal.SIGTERM), fake.wait(10), log.close()))
        end = time.time() + 20
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        u = self.unit("U-P1", "protected", gnss="gpsd:127.0.0.1:%d" % port)
        u.start()
        u.wait(lambda s: s["acked"] >= 6 and s["pending"] == 0, timeout=60,
               what="fixes through gpsd acknowledged")
        rows = self.rows("SELECT lat_e7, lon_e7 FROM fixes WHERE unit_id = ? AND quality > 0",
                         self.unit_id("U-P1"))
        self.assertGreaterEqual(len(rows), 2, u.err_text()[-2000:])
        for lat, lon in rows:
            self.assertAlmostEqual(lat / 1e7, PARIS[0], delta=0.01)
            self.assertAlmostEqual(lon / 1e7, PARIS[1], delta=0.01)


class Controls(UnitTest):
    def test_sos_and_beacon(self):
        self.provision()
        u = self.unit("U-P1", "protected")
        u.start()
        u.wait(lambda s: s["link"] == "up", what="in session")
        self.assertEqual(u.ctl("sos"), "ok")
        self.assertEqual(u.ctl("beacon", "28"), "ok")
        u.wait(lambda s: s["pending"] == 0 and s["beacon_heard"] == 1, what="sent")
        end = time.time() + 10
        while time.time() < end and not {20, 22} <= set(self.alarms()):
            time.sleep(0.1)
        kinds = self.alarms()
        self.assertIn(20, kinds)  # sos
        self.assertIn(22, kinds)  # beacon_detected
        # the unit rang on its own, before the centre said anything
        self.assertIn("RING source=local level=2", u.out_text())
        dist = self.rows("SELECT distance_m FROM alarms WHERE kind = 22")[0][0]
        self.assertEqual(dist, 28.0)

    def test_bad_commands_refused(self):
        self.provision()
        u = self.unit("U-P1", "protected")
        u.start()
        for cmd in (["strap", "0"], ["battery", "140"], ["beacon", "-3"], ["fly"],
                    ["sos", "now"], ["power", "2"]):
            res = subprocess.run([binary("vigie-unit"), "ctl", u.ctl_path] + cmd,
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(res.returncode, 1, cmd)
            self.assertTrue(res.stdout.startswith("error: "), res.stdout)
        res = subprocess.run([binary("vigie-unit"), "run", "--serial", "U-P1"],
                             capture_output=True, text=True, timeout=10)
        self.assertEqual(res.returncode, 2)
        self.assertIn("are needed", res.stderr)


class Outage(UnitTest):
    def test_records_kept_through_an_outage_then_flushed(self):
        self.provision()
        self.d.stop()
        u = self.unit("U-P1", "protected", gnss=os.path.join(NMEA, "haicom-305N.log"),
                      extra=["--replay-speed", "2"])
        u.start(port=self.d.devices_port)
        time.sleep(4)
        u.ctl("sos")
        time.sleep(2)
        before = u.status()
        self.assertEqual(before["link"] != "up", True)
        self.assertGreaterEqual(before["pending"], 6)
        self.d.start(devices_port=self.d.devices_port, http_port=self.d.http_port)
        st = u.wait(lambda s: s["pending"] == 0 and s["acked"] >= before["last_seq"],
                    timeout=90, what="backlog flushed")
        seqs = self.all_seqs("U-P1")  # the unit goes on recording meanwhile
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertGreaterEqual(len(seqs), st["last_seq"])
        # the SOS went ahead of the backlog: the alarm was raised, stored first
        self.assertIn(20, self.alarms())


class Kill9(UnitTest):
    def check_no_loss_no_reuse(self, u, boots):
        st = u.wait(lambda s: s["link"] == "up" and s["pending"] == 0, timeout=60,
                    what="everything acknowledged")
        seqs = self.all_seqs(u.serial)
        # no gap, nothing twice; the unit goes on recording, so the centre may
        # already hold more than the status said
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertGreaterEqual(len(seqs), st["last_seq"])
        power_on = self.rows("SELECT seq FROM events WHERE unit_id = ? AND kind = ? ORDER BY seq",
                             self.unit_id(u.serial), EV_POWER_ON)
        self.assertEqual(len(power_on), boots)
        return st, [r[0] for r in power_on]

    def test_kill9_offline_then_online(self):
        """Killed while offline with a backlog: nothing lost, no number reused."""
        self.provision()
        self.d.stop()
        u = self.unit("U-P1", "protected", gnss=os.path.join(NMEA, "haicom-305N.log"))
        u.start(port=self.d.devices_port)
        time.sleep(5)
        before = u.status()
        self.assertGreater(before["pending"], 3)
        u.stop(signal.SIGKILL)
        u.start(port=self.d.devices_port)
        after = u.status()
        self.assertGreater(after["last_seq"], before["last_seq"])
        self.d.start(devices_port=self.d.devices_port, http_port=self.d.http_port)
        st, power_on = self.check_no_loss_no_reuse(u, boots=2)
        # the restarted unit's first record comes right after everything before it
        self.assertEqual(power_on, [1, before["last_seq"] + 1])

    def test_kill9_in_session_repeatedly(self):
        """Killed again and again while sending: every record arrives once."""
        self.provision()
        u = self.unit("U-P1", "protected", gnss=os.path.join(NMEA, "haicom-305N.log"),
                      extra=["--replay-speed", "3"])
        u.start()
        last_seen = 0
        for i in range(5):
            time.sleep(1.5 + 0.3 * i)
            seen = u.status()["last_seq"]
            self.assertGreaterEqual(seen, last_seen)
            last_seen = seen
            u.stop(signal.SIGKILL)
            u.start()
            self.assertGreater(u.status()["last_seq"], seen)
        st, power_on = self.check_no_loss_no_reuse(u, boots=6)
        self.assertEqual(len(set(power_on)), 6)


class DamagedFlash(UnitTest):
    def test_a_damaged_slot_is_sent_as_a_notice_and_passed(self):
        """A record the flash lost (a slot that fails its check) goes as a
        RECORD_LOST notice with its number: the centre stores the loss and
        acknowledges past it; the window does not stall."""
        self.provision()
        self.d.stop()
        u = self.unit("U-P1", "protected", gnss=os.path.join(NMEA, "haicom-305N.log"))
        u.start(port=self.d.devices_port)
        time.sleep(5)
        u.stop()  # an orderly stop: everything written
        # slot of record 3: the ring's slots start at 12288, 64 bytes each
        with open(u.flash, "r+b") as f:
            f.seek(12288 + 64 * (3 - 1) + 20)
            byte = f.read(1)
            f.seek(12288 + 64 * (3 - 1) + 20)
            f.write(bytes([byte[0] ^ 0x10]))
        u.start(port=self.d.devices_port)
        self.d.start(devices_port=self.d.devices_port, http_port=self.d.http_port)
        st = u.wait(lambda s: s["link"] == "up" and s["pending"] == 0, timeout=60,
                    what="everything acknowledged")
        seqs = self.all_seqs("U-P1")  # the unit goes on recording meanwhile
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertGreaterEqual(len(seqs), st["last_seq"])
        lost = self.rows("SELECT seq FROM events WHERE unit_id = ? AND kind = ?",
                         self.unit_id("U-P1"), EV_RECORD_LOST)
        self.assertEqual(lost, [(3,)])
        acked = self.rows("SELECT acked_seq FROM units WHERE serial = 'U-P1'")[0][0]
        self.assertGreaterEqual(acked, st["last_seq"])  # past the lost number
        self.assertIn("lost a record on its flash", self.d.log_text())


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(verbosity=2, warnings="ignore")
