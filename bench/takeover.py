#!/usr/bin/env python3
"""bench/takeover: two sites (docs/DEPLOYMENT.md, "Two sites"): two
PostgreSQL servers with synchronous streaming replication (scripts/pg-ha),
a vigied at each site on one multi-host location, units from vigie-loadgen
knowing both addresses, pressing SOS often enough that alarms flow all the
time (5% of the protected units' records).

Reports (JSON lines, docs/BENCHMARKS.md):
  takeover/kill9_s        kill -9 of the active vigied -> the first alarm
                          committed after it (the other site took over:
                          lease lapsed, state built from the store, units
                          reconnected); goal <= 5 s
  takeover/db_failover_s  the primary PostgreSQL crashes (stop -m immediate)
                          and its standby is promoted at once -> the first
                          alarm committed after it (the system's part; a
                          human or a witness deciding to promote adds its
                          own time)
  ingest_sync/records_per_s  flat-out ingest through vigied on the pair,
                          commits synchronous to the other server, vs the
                          same primary committing alone (ratio: the cost of
                          the second site)
BENCH_QUICK=1: one round of each, a few seconds of ingest.
"""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from benchlib import exe, report_line  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
SOURCE_ROOT = "@SOURCE_ROOT@"
PG_HA = os.path.join(SOURCE_ROOT, "scripts", "pg-ha")
TTL_MS = 3000
MEASURES = 20


def psql(location, sql):
    res = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", location,
                          "-c", sql], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("psql: %s: %s" % (sql, res.stderr))
    return res.stdout.strip()


def pg_ha(*args):
    res = subprocess.run([PG_HA] + list(args), capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise SystemExit("bench/takeover: pg-ha %s: %s" % (args, res.stderr))
    return res.stdout.strip()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Site:
    def __init__(self, root, name, db):
        self.name, self.db = name, db
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        self.dev_port, self.http_port = free_port(), free_port()
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "vigied.log"), "ab")
        skip = log.tell()
        self.proc = subprocess.Popen(
            [exe("src/daemon/vigied"), "--data-dir", self.dir, "--devices",
             "127.0.0.1:%d" % self.dev_port, "--http", "127.0.0.1:%d" % self.http_port,
             "--db", self.db, "--site", self.name, "--lease-ttl-ms", str(TTL_MS)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        end = time.time() + 60
        while time.time() < end:
            with open(os.path.join(self.dir, "vigied.log"), "rb") as f:
                f.seek(skip)
                text = f.read().decode(errors="replace")
            if "msg=ready" in text or 'msg="standing by"' in text:
                return
            if self.proc.poll() is not None:
                raise SystemExit("bench/takeover: vigied exited:\n" + text[-2000:])
            time.sleep(0.05)
        raise SystemExit("bench/takeover: vigied did not start")

    def active(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.http_port,
                                        timeout=5) as r:
                return r.status == 200
        except Exception:
            return False

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_alarm_after(db, since_ms, timeout=60, what="the failure"):
    """The moment the database first shows an alarm raised after since_ms."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            if int(psql(db, "SELECT count(*) FROM alarms WHERE raised_ms > %d" % since_ms)) > 0:
                return time.time()
        except RuntimeError:
            pass  # no primary at the moment
        time.sleep(0.02)
    raise SystemExit("bench/takeover: no alarm within %d s after %s" % (timeout, what))


def active_site(sites):
    end = time.time() + 60
    while time.time() < end:
        for s in sites:
            if s.proc and s.proc.poll() is None and s.active():
                return s
        time.sleep(0.05)
    raise SystemExit("bench/takeover: no site active")


def main():
    if not os.environ.get("VIGIE_HA_URI"):  # two servers of our own around this script
        os.execvp(PG_HA, [PG_HA, "run", sys.executable, os.path.realpath(__file__)])
    ha_dir, uri = os.environ["VIGIE_HA_DIR"], os.environ["VIGIE_HA_URI"]
    psql(uri + "/postgres?target_session_attrs=read-write", "CREATE DATABASE takeover")
    db = uri + "/takeover?target_session_attrs=read-write"
    work = tempfile.mkdtemp(prefix="vigie-bench-takeover-")
    a, b = Site(work, "site-a", db), Site(work, "site-b", db)
    gen = None
    try:
        a.start()
        shutil.copytree(os.path.join(a.dir, "pki"), os.path.join(b.dir, "pki"))
        shutil.copy(os.path.join(a.dir, "admin.token"), b.dir)
        b.start()
        sites = [a, b]
        loadgen = exe("src/tools/vigie-loadgen")
        subprocess.run([loadgen, "provision", "--http", "127.0.0.1:%d" % a.http_port,
                        "--token-file", os.path.join(a.dir, "admin.token"), "--pki",
                        os.path.join(a.dir, "pki"), "--prefix", "T", "--measures",
                        str(MEASURES)], check=True, stdout=subprocess.DEVNULL)
        run = [loadgen, "run", "--server", "127.0.0.1:%d" % a.dev_port, "--server",
               "127.0.0.1:%d" % b.dev_port, "--pki", os.path.join(a.dir, "pki"), "--prefix",
               "T", "--measures", str(MEASURES)]
        gen = subprocess.Popen(run + ["--rate", "2000", "--duration", "600", "--reconnect",
                                      "--sos-permille", "50", "--window", "100", "--frame", "5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rounds = 1 if QUICK else 3

        kill9 = []
        for _ in range(rounds):
            time.sleep(2.0)
            victim = active_site(sites)
            wait_alarm_after(db, int(time.time() * 1000) - 1000, what="the start")  # flowing
            t = time.time()
            victim.kill9()
            kill9.append(wait_alarm_after(db, int(t * 1000), what="kill -9") - t)
            victim.start()  # back, standing by
        print("bench/takeover: kill -9 -> alarms again: %s s" % [round(x, 2) for x in kill9],
              file=sys.stderr)
        print(json.dumps(report_line("takeover", "kill9_s", kill9, "s", n=len(kill9))),
              flush=True)

        failover = []
        primary, standby = "a", "b"
        for i in range(rounds):
            time.sleep(2.0)
            wait_alarm_after(db, int(time.time() * 1000) - 1000, what="the rejoin")
            t = time.time()
            pg_ha("stop", ha_dir, primary, "immediate")
            pg_ha("promote", ha_dir, standby)
            failover.append(wait_alarm_after(db, int(t * 1000), what="the fail-over") - t)
            pg_ha("rejoin", ha_dir, primary)  # back as the standby, synchronous again
            primary, standby = standby, primary
        print("bench/takeover: database fail-over -> alarms again: %s s"
              % [round(x, 2) for x in failover], file=sys.stderr)
        print(json.dumps(report_line("takeover", "db_failover_s", failover, "s",
                                     n=len(failover))), flush=True)
        gen.send_signal(signal.SIGKILL)
        gen.wait()
        gen = None

        # ingest, flat out: synchronous to the other server, then alone
        seconds = "2" if QUICK else "8"
        act = active_site(sites)  # its address alone: no unit lost on the standby's
        flat = [loadgen, "run", "--server", "127.0.0.1:%d" % act.dev_port, "--pki",
                os.path.join(a.dir, "pki"), "--prefix", "T", "--measures", str(MEASURES),
                "--duration", seconds, "--window", "400", "--frame", "50"]

        def rates():
            out = []
            for _ in range(1 if QUICK else 3):
                res = subprocess.run(flat, check=True, capture_output=True, text=True)
                out.append(json.loads(res.stdout)["acked_per_s"])
            return out
        synced = rates()
        pg_ha("alone", ha_dir, primary)
        alone = rates()
        pg_ha("paired", ha_dir, primary)
        print("bench/takeover: ingest synchronous %s, alone %s records/s"
              % ([round(x) for x in synced], [round(x) for x in alone]), file=sys.stderr)
        print(json.dumps(report_line("ingest_sync", "records_per_s", synced, "1/s",
                                     "the primary alone", statistics.median(alone),
                                     n=len(synced))), flush=True)
    finally:
        if gen:
            gen.kill()
            gen.wait()
        for s in (a, b):
            s.stop()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
