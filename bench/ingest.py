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


def main():
    work = tempfile.mkdtemp(prefix="vigie-bench-ingest-")
    log = open(os.path.join(work, "vigied.log"), "wb")
    log_path = os.path.join(work, "vigied.log")
    daemon = subprocess.Popen([exe("src/daemon/vigied"), "--data-dir", work, "--devices",
                               "127.0.0.1:0", "--http", "127.0.0.1:0"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        dev_port = http_port = None
        end = time.time() + 60
        while time.time() < end and not dev_port:
            with open(log_path, "rb") as f:
                text = f.read().decode(errors="replace")
            m = re.search(r"msg=ready .*devices_port=(\d+).*http_port=(\d+)", text)
            if m:
                dev_port, http_port = int(m.group(1)), int(m.group(2))
            elif daemon.poll() is not None:
                raise SystemExit("bench/ingest: vigied exited:\n" + text[-2000:])
            time.sleep(0.05)
        if not dev_port:
            raise SystemExit("bench/ingest: vigied did not start")
        measures = 20 if QUICK else 500
        loadgen = exe("src/tools/vigie-loadgen")
        pki = os.path.join(work, "pki")
        subprocess.run([loadgen, "provision", "--http", "127.0.0.1:%d" % http_port,
                        "--token-file", os.path.join(work, "admin.token"), "--pki", pki,
                        "--prefix", "B", "--measures", str(measures)], check=True,
                       stdout=subprocess.DEVNULL)
        base = [loadgen, "run", "--server", "127.0.0.1:%d" % dev_port, "--pki", pki,
                "--prefix", "B", "--measures", str(measures)]
        rounds = 1 if QUICK else 3
        seconds = "2" if QUICK else "8"
        # flat out: as fast as acknowledgements allow
        rates, acked_total = [], 0
        subprocess.run(base + ["--duration", "1", "--window", "400", "--frame", "50"],
                       check=True, capture_output=True)  # warm-up
        for _ in range(rounds):
            out = subprocess.run(base + ["--duration", seconds, "--window", "400", "--frame", "50"],
                                 check=True, capture_output=True, text=True).stdout
            s = json.loads(out)
            rates.append(s["acked_per_s"])
            acked_total += s["acked"]
        # the floor: the same number of rows straight into SQLite
        floor_rates = []
        for _ in range(rounds):
            db = os.path.join(work, "floor.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
            n = max(1, acked_total // rounds)
            out = subprocess.run([loadgen, "floor", "--db", db, "--records", str(n), "--units",
                                  str(2 * measures)], check=True, capture_output=True,
                                 text=True).stdout
            floor_rates.append(json.loads(out)["records_per_s"])
        report("records_per_s", rates, "1/s", "direct batched insert",
               statistics.median(floor_rates), acked_total)
        # paced at 10,000 records/s with SOS presses: alarm latency
        rate = "2000" if QUICK else "10000"
        p99s, p50s, commit_p99s, ack_p99s, n_alarms = [], [], [], [], 0
        for _ in range(rounds):
            before = metrics(http_port)
            out = subprocess.run(base + ["--duration", seconds, "--rate", rate, "--frame", "5",
                                         "--window", "1000", "--sos-permille", "10"],
                                 check=True, capture_output=True, text=True).stdout
            after = metrics(http_port)
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
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
