"""The engine's decisions through a failure equal an undisturbed run's
(issue 10's chaos tests; docs/DEPLOYMENT.md, "Two sites").

A scripted drive: an author drives toward the protected person's home and
away again (2.6 km east, in to 250 m at the middle step, out again), both
units reporting a fix every 5 s of their own time. The test feeds the steps
to the two sites, with the author's fix of one step in flight (sent, not
acknowledged) when it breaks something; then it goes on feeding, as a unit
does, to whichever site serves, from what that site says it has (its
WELCOME's acked_seq: what was not acknowledged is sent again). Then the
same steps, in the same order, to a single vigied on SQLite that nothing
disturbs; the alarms its records decided compared field by field (all
but the wall-clock time each was raised at and its rank among the
measure's alarms); the supervision's alarms (a unit not heard for a while:
the failure's own) listed.

Deterministic: the records are the test's, each step's protected fix
acknowledged before the author's is sent, so the engine sees the same
records in the same order in both runs, whatever the failure did.
"""
import os
import ssl
import time

import vigie_harness as H
from vigie_harness import Daemon

HOME = (47.2184, -1.5536)  # the protected person's home (Nantes)
STEPS = 60
PERIOD_MS = 5000
IN_FLIGHT_AT = 20  # between the pre-alert (step 9) and the alert
ALERT_AT = 22  # the author's fix that raises the alert (950 m from her home)

# every column of an alarm but its measure's id (the database's own),
# raised_ms (the centre's wall clock when it was raised) and seq (its rank
# among the measure's alarms, the supervision's included: below)
ALARM_COLUMNS = (
    "a.kind, a.unit, a.priority, a.flags, a.level_from, a.level_to, a.zone_index, "
    "a.zone_id, a.at_ms, a.distance_m, a.uncertainty_m, a.threshold_m, a.closing_speed_mps, "
    "a.author_closed_m, a.protected_closed_m, a.reach_m, a.approached_by, a.confidence, "
    "a.author_t_ms, a.author_lat_deg, a.author_lon_deg, a.author_accuracy_m, "
    "a.author_speed_mps, a.author_heading_deg, a.author_quality, a.protected_t_ms, "
    "a.protected_lat_deg, a.protected_lon_deg, a.protected_accuracy_m, a.protected_speed_mps, "
    "a.protected_heading_deg, a.protected_quality")
# The supervision's alarms: raised by the centre's clock when a unit was
# not heard (or its position not had) for a while, and when it is again:
# the drive's units fall silent when it ends (20 s later the author's
# silence is an alarm, in both runs, if the test is still there), and a
# failure silences them for seconds. The wall clock's, not the records'
# decisions: listed, not compared.
SUPERVISION_KINDS = (5, 6, 7, 8)  # GNSS lost, restored; communication lost, restored


def author_at(i):
    d = 2600 - 75 * (i if i <= STEPS // 2 else STEPS - i)
    return HOME[0], HOME[1] + d / 75640.0


class Drive:
    """One drive: its units and measure (names unique in the database),
    fed to the sites of a SitesCase, then compared with a reference run."""

    def __init__(self, case, name="DRV", sites=None):
        """sites: the vigied the drive is fed to, each tried in turn
        (default: the case's two sites, case.a's PKI)."""
        self.case = case
        self.sites = sites or [case.a, case.b]
        self.measure = "M-" + name
        self.author = "U-%s-A" % name
        self.protected = "U-%s-P" % name
        # fixed at the start: both runs get the same records. All of them
        # late (older than the engine's late_after_ms, 120 s, when they
        # arrive), whenever they are fed: an alarm's LATE flag is the
        # centre's clock's, and a drive straddling the limit would flag
        # differently a run fed seconds later (the failure, the reference)
        self.t0 = H.now_ms() - STEPS * PERIOD_MS - 200000
        self.units = []

    def provision(self):
        """Its units' certificates (the sites share the PKI) and its measure,
        declared at the active site."""
        a = self.sites[0]
        for serial in (self.author, self.protected):
            a.vigie("pki", "issue-unit", serial, "--dir", a.pki)
        self.active().create_measure(self.measure, self.author, self.protected,
                                     radius=1000, home=HOME)

    def active(self):
        return self.case.active() if len(self.sites) > 1 else self.sites[0]

    # ---- feeding ----

    def _close(self):
        for u in self.units:
            u.close()
        self.units = []

    @staticmethod
    def _acked(unit, seq):
        """Wait for the acknowledgement that covers seq."""
        while True:
            ack = unit.expect(H.ACK, timeout=10)
            if ack["cumulative"] >= seq or seq in ack["extra"]:
                return

    def _feed_at(self, port, cert_of, ca, upto, in_flight_at, before_in_flight=None):
        """The steps up to `upto` to the centre at port, from where it says
        each unit is. True once done; with in_flight_at, step in_flight_at's
        author fix is sent last (before_in_flight() called just before) and
        not waited for (the units left open)."""
        self._close()
        p = H.Unit(port, *cert_of(self.protected), ca, timeout=5)
        self.units.append(p)
        p.send(H.hello())
        first_p = p.expect(H.WELCOME, timeout=10)["acked_seq"] + 1
        a = H.Unit(port, *cert_of(self.author), ca, timeout=5)
        self.units.append(a)
        a.send(H.hello())
        first_a = a.expect(H.WELCOME, timeout=10)["acked_seq"] + 1
        for i in range(min(first_p, first_a) - 1, upto):
            t = self.t0 + i * PERIOD_MS
            if i + 1 >= first_p:
                p.send(H.records(H.record(H.FIX, i + 1, H.fix_body(t, *HOME))))
                self._acked(p, i + 1)
            if i + 1 >= first_a:
                if i == in_flight_at and before_in_flight:
                    before_in_flight()
                a.send(H.records(H.record(H.FIX, i + 1, H.fix_body(t, *author_at(i)))))
                if i == in_flight_at:
                    return True
                self._acked(a, i + 1)
        self._close()
        return True

    def feed(self, upto=STEPS, in_flight_at=None, before_in_flight=None, timeout=120):
        """Feed the steps up to `upto` to whichever site serves (each tried
        in turn, again until timeout, as a unit does), resending what it
        did not acknowledge."""
        pki = self.sites[0]
        ca = os.path.join(pki.pki, "ca.crt")
        end = time.time() + timeout
        last = None
        while True:
            for site in self.sites:
                try:
                    if self._feed_at(site.devices_port, pki.cert, ca, upto, in_flight_at,
                                     before_in_flight):
                        return
                except (AssertionError, OSError, ssl.SSLError) as e:
                    last = e
                    self._close()
            if time.time() > end:
                raise AssertionError("the drive could not be fed to step %d: %s" % (upto, last))
            time.sleep(0.2)

    def start(self, in_flight_at=IN_FLIGHT_AT, before_in_flight=None):
        """Up to the fix in flight."""
        self.feed(in_flight_at + 1, in_flight_at=in_flight_at, before_in_flight=before_in_flight)

    def finish(self):
        """After the failure: the rest, to whichever site serves."""
        self._close()
        self.feed(STEPS)

    # ---- the comparison ----

    def decisions(self, query):
        """The drive's alarms in the order raised: those its records
        decided, and the supervision's (kind, unit)."""
        name = H.sql_literal(self.measure)
        kinds = ", ".join(str(k) for k in SUPERVISION_KINDS)
        decided = query("SELECT %s FROM alarms a JOIN measures m ON m.id = a.measure_id "
                        "WHERE m.name = %s AND a.kind NOT IN (%s) ORDER BY a.seq"
                        % (ALARM_COLUMNS, name, kinds))
        supervision = query("SELECT a.kind, a.unit FROM alarms a JOIN measures m "
                            "ON m.id = a.measure_id WHERE m.name = %s AND a.kind IN (%s) "
                            "ORDER BY a.seq" % (name, kinds))
        return decided, supervision

    def undisturbed(self):
        """The same steps to a single vigied on SQLite nothing disturbs."""
        ref = Daemon(pg=False)
        self.case.sites.append(ref)  # stopped with the sites
        ref.start()
        ref.issue(self.author)
        ref.issue(self.protected)
        ref.create_measure(self.measure, self.author, self.protected, radius=1000, home=HOME)
        self._close()
        ca = os.path.join(ref.pki, "ca.crt")
        self._feed_at(ref.devices_port, ref.cert, ca, STEPS, None)
        return self.decisions(ref.query)

    def check(self, what):
        """The decisions at the active site equal the undisturbed run's."""
        got, supervision = self.decisions(self.active().query)
        want, _ = self.undisturbed()
        self.case.assertGreaterEqual(len(want), 2, "the drive raises alarms: %s" % (want,))
        if got != want:
            self.case.fail("through %s the alarms the drive's records decided differ from the "
                           "undisturbed run's:\n%s" % (what, differences(ALARM_COLUMNS, got, want)))
        print("the drive through %s: its %d alarms as the undisturbed run's; the supervision's "
              "(kind, unit): %s" % (what, len(got), supervision or "none"), flush=True)


def differences(columns, got, want):
    """Row by row, the columns that differ (got / undisturbed)."""
    names = [c.strip().split(".")[-1] for c in columns.split(",")]
    lines = []
    for k in range(max(len(got), len(want))):
        g = got[k] if k < len(got) else None
        w = want[k] if k < len(want) else None
        if g == w:
            lines.append("  #%d equal" % (k + 1))
        elif g is None or w is None:
            lines.append("  #%d only %s: %s" % (k + 1, "undisturbed" if g is None else "got",
                                                dict(zip(names, g or w))))
        else:
            lines.append("  #%d %s" % (k + 1, ", ".join(
                "%s %r / %r" % (n, x, y) for n, x, y in zip(names, g, w) if x != y)))
    return "\n".join(lines)
