"""The console's static files served by vigied (src/http/static.c): content
types, the security headers, caching, methods, and every way out of the root
refused — "..", encoded or not, NUL, hidden files, empty segments, and
symbolic links that lead out of the root — with a secret placed just outside
the root that must never come back.

    python3 tests/integ/test_console_static.py   (VIGIE_BUILD=build dir)
"""
import http.client
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from vigie_harness import Daemon  # noqa: E402

SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"


def raw(port, method, path, headers=None):
    """A request with the path sent exactly as written (no normalisation)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    c.putheader("Host", "127.0.0.1")
    for k, v in (headers or {}).items():
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, body


class StaticFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigie-static-")
        root = cls.root = os.path.join(cls.tmp, "console")
        for d in ("js", "css", "geo", "vendor/leaflet", "sub"):
            os.makedirs(os.path.join(root, d))
        files = {"index.html": "<!doctype html><title>console</title>",
                 "js/app.js": "export const x = 1;\n",
                 "css/console.css": "body{}\n",
                 "geo/departements.geojson": '{"type":"FeatureCollection","features":[]}',
                 "vendor/leaflet/leaflet.js": "/* leaflet */\n",
                 "sub/index.html": "<p>sub</p>",
                 ".env": SECRET,
                 "empty.txt": ""}
        for name, text in files.items():
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        with open(os.path.join(cls.tmp, "secret.txt"), "w") as f:
            f.write(SECRET)
        os.makedirs(os.path.join(cls.tmp, "outside"))
        with open(os.path.join(cls.tmp, "outside", "secret.txt"), "w") as f:
            f.write(SECRET)
        os.symlink(os.path.join(cls.tmp, "secret.txt"), os.path.join(root, "link-out.txt"))
        os.symlink(os.path.join(cls.tmp, "outside"), os.path.join(root, "dir-out"))
        os.symlink(os.path.join(root, "js", "app.js"), os.path.join(root, "link-in.js"))
        cls.d = Daemon(extra=["--console-dir", root, "--console-tiles",
                              "https://tiles.example.org/{z}/{x}/{y}.png"]).start()
        cls.port = cls.d.http_port

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, method="GET", headers=None):
        return raw(self.port, method, path, headers)

    def test_index_and_types(self):
        for path, ctype in (("/", "text/html; charset=utf-8"),
                            ("/index.html", "text/html; charset=utf-8"),
                            ("/js/app.js", "text/javascript; charset=utf-8"),
                            ("/css/console.css", "text/css; charset=utf-8"),
                            ("/geo/departements.geojson", "application/geo+json"),
                            ("/vendor/leaflet/leaflet.js", "text/javascript; charset=utf-8"),
                            ("/sub/", "text/html; charset=utf-8"),
                            ("/link-in.js", "text/javascript; charset=utf-8")):
            status, h, body = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertEqual(h["content-type"], ctype, path)
            self.assertTrue(body, path)
        status, _, body = self.get("/empty.txt")
        self.assertEqual((status, body), (200, b""))

    def test_security_headers(self):
        for path in ("/", "/js/app.js", "/nope", "/config.json"):
            _, h, _ = self.get(path)
            csp = h["content-security-policy"]
            self.assertIn("default-src 'self'", csp, path)
            self.assertIn("script-src 'self';", csp, path)
            self.assertNotIn("unsafe-inline", csp, path)
            self.assertNotIn("unsafe-eval", csp, path)
            self.assertIn("frame-ancestors 'none'", csp, path)
            # the configured tile server, and nothing else, may serve images
            self.assertIn("img-src 'self' data: https://tiles.example.org;", csp, path)
            self.assertEqual(h["x-content-type-options"], "nosniff", path)
            self.assertEqual(h["referrer-policy"], "no-referrer", path)
            self.assertEqual(h["x-frame-options"], "DENY", path)

    def test_caching(self):
        _, h, _ = self.get("/index.html")
        self.assertEqual(h["cache-control"], "no-cache")
        _, h2, _ = self.get("/vendor/leaflet/leaflet.js")
        self.assertEqual(h2["cache-control"], "public, max-age=86400")
        _, h3, _ = self.get("/geo/departements.geojson")
        self.assertEqual(h3["cache-control"], "public, max-age=86400")
        status, _, body = self.get("/index.html", headers={"If-Modified-Since": h["last-modified"]})
        self.assertEqual((status, body), (304, b""))
        status, _, _ = self.get("/index.html",
                                headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        self.assertEqual(status, 200)

    def test_methods(self):
        status, h, body = self.get("/", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(int(h["content-length"]),
                         os.path.getsize(os.path.join(self.root, "index.html")))
        for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            status, h, _ = self.get("/index.html", method=m)
            self.assertEqual(status, 405, m)
            self.assertEqual(h["allow"], "GET, HEAD", m)

    def test_traversal_refused(self):
        for path in ("/../secret.txt", "/..", "/js/../../secret.txt", "/%2e%2e/secret.txt",
                     "/%2E%2E/secret.txt", "/js/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt",
                     "/js/..%2F..%2Fsecret.txt", "/%2F..%2Fsecret.txt", "/.%2e/secret.txt",
                     "/index.html%00.js", "/%00", "/js/app.js%00", "/.env", "/%2eenv",
                     "/link-out.txt", "/dir-out/secret.txt", "/dir-out/", "//secret.txt",
                     "/js//app.js", "/js/./app.js", "/js%5c..%5c..%5csecret.txt",
                     "/js\\..\\..\\secret.txt", "/nope.html", "/js", "/js/", "/%", "/%zz",
                     "/" + "a" * 2000):
            status, h, body = self.get(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(SECRET.encode(), body, path)
            self.assertEqual(h["x-content-type-options"], "nosniff", path)

    def test_api_space_untouched(self):
        status, h, body = self.get("/api/v1/nothing")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["code"], "not_found")
        status, _, _ = self.get("/api/v1/incidents")
        self.assertEqual(status, 401)

    def test_config(self):
        status, h, body = self.get("/config.json")
        self.assertEqual(status, 200)
        cfg = json.loads(body)
        self.assertEqual(cfg["tiles"], "https://tiles.example.org/{z}/{x}/{y}.png")
        # vigied's escalation delays, by priority (docs/OPERATIONS.md defaults)
        self.assertEqual(cfg["escalate_take_ms"], [30000, 60000, 120000, 900000, 3600000])
        self.assertEqual(cfg["escalate_progress_ms"], [120000, 300000, 600000, 3600000, 14400000])


class NoConsole(unittest.TestCase):
    def test_missing_directory(self):
        """vigied starts without its console: the API is what matters."""
        d = Daemon(extra=["--console-dir", "/nonexistent/console"]).start()
        try:
            status, h, body = raw(d.http_port, "GET", "/")
            self.assertEqual(status, 404)
            self.assertIn(b"console_dir", body)
            self.assertEqual(raw(d.http_port, "GET", "/healthz")[0], 200)
            cfg = json.loads(raw(d.http_port, "GET", "/config.json")[2])
            self.assertEqual(cfg["tiles"], "")
            self.assertIn("no console", d.log_text())
        finally:
            d.cleanup()

    def test_bad_tiles_refused(self):
        d = Daemon(extra=["--console-tiles", "javascript:alert(1)"])
        try:
            with self.assertRaises(AssertionError):
                d.start()
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
