#!/usr/bin/env python3
"""bench/ingest: fix records from simulated units over TLS on loopback, through
vigied (decode, engine, group commit, acknowledgement), against the floor: the
same rows inserted straight into SQLite in batched transactions.

Reports (one JSON line each, docs/BENCHMARKS.md):
  ingest/records_per_s       acknowledged (durable) records per second, flat out,
                             vs the direct batched insert
  ingest/alarm_latency_p99_ms  last byte of the frame in -> alarm durable, at a
                             paced 10,000 records/s (1% SOS presses), vs the
                             store's commit latency alone in the same run
  ingest/alarm_latency_p50_ms  same, median
  ingest/ack_latency_p99_ms  seen by the units: record sent -> acknowledgement
BENCH_QUICK=1: a few seconds with a few units.
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
BUILD = os.environ.get("VIGIE_BUILD", os.path.dirname(HERE))
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")


def exe(*parts):
    return os.path.join(BUILD, *parts)


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def hist_quantile(before, after, name, q):
    """Quantile (ms) of a Prometheus histogram's observations between two
    scrapes, interpolated linearly inside its bucket."""
    pat = re.compile(r'%s_bucket\{le="([^"]+)"\}' % name)
    buckets = []
    for key, value in after.items():
        m = pat.fullmatch(key)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets.append((le, value - before.get(key, 0.0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    if total <= 0:
        return 0.0, 0
    rank, lower, prev = q * total, 0.0, 0.0
    for le, cum in buckets:
        if cum >= rank:
            if le == float("inf"):
                return lower, int(total)
            width = cum - prev
            frac = (rank - prev) / width if width > 0 else 1.0
            return lower + (le - lower) * frac, int(total)
        lower, prev = le, cum
    return lower, int(total)


def report(metric, values, unit, vs=None, vs_value=None, n=0):
    values = sorted(values)
    line = {"bench": "ingest", "metric": metric, "value": round(statistics.median(values), 4),
            "min": round(values[0], 4), "max": round(values[-1], 4), "unit": unit}
    if vs:
        line.update({"vs": vs, "vs_value": round(vs_value, 4),
                     "ratio": round(line["value"] / vs_value, 4) if vs_value else 0})
    line["n"] = int(n)
    print(json.dumps(line), flush=True)


class Daemon:
    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "vigied.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([exe("src/daemon/vigied"), "--data-dir", self.dir,
                                      "--devices", "127.0.0.1:0", "--http", "127.0.0.1:0"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.time() + 60
        while time.time() < end:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace")
            m = re.search(r"msg=ready .*devices_port=(\d+).*http_port=(\d+)", text)
            if m:
                self.dev_port, self.http_port = int(m.group(1)), int(m.group(2))
                return
            if self.proc.poll() is not None:
                raise SystemExit("bench/ingest: vigied exited:\n" + text[-2000:])
            time.sleep(0.05)
        raise SystemExit("bench/ingest: vigied did not start")

    def provision(self, measures):
        loadgen = exe("src/tools/vigie-loadgen")
        subprocess.run([loadgen, "provision", "--http", "127.0.0.1:%d" % self.http_port,
                        "--token-file", os.path.join(self.dir, "admin.token"), "--pki",
                        os.path.join(self.dir, "pki"), "--prefix", "B", "--measures",
                        str(measures)], check=True, stdout=subprocess.DEVNULL)
        return [loadgen, "run", "--server", "127.0.0.1:%d" % self.dev_port, "--pki",
                os.path.join(self.dir, "pki"), "--prefix", "B", "--measures", str(measures)]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def main():
    work = tempfile.mkdtemp(prefix="vigie-bench-ingest-")
    measures = 20 if QUICK else 500
    rounds = 1 if QUICK else 3
    seconds = "2" if QUICK else "8"
    loadgen = exe("src/tools/vigie-loadgen")
    daemons = []
    try:
        # 1. flat out: as fast as the acknowledgements allow, on a fresh centre
        d = Daemon(work, "flat")
        daemons.append(d)
        base = d.provision(measures)
        rates, acked_total = [], 0
        subprocess.run(base + ["--duration", "1", "--window", "400", "--frame", "50"],
                       check=True, capture_output=True)  # warm-up
        for _ in range(rounds):
            out = subprocess.run(base + ["--duration", seconds, "--window", "400", "--frame", "50"],
                                 check=True, capture_output=True, text=True).stdout
            s = json.loads(out)
            rates.append(s["acked_per_s"])
            acked_total += s["acked"]
        d.stop()
        # the floor: as many rows, straight into SQLite, same pragmas and table
        floor_rates = []
        for r in range(rounds):
            db = os.path.join(work, "floor%d.db" % r)
            out = subprocess.run([loadgen, "floor", "--db", db, "--records",
                                  str(max(1, acked_total // rounds)), "--units", str(2 * measures), "--frame", "50"],
                                 check=True, capture_output=True, text=True).stdout
            floor_rates.append(json.loads(out)["records_per_s"])
        report("records_per_s", rates, "1/s", "direct batched insert",
               statistics.median(floor_rates), acked_total)
        # 2. paced at 10,000 records/s with SOS presses, on another fresh centre
        d = Daemon(work, "paced")
        daemons.append(d)
        base = d.provision(measures)
        rate = "2000" if QUICK else "10000"
        paced_rounds = 1 if QUICK else 5  # a p99 wants samples: about 500 alarms a round
        p99s, p50s, commit_p99s, ack_p99s, n_alarms = [], [], [], [], 0
        for _ in range(paced_rounds):
            before = metrics(d.http_port)
            out = subprocess.run(base + ["--duration", "2" if QUICK else "10", "--rate", rate,
                                         "--frame", "5",
                                         "--window", "1000", "--sos-permille", "10"],
                                 check=True, capture_output=True, text=True).stdout
            after = metrics(d.http_port)
            s = json.loads(out)
            p99, n = hist_quantile(before, after, "vigie_alarm_latency_ms", 0.99)
            p50, _ = hist_quantile(before, after, "vigie_alarm_latency_ms", 0.50)
            c99, _ = hist_quantile(before, after, "vigie_commit_latency_ms", 0.99)
            p99s.append(p99)
            p50s.append(p50)
            commit_p99s.append(c99)
            ack_p99s.append(s["ack_latency_p99_ms"])
            n_alarms += n
        report("alarm_latency_p99_ms", p99s, "ms", "commit latency p99 alone",
               statistics.median(commit_p99s), n_alarms)
        report("alarm_latency_p50_ms", p50s, "ms", None, None, n_alarms)
        report("ack_latency_p99_ms", ack_p99s, "ms", None, None, n_alarms)
        d.stop()
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.stop()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
