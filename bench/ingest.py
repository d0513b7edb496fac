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
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from benchlib import Daemon, exe, hist_quantile, metrics, report_line  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")


def report(metric, values, unit, vs=None, vs_value=None, n=0):
    print(json.dumps(report_line("ingest", metric, values, unit, vs, vs_value, n)), flush=True)


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
        # warm-up, not measured: a fresh centre's first second (its tables'
        # first pages, every measure's first engine state, 1,000 handshakes)
        # is a start, not the steady state the target is about
        subprocess.run(base + ["--duration", "1" if QUICK else "3", "--rate", rate, "--frame", "5",
                               "--window", "1000", "--sos-permille", "10"],
                       check=True, capture_output=True)
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
