#!/usr/bin/env python3
"""bench/ingest_pg: fix records from simulated units over TLS on loopback,
through vigied on PostgreSQL (decode, engine, the writer's pipelined group
commit, synchronous_commit on, acknowledgement), against the floor: the same
rows COPYed straight into the same table in transactions of 10,000 rows.

Reports (one JSON line, docs/BENCHMARKS.md):
  ingest_pg/records_per_s   acknowledged (durable) records per second, flat
                            out, vs COPY of the same rows (ratio: share of
                            COPY's rate)
BENCH_QUICK=1: a few seconds with a few units.

It runs on a throwaway PostgreSQL 15 cluster of its own (scripts/
pg-test-cluster, fsync on), started around it unless $VIGIE_TEST_PG names
one; the server's settings for the benchmark are PG_OPTIONS below.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from benchlib import Daemon, exe, report_line  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")
SOURCE_ROOT = "@SOURCE_ROOT@"
# A server set up for a write load (still fsync on, full_page_writes on):
# a larger cache, and checkpoints rarer than the benchmark's rounds.
PG_OPTIONS = ("-c shared_buffers=512MB -c max_wal_size=8GB -c checkpoint_timeout=30min "
              "-c wal_buffers=64MB")
FLOOR_BATCH = 10000


def psql(location, sql, check=True):
    res = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", location,
                          "-c", sql], capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit("bench/ingest_pg: psql: %s: %s" % (sql, res.stderr))
    return res.stdout.strip()


def copy_floor(location, work, n_rows, frame, tag):
    """COPY n_rows fixes of the benchmark's units into the same table, in
    the order the centre receives them (frames of `frame` consecutive
    records of one unit, the units taking turns), FLOOR_BATCH rows per
    COPY (each its own durable commit); the rate in rows per second."""
    units = [int(u) for u in psql(location, "SELECT id FROM units ORDER BY id").split()]
    base_seq = 1000000000 * tag  # beyond what the units sent
    now = int(time.time() * 1000)
    path = os.path.join(work, "floor%d.sql" % tag)
    with open(path, "w") as f:
        f.write("SET synchronous_commit = on;\n")
        for start in range(0, n_rows, FLOOR_BATCH):
            f.write("COPY fixes (unit_id, seq, t_ms, quality, lat_e7, lon_e7, accuracy_cm, "
                    "speed_cms, heading_cdeg, received_ms) FROM STDIN;\n")
            for i in range(start, min(n_rows, start + FLOOR_BATCH)):
                frame_no, in_frame = divmod(i, frame)
                unit = units[frame_no % len(units)]
                seq = base_seq + frame_no // len(units) * frame + in_frame + 1
                f.write("%d\t%d\t%d\t2\t%d\t-15000000\t800\t50\t9000\t%d\n"
                        % (unit, seq, now, 470000000 + i % 1000, now))
            f.write("\\.\n")
    t0 = time.monotonic()
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", location, "-f", path],
                         capture_output=True, text=True)
    secs = time.monotonic() - t0
    os.unlink(path)
    if res.returncode != 0:
        raise SystemExit("bench/ingest_pg: COPY: " + res.stderr[-2000:])
    return n_rows / secs


def main():
    base = os.environ.get("VIGIE_TEST_PG")
    if not base:  # a cluster of our own around this script
        env = dict(os.environ, VIGIE_PG_OPTIONS=PG_OPTIONS)
        cluster = os.path.join(SOURCE_ROOT, "scripts", "pg-test-cluster")
        os.execvpe(cluster, [cluster, sys.executable, os.path.realpath(__file__)], env)
    location = base + "/ingest"
    psql(base + "/postgres", "DROP DATABASE IF EXISTS ingest")
    psql(base + "/postgres", "CREATE DATABASE ingest")
    work = tempfile.mkdtemp(prefix="vigie-bench-ingest-pg-")
    measures = 20 if QUICK else 500
    rounds = 1 if QUICK else 3
    seconds = "2" if QUICK else "8"
    d = None
    try:
        d = Daemon(work, "flat", extra=["--db", location])
        run = d.provision(measures)
        rates, acked_total = [], 0
        subprocess.run(run + ["--duration", "1", "--window", "400", "--frame", "50"],
                       check=True, capture_output=True)  # warm-up
        for _ in range(rounds):
            out = subprocess.run(run + ["--duration", seconds, "--window", "400", "--frame", "50"],
                                 check=True, capture_output=True, text=True).stdout
            s = json.loads(out)
            rates.append(s["acked_per_s"])
            acked_total += s["acked"]
        d.stop()
        d = None
        stored = int(psql(location, "SELECT count(*) FROM fixes"))
        print("bench/ingest_pg: %d records acknowledged, %d fixes stored" % (acked_total, stored),
              file=sys.stderr)
        if stored < acked_total:
            raise SystemExit("bench/ingest_pg: acknowledged records are missing")
        floor = [copy_floor(location, work, max(1, acked_total // rounds), 50, r + 1)
                 for r in range(rounds)]
        print("bench/ingest_pg: store %s, COPY %s records/s" % (
            [round(x) for x in rates], [round(x) for x in floor]), file=sys.stderr)
        line = report_line("ingest_pg", "records_per_s", rates, "1/s",
                           "COPY of the same rows", statistics.median(floor), acked_total)
        print(json.dumps(line), flush=True)
    finally:
        if d and d.proc.poll() is None:
            d.stop()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
