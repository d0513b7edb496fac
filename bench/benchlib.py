"""What the benchmarks that drive real binaries share: the build's
programs, vigied in a fresh data directory, Prometheus scrapes and the
JSON-lines report (docs/BENCHMARKS.md)."""
import os
import re
import signal
import statistics
import subprocess
import time
import urllib.request

HERE = os.path.dirname(os.path.realpath(__file__))
BUILD = os.environ.get("VIGIE_BUILD", os.path.dirname(HERE))


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


def report_line(bench, metric, values, unit, vs=None, vs_value=None, n=0):
    values = sorted(values)
    line = {"bench": bench, "metric": metric, "value": round(statistics.median(values), 4),
            "min": round(values[0], 4), "max": round(values[-1], 4), "unit": unit}
    if vs:
        line.update({"vs": vs, "vs_value": round(vs_value, 4),
                     "ratio": round(line["value"] / vs_value, 4) if vs_value else 0})
    line["n"] = int(n)
    return line


class Daemon:
    """vigied in its own directory under root, ports chosen by the kernel."""

    def __init__(self, root, name, extra=()):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.log_path = os.path.join(self.dir, "vigied.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([exe("src/daemon/vigied"), "--data-dir", self.dir,
                                      "--devices", "127.0.0.1:0", "--http", "127.0.0.1:0"]
                                     + list(extra),
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
                raise SystemExit("bench: vigied exited:\n" + text[-2000:])
            time.sleep(0.05)
        raise SystemExit("bench: vigied did not start")

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
            self.proc.wait()
        self.log.close()
