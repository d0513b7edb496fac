"""vigied end to end: real binaries, real TLS 1.3, a real SQLite file (or
PostgreSQL database: VIGIE_TEST_DB=pg), on loopback. Each test starts its own
daemon in a fresh data directory.

    python3 tests/integ/test_daemon.py [-k NAME]   (VIGIE_BUILD=build dir)
"""
import json
import os
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import vigie_harness as harness  # noqa: E402
from vigie_harness import (ACK, CONFIG, ERROR, EVENT, FIX, HEARTBEAT, RECORDS, RING, SOS, STATUS,
                           WELCOME, Daemon, Unit, binary, connect_ready, decision, event_body, fix_body,
                           frame, hello, now_ms, record, records, status_body)

HOME = (47.2184, -1.5536)  # Nantes: the protected person's home in these tests
FAR = (47.2184, -1.0)      # about 42 km east of it


class DaemonTest(unittest.TestCase):
    extra = ()

    def setUp(self):
        self.d = Daemon(extra=self.extra).start()
        self.addCleanup(self.d.cleanup)

    def provision(self, name="M1", author="U-A1", protected_person="U-P1", **kw):
        self.d.issue(author)
        self.d.issue(protected_person)
        return self.d.create_measure(name, author, protected_person, **kw)


class HappyPath(DaemonTest):
    def test_records_stored_acknowledged_and_judged(self):
        self.provision()
        a, w = connect_ready(self.d, "U-A1")
        self.assertEqual(w["version"], 1)
        self.assertEqual(w["acked_seq"], 0)
        self.assertLess(abs(w["server_time_ms"] - now_ms()), 5000)
        p, _ = connect_ready(self.d, "U-P1")
        t = now_ms()
        p.send(records(record(FIX, 1, fix_body(t, *HOME)),
                       record(STATUS, 2, status_body(t, battery=80))))
        self.assertEqual(p.expect(ACK)["cumulative"], 2)
        a.send(records(*[record(FIX, s, fix_body(t + s, *FAR)) for s in range(1, 6)]))
        self.assertEqual(a.expect(ACK)["cumulative"], 5)
        rows = self.d.query("SELECT seq, lat_e7, lon_e7, accuracy_cm FROM fixes f "
                            "JOIN units u ON u.id = f.unit_id WHERE u.serial = 'U-A1' ORDER BY seq")
        self.assertEqual([r[0] for r in rows], [1, 2, 3, 4, 5])
        self.assertEqual(rows[0][1:], (round(FAR[0] * 1e7), round(FAR[1] * 1e7), 800))
        # an SOS is judged, stored as an alarm, counted
        p.send(records(record(EVENT, 3, event_body(now_ms(), SOS))))
        self.assertEqual(p.expect(ACK)["cumulative"], 3)
        alarms = self.d.query("SELECT kind, unit, priority FROM alarms")
        self.assertIn((20, 2, 1), alarms)  # VG_ALARM_SOS, protected unit, alert priority
        m = self.d.metrics()
        self.assertEqual(m['vigie_alarms_total{kind="sos"}'], 1)
        self.assertEqual(m['vigie_records_total{type="fix"}'], 6)
        self.assertGreaterEqual(m["vigie_commit_latency_ms_count"], 1)
        self.assertEqual(m["vigie_store_upkeep_failures_total"], 0)

    def test_approach_raises_alert_rings_and_reports_fast(self):
        self.provision()
        a, _ = connect_ready(self.d, "U-A1")
        p, _ = connect_ready(self.d, "U-P1")
        t = now_ms()
        p.send(records(record(FIX, 1, fix_body(t, *HOME))))
        p.expect(ACK)
        # 1.2 km east of her: a clear alert
        a.send(records(record(FIX, 1, fix_body(t, HOME[0], HOME[1] + 0.016))))
        self.assertEqual(a.expect(ACK)["cumulative"], 1)
        kinds = [k for (k,) in self.d.query("SELECT kind FROM alarms ORDER BY seq")]
        self.assertIn(3, kinds)  # VG_ALARM_ALERT_ENTERED (mobile zone)
        # once durable: her unit rings, both are told to report fast
        got = [p.recv_frame(5) for _ in range(2)]
        types = sorted(g[0] for g in got if g)
        self.assertIn(RING, types)
        ring = [g[1] for g in got if g and g[0] == RING][0]
        self.assertEqual(ring["level"], 2)
        self.assertIn("ALERTE", ring["message"])
        config = a.expect(CONFIG)
        self.assertEqual(config["report_interval_ms"], 5000)
        # the author's unit is told nothing about her
        a.sock.settimeout(0.5)
        leftovers = a.recv_frame(0.5)
        self.assertTrue(leftovers is None or leftovers[0] not in (RING,))


class HeldRing(DaemonTest):
    """A RING for her unit while it is offline is held, and judged again
    when her unit comes back (docs/ENGINE.md, "Her unit's notifications")."""

    def provision_quiet(self):
        """A measure whose policy tells pre-alerts by vibration, day and night."""
        self.d.issue("U-A1")
        self.d.issue("U-P1")
        definition = {"name": "M1", "alert_radius_m": 2000,
                      "units": {"author": "U-A1", "protected": "U-P1"},
                      "decision": decision(),
                      "notifications": {"prealert_day": "vibrate", "prealert_night": "vibrate"}}
        status, body = self.d.http("POST", "/api/v1/measures", json.dumps(definition).encode())
        self.assertEqual(status, 201, body)

    def her_unit_goes_away(self, t):
        p, _ = connect_ready(self.d, "U-P1")
        p.send(records(record(FIX, 1, fix_body(t, *HOME))))
        self.assertEqual(p.expect(ACK)["cumulative"], 1)
        p.sock.close()
        time.sleep(0.5)  # the centre sees her unit gone

    def frames_for(self, unit, seconds):
        got, end = [], time.time() + seconds
        while time.time() < end:
            g = unit.recv_frame(max(0.1, end - time.time()))
            if g is None:
                break
            got.append(g)
        return got

    def test_still_raised_rings_with_her_policy(self):
        self.provision_quiet()
        t = now_ms()
        self.her_unit_goes_away(t - 1000)
        a, _ = connect_ready(self.d, "U-A1")
        # 3.5 km east of her: a clear pre-alert while her unit is away
        a.send(records(record(FIX, 1, fix_body(t, HOME[0], HOME[1] + 0.0463))))
        self.assertEqual(a.expect(ACK)["cumulative"], 1)
        self.assertGreaterEqual(self.d.metrics()["vigie_commands_queued_total"], 1)
        p, _ = connect_ready(self.d, "U-P1")
        rings = [g[1] for g in self.frames_for(p, 2.0) if g[0] == RING]
        self.assertEqual(len(rings), 1)
        self.assertEqual(rings[0]["level"], 1)
        self.assertEqual(rings[0]["sound"], 1)  # vibrate, as her policy says (was: aloud)

    def test_ended_episode_is_dropped(self):
        self.provision_quiet()
        t = now_ms()
        self.her_unit_goes_away(t - 130000)
        a, _ = connect_ready(self.d, "U-A1")
        east = lambda km: (HOME[0], HOME[1] + km * 0.01323)  # noqa: E731 (1 km of longitude here)
        # a pre-alert 110 s ago (fresh enough to ring), then clearly out
        # (4.5 km) for 65 s over three fixes: left before her unit is back
        a.send(records(record(FIX, 1, fix_body(t - 110000, *east(3.5))),
                       record(FIX, 2, fix_body(t - 95000, *east(4.5))),
                       record(FIX, 3, fix_body(t - 60000, *east(4.5))),
                       record(FIX, 4, fix_body(t - 30000, *east(4.5)))))
        self.assertEqual(a.expect(ACK)["cumulative"], 4)
        kinds = [k for (k,) in self.d.query("SELECT kind FROM alarms ORDER BY seq")]
        self.assertEqual(kinds[:2], [1, 2])  # prealert_entered, prealert_left
        p, _ = connect_ready(self.d, "U-P1")
        self.assertEqual([g for g in self.frames_for(p, 2.0) if g[0] == RING], [])


class Resend(DaemonTest):
    def test_resend_after_lost_ack_is_stored_once(self):
        self.provision()
        a, _ = connect_ready(self.d, "U-A1")
        t = now_ms()
        a.send(records(*[record(FIX, s, fix_body(t + s, *FAR)) for s in range(1, 6)]))
        self.assertEqual(a.expect(ACK)["cumulative"], 5)
        a.close()  # as if the ACK had been lost: the unit resends 3..5, then more
        a, w = connect_ready(self.d, "U-A1")
        self.assertEqual(w["acked_seq"], 5)  # the centre says where it is
        a.send(records(*[record(FIX, s, fix_body(t + s, *FAR)) for s in range(3, 9)]))
        self.assertEqual(a.expect(ACK)["cumulative"], 8)
        rows = self.d.query("SELECT count(*), count(DISTINCT seq), max(seq) FROM fixes f "
                            "JOIN units u ON u.id = f.unit_id WHERE serial = 'U-A1'")
        self.assertEqual(rows[0], (8, 8, 8))
        self.assertGreaterEqual(self.d.metrics()["vigie_records_duplicate_total"], 3)
        # the same seq twice in one frame: once
        a.send(records(record(FIX, 9, fix_body(t + 9, *FAR)), record(FIX, 9, fix_body(t + 9, *FAR))))
        self.assertEqual(a.expect(ACK)["cumulative"], 9)
        self.assertEqual(self.d.query("SELECT count(*) FROM fixes")[0][0], 9)


class Refusals(DaemonTest):
    def test_tls_refusals(self):
        self.provision()
        ca = os.path.join(self.d.pki, "ca.crt")
        # no client certificate
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError, AssertionError)):
            u = Unit(self.d.devices_port, ca=ca)
            u.send(hello())
            if u.recv_frame(3) is None:
                raise AssertionError("closed")
        # a certificate from another CA
        other = tempfile.mkdtemp(prefix="vigie-otherca-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", other]))
        self.d.vigie("pki", "init", "--dir", other)
        self.d.vigie("pki", "issue-unit", "U-A1", "--dir", other)
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError, AssertionError)):
            u = Unit(self.d.devices_port, os.path.join(other, "units/U-A1.crt"),
                     os.path.join(other, "units/U-A1.key"), ca)
            u.send(hello())
            if u.recv_frame(3) is None:
                raise AssertionError("closed")
        # TLS 1.2 is refused
        crt, key = self.d.cert("U-A1")
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
            Unit(self.d.devices_port, crt, key, ca, tls12=True)
        # a valid certificate of a unit that serves no measure
        self.d.issue("U-SPARE")
        u = self.d.unit("U-SPARE")
        u.send(hello())
        frames = u.wait_closed()
        self.assertEqual(frames[-1][0], ERROR)
        self.assertEqual(frames[-1][1]["code"], 5)
        # revoked: refused from its next connection once the CRL is reloaded
        a, _ = connect_ready(self.d, "U-A1")
        a.close()
        self.d.vigie("pki", "revoke", "U-A1", "--dir", self.d.pki)
        self.d.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "revocation list reloaded" not in self.d.log_text() and time.time() < deadline:
            time.sleep(0.05)
        with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError, AssertionError)):
            u = self.d.unit("U-A1")
            u.send(hello())
            if u.recv_frame(3) is None:
                raise AssertionError("closed")
        self.assertGreaterEqual(self.d.metrics()["vigie_tls_handshake_failures_total"], 3)


class Malformed(DaemonTest):
    def check_refused(self, data, code, before_hello=False):
        u = self.d.unit("U-A1")
        if not before_hello:
            u.send(hello())
            u.expect(WELCOME)
        u.send(data)
        frames = u.wait_closed()
        self.assertTrue(frames, "no ERROR before the close")
        self.assertEqual(frames[-1][0], ERROR)
        self.assertEqual(frames[-1][1]["code"], code, frames[-1][1])
        return frames

    def test_malformed_truncated_oversized(self):
        self.provision()
        t = now_ms()
        self.check_refused(b"XX\x01\x02\x00\x00\x00\x00", 1)                 # bad magic
        self.check_refused(frame(RECORDS, b"", version=9), 1)                  # unknown version
        self.check_refused(b"VG\x01\x02" + struct.pack(">I", 10 * 1024 * 1024), 2)  # oversize
        self.check_refused(records(record(FIX, 1, fix_body(t, *FAR))), 4, before_hello=True)
        # a broken record in the middle: nothing of the frame is stored
        good = record(FIX, 1, fix_body(t, *FAR))
        bad = bytes([FIX, 0]) + struct.pack(">HQ", 3, 2) + b"\x01\x08\x00"  # truncated field
        self.check_refused(records(good, bad, record(FIX, 3, fix_body(t, *FAR))), 1)
        # sequence number 0 is not a record
        self.check_refused(records(record(FIX, 0, fix_body(t, *FAR))), 1)
        self.assertEqual(self.d.query("SELECT count(*) FROM fixes")[0][0], 0)
        # a truncated frame, then the unit goes: nothing stored either
        u = self.d.unit("U-A1")
        u.send(hello())
        u.expect(WELCOME)
        whole = records(record(FIX, 1, fix_body(t, *FAR)))
        u.send(whole[:-3])
        u.close()
        time.sleep(0.5)
        self.assertEqual(self.d.query("SELECT count(*) FROM fixes")[0][0], 0)
        self.assertGreaterEqual(self.d.metrics()["vigie_frames_rejected_total"], 6)


class SlowClients(DaemonTest):
    extra = ("--handshake-timeout-ms", "800", "--hello-timeout-ms", "800",
             "--frame-timeout-ms", "1000")

    def test_slow_loris_and_silent_clients(self):
        self.provision()
        # a TCP connection that never starts TLS
        s = socket.create_connection(("127.0.0.1", self.d.devices_port))
        s.settimeout(5)
        start = time.time()
        self.assertEqual(s.recv(10), b"")
        self.assertLess(time.time() - start, 3)
        # TLS done, no HELLO
        u = self.d.unit("U-A1")
        start = time.time()
        u.wait_closed(5)
        self.assertLess(time.time() - start, 3)
        # a frame trickled one byte every 300 ms
        u = self.d.unit("U-A1")
        u.send(hello())
        u.expect(WELCOME)
        data = records(record(FIX, 1, fix_body(now_ms(), *FAR)))
        start = time.time()
        try:
            for b in data:
                u.send(bytes([b]))
                time.sleep(0.3)
        except (OSError, ssl.SSLError):
            pass
        frames = u.wait_closed(5)
        self.assertLess(time.time() - start, 4)
        self.assertTrue(frames and frames[-1][0] == ERROR)
        self.assertEqual(self.d.query("SELECT count(*) FROM fixes")[0][0], 0)
        self.assertGreaterEqual(self.d.metrics()["vigie_connection_timeouts_total"], 3)


class ManyUnits(DaemonTest):
    def test_thousand_concurrent_units(self):
        loadgen = binary("vigie-loadgen")
        token = os.path.join(self.d.dir, "admin.token")
        out = subprocess.run([loadgen, "provision", "--http", "127.0.0.1:%d" % self.d.http_port,
                              "--token-file", token, "--pki", self.d.pki, "--prefix", "MANY",
                              "--measures", "500"], capture_output=True, text=True, timeout=600)
        self.assertEqual(out.returncode, 0, out.stderr)
        out = subprocess.run([loadgen, "run", "--server", "127.0.0.1:%d" % self.d.devices_port,
                              "--pki", self.d.pki, "--prefix", "MANY", "--measures", "500",
                              "--per-unit", "20", "--frame", "5", "--window", "50"],
                             capture_output=True, text=True, timeout=600)
        self.assertEqual(out.returncode, 0, out.stderr)
        summary = json.loads(out.stdout)
        self.assertEqual(summary["units"], 1000)
        self.assertEqual(summary["acked"], summary["sent"])
        self.assertEqual(summary["sent"], 20000)
        rows = self.d.query("SELECT count(*), count(DISTINCT unit_id) FROM fixes")
        self.assertEqual(rows[0][0], summary["sent"])
        self.assertEqual(rows[0][1], 1000)
        self.assertEqual(self.d.metrics()["vigie_connections_accepted_total"], 1000)


class Crash(DaemonTest):
    def test_kill9_under_load_loses_nothing_acknowledged(self):
        loadgen = binary("vigie-loadgen")
        token = os.path.join(self.d.dir, "admin.token")
        subprocess.run([loadgen, "provision", "--http", "127.0.0.1:%d" % self.d.http_port,
                        "--token-file", token, "--pki", self.d.pki, "--prefix", "CR",
                        "--measures", "20"], check=True, capture_output=True, timeout=120)
        acked_file = os.path.join(self.d.dir, "acked.txt")
        port = self.d.devices_port
        gen = subprocess.Popen([loadgen, "run", "--server", "127.0.0.1:%d" % port, "--pki",
                                self.d.pki, "--prefix", "CR", "--measures", "20",
                                "--per-unit", "750", "--rate", "5000", "--reconnect",
                                "--acked-file", acked_file,
                                "--window", "100", "--frame", "10"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(2.5)
        self.d.kill9()
        time.sleep(1.0)
        self.d.start(devices_port=port, http_port=self.d.http_port)
        out, err = gen.communicate(timeout=600)
        self.assertEqual(gen.returncode, 0, err)
        summary = json.loads(out)
        self.assertGreater(summary["disconnects"], 0, "the kill happened after the run")
        self.assertGreater(summary["resent"], 0)
        acked = set()
        for line in open(acked_file):
            serial, seq = line.split()
            acked.add((serial, int(seq)))
        stored = self.d.query("SELECT u.serial, f.seq FROM fixes f JOIN units u ON u.id = f.unit_id")
        stored_set = set(stored)
        self.assertEqual(len(stored), len(stored_set), "a record is stored twice")
        missing = acked - stored_set
        self.assertFalse(missing, "acknowledged but lost: %d, e.g. %s" % (len(missing),
                                                                          sorted(missing)[:5]))
        self.assertEqual(len(stored_set), summary["sent"])


class Restart(DaemonTest):
    def test_restart_neither_forgets_nor_repeats_an_intrusion(self):
        self.provision()
        a, _ = connect_ready(self.d, "U-A1")
        p, _ = connect_ready(self.d, "U-P1")
        t = now_ms()
        p.send(records(record(FIX, 1, fix_body(t, *HOME))))
        p.expect(ACK)
        a.send(records(record(FIX, 1, fix_body(t, HOME[0], HOME[1] + 0.016))))
        a.expect(ACK)
        before = self.d.query("SELECT seq, kind FROM alarms ORDER BY seq")
        self.assertIn(3, [k for _, k in before])
        a.close()
        p.close()
        self.assertEqual(self.d.stop(), 0)
        self.assertIn("stopped: everything received was committed", self.d.log_text())
        self.d.start()
        a, w = connect_ready(self.d, "U-A1")
        self.assertEqual(w["acked_seq"], 1)
        p, w = connect_ready(self.d, "U-P1")
        self.assertEqual(w["acked_seq"], 1)
        t2 = now_ms()
        p.send(records(record(FIX, 2, fix_body(t2, *HOME))))
        p.expect(ACK)
        a.send(records(record(FIX, 2, fix_body(t2, HOME[0], HOME[1] + 0.0161))))
        a.expect(ACK)
        after = self.d.query("SELECT seq, kind FROM alarms ORDER BY seq")
        new = [k for s, k in after if (s, k) not in before]
        self.assertNotIn(3, new, "the alert was raised again after the restart")
        # and the numbering goes on
        self.assertEqual(len(set(s for s, _ in after)), len(after))


class RestartAfterKill(DaemonTest):
    def test_kill9_neither_forgets_nor_repeats_an_intrusion(self):
        self.provision()
        a, _ = connect_ready(self.d, "U-A1")
        p, _ = connect_ready(self.d, "U-P1")
        t = now_ms()
        p.send(records(record(FIX, 1, fix_body(t, *HOME))))
        p.expect(ACK)
        a.send(records(record(FIX, 1, fix_body(t, HOME[0], HOME[1] + 0.016))))
        a.expect(ACK)  # acknowledged: the alert and the state that knows it are durable
        before = self.d.query("SELECT seq, kind FROM alarms ORDER BY seq")
        self.assertIn(3, [k for _, k in before])
        ports = (self.d.devices_port, self.d.http_port)
        self.d.kill9()
        self.d.start(*ports)
        a, w = connect_ready(self.d, "U-A1")
        self.assertEqual(w["acked_seq"], 1)
        p, _ = connect_ready(self.d, "U-P1")
        t2 = now_ms()
        p.send(records(record(FIX, 2, fix_body(t2, *HOME))))
        p.expect(ACK)
        a.send(records(record(FIX, 2, fix_body(t2, HOME[0], HOME[1] + 0.0161))))
        a.expect(ACK)
        after = self.d.query("SELECT seq, kind FROM alarms ORDER BY seq")
        self.assertNotIn(3, [k for s, k in after if (s, k) not in before])
        self.assertEqual(len(set(s for s, _ in after)), len(after))


class Http(DaemonTest):
    def test_health_metrics_and_api(self):
        status, body = self.d.http("GET", "/healthz", token=False)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        m = self.d.metrics()
        for name in ("vigie_connections", "vigie_frames_received_total",
                     'vigie_records_total{type="fix"}', "vigie_commit_latency_ms_count",
                     'vigie_alarms_total{kind="alert_entered"}', 'vigie_commit_latency_ms_bucket{le="+Inf"}'):
            self.assertIn(name, m)
        self.assertEqual(self.d.http("GET", "/api/v1/measures", token=False)[0], 401)
        status, body = self.d.http("POST", "/api/v1/measures", b"{not json")
        self.assertEqual(status, 400)
        self.assertIn("not valid JSON", json.loads(body)["error"]["message"])
        bad = {"name": "M9", "alert_radius_m": 500, "units": {"author": "A", "protected": "P"}}
        status, body = self.d.http("POST", "/api/v1/measures", json.dumps(bad).encode())
        self.assertEqual(status, 400)
        self.assertIn("1000..10000", json.loads(body)["error"]["message"])
        self.provision("M1")
        status, body = self.d.http("POST", "/api/v1/measures", json.dumps(
            {"name": "M1", "alert_radius_m": 2000,
             "units": {"author": "X-A", "protected": "X-P"}, "decision": decision()}).encode())
        self.assertEqual(status, 409)
        status, body = self.d.http("POST", "/api/v1/measures", b"x" * (300 * 1024))
        self.assertIn(status, (400, 413))
        status, body = self.d.http("GET", "/api/v1/measures")
        self.assertEqual(status, 200)
        listed = json.loads(body)
        self.assertEqual([m["name"] for m in listed], ["M1"])
        self.assertEqual(self.d.http("GET", "/nowhere", token=False)[0], 404)


class Cli(DaemonTest):
    def test_vigie_measure_create_and_list(self):
        self.d.issue("C-A1")
        self.d.issue("C-P1")
        definition = os.path.join(self.d.dir, "m.json")
        with open(definition, "w") as f:
            json.dump({"name": "CLI-1", "alert_radius_m": 3000,
                       "units": {"author": "C-A1", "protected": "C-P1", "bracelet": "C-B1"},
                       "decision": decision(),
                       "zones": [{"id": 1, "category": "school", "shape": "circle",
                                  "center": [47.2, -1.56], "alert_radius_m": 1000,
                                  "windows": [{"days": ["wed"], "start": "16:00",
                                               "end": "16:30"}]}]}, f)
        common = ["--http", "127.0.0.1:%d" % self.d.http_port, "--data-dir", self.d.dir]
        res = self.d.vigie("measure", "create", definition, *common)
        self.assertIn("measure created", res.stdout)
        res = self.d.vigie("measure", "create", definition, *common, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("exists already", res.stderr)
        res = self.d.vigie("measure", "list", *common)
        self.assertIn("CLI-1", res.stdout)
        self.assertIn("3000", res.stdout)
        listed = json.loads(self.d.vigie("measure", "list", "--json", *common).stdout)
        self.assertEqual(listed[0]["zones"], 1)
        bad = os.path.join(self.d.dir, "bad.json")
        with open(bad, "w") as f:
            f.write('{"name": "CLI-2", "alert_radius_m": 2000, "units": {"author": "X", '
                    '"protected": "Y"}, "zones": [{"id": 1, "category": "school", '
                    '"shape": "polygon", "vertices": [[47.2, -1.5], [47.2, -1.5], [47.21, -1.5]], '
                    '"alert_radius_m": 1000}]}')
        res = self.d.vigie("measure", "create", bad, *common, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("zones[0]", res.stderr)
        self.assertEqual(self.d.vigie("measure", "frobnicate", check=False).returncode, 2)
        res = self.d.vigie("measure", "list", "--http", "127.0.0.1:%d" % self.d.http_port,
                           "--token-file", "/nonexistent", check=False)
        self.assertEqual(res.returncode, 1)
        # the bracelet is a unit of the measure too, though it has no certificate
        self.assertEqual(self.d.query("SELECT role FROM units WHERE serial = 'C-B1'"), [(3,)])


class Config(unittest.TestCase):
    def test_config_file_and_bad_settings(self):
        d = tempfile.mkdtemp(prefix="vigie-cfg-")
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", d]))
        cfg = os.path.join(d, "vigied.conf")
        with open(cfg, "w") as f:
            f.write("# test\ndata_dir = %s/data\ndevices = 127.0.0.1:0\nhttp = 127.0.0.1:0\n" % d)
            if harness.PG:  # the store named by the file
                f.write("db = %s\n" % harness.pg_location(os.path.join(d, "data")))
        proc = subprocess.Popen([binary("vigied"), "--config", cfg], stderr=subprocess.PIPE,
                                text=True)
        line = ""
        while "msg=ready" not in line:
            line = proc.stderr.readline()
            self.assertTrue(line, "vigied exited")
        self.assertEqual(os.path.exists(os.path.join(d, "data/vigie.db")), not harness.PG)
        self.assertEqual(oct(os.stat(os.path.join(d, "data/admin.token")).st_mode & 0o777), "0o600")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0)
        with open(cfg, "a") as f:
            f.write("no_such_key = 1\n")
        res = subprocess.run([binary("vigied"), "--config", cfg], capture_output=True, text=True)
        self.assertEqual(res.returncode, 2)
        self.assertIn("unknown setting 'no_such_key'", res.stderr)
        res = subprocess.run([binary("vigied"), "--max-connections", "zero"], capture_output=True,
                             text=True)
        self.assertEqual(res.returncode, 2)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore", ResourceWarning)  # sockets left to the daemon to close
    unittest.main(verbosity=2, warnings="ignore")
