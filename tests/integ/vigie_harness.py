"""Helpers for the integration tests: a vigied in a temporary data
directory on loopback, the vigie CLI, an HTTP client with the administrator
token, and a unit speaking the device protocol over real TLS 1.3.

The protocol is implemented here again, in Python, from docs/PROTOCOL.md:
the tests then check the C codec against an independent reading of the
spec, not against itself.
"""
import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("VIGIE_BUILD", os.path.join(os.path.dirname(__file__), "../../build"))

# The store: SQLite in the data directory (the default), or PostgreSQL with
# VIGIE_TEST_DB=pg: a database per data directory in the cluster that
# scripts/pg-test-cluster started around the test ($VIGIE_TEST_PG), read and
# written with psql (no Python driver needed).
PG = os.environ.get("VIGIE_TEST_DB") == "pg"
_pg_databases = {}  # a data directory's real path -> its database's URI


def psql(location, sql):
    """Run SQL with psql; its rows as sqlite3 gives them (tuples; ints,
    floats, str, bytes for bytea, None)."""
    wrapped = sql.strip().rstrip(";")
    reads = re.match(r"(?is)^\s*(select|with)\b", wrapped) and ";" not in wrapped
    if reads:  # rows as JSON arrays, in the columns' order (names may repeat)
        wrapped = "SELECT coalesce(json_agg(row_to_json(t)), '[]') FROM (%s) t" % wrapped
    res = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", location,
                          "-c", wrapped], capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError("psql: %s: %s" % (sql, res.stderr))
    if not reads:
        return []

    def value(v):
        if isinstance(v, str) and re.fullmatch(r"\\x([0-9a-f]{2})*", v):
            return bytes.fromhex(v[2:])
        return v
    rows = json.loads(res.stdout, object_pairs_hook=lambda pairs: [v for _, v in pairs])
    return [tuple(value(v) for v in row) for row in rows]


def sql_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    return "'%s'" % str(v).replace("'", "''")


def bind(sql, args):
    """sqlite3's placeholders (? and ?N) replaced by the arguments as literals."""
    out, i, quoted = [], 0, False
    for part in re.split(r"('|\?\d*)", sql):
        if part == "'":
            quoted = not quoted
        if part.startswith("?") and not quoted:
            out.append(sql_literal(args[int(part[1:]) - 1 if len(part) > 1 else i]))
            i += 1
        else:
            out.append(part)
    return "".join(out)


def pg_location(data_dir):
    """The PostgreSQL database of a data directory, created at its first
    use (a restart on the same directory finds the same database)."""
    key = os.path.realpath(data_dir)
    if key not in _pg_databases:
        base = os.environ["VIGIE_TEST_PG"]
        name = "it_%d_%d" % (os.getpid(), len(_pg_databases))
        psql(base + "/postgres", "CREATE DATABASE " + name)
        _pg_databases[key] = base + "/" + name
    return _pg_databases[key]


def decision(start=None, days=150, author_home=(47.45, -0.55),
             protected_home=(47.2184, -1.5536)):
    """A lawful judicial decision for a measure's definition: a judicial
    control (pre-sentencing) from yesterday for `days` days (at most six
    months), for a misdemeanour punishable by 5 years, both consents given,
    both persons adults whose homes are far apart."""
    start = start or datetime.date.today() - datetime.timedelta(days=1)
    day = start.isoformat()
    return {"magistrate": "Mme J. Durand, JLD", "offence": "misdemeanour",
            "offence_penalty_years": 5,
            "author": {"birth_date": "1980-02-01", "home": list(author_home)},
            "protected": {"birth_date": "1985-05-06", "home": list(protected_home)},
            "periods": [{"stage": "pre_sentencing", "decision_date": day, "start": day,
                         "end": (start + datetime.timedelta(days=days)).isoformat(),
                         "consents": {"protected": day, "author": day}}]}


def binary(name):
    for sub in ("src/daemon", "src/tools"):
        path = os.path.join(BUILD, sub, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(name)


# ---- the device protocol ------------------------------------------------------------

HELLO, RECORDS, COMMAND_ACK = 0x01, 0x02, 0x03
WELCOME, ACK, CONFIG, RING, POSITION_REQUEST, ERROR = 0x81, 0x82, 0x83, 0x84, 0x85, 0x86
FIX, STATUS, EVENT, HEARTBEAT = 1, 2, 3, 4
SOS, CALLBACK, POWER_OFF, POWER_ON = 2, 3, 4, 5


def frame(msg_type, payload, version=1):
    return b"VG" + bytes([version, msg_type]) + struct.pack(">I", len(payload)) + payload


def field(tag, fmt, value):
    data = struct.pack(">" + fmt, value) if fmt else value
    return bytes([tag, len(data)]) + data


def hello(vmin=1, vmax=1, firmware=b"test"):
    return frame(HELLO, field(1, "B", vmin) + field(2, "B", vmax) + field(3, None, firmware))


def fix_body(t_ms, lat, lon, accuracy_m=8.0, quality=2):
    return (field(1, "Q", t_ms) + field(7, "B", quality) + field(2, "i", round(lat * 1e7)) +
            field(3, "i", round(lon * 1e7)) + field(4, "I", round(accuracy_m * 100)))


def event_body(t_ms, kind):
    return field(1, "Q", t_ms) + field(2, "B", kind)


def status_body(t_ms, battery=None, strap=None, subject=0, link=None):
    body = field(1, "Q", t_ms)
    if battery is not None:
        body += field(2, "B", battery)
    if strap is not None:
        body += field(4, "B", strap)
    if link is not None:
        body += field(6, "B", link)
    if subject:
        body += field(7, "B", subject)
    return body


def record(rec_type, seq, body):
    return bytes([rec_type, 0]) + struct.pack(">HQ", len(body), seq) + body


def records(*recs):
    return frame(RECORDS, struct.pack(">H", len(recs)) + b"".join(recs))


def parse_fields(payload):
    out, i = {}, 0
    while i < len(payload):
        tag, length = payload[i], payload[i + 1]
        out[tag] = payload[i + 2:i + 2 + length]
        i += 2 + length
    return out


def decode(msg_type, payload):
    if msg_type == ACK:
        cumulative, n = struct.unpack(">QB", payload[:9])
        extra = list(struct.unpack(">%dQ" % n, payload[9:9 + 8 * n]))
        return {"cumulative": cumulative, "extra": extra}
    f = parse_fields(payload)
    if msg_type == WELCOME:
        return {"version": f[1][0], "server_time_ms": struct.unpack(">Q", f[2])[0],
                "acked_seq": struct.unpack(">Q", f[3])[0]}
    if msg_type == ERROR:
        return {"code": struct.unpack(">H", f[1])[0], "message": f.get(2, b"").decode()}
    if msg_type == RING:
        return {"command_id": struct.unpack(">I", f[1])[0], "level": f[2][0],
                "message": f.get(3, b"").decode(),
                "sound": f[5][0] if 5 in f else 0}  # 0 aloud, 1 vibrate, 2 screen only
    if msg_type == CONFIG:
        return {"command_id": struct.unpack(">I", f[1])[0],
                "report_interval_ms": struct.unpack(">I", f[2])[0] if 2 in f else 0}
    return f


class Unit:
    """A unit over TLS 1.3 with its certificate (or without, or another)."""

    def __init__(self, port, cert=None, key=None, ca=None, tls12=False, timeout=10.0):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if ca:
            ctx.load_verify_locations(ca)
        else:
            ctx.verify_mode = ssl.CERT_NONE
        if cert:
            ctx.load_cert_chain(cert, key)
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def recv_frame(self, timeout=10.0):
        """(type, decoded) or None when the centre closed the connection."""
        self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 8:
                length = struct.unpack(">I", self.buf[4:8])[0]
                if len(self.buf) >= 8 + length:
                    msg_type, payload = self.buf[3], self.buf[8:8 + length]
                    self.buf = self.buf[8 + length:]
                    return msg_type, decode(msg_type, payload)
            try:
                chunk = self.sock.recv(65536)
            except (ssl.SSLError, ConnectionResetError, OSError):
                return None
            if not chunk:
                return None
            self.buf += chunk

    def expect(self, msg_type, timeout=10.0, skip=(CONFIG, RING)):
        while True:
            got = self.recv_frame(timeout)
            if got is None:
                raise AssertionError("connection closed, expected message 0x%02x" % msg_type)
            if got[0] == msg_type:
                return got[1]
            if got[0] not in skip:
                raise AssertionError("expected 0x%02x, got 0x%02x %r" % (msg_type, got[0], got[1]))

    def wait_closed(self, timeout=10.0):
        """The frames received until the centre closes the connection."""
        frames, end = [], time.time() + timeout
        while time.time() < end:
            got = self.recv_frame(max(0.1, end - time.time()))
            if got is None:
                return frames
            frames.append(got)
        raise AssertionError("the connection was not closed")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---- the daemon ------------------------------------------------------------------------

class Daemon:
    """A vigied in its own data directory, ports chosen by the kernel."""

    def __init__(self, data_dir=None, extra=(), pg=None):
        """pg: on PostgreSQL (True) or SQLite (False); by default as
        VIGIE_TEST_DB says."""
        self.pg = PG if pg is None else pg
        self.dir = data_dir or tempfile.mkdtemp(prefix="vigie-it-")
        self.owned = data_dir is None
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(self.dir, "vigied.log")

    def start(self, devices_port=0, http_port=0, days_later=0):
        """days_later: vigied's clock that many days ahead (faketime; the
        sanitizer's runtime then does not come first, which it is told)."""
        self.log = open(self.log_path, "ab")
        skip = self.log.tell()  # earlier runs' lines
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        if days_later:
            # libfaketime preloaded into vigied itself (not the faketime
            # wrapper, which would stand between the signals and vigied)
            libs = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
            if not libs:
                raise AssertionError("libfaketime is missing: scripts/deps test installs it")
            env["LD_PRELOAD"] = libs[0]
            env["FAKETIME"] = "+%dd" % days_later
            env["ASAN_OPTIONS"] += ":verify_asan_link_order=0"
        db = ["--db", pg_location(self.dir)] if self.pg else []
        self.proc = subprocess.Popen(
            [binary("vigied"), "--data-dir", self.dir, "--devices", "127.0.0.1:%d" % devices_port,
             "--http", "127.0.0.1:%d" % http_port] + db + self.extra,
            stdout=self.log, stderr=self.log, env=env)
        end = time.time() + 60
        while time.time() < end:
            text = self.log_text()[skip:]
            # whole lines only: vigied may be half-way through writing one
            ready = [l for l in text[:text.rfind("\n") + 1].splitlines() if "msg=ready" in l]
            if ready:
                line = ready[-1]
                self.devices_port = int(re.search(r"devices_port=(\d+)", line).group(1))
                self.http_port = int(re.search(r"http_port=(\d+)", line).group(1))
                https = re.search(r"https_port=(\d+)", line)
                self.https_port = int(https.group(1)) if https else 0
                return self
            if self.proc.poll() is not None:
                raise AssertionError("vigied exited at start:\n" + text[-3000:])
            time.sleep(0.05)
        raise AssertionError("vigied not ready:\n" + self.log_text()[-3000:])

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vigied did not stop on %s" % sig)
        code = self.proc.returncode if self.proc else 0
        if self.proc:
            self.log.close()
        self.proc = None
        return code

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def cleanup(self):
        if self.proc:
            self.stop()
        if self.owned and not os.environ.get("VIGIE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    # -- PKI and provisioning
    @property
    def pki(self):
        return os.path.join(self.dir, "pki")

    def vigie(self, *args, check=True):
        args = list(args)
        if self.pg and "--data-dir" in args and args[:2] in (["journal", "verify"],
                                                         ["measure", "import"],
                                                         ["report", "draw"]):
            # the tools that open the store: the data directory's database
            i = args.index("--data-dir")
            db = ["--db", pg_location(args[i + 1])]
            args = (args[:i] + args[i + 2:] + db if args[0] in ("journal", "report")
                    else args + db)
        res = subprocess.run([binary("vigie")] + args, capture_output=True, text=True)
        if check and res.returncode != 0:
            raise AssertionError("vigie %s: %s %s" % (args, res.stdout, res.stderr))
        return res

    def issue(self, serial):
        self.vigie("pki", "issue-unit", serial, "--dir", self.pki)
        return self.cert(serial)

    def cert(self, serial):
        return (os.path.join(self.pki, "units", serial + ".crt"),
                os.path.join(self.pki, "units", serial + ".key"))

    @property
    def token(self):
        with open(os.path.join(self.dir, "admin.token")) as f:
            return f.read().strip()

    def http(self, method, path, body=None, token=True, content_type="application/json",
             timeout=30):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.http_port, path),
                                     method=method, data=body)
        if token:
            req.add_header("Authorization", "Bearer " + self.token)
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def create_measure(self, name, author, protected_person, radius=2000, home=(47.2184, -1.5536),
                       zones=None):
        definition = {"name": name, "alert_radius_m": radius,
                      "units": {"author": author, "protected": protected_person},
                      "decision": decision()}
        if zones is not None:
            definition["zones"] = zones
        status, body = self.http("POST", "/api/v1/measures", json.dumps(definition).encode())
        if status != 201:
            raise AssertionError("measure %s: %d %s" % (name, status, body))
        return json.loads(body)["id"]

    def unit(self, serial, **kw):
        crt, key = self.cert(serial)
        return Unit(self.devices_port, crt, key, os.path.join(self.pki, "ca.crt"), **kw)

    def metrics(self):
        status, body = self.http("GET", "/metrics", token=False)
        assert status == 200, body
        values = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    # -- the database, read directly
    def db(self):
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.dir, "vigie.db"), uri=True,
                              timeout=30)
        return con

    def query(self, sql, *args):
        if self.pg:
            return self.execute(sql, *args)
        con = self.db()
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def execute(self, sql, *args, many=None):
        """Run SQL on the database behind vigied's back (a test's
        tampering): the rows it returns, if any. sqlite3's placeholders;
        many: a list of argument tuples (executemany)."""
        if self.pg:
            if many is not None:
                return [r for a in many for r in psql(pg_location(self.dir), bind(sql, a))]
            return psql(pg_location(self.dir), bind(sql, args))
        con = sqlite3.connect(os.path.join(self.dir, "vigie.db"), timeout=30)
        try:
            if many is not None:
                cur = con.executemany(sql, many)
            elif args:
                cur = con.execute(sql, args)
            else:
                cur = con.executescript(sql)  # one statement or several
            rows = cur.fetchall()
            con.commit()
            return rows
        finally:
            con.close()


def connect_ready(daemon, serial):
    """A unit connected, HELLO sent, WELCOME received."""
    u = daemon.unit(serial)
    u.send(hello())
    welcome = u.expect(WELCOME)
    return u, welcome


def now_ms():
    return int(time.time() * 1000)
