"""The incident report drawn as a PDF (report/incident_pdf.h, docs/API.md
"GET /api/v1/incidents/ID/report.pdf"): real content (text extracted with
pdftotext, the page rendered with pdftoppm and not blank, the tracks
drawn), times in the measure's time zone with the zone named, what each
recipient may see (no map for the probation service), journaled, and its
seal checked against the journal and the stored record by `vigie journal
verify --report`, which catches a changed record, a stripped or forged
seal; the same report drawn offline from the database (`vigie report
draw`) is the same document under the same seal."""
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from test_measures import FAR, HOME, MeasuresTest  # noqa: E402
from test_users import PASSWORD  # noqa: E402
from vigie_harness import EVENT, FIX, SOS, event_body, fix_body, now_ms, record  # noqa: E402

REPORT_TO = [{"role": "magistrate", "name": "Mme J. Durand, JLD", "contact": "jld@tj.example"},
             {"role": "probation", "name": "SPIP 44", "contact": "spip@example"},
             {"role": "victim_support", "name": "France Victimes 44", "contact": "fv@example"}]


def ppm_pixels(path):
    """(width, height, RGB bytes) of a binary PPM (P6) as pdftoppm writes it."""
    with open(path, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:  # magic, width, height, maxval
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        parts.append(data[start:pos])
    assert parts[0] == b"P6", parts[0]
    return int(parts[1]), int(parts[2]), data[pos + 1:]


class ReportPdf(MeasuresTest):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="vigie-pdf-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def closed_incident(self, op):
        """An approach by car then an SOS, handled and closed."""
        self.create(self.definition("R1", report_to=REPORT_TO))
        a, p = self.units("R1")
        self.units_of = {"A": a, "P": p}
        # he drives from 6 km north of her home to 300 m of it (about 120 km/h), a fix
        # every 15 s
        t = now_ms() - 170000
        start, stop = HOME[0] + 0.054, HOME[0] + 0.0027
        fixes = [record(FIX, i + 1, fix_body(t + 15000 * i, start + (stop - start) * i / 11,
                                             HOME[1], 15.0))
                 for i in range(12)]
        self.send(p, record(FIX, 1, fix_body(t, *HOME)))
        for f in fixes:
            self.send(a, f)
        self.send(p, record(FIX, 2, fix_body(now_ms(), *HOME)),
                  record(EVENT, 3, event_body(now_ms(), SOS)))
        self.wait(lambda: op.request("GET", "/api/v1/incidents")[1], "the incident")
        iid = op.request("GET", "/api/v1/incidents")[1][0]["id"]
        path = "/api/v1/incidents/%d/" % iid
        self.assertEqual(op.request("POST", path + "take", {})[0], 200)
        for step in ({"step": "protected_called", "outcome": "guided",
                      "text": "guidée vers le commissariat"},
                     {"step": "police_alerted", "text": "réf. 2026-7781"}):
            self.assertEqual(op.request("POST", path + "step", step)[0], 200)
        status, doc, _ = op.request("POST", path + "close",
                                    {"summary": "Approche en voiture puis SOS ; police sur place."})
        self.assertEqual(status, 200, doc)
        return iid

    def pdf(self, client, iid, audience):
        status, body, r = client.request("GET", "/api/v1/incidents/%d/report.pdf?for=%s"
                                         % (iid, audience))
        return status, body, r

    def fetch(self, iid, audience):
        """The PDF's bytes, fetched raw (the test client decodes text)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.d.http_port, timeout=30)
        conn.request("GET", "/api/v1/incidents/%d/report.pdf?for=%s" % (iid, audience),
                     headers={"Cookie": "vigie_session=" + self.op.cookie})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        self.assertEqual(r.status, 200, data[:300])
        self.assertEqual(r.getheader("Content-Type"), "application/pdf")
        self.assertTrue(data.startswith(b"%PDF-"))
        path = os.path.join(self.tmp, "incident-%d-%s.pdf" % (iid, audience))
        with open(path, "wb") as f:
            f.write(data)
        return path, data

    def text(self, path):
        return subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                              capture_output=True, text=True).stdout

    def render(self, path):
        out = os.path.join(self.tmp, os.path.basename(path))
        subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", path, out], check=True)
        ppm = [f for f in os.listdir(self.tmp) if f.startswith(os.path.basename(path)) and
               f.endswith(".ppm")][0]
        w, h, rgb = ppm_pixels(os.path.join(self.tmp, ppm))
        inked = sum(1 for i in range(0, len(rgb), 3) if rgb[i] + rgb[i + 1] + rgb[i + 2] < 600)
        bluish = sum(1 for i in range(0, len(rgb), 3)   # her track: only on the map
                     if rgb[i + 2] > 150 and rgb[i] < 90 and rgb[i + 1] < 150)
        return w * h, inked, bluish

    def verify(self, path):
        return self.d.vigie("journal", "verify", "--data-dir", self.d.dir, "--report", path,
                            check=False)

    def test_drawn_for_each_recipient_and_sealed(self):
        self.op = op = self.session("op1", "operator")
        iid = self.closed_incident(op)
        # the magistrate's: everything
        path, data = self.fetch(iid, "magistrate")
        text = self.text(path)
        for want in ("Rapport d'incident %d" % iid, "mesure R1", "Mme J. Durand, JLD",
                     "Appel de la personne protégée (protected_called) : guidée (guided)",
                     "guidée vers le commissariat", "Police alertée (police_alerted) — réf. "
                     "2026-7781", "alarme sos",
                     "Approche en voiture puis SOS ; police sur place.", "Rouge : l'auteur",
                     "Distance entre l'auteur", "report.create"):
            self.assertIn(want, text)
        pixels, inked, bluish = self.render(path)
        self.assertGreater(inked, pixels // 100, "the page is (nearly) blank")
        self.assertGreater(bluish, 3, "her position is not on the map")
        # the times are Paris's (the measure's zone), the zone named with its offset
        status, report, _ = op.request("GET", "/api/v1/incidents/%d/report" % iid)
        self.assertEqual(status, 200, report)
        paris = zoneinfo.ZoneInfo("Europe/Paris")

        def local(ms):
            return datetime.datetime.fromtimestamp(ms / 1000, paris)

        inc = report["content"]["incident"]
        closed, opened = local(inc["closed_ms"]), local(inc["opened_ms"])
        offset = "UTC+%d" % (opened.utcoffset().total_seconds() // 3600)
        self.assertIn("clos le %s UTC+%d" % (closed.strftime("%Y-%m-%d %H:%M:%S"),
                                             closed.utcoffset().total_seconds() // 3600), text)
        self.assertIn("Chronologie (heure de Paris, %s)" % offset, text)
        self.assertIn("fuseau de la mesure, Europe/Paris", text)
        sos = [a for a in report["content"]["alarms"] if a["kind"] == "sos"][0]
        self.assertRegex(text, local(sos["at_ms"]).strftime("%H:%M:%S") + r"\s+alarme sos")
        utc_only = datetime.datetime.fromtimestamp(inc["closed_ms"] / 1000, datetime.timezone.utc)
        self.assertNotIn("clos le %s" % utc_only.strftime("%Y-%m-%d %H:%M:%S"), text)
        # the measure's reports: this one, with its recipients and its record's SHA-256
        mid = report["measure_id"]
        status, listed, _ = op.request("GET", "/api/v1/measures/%d/reports" % mid)
        self.assertEqual(status, 200, listed)
        self.assertEqual([(r["incident_id"], r["content_sha256"], r["first_alarm"], r["operator"])
                          for r in listed],
                         [(iid, report["content_sha256"], "prealert_entered", "op1")])
        self.assertEqual(listed[0]["recipients"], REPORT_TO)
        self.assertEqual(listed[0]["closed_ms"], inc["closed_ms"])
        mag = self.session("mag", "magistrate", "TJ-Nantes")
        self.assertEqual(mag.request("GET", "/api/v1/measures/%d/reports" % mid)[0], 200)
        sup = self.session("sup", "supervisor")
        self.assertEqual(sup.request("GET", "/api/v1/measures/%d/reports" % mid)[0], 200)
        self.assertEqual(self.api("GET", "/api/v1/measures/%d/reports" % mid)[0], 403)  # admin
        for who, code in ((self.session("mag-b", "magistrate", "TJ-Brest"), 404),
                          (self.session("stat", "statistician"), 403),
                          (self.session("inst-r", "installer"), 403)):
            self.assertEqual(who.request("GET", "/api/v1/measures/%d/reports" % mid)[0], code)
        self.assertEqual(op.request("GET", "/api/v1/measures/999/reports")[0], 404)
        self.assertEqual(op.request("POST", "/api/v1/measures/%d/reports" % mid, {})[0], 405)
        rows = self.d.query("SELECT actor, subject, detail FROM journal WHERE action = "
                            "'report.list' ORDER BY id")
        self.assertEqual([(r[0], r[1], json.loads(r[2])["count"]) for r in rows],
                         [("op1", "R1", 1), ("mag", "R1", 1), ("sup", "R1", 1)])
        # the probation service's: no map (her positions, her home)
        ppath, _ = self.fetch(iid, "probation")
        ptext = self.text(ppath)
        self.assertIn("SPIP 44", ptext)
        self.assertIn("Non communiquée à ce destinataire", ptext)
        self.assertNotIn("guidée vers le commissariat", ptext)  # her call's text
        self.assertIn("réf. 2026-7781", ptext)
        self.assertNotIn("Rouge : l'auteur", ptext)
        p_pixels, p_inked, p_bluish = self.render(ppath)
        self.assertGreater(p_inked, p_pixels // 100, "the page is (nearly) blank")
        self.assertEqual(p_bluish, 0, "her position drawn for the probation service")
        # journaled, with the document's own hash
        rows = self.d.query("SELECT actor, subject, detail FROM journal WHERE action = "
                            "'report.pdf' ORDER BY id")
        self.assertEqual([(r[0], r[1], json.loads(r[2])["for"]) for r in rows],
                         [("op1", "incident/%d" % iid, "magistrate"),
                          ("op1", "incident/%d" % iid, "probation")])
        self.assertEqual(json.loads(rows[0][2])["pdf_sha256"], hashlib.sha256(data).hexdigest())
        # from the command line, as the operator
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        session = os.path.join(self.tmp, "session")
        self.d.vigie("login", "op1", "--password-file", pw, "--http",
                     "127.0.0.1:%d" % self.d.http_port, "--session", session)
        out = os.path.join(self.tmp, "cli.pdf")
        res = self.d.vigie("incident", "report", str(iid), "--for", "victim_support", "--out", out,
                           "--session", session)
        self.assertIn("for victim_support", res.stdout)
        self.assertIn("France Victimes 44", self.text(out))
        res = self.d.vigie("incident", "report", str(iid), "--for", "nobody", "--out", out,
                           "--session", session, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("victim_support", res.stderr)
        # who may ask, and how
        inst = self.session("inst", "installer")
        self.assertEqual(self.pdf(inst, iid, "magistrate")[0], 403)
        self.assertEqual(self.pdf(op, iid, "neighbour")[0], 400)
        self.assertEqual(self.pdf(op, iid + 1000, "magistrate")[0], 404)

        # the seal, checked offline against the journal and the stored record
        self.d.stop()
        res = self.verify(path)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("report verified: incident %d, for magistrate" % iid, res.stdout)
        # a stripped seal
        stripped = os.path.join(self.tmp, "stripped.pdf")
        with open(stripped, "wb") as f:
            f.write(data.replace(b"/Keywords (", b"/Xeywords ("))
        res = self.verify(stripped)
        self.assertEqual(res.returncode, 1)
        self.assertIn("no Vigie seal", res.stderr)
        # a forged seal: another hash for the entry
        seal = data[data.index(b"hash=") + 5:data.index(b"hash=") + 69]
        forged = os.path.join(self.tmp, "forged.pdf")
        with open(forged, "wb") as f:
            f.write(data.replace(seal, b"0" * 64))
        res = self.verify(forged)
        self.assertEqual(res.returncode, 1)
        self.assertIn("does not have the hash the report carries", res.stderr)
        # drawn offline from the database, vigied stopped: the same document (but the
        # time it was drawn), under the same seal, which checks the same way
        offline = os.path.join(self.tmp, "offline.pdf")
        res = self.d.vigie("report", "draw", str(iid), "--for", "magistrate", "--out", offline,
                           "--data-dir", self.d.dir)
        self.assertIn("for magistrate", res.stdout)
        with open(offline, "rb") as f:
            odata = f.read()
        self.assertTrue(odata.startswith(b"%PDF-"))

        def seal_of(pdf):
            return re.search(rb"/Keywords \(([^)]*)\)", pdf).group(1)

        self.assertEqual(seal_of(odata), seal_of(data))

        def drawn(t):
            return re.sub(r"Établi le [^\n]*", "", t)

        self.assertEqual(drawn(self.text(offline)), drawn(text))
        res = self.verify(offline)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("report verified: incident %d, for magistrate" % iid, res.stdout)
        # for the probation service, offline too: no map
        res = self.d.vigie("report", "draw", str(iid), "--for", "probation", "--out", offline,
                           "--data-dir", self.d.dir)
        self.assertIn("Non communiquée à ce destinataire", self.text(offline))
        for bad, code in ((["--for", "neighbour"], 2), (["--data-dir", self.tmp], 1)):
            args = ["report", "draw", str(iid)] + bad + (["--data-dir", self.d.dir]
                                                         if "--data-dir" not in bad else [])
            res = self.d.vigie(*args, "--out", offline, check=False)
            self.assertEqual(res.returncode, code, (bad, res.stdout, res.stderr))
        res = self.d.vigie("report", "draw", str(iid + 1000), "--data-dir", self.d.dir,
                           "--out", offline, check=False)
        self.assertEqual(res.returncode, 1)
        self.assertIn("has no report", res.stderr)
        # the stored record changed after the fact
        self.d.execute("UPDATE reports SET content = replace(content, 'police sur place', "
                       "'rien de grave') WHERE incident_id = ?", iid)
        res = self.verify(path)
        self.assertEqual(res.returncode, 1)
        self.assertIn("was modified", res.stderr)

    def dispatches(self):
        return sorted((json.loads(d)["index"], json.loads(d)["for"], json.loads(d)["file"],
                       json.loads(d)["pdf_sha256"], s)
                      for s, d in self.d.query("SELECT subject, detail FROM journal WHERE "
                                               "action = 'report.dispatch'"))

    def test_the_outbox(self):
        """Closing sends the report to each recipient the measure names: drawn into the
        outbox, each dispatch journaled; what a crash left undone, the next start does,
        once."""
        self.op = op = self.session("op1", "operator")
        iid = self.closed_incident(op)
        self.wait(lambda: len(self.dispatches()) == 3, "three dispatches", timeout=30)
        got = self.dispatches()
        self.assertEqual([(g[0], g[1]) for g in got],
                         [(1, "magistrate"), (2, "probation"), (3, "victim_support")])
        outbox = os.path.join(self.d.dir, "outbox")
        for index, role, name, sha, subject in got:
            self.assertEqual(subject, "incident/%d" % iid)
            self.assertEqual(name, "incident-%d-%d-%s.pdf" % (iid, index, role))
            with open(os.path.join(outbox, name), "rb") as f:
                data = f.read()
            self.assertEqual(hashlib.sha256(data).hexdigest(), sha)
        self.assertNotIn("Rouge : l'auteur",
                         self.text(os.path.join(outbox, "incident-%d-2-probation.pdf" % iid)))
        self.assertIn("France Victimes 44",
                      self.text(os.path.join(outbox, "incident-%d-3-victim_support.pdf" % iid)))
        self.assertEqual([f for f in os.listdir(outbox) if f.startswith(".")], [])
        # a second incident, closed, then vigied killed at once: after the restart each
        # recipient has its report, once
        self.send(self.units_of["P"], record(EVENT, 10, event_body(now_ms(), SOS)))
        self.wait(lambda: op.request("GET", "/api/v1/incidents")[1], "a new incident")
        iid2 = op.request("GET", "/api/v1/incidents")[1][0]["id"]
        self.assertEqual(op.request("POST", "/api/v1/incidents/%d/take" % iid2, {})[0], 200)
        self.assertEqual(op.request("POST", "/api/v1/incidents/%d/close" % iid2,
                                    {"summary": "pressed again by mistake"})[0], 200)
        self.d.kill9()
        self.d.start()
        self.wait(lambda: len(self.dispatches()) == 6, "the second incident's dispatches",
                  timeout=30)
        second = [g for g in self.dispatches() if g[4] == "incident/%d" % iid2]
        self.assertEqual([g[0] for g in second], [1, 2, 3])
        # and it stops clean: no leak left by the drawing (cairo's and fontconfig's caches
        # are released at exit), the sanitizers' reports would make the status non-zero
        self.assertEqual(self.d.stop(), 0, self.d.log_text()[-3000:])
        res = self.verify(os.path.join(outbox, second[0][2]))
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_no_report_before_closing(self):
        self.op = op = self.session("op1", "operator")
        self.create(self.definition("R2"))
        a, p = self.units("R2")
        self.send(p, record(FIX, 1, fix_body(now_ms(), *HOME)),
                  record(EVENT, 2, event_body(now_ms(), SOS)))
        self.wait(lambda: op.request("GET", "/api/v1/incidents")[1], "the incident")
        iid = op.request("GET", "/api/v1/incidents")[1][0]["id"]
        status, doc, _ = self.pdf(op, iid, "magistrate")
        self.assertEqual(status, 404, doc)
        self.assertIn("no report", doc["error"]["message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
