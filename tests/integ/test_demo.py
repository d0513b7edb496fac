"""make run's demonstration (scripts/demo), end to end: vigied starts in a
fresh data directory, vigie-sim declares the measures and runs the Nantes
scenario, alarms are printed within the first minute, and Ctrl-C (SIGINT)
stops everything cleanly with nothing pending. A second run goes on from the
same record (the units keep their flash: no sequence number reused)."""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(__file__))
from vigie_harness import BUILD  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# Every record a unit sent, whatever its type: (unit, highest number, count).
PER_UNIT = ("SELECT unit_id, max(seq), count(*) FROM (SELECT unit_id, seq FROM fixes "
            "UNION ALL SELECT unit_id, seq FROM statuses UNION ALL SELECT unit_id, seq FROM events) "
            "GROUP BY unit_id")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


CONSOLE_CHECKS = []


def check_console(url, name, password):
    """What a new user does with the console line the demo prints: the page
    loads, and the printed account logs in as an operator."""
    import json
    import urllib.request
    with urllib.request.urlopen(url, timeout=10) as r:
        page = r.read().decode()
        assert r.headers["Content-Type"].startswith("text/html"), r.headers["Content-Type"]
    assert "js/app.js" in page, page[:500]
    req = urllib.request.Request(url + "api/v1/session", method="POST",
                                 data=json.dumps({"name": name, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        me = json.loads(r.read())
    assert me["role"] == "operator", me
    CONSOLE_CHECKS.append(url)


def run_demo(var, seconds):
    """Runs the demo for `seconds`, then Ctrl-C; (exit code, output, when
    each line was printed). The console's line, once printed, is tried."""
    env = dict(os.environ)
    env["VIGIE_DEMO_DEVICES"] = "127.0.0.1:%d" % free_port()
    env["VIGIE_DEMO_HTTP"] = "127.0.0.1:%d" % free_port()
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "demo"), BUILD, "--var", var],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    os.set_blocking(proc.stdout.fileno(), False)
    start = time.time()
    lines, buf, interrupted = [], b"", False
    while True:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            *done, buf = buf.split(b"\n")
            for raw in done:
                lines.append((time.time() - start, raw.decode(errors="replace")))
                console = re.match(r"\s+(\S+)\s+password: (\S+)$", lines[-1][1])
                url = re.search(r"open (http://\S+/) in a browser", lines[-2][1]) \
                    if len(lines) > 1 else None
                if console and url:
                    check_console(url.group(1), console.group(1), console.group(2))
        if proc.poll() is not None and not chunk:
            break
        if not interrupted and time.time() - start > seconds:
            proc.send_signal(signal.SIGINT)
            interrupted = True
        if time.time() - start > seconds + 150:
            proc.kill()
            raise AssertionError("the demo did not stop after Ctrl-C:\n" +
                                 "\n".join(l for _, l in lines))
        time.sleep(0.05)
    return proc.returncode, lines


def alarms(lines):
    return [(t, l) for t, l in lines if re.match(r"\s+\d+ s\s+ALARM", l)]


def main():
    var = tempfile.mkdtemp(prefix="vigie-demo-")
    try:
        code, lines = run_demo(var, 45)
        text = "\n".join(l for _, l in lines)
        assert code == 0, "demo exit %d:\n%s" % (code, text)
        got = alarms(lines)
        kinds = [l.split()[4] for _, l in got]
        assert got and got[0][0] < 60, "no alarm within 60 s:\n" + text
        for kind in ("sos", "prealert_entered", "strap_opened"):
            assert kind in kinds, "no %s alarm in the first 45 s:\n%s" % (kind, text)
        assert any("RING" in l and "DEMO-P-00001" in l for _, l in lines), \
            "her unit did not ring on the pre-alert:\n" + text
        summary = [l for _, l in lines if "The simulator's summary" in l]
        assert summary and '"pending":0' in summary[0], "records left pending:\n" + text
        assert "vigied stopped" in text, text
        assert CONSOLE_CHECKS, "no console line (URL and an operator's password):\n" + text

        # the record: every alarm printed is in the database
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(var, "vigie.db"), uri=True)
        stored = con.execute("SELECT count(*) FROM alarms").fetchone()[0]
        first_run = con.execute(PER_UNIT).fetchall()
        con.close()
        assert len(first_run) == 14, "units with records: %r" % first_run
        for unit, top, count in first_run:
            assert top == count, "unit %s: %d records up to %d (a gap)" % (unit, count, top)
        assert stored >= len(got), "%d alarms printed, %d stored" % (len(got), stored)

        # a second run goes on from the same record and the same flash
        code, lines = run_demo(var, 25)
        text = "\n".join(l for _, l in lines)
        assert code == 0, "second demo exit %d:\n%s" % (code, text)
        assert "sos" in [l.split()[4] for _, l in alarms(lines)], \
            "the second run raised no SOS:\n" + text
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(var, "vigie.db"), uri=True)
        after = dict((u, (m, n)) for u, m, n in con.execute(PER_UNIT))
        con.close()
        for unit, top, count in first_run:
            m, n = after[unit]
            assert m > top and n > count and m == n, \
                "unit %s: numbers not continued (before: up to %d; after: %d records up to %d)" % (
                    unit, top, n, m)
        print("ok: demo alarms %s" % ", ".join(sorted(set(kinds))))
    finally:
        if not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
