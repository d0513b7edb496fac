#!/usr/bin/env python3
"""bench/stream: alarms from simulated units, through vigied, to consoles
connected to the live stream (GET /api/v1/stream, http/stream.c), while the
units report at a steady rate.

Reports (one JSON line each, docs/BENCHMARKS.md):
  stream/alarm_to_client_p99_ms   the SOS pressed on a unit (the record's own
                                  time, taken when the unit sends it) -> the
                                  alarm event parsed by a console: TLS,
                                  engine, durable commit and stream, the
                                  whole path; vs the store's commit latency
                                  p99 alone in the same run
  stream/alarm_to_client_p50_ms   same, median
  stream/commit_to_client_p99_ms  vigied's own histogram: journal entries
                                  committed -> their events written to every
                                  client (the issue's "within 50 ms of its
                                  commit")
BENCH_QUICK=1: a few seconds with a few units.
"""
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from benchlib import Daemon, exe, hist_quantile, metrics, report_line  # noqa: E402
from sse import Stream  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
CONSOLES = 3
PASSWORD = "bench-password-1"


def report(metric, values, unit, vs=None, vs_value=None, n=0):
    print(json.dumps(report_line("stream", metric, values, unit, vs, vs_value, n)), flush=True)


def api(d, method, path, body=None, cookie=None, token=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (d.http_port, path), method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.headers, json.loads(r.read() or b"null")


def login(d):
    with open(os.path.join(d.dir, "admin.token")) as f:
        token = f.read().strip()
    api(d, "POST", "/api/v1/users", {"name": "bench-op", "role": "operator",
                                     "password": PASSWORD}, token=token)
    _, headers, _ = api(d, "POST", "/api/v1/session", {"name": "bench-op",
                                                       "password": PASSWORD})
    return headers["Set-Cookie"].split(";")[0].split("=", 1)[1]


class Collector(threading.Thread):
    """The alarms one console receives, with the wall time each arrived."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.delays = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                e = self.stream.events.get(timeout=0.2)
            except queue.Empty:
                continue
            arrived_ms = time.time() * 1000.0
            if e["event"] == "alarm":
                a = json.loads(e["data"])
                if a["kind"] == "sos":
                    self.delays.append(arrived_ms - a["at_ms"])


def main():
    work = tempfile.mkdtemp(prefix="vigie-bench-stream-")
    measures = 20 if QUICK else 500
    rounds = 1 if QUICK else 5
    rate = "1000" if QUICK else "10000"
    seconds = "2" if QUICK else "10"
    d = None
    try:
        d = Daemon(work, "stream", ["--password-memory-kib", "8192", "--password-iterations", "1"])
        base = d.provision(measures)
        cookie = login(d)
        consoles = []
        for _ in range(CONSOLES):
            s = Stream(d.http_port, cookie=cookie)
            if s.status != 200:
                raise SystemExit("bench/stream: the stream answered %d" % s.status)
            c = Collector(s)
            c.start()
            consoles.append(c)
        p99s, p50s, commit_p99s, delivery_p99s, n_alarms = [], [], [], [], 0
        for _ in range(rounds):
            for c in consoles:
                c.delays.clear()
            before = metrics(d.http_port)
            subprocess.run(base + ["--duration", seconds, "--rate", rate, "--frame", "5",
                                   "--window", "1000", "--sos-permille", "5"],
                           check=True, capture_output=True, text=True)
            time.sleep(0.5)  # the last alarms on their way
            after = metrics(d.http_port)
            delays = sorted(x for c in consoles for x in c.delays)
            if not delays:
                raise SystemExit("bench/stream: no alarm reached a console")
            p99s.append(delays[min(len(delays) - 1, int(0.99 * len(delays)))])
            p50s.append(statistics.median(delays))
            c99, _ = hist_quantile(before, after, "vigie_commit_latency_ms", 0.99)
            s99, _ = hist_quantile(before, after, "vigie_stream_delivery_ms", 0.99)
            commit_p99s.append(c99)
            delivery_p99s.append(s99)
            n_alarms += len(delays)
        report("alarm_to_client_p99_ms", p99s, "ms", "commit latency p99 alone",
               statistics.median(commit_p99s), n_alarms)
        report("alarm_to_client_p50_ms", p50s, "ms", None, None, n_alarms)
        report("commit_to_client_p99_ms", delivery_p99s, "ms", None, None, n_alarms)
        for c in consoles:
            c.stop.set()
            c.stream.close()
    finally:
        if d and d.proc.poll() is None:
            d.stop()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
