"""The scenario library end to end (docs/SCENARIOS.md): every scenario of
tests/scenarios that carries an "expect" key is run in real time by its own
vigie-sim against ONE vigied, all of them at once — and, when the test runs
inside scripts/pg-test-cluster (VIGIE_TEST_PG, as `make test` runs it), the
whole library a second time at the same moment against a second vigied on
PostgreSQL, so that both stores are held to the same expectations without
doubling the six minutes. Then, for each centre, scenario by scenario:

- the simulator ended with nothing pending (its exit status, its summary);
- nothing was lost: every record each unit made is in the centre's
  database, numbered 1..N without a gap, and acknowledged (the network
  outage scenario is the sharp case: a backlog flushed after three minutes);
- both units of every pair reached the centre with positions;
- the alarms the scenario expects were raised for the right measure, in
  that order (as a subsequence of what the centre raised, read back from
  its database), and the ones it rules out were not;
- the protected person's unit rang (or stayed silent) as expected.

The vigied runs with short timers so that losses show within a scenario:
reporting every 5 s (the engine's own fast interval), GNSS and
communication losses after 20 s. The scenarios are written for those.

    python3 tests/integ/test_scenarios.py [-k NAME]   (VIGIE_BUILD=build dir)
    VIGIE_SCENARIOS=sos,strap_cut python3 tests/integ/test_scenarios.py
    scripts/pg-test-cluster python3 tests/integ/test_scenarios.py   (both stores)
"""
import glob
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from sse import Stream  # noqa: E402
from test_users import PASSWORD, Client  # noqa: E402
from vigie_harness import Daemon, binary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "tests", "scenarios")
GEO = os.path.join(ROOT, "data", "geo")

VIGIED_ARGS = ["--report-interval-ms", "5000", "--heartbeat-interval-ms", "10000",
               "--gnss-loss-after-ms", "20000", "--comm-loss-after-ms", "20000"]
# After the scenario's end, how long the units may take to hand over what
# they kept (vigie-sim --drain-timeout), and the margin on top of it.
DRAIN_S = 60
MARGIN_S = 120
# The stores the library runs on, at once: SQLite always, PostgreSQL too
# when a throwaway cluster stands around the test.
BACKENDS = ["sqlite"] + (["pg"] if os.environ.get("VIGIE_TEST_PG") else [])


# ---- the engine's names, read from the C sources (one truth) ----------------------------

def alarm_kinds():
    """{number: name} from enum vg_alarm_kind (src/core/alarm.h): the names are
    vg_alarm_kind_name()'s, the enum's in lower case."""
    with open(os.path.join(ROOT, "src", "core", "alarm.h")) as f:
        text = f.read()
    body = re.search(r"enum vg_alarm_kind \{(.*?)\};", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    kinds, value = {}, 0
    for name, explicit in re.findall(r"VG_ALARM_(\w+)\s*(?:=\s*(\d+))?\s*,", body):
        if name == "KIND__COUNT":
            break
        value = int(explicit) if explicit else value + 1
        kinds[value] = name.lower()
    return kinds


KINDS = alarm_kinds()
KIND_NUMBERS = {name: number for number, name in KINDS.items()}
PRIORITIES = {"alert": 1, "neutralisation": 2, "prealert": 3, "technical": 4, "info": 5}
UNITS = {"bracelet": 0, "author_unit": 1, "protected_unit": 2}
FLAGS = {"late": 0x01, "urgent": 0x02, "escalation": 0x04, "clock": 0x08, "authorised": 0x10}
PARTIES = {"none": 0, "author": 1, "protected": 2, "both": 3}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
UNIT_NAMES = {v: k for k, v in UNITS.items()}
PARTY_NAMES = {v: k for k, v in PARTIES.items()}


def load_library():
    """[(stem, path, scenario)] for every scenario with expectations."""
    only = [s for s in os.environ.get("VIGIE_SCENARIOS", "").split(",") if s]
    library = []
    for path in sorted(glob.glob(os.path.join(SCENARIOS, "*.json"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            scenario = json.load(f)
        if "expect" not in scenario or (only and stem not in only):
            continue
        library.append((stem, path, scenario))
    return library


def measure_name(prefix, pair):
    """vigie-sim's measure name for a pair: P-<name>, other characters as '-'."""
    return prefix + "-" + re.sub(r"[^A-Za-z0-9_-]", "-", pair)


# ---- alarms and what is expected of them ---------------------------------------------------

def describe(a):
    flags = [name for name, bit in FLAGS.items() if a["flags"] & bit]
    zone = {-1: "", 0: " zone=mobile"}.get(a["zone_index"], " zone=%d" % a["zone_id"])
    return "#%d %s unit=%s priority=%s%s%s%s at=+%.1fs" % (
        a["seq"], KINDS.get(a["kind"], a["kind"]), UNIT_NAMES.get(a["unit"], a["unit"]),
        PRIORITY_NAMES.get(a["priority"], a["priority"]), zone,
        " flags=" + ",".join(flags) if flags else "",
        " by=" + PARTY_NAMES.get(a["approached_by"], "?") if a["zone_index"] >= 0 else "",
        a["t_s"])


def zone_matches(a, zone):
    if zone is None:
        return True
    if zone == "mobile":
        return a["zone_index"] == 0
    return a["zone_index"] > 0 and a["zone_id"] == zone


def matcher(item, where):
    """A predicate on alarms from an expectation: a kind's name, or an object
    with "kind" and any of zone, unit, priority, approached_by, flags (all
    set), not_flags (none set)."""
    spec = {"kind": item} if isinstance(item, str) else dict(item)
    unknown = set(spec) - {"kind", "zone", "unit", "priority", "approached_by", "flags",
                           "not_flags"}
    assert not unknown, "%s: unknown keys %s in %r" % (where, sorted(unknown), item)
    assert spec.get("kind") in KIND_NUMBERS, "%s: unknown alarm kind in %r" % (where, item)
    kind = KIND_NUMBERS[spec["kind"]]
    unit = UNITS[spec["unit"]] if "unit" in spec else None
    priority = PRIORITIES[spec["priority"]] if "priority" in spec else None
    party = PARTIES[spec["approached_by"]] if "approached_by" in spec else None
    must = sum(FLAGS[f] for f in spec.get("flags", []))
    must_not = sum(FLAGS[f] for f in spec.get("not_flags", []))

    def match(a):
        return (a["kind"] == kind and zone_matches(a, spec.get("zone")) and
                (unit is None or a["unit"] == unit) and
                (priority is None or a["priority"] == priority) and
                (party is None or a["approached_by"] == party) and
                a["flags"] & must == must and not a["flags"] & must_not)
    return match


def subsequence(alarms, predicates):
    """The alarms matching the predicates in order, or (index of the first
    predicate not matched, None)."""
    found, i = [], 0
    for a in alarms:
        if i < len(predicates) and predicates[i](a):
            found.append(a)
            i += 1
    return (i, None) if i < len(predicates) else (i, found)


# ---- the run --------------------------------------------------------------------------------

class Run:
    """One scenario's vigie-sim."""

    def __init__(self, daemon, index, stem, path, scenario):
        self.stem = stem
        self.path = path
        self.scenario = scenario
        self.prefix = "sc%02d" % index  # measures sc01-<pair>, units sc01-A-00001...
        self.out = os.path.join(daemon.dir, "sim-" + stem)
        os.makedirs(self.out, exist_ok=True)
        self.stdout_path = os.path.join(self.out, "stdout.txt")
        self.stderr_path = os.path.join(self.out, "stderr.txt")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.stdout = open(self.stdout_path, "wb")
        self.stderr = open(self.stderr_path, "wb")
        self.started = time.time()
        self.proc = subprocess.Popen(
            [binary("vigie-sim"), "run", "--scenario", path,
             "--server", "127.0.0.1:%d" % daemon.devices_port, "--pki", daemon.pki,
             "--prefix", self.prefix, "--provision", "--http", "127.0.0.1:%d" % daemon.http_port,
             "--token-file", os.path.join(daemon.dir, "admin.token"), "--out", self.out,
             "--geo", GEO, "--drain-timeout", str(DRAIN_S)],
            stdout=self.stdout, stderr=self.stderr, env=env)
        self.ended_ms = None
        self.rc = None

    def poll(self, deadline):
        """True once ended; notes when (the alarms checked are those raised
        while it ran: after it, its units fall silent and the centre rightly
        raises comm_lost)."""
        if self.rc is not None:
            return True
        rc = self.proc.poll()
        if rc is None and time.time() < deadline:
            return False
        if rc is None:
            self.proc.kill()
            self.proc.wait()
            rc = "killed after %.0f s" % (time.time() - self.started)
        self.rc = rc
        self.ended_ms = int(time.time() * 1000)
        self.stdout.close()
        self.stderr.close()
        return True

    def text(self, path):
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")

    def summary(self):
        with open(os.path.join(self.out, "summary.json")) as f:
            return json.loads(f.read())

    def truth(self):
        with open(os.path.join(self.out, "truth.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]

    def rings(self):
        """[(serial, source, level)] in the order the units rang."""
        return [(m.group(1), m.group(2), int(m.group(3)))
                for m in re.finditer(r"^RING unit=(\S+) source=(\w+) level=(\d+)",
                                     self.text(self.stdout_path), re.M)]


class Centre:
    """One vigied on one store, the operators' accounts on it, a
    supervisor's console on its live stream from before the first unit
    speaks, and the library's runs against it."""

    def __init__(self, backend):
        self.backend = backend
        self.daemon = Daemon(extra=VIGIED_ARGS, pg=(backend == "pg"))
        self.people, self.stream, self.runs = {}, None, {}

    def start(self):
        self.daemon.start()
        for name, role in (("sup", "supervisor"), ("op1", "operator"), ("op2", "operator")):
            c = Client(self.daemon.http_port)
            status, doc, _ = c.request("POST", "/api/v1/users", {"name": name, "role": role,
                                                                "password": PASSWORD},
                                       bearer=self.daemon.token)
            assert status == 201, doc
            assert c.login(name, PASSWORD)[0] == 200
            self.people[name] = c
        self.stream = Stream(self.daemon.http_port, cookie=self.people["sup"].cookie)
        assert self.stream.status == 200, self.stream.body

    def launch(self, library):
        self.runs = {stem: Run(self.daemon, i + 1, stem, path, sc)
                     for i, (stem, path, sc) in enumerate(library)}

    def stop(self):
        """vigied's exit status (0: stopped cleanly on SIGTERM); its data
        kept when it failed (or VIGIE_KEEP)."""
        if self.stream:
            self.stream.close()
        if not self.daemon.proc:
            return 0
        code = self.daemon.stop()
        if code == 0 and not os.environ.get("VIGIE_KEEP"):
            self.daemon.cleanup()
        else:
            print("vigied (%s) data kept in %s" % (self.backend, self.daemon.dir), file=sys.stderr)
        return code


CENTRES = {}       # backend -> Centre, once the library has run
_SETUP_ERROR = []  # what went wrong running it, told to every class


def run_library():
    """Every centre started, the whole library launched against each at the
    same moment, and waited for; once for the module."""
    if _SETUP_ERROR:
        raise AssertionError("the scenario library did not run: %s" % _SETUP_ERROR[0])
    if CENTRES:
        return CENTRES
    library = load_library()
    assert library, "no scenario with \"expect\" in %s" % SCENARIOS
    centres = {b: Centre(b) for b in BACKENDS}
    try:
        for c in centres.values():
            c.start()
        t0 = time.time()
        for c in centres.values():
            c.launch(library)
        longest = max(sc["duration_s"] for _, _, sc in library)
        deadline = time.time() + longest + DRAIN_S + MARGIN_S
        runs = [r for c in centres.values() for r in c.runs.values()]
        while not all([r.poll(deadline) for r in runs]):
            time.sleep(0.2)
        time.sleep(2)  # the last alarms' batches reach the database
        print("\n%d scenarios on %s in %.0f s" % (len(library), " and ".join(centres),
                                                 time.time() - t0), file=sys.stderr)
    except BaseException as e:
        _SETUP_ERROR.append(repr(e))
        for c in centres.values():
            c.daemon.cleanup()
        raise
    CENTRES.update(centres)
    return CENTRES


class TestScenarios(unittest.TestCase):
    """The library's checks on the SQLite centre (TestScenariosPg: the same
    on PostgreSQL)."""
    backend = "sqlite"
    daemon = None
    runs = {}

    @classmethod
    def setUpClass(cls):
        centre = run_library()[cls.backend]
        cls.daemon, cls.runs, cls.people, cls.stream = (centre.daemon, centre.runs,
                                                        centre.people, centre.stream)

    # the centres stop at the module's end (tearDownModule): the operators'
    # tests (TestScenariosOperators, run after these) act on what they raised

    # -- the checks, for one scenario

    def alarms_of(self, run, pair):
        """The measure's alarms raised while the scenario ran, in order."""
        name = measure_name(run.prefix, pair)
        rows = self.daemon.query("SELECT id FROM measures WHERE name = ?", name)
        self.assertEqual(len(rows), 1, "%s: measure %s not declared" % (run.stem, name))
        start_ms = run.truth()[0]["start_utc_ms"]
        cols = ("seq", "kind", "unit", "priority", "flags", "zone_index", "zone_id",
                "approached_by", "at_ms", "raised_ms")
        alarms = [dict(zip(cols, r)) for r in self.daemon.query(
            "SELECT %s FROM alarms WHERE measure_id = ? AND raised_ms <= ? ORDER BY seq"
            % ", ".join(cols), rows[0][0], run.ended_ms)]
        for a in alarms:
            a["t_s"] = (a["at_ms"] - start_ms) / 1000.0
        # the database and vigied's log tell the same story
        logged = {(int(m.group(2)), m.group(1)) for m in re.finditer(
            r"msg=alarm measure=%s kind=(\w+) .*?seq=(\d+)" % re.escape(name),
            self.daemon.log_text())}
        for a in alarms:
            self.assertIn((a["seq"], KINDS.get(a["kind"])), logged,
                          "%s: alarm %s is in the database, not in vigied's log"
                          % (run.stem, describe(a)))
        return rows[0][0], alarms

    def check_nothing_lost(self, run, summary):
        where = "%s (prefix %s)" % (run.stem, run.prefix)
        self.assertEqual(summary["pending"], 0, "%s: records still pending: %r" % (where, summary))
        self.assertEqual(summary["refused"], 0, "%s: a unit's flash refused records" % where)
        self.assertEqual(summary["acknowledged"], summary["records"],
                         "%s: not every record was acknowledged: %r" % (where, summary))
        units = self.daemon.query("SELECT id, serial, acked_seq FROM units WHERE serial LIKE ? "
                                  "ORDER BY serial", run.prefix + "-%")
        self.assertEqual(len(units), summary["units"], "%s: units at the centre %r" % (where, units))
        stored = 0
        for unit_id, serial, acked_seq in units:
            seqs = sorted(s for (s,) in self.daemon.query(
                "SELECT seq FROM fixes WHERE unit_id = ?1 UNION ALL "
                "SELECT seq FROM statuses WHERE unit_id = ?1 UNION ALL "
                "SELECT seq FROM events WHERE unit_id = ?1", unit_id))
            self.assertTrue(seqs, "%s: nothing stored from %s" % (where, serial))
            missing = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
            self.assertEqual(missing, [], "%s: %s: records missing at the centre: %s"
                             % (where, serial, missing[:20]))
            self.assertEqual(len(seqs), len(set(seqs)), "%s: %s: a record stored twice"
                             % (where, serial))
            self.assertEqual(acked_seq, seqs[-1], "%s: %s: acknowledged up to %d, stored up to %d"
                             % (where, serial, acked_seq, seqs[-1]))
            stored += len(seqs)
        self.assertEqual(stored, summary["records"],
                         "%s: the units made %d records, the centre holds %d"
                         % (where, summary["records"], stored))

    def check_positions(self, run, index, pair):
        for role in ("A", "P"):
            serial = "%s-%s-%05d" % (run.prefix, role, index + 1)
            (n,), = self.daemon.query(
                "SELECT count(*) FROM fixes f JOIN units u ON u.id = f.unit_id "
                "WHERE u.serial = ? AND f.quality > 0", serial)
            self.assertGreater(n, 0, "%s: pair %s: no position from %s reached the centre"
                               % (run.stem, pair, serial))

    def check_expectations(self, run):
        expect = run.scenario["expect"]
        unknown = set(expect) - {"alarms", "absent", "rings", "silent"}
        self.assertFalse(unknown, "%s: unknown keys in \"expect\": %s" % (run.stem, unknown))
        pairs = [p.get("name", "pair-%d" % i) for i, p in enumerate(run.scenario["pairs"])]
        alarms = {pair: self.alarms_of(run, pair)[1] for pair in pairs}

        def selected(entry, where):
            self.assertIn(entry.get("pair"), pairs, "%s: no pair named %r" % (where, entry))
            unit = UNITS[entry["unit"]] if "unit" in entry else None
            return [a for a in alarms[entry["pair"]]
                    if zone_matches(a, entry.get("zone")) and (unit is None or a["unit"] == unit)]

        def listing(pair):
            return "\n    ".join(describe(a) for a in alarms[pair]) or "(none)"

        for k, entry in enumerate(expect.get("alarms", [])):
            where = "%s: expect.alarms[%d]" % (run.stem, k)
            candidates = selected(entry, where)
            predicates = [matcher(item, where) for item in entry["kinds"]]
            i, found = subsequence(candidates, predicates)
            self.assertIsNotNone(found, "%s: pair %s: expected %s in this order; %r is missing "
                                 "after the ones before it. The centre raised:\n    %s"
                                 % (where, entry["pair"], entry["kinds"],
                                    entry["kinds"][i] if i < len(entry["kinds"]) else None,
                                    listing(entry["pair"])))
        for k, entry in enumerate(expect.get("absent", [])):
            where = "%s: expect.absent[%d]" % (run.stem, k)
            candidates = selected(entry, where)
            for item in entry["kinds"]:
                bad = [a for a in candidates if matcher(item, where)(a)]
                self.assertFalse(bad, "%s: pair %s: %r must not be raised, but was: %s. "
                                 "The centre raised:\n    %s"
                                 % (where, entry["pair"], item,
                                    "; ".join(describe(a) for a in bad), listing(entry["pair"])))

        rings = run.rings()

        def rings_of(entry, where):
            self.assertIn(entry.get("pair"), pairs, "%s: no pair named %r" % (where, entry))
            serial = "%s-P-%05d" % (run.prefix, pairs.index(entry["pair"]) + 1)
            return [(source, level) for s, source, level in rings
                    if s == serial and entry.get("source") in (None, source)]

        for k, entry in enumerate(expect.get("rings", [])):
            where = "%s: expect.rings[%d]" % (run.stem, k)
            heard = [level for _, level in rings_of(entry, where)]
            i, found = subsequence(heard, [lambda x, want=w: x == want for w in entry["levels"]])
            self.assertIsNotNone(found, "%s: pair %s: her unit should ring (%s) at levels %s in "
                                 "this order; it rang at %s" % (where, entry["pair"],
                                                                entry.get("source", "any source"),
                                                                entry["levels"], heard))
        for k, entry in enumerate(expect.get("silent", [])):
            where = "%s: expect.silent[%d]" % (run.stem, k)
            heard = rings_of(entry, where)
            self.assertEqual(heard, [], "%s: pair %s: her unit should not ring (%s), it rang: %s"
                             % (where, entry["pair"], entry.get("source", "any source"), heard))

    def check(self, stem):
        run = self.runs[stem]
        self.assertEqual(run.rc, 0, "%s: vigie-sim ended with %s:\n%s\n%s"
                         % (stem, run.rc, run.text(run.stderr_path)[-3000:],
                            run.text(run.stdout_path)[-1500:]))
        summary = run.summary()
        self.assertTrue(summary["drained"], "%s: not drained: %r" % (stem, summary))
        self.check_nothing_lost(run, summary)
        for i, pair in enumerate(run.scenario["pairs"]):
            self.check_positions(run, i, pair.get("name", "pair-%d" % i))
        # what the centre raised, for the log (meson keeps it)
        for i, pair in enumerate(run.scenario["pairs"]):
            name = pair.get("name", "pair-%d" % i)
            print("\n%s / %s:\n    %s" % (stem, name, "\n    ".join(
                describe(a) for a in self.alarms_of(run, name)[1]) or "(no alarm)"),
                file=sys.stderr)
        self.check_expectations(run)


class TestScenariosOperators(unittest.TestCase):
    """The operator's protocol on what the scenarios raised (issue 6): each
    path end to end, from units driven by vigie-sim to the operators' API
    and the supervisor's live stream. Runs after TestScenarios (unittest
    takes the classes in the order of their names), on its vigied
    (TestScenariosPgOperators: after TestScenariosPg, on PostgreSQL)."""

    scenarios = TestScenarios
    events = None  # the supervisor's stream, drained once per class

    def setUp(self):
        base, cls = self.scenarios, type(self)
        centre = run_library()[base.backend]
        self.assertTrue(centre.runs, "the scenarios did not run")
        self.d, self.runs, self.people = centre.daemon, centre.runs, centre.people
        if cls.events is None:
            cls.drained_ms = int(time.time() * 1000)
            time.sleep(1.0)
            cls.events = centre.stream.drain(1.0)

    def measure(self, stem):
        if stem not in self.runs:
            self.skipTest("scenario %s not run (VIGIE_SCENARIOS)" % stem)
        run = self.runs[stem]
        pair = run.scenario["pairs"][0].get("name", "pair-0")
        return measure_name(run.prefix, pair)

    def incident(self, stem):
        """The measure's incident in the queue (nobody acted during the run)."""
        name = self.measure(stem)
        status, queue, _ = self.people["sup"].request("GET", "/api/v1/incidents")
        self.assertEqual(status, 200, queue)
        mine = [i for i in queue if i["measure"] == name]
        self.assertEqual(len(mine), 1, "%s: %r" % (stem, mine))
        return mine[0]

    def opened(self, stem):
        """The incident as the stream told it when the scenario's first
        alarm opened it (later alarms, such as the losses once the units
        fall silent after the run, may have raised its priority since)."""
        name = self.measure(stem)
        for e in type(self).events:
            if e["event"] == "incident":
                d = json.loads(e["data"])
                if d["action"] == "alarm" and d.get("effect") == "opened" and \
                        d["incident"]["measure"] == name:
                    return d["incident"]
        self.fail("%s: no incident opened on the stream" % stem)

    def act(self, who, iid, action, body=None, expect=200):
        status, doc, _ = self.people[who].request(
            "POST", "/api/v1/incidents/%d/%s" % (iid, action), body or {})
        self.assertEqual(status, expect, doc)
        return doc

    def stream_alarms(self, name):
        return [json.loads(e["data"]) for e in type(self).events
                if e["event"] == "alarm" and json.loads(e["data"])["measure"] == name]

    def test_a_stream_missed_nothing(self):
        """Every alarm the scenarios raised reached the supervisor's stream,
        once, in order, with the incident it opened or joined."""
        for stem in self.runs:
            name = self.measure(stem)
            (mid,), = self.d.query("SELECT id FROM measures WHERE name = ?", name)
            # every alarm raised a second or more before the stream was read
            db = [(seq, KINDS[k]) for seq, k in self.d.query(
                "SELECT seq, kind FROM alarms WHERE measure_id = ? AND raised_ms <= ? "
                "ORDER BY seq", mid, type(self).drained_ms)]
            got = [(a["seq"], a["kind"]) for a in self.stream_alarms(name)]
            self.assertEqual(got[:len(db)], db,
                             "%s: the stream has %s, the database %s" % (stem, got, db))
        ids = [int(e["id"]) for e in type(self).events if e["id"] is not None]
        self.assertEqual(ids, sorted(set(ids)), "event ids repeat or go back")

    def test_prealert_resolved_by_a_call(self):
        opened = self.opened("prealert_turns_back")
        self.assertEqual((opened["priority"], opened["first_alarm"]), (3, "prealert_entered"))
        inc = self.incident("prealert_turns_back")
        self.assertEqual(inc["id"], opened["id"])
        self.act("op1", inc["id"], "take")
        self.act("op1", inc["id"], "step", {"step": "author_called", "outcome": "complied",
                                            "text": "he turns back towards Angers"})
        doc = self.act("op1", inc["id"], "close", {"summary": "doubt removed by a call"})
        self.assertEqual((doc["state"], doc["steps"]), ("closed", 1))

    def test_alert_with_the_police(self):
        inc = self.incident("approach_on_foot")
        self.assertEqual(inc["priority"], 1)
        self.assertEqual(inc["escalation"], "not_taken")  # nobody took it during the run
        self.act("op1", inc["id"], "take")
        for step in ({"step": "author_called", "outcome": "refused"},
                     {"step": "protected_called", "outcome": "guided",
                      "text": "guided north to the tram stop"},
                     {"step": "police_alerted", "text": "CIC Nantes ref 2026-118842"},
                     {"step": "magistrate_informed"}):
            self.act("op1", inc["id"], "step", step)
        doc = self.act("op1", inc["id"], "close",
                       {"summary": "he came within R on foot; police on site at 14:32"})
        self.assertEqual((doc["state"], doc["steps"]), ("closed", 4))
        steps = [json.loads(d)["step"] for (d,) in self.d.query(
            "SELECT detail FROM journal WHERE action = 'incident.step' AND subject = ? "
            "ORDER BY id", "incident/%d" % inc["id"])]
        self.assertEqual(steps, ["author_called", "protected_called", "police_alerted",
                                 "magistrate_informed"])

    def test_sos(self):
        inc = self.incident("sos")
        self.assertEqual((inc["priority"], inc["first_alarm"]), (1, "sos"))
        self.assertEqual(inc["escalation"], "not_taken")
        escalated = [json.loads(e["data"]) for e in type(self).events
                     if e["event"] == "incident" and json.loads(e["data"])["action"] == "escalate"
                     and json.loads(e["data"])["incident"]["id"] == inc["id"]]
        self.assertEqual([x["reason"] for x in escalated], ["not_taken"])
        self.act("op2", inc["id"], "take")
        self.act("op2", inc["id"], "step", {"step": "protected_called", "outcome": "reached"})
        self.act("op2", inc["id"], "close", {"summary": "pressed by mistake; she is well"})

    def test_strap_cut(self):
        opened = self.opened("strap_cut")
        self.assertEqual((opened["priority"], opened["first_alarm"]), (2, "strap_opened"))
        inc = self.incident("strap_cut")
        self.act("op1", inc["id"], "take")
        self.act("op1", inc["id"], "step", {"step": "author_called", "outcome": "not_reached"})
        self.act("op1", inc["id"], "step", {"step": "police_alerted", "text": "ref 2026-5521"})
        self.act("op1", inc["id"], "close", {"summary": "bracelet cut; police sent to his home"})

    def test_technical_loss_far_away_pages_no_one(self):
        name = self.measure("tunnel_far_away")
        ended_ms = self.runs["tunnel_far_away"].ended_ms
        alarms = [a for a in self.stream_alarms(name) if a["at_ms"] <= ended_ms]
        self.assertTrue(alarms)
        self.assertEqual([a for a in alarms if a["priority"] <= 2], [],
                         "an urgent alarm while the scenario ran")
        opened = self.opened("tunnel_far_away")
        self.assertEqual((opened["priority"], opened["first_alarm"]), (4, "gnss_lost"))
        escalated = [json.loads(e["data"]) for e in type(self).events
                     if e["event"] == "incident" and json.loads(e["data"])["action"] == "escalate"
                     and json.loads(e["data"])["incident"]["id"] == opened["id"]]
        self.assertEqual(escalated, [], "a technical loss escalated within minutes")

    def test_two_operators_race_for_one_incident(self):
        inc = self.incident("car_past_home")
        results = {}
        go = threading.Barrier(2)

        def take(who):
            go.wait()
            status, doc, _ = self.people[who].request(
                "POST", "/api/v1/incidents/%d/take" % inc["id"], {})
            results[who] = status

        threads = [threading.Thread(target=take, args=(w,)) for w in ("op1", "op2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results.values()), [200, 409], results)
        winner = [w for w, s in results.items() if s == 200][0]
        self.assertEqual(self.incident("car_past_home")["operator"], winner)


def tearDownModule():
    failed = {b: c.stop() for b, c in CENTRES.items()}
    failed = {b: code for b, code in failed.items() if code != 0}
    assert not failed, "vigied exited with %s:\n%s" % (failed, "\n".join(
        CENTRES[b].daemon.log_text()[-3000:] for b in failed))


def _add_tests():
    for stem, _, _ in load_library():
        def test(self, stem=stem):
            self.check(stem)
        test.__doc__ = "scenario %s" % stem
        setattr(TestScenarios, "test_" + stem, test)


_add_tests()

if "pg" in BACKENDS:
    class TestScenariosPg(TestScenarios):
        """The library's checks on the PostgreSQL centre."""
        backend = "pg"

    class TestScenariosPgOperators(TestScenariosOperators):
        """The operator's protocol on the PostgreSQL centre."""
        scenarios = TestScenariosPg
        events = None

if __name__ == "__main__":
    unittest.main(verbosity=2)
