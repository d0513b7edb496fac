#!/usr/bin/env python3
"""bench/sim: does vigie-sim sustain 10,000 units at 1 fix/s from one process?

vigie-sim runs the population scenario (tests/scenarios/population_10k.json:
5,000 pairs in Nantes) against a release vigied told to have its units report
every second: every unit runs the real unit logic over its own TLS connection,
fed by the simulated world sampled once a second per unit. The units are
provisioned first (`vigie-sim provision`: certificates and measures, not
timed), then the run: the warm-up (units set up, TLS handshakes at
CONNECT_RATE units a second, first sessions) is left out; the measured minute starts once every unit is in
session and is cut into rounds of ROUND_S seconds (median, min, max over the
rounds), from the counters vigie-sim writes every second (--stats-interval).
Then vigie-sim is told to stop: the units hand over what they kept and the
centre must acknowledge all of it.

Reports (one JSON line each, docs/BENCHMARKS.md):
  sim/units_at_1hz          units whose fixes were recorded at 1 Hz: the fix
                            rate, capped at the units run, vs the units run
  sim/units_connected       units in session during the window, vs units run
  sim/fix_rate_per_s        fixes recorded (and so sent) per second, vs the
                            target units x 1/s (ratio: share of the target)
  sim/samples_per_s         world samples fed to the units per second, vs
                            units x 1/s
  sim/acked_per_s           records acknowledged by the centre per second, vs
                            the records the units made per second (fixes,
                            statuses, heartbeats) in the same rounds
  sim/backlog_records       records made and not yet acknowledged, at the
                            round's ends: what the centre is behind by
  sim/sampling_lag_p99_ms   how late the world's samples ran behind their
                            schedule (a slice of the units every 20 ms), p99
  sim/sampling_lag_max_ms   the same, worst in the round
  sim/cpu_cores             vigie-sim's CPU time per second of the window (1 =
                            one core), vs vigied's in the same rounds
  sim/peak_rss_mib          vigie-sim's peak RSS (getrusage), vs the units'
                            own state (in-memory flash of the rings and output
                            buffers) in MiB
  sim/pending_after_drain   records still unacknowledged when vigie-sim ends
                            (must be 0: the benchmark fails otherwise)
  sim/drain_s               stop to everything acknowledged
  sim/connect_all_s         start of the run to every unit in session
  sim/provision_s           certificates issued and measures declared
BENCH_QUICK=1: 150 pairs for a few seconds.
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

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from benchlib import Daemon, exe, report_line  # noqa: E402

SOURCE = os.environ.get("VIGIE_SOURCE", "@SOURCE_ROOT@")
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")

PAIRS = 150 if QUICK else None          # None: the scenario's own (5,000)
SETTLE_S = 1 if QUICK else 10           # after every unit is in session
ROUND_S = 2 if QUICK else 10
ROUNDS = 2 if QUICK else 6
CONNECT_TIMEOUT_S = 60 if QUICK else 300
DRAIN_TIMEOUT_S = 60 if QUICK else 180
SLOTS = 256       # the units' rings, in records (docs/BENCHMARKS.md: why)
CONNECT_RATE = 1000  # units a second let onto the network at the start
RING_BYTES = 12288 + SLOTS * 64  # src/unit/ring.h: VG_RING_SLOTS_OFFSET + slots x VG_RING_SLOT_SIZE
OUT_BYTES = 4400  # the output buffer of a unit at 64 records a frame (src/unit/unit.c)
TICK = os.sysconf("SC_CLK_TCK")


def source(*parts):
    root = SOURCE if not SOURCE.startswith("@") else os.path.dirname(HERE)
    return os.path.join(root, *parts)


def report(metric, values, unit, vs=None, vs_value=None, n=0):
    print(json.dumps(report_line("sim", metric, values, unit, vs, vs_value, n)), flush=True)


def cpu_s(pid):
    """utime + stime of a live process, in seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def lag_quantile(edges, hist, q, top):
    """Quantile (ms) of the lag histogram (upper bounds `edges`, then +inf),
    linear inside its bucket; `top` (the round's maximum) bounds the last."""
    total = sum(hist)
    if total <= 0:
        return 0.0
    rank, below = q * total, 0.0
    for b, count in enumerate(hist):
        lo = 0.0 if b == 0 else float(edges[b - 1])
        hi = float(edges[b]) if b < len(edges) else float(max(top, lo))
        if below + count >= rank:  # never above the largest lag seen
            return min(float(top), lo + (hi - lo) * ((rank - below) / count if count else 1.0))
        below += count
    return float(top)


def read_stats(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.endswith("\n")]
    except FileNotFoundError:
        return []


def main():
    work = tempfile.mkdtemp(prefix="vigie-bench-sim-")
    sim = None
    d = None
    try:
        with open(source("tests", "scenarios", "population_10k.json")) as f:
            scenario = json.load(f)
        if PAIRS:
            scenario["population"]["pairs"] = PAIRS
        scenario_path = os.path.join(work, "scenario.json")
        with open(scenario_path, "w") as f:
            json.dump(scenario, f)
        units = 2 * scenario["population"]["pairs"]
        d = Daemon(work, "centre", ["--report-interval-ms", "1000"])
        common = ["--scenario", scenario_path, "--pki", os.path.join(d.dir, "pki"),
                  "--prefix", "S", "--geo", source("data", "geo")]
        # 1. provisioning: certificates and measures (not part of the measure)
        t0 = time.time()
        subprocess.run([exe("src/tools/vigie-sim"), "provision"] + common +
                       ["--http", "127.0.0.1:%d" % d.http_port,
                        "--token-file", os.path.join(d.dir, "admin.token")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        provision_s = time.time() - t0
        print("bench/sim: %d units provisioned in %.1f s" % (units, provision_s),
              file=sys.stderr, flush=True)
        # 2. the run: as long as it takes to connect, settle and measure;
        # stopped by a signal once measured
        out = os.path.join(work, "out")
        stats_path = os.path.join(out, "stats.jsonl")
        sim_log = open(os.path.join(work, "sim.log"), "wb")
        t_start = time.time()
        sim = subprocess.Popen([exe("src/tools/vigie-sim"), "run"] + common +
                               ["--server", "127.0.0.1:%d" % d.dev_port, "--out", out,
                                "--duration", str(CONNECT_TIMEOUT_S + 3600),
                                "--drain-timeout", str(DRAIN_TIMEOUT_S),
                                "--slots", str(SLOTS), "--connect-rate", str(CONNECT_RATE),
                                "--stats-interval", "1", "--quiet"],
                               stdout=sim_log, stderr=subprocess.STDOUT)

        def wait_line(pred, timeout, what):
            end = time.time() + timeout
            while time.time() < end:
                if sim.poll() is not None:
                    raise SystemExit("bench/sim: vigie-sim exited %d while %s" %
                                     (sim.returncode, what))
                lines = read_stats(stats_path)
                for line in lines:
                    if pred(line):
                        return line
                time.sleep(0.1)
            raise SystemExit("bench/sim: timed out while " + what)

        first = wait_line(lambda l: l["connected"] == units, CONNECT_TIMEOUT_S,
                          "waiting for every unit to be in session")
        connect_all_s = time.time() - t_start
        print("bench/sim: %d units in session %.1f s after the start (%.1f s into the world)"
              % (units, connect_all_s, first["t"]), file=sys.stderr, flush=True)
        # the rounds: stats lines ROUND_S apart, vigied's CPU read as each arrives
        marks = []
        t_next = first["t"] + SETTLE_S
        for r in range(ROUNDS + 1):
            line = wait_line(lambda l, t=t_next: l["t"] >= t - 0.05, SETTLE_S + ROUND_S + 30,
                             "measuring")
            marks.append((line, cpu_s(d.proc.pid)))
            t_next = line["t"] + ROUND_S
        # 3. the drain: stop, the units hand over what they kept
        t_stop = time.time()
        sim.send_signal(signal.SIGTERM)
        sim.wait(DRAIN_TIMEOUT_S + 60)
        drain_s = time.time() - t_stop
        sim_log.close()
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        lines = read_stats(stats_path)

        rounds = {k: [] for k in ("backlog", "fix", "samples", "acked", "made", "lag99", "lagmax", "cpu",
                                  "centre_cpu", "connected")}
        for (a, ca), (b, cb) in zip(marks, marks[1:]):
            dt = b["t"] - a["t"]
            rounds["backlog"].append(b["pending"])
            rounds["fix"].append((b["fixes"] - a["fixes"]) / dt)
            rounds["samples"].append((b["samples"] - a["samples"]) / dt)
            rounds["acked"].append((b["acknowledged"] - a["acknowledged"]) / dt)
            rounds["made"].append((b["records"] - a["records"]) / dt)
            hist = [y - x for x, y in zip(a["lag_hist"], b["lag_hist"])]
            top = max(l["lag_max_ms"] for l in lines if a["t"] < l["t"] <= b["t"])
            rounds["lag99"].append(lag_quantile(b["lag_edges_ms"], hist, 0.99, top))
            rounds["lagmax"].append(top)
            rounds["cpu"].append((b["cpu_user_s"] + b["cpu_sys_s"]
                                  - a["cpu_user_s"] - a["cpu_sys_s"]) / dt)
            rounds["centre_cpu"].append((cb - ca) / dt)
            rounds["connected"].append(min(l["connected"] for l in lines
                                           if a["t"] <= l["t"] <= b["t"]))
        last = marks[-1][0]
        window_s = last["t"] - marks[0][0]["t"]
        fixes = last["fixes"] - marks[0][0]["fixes"]
        skipped = last["slices_skipped"] - marks[0][0]["slices_skipped"]
        if skipped:
            print("bench/sim: %d slices of samples skipped in the window (more than 2 s late)"
                  % skipped, file=sys.stderr)
        report("units_at_1hz", [min(units, x) for x in rounds["fix"]], "units",
               "units run", units, fixes)
        report("units_connected", rounds["connected"], "units", "units run", units, units)
        report("fix_rate_per_s", rounds["fix"], "1/s", "target: units x 1/s", units, fixes)
        report("samples_per_s", rounds["samples"], "1/s", "target: units x 1/s", units,
               last["samples"] - marks[0][0]["samples"])
        report("acked_per_s", rounds["acked"], "1/s", "records made per second",
               statistics.median(rounds["made"]), last["acknowledged"] - marks[0][0]["acknowledged"])
        report("backlog_records", rounds["backlog"], "records", None, None, ROUNDS)
        report("sampling_lag_p99_ms", rounds["lag99"], "ms", None, None,
               last["samples"] - marks[0][0]["samples"])
        report("sampling_lag_max_ms", rounds["lagmax"], "ms", None, None,
               last["samples"] - marks[0][0]["samples"])
        report("cpu_cores", rounds["cpu"], "core", "vigied, same rounds",
               statistics.median(rounds["centre_cpu"]), round(window_s))
        units_mib = units * (RING_BYTES + OUT_BYTES) / 2**20
        rss_mib = summary["maxrss_kb"] / 1024
        report("peak_rss_mib", [rss_mib], "MiB", "the units' rings and buffers", units_mib, units)
        report("pending_after_drain", [summary["pending"]], "records", None, None, summary["sent"])
        report("drain_s", [drain_s], "s", None, None, units)
        report("connect_all_s", [connect_all_s], "s", None, None, units)
        report("provision_s", [provision_s], "s", None, None, units)
        print("bench/sim: summary %s" % json.dumps(summary), file=sys.stderr)
        if summary["pending"] != 0 or sim.returncode != 0:
            sys.exit("bench/sim: %d records not acknowledged after the drain (exit %d)"
                     % (summary["pending"], sim.returncode))
    finally:
        if sim and sim.poll() is None:
            sim.kill()
            sim.wait()
        if d and d.proc.poll() is None:
            d.stop()
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("bench/sim: kept %s" % work, file=sys.stderr)


if __name__ == "__main__":
    main()
