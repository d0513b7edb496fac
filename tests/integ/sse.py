"""A Server-Sent Events client for the tests and the benchmark: a raw
socket (HTTP/1.1, chunked), a thread that parses events as the spec says
(id, event, data lines; comments skipped) into a queue, and the time each
event arrived."""
import queue
import socket
import threading
import time


class Stream:
    def __init__(self, port, cookie=None, bearer=None, last_event_id=None, query="",
                 timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        headers = ["GET /api/v1/stream%s HTTP/1.1" % query, "Host: 127.0.0.1",
                   "Accept: text/event-stream"]
        if cookie:
            headers.append("Cookie: vigie_session=" + cookie)
        if bearer:
            headers.append("Authorization: Bearer " + bearer)
        if last_event_id is not None:
            headers.append("Last-Event-ID: %s" % last_event_id)
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self.file = self.sock.makefile("rb")
        status_line = self.file.readline().decode()
        self.status = int(status_line.split()[1])
        self.headers = {}
        while True:
            line = self.file.readline().decode().strip()
            if not line:
                break
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.events = queue.Queue()
        self.closed = threading.Event()
        self.body = b""
        if self.status != 200:
            n = int(self.headers.get("content-length", "0"))
            self.body = self.file.read(n) if n else b""
            self.closed.set()
            return
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _chunks(self):
        chunked = self.headers.get("transfer-encoding", "").lower() == "chunked"
        while True:
            if not chunked:
                data = self.file.read1(65536)
                if not data:
                    return
                yield data
                continue
            size_line = self.file.readline()
            if not size_line:
                return
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            data = self.file.read(size)
            self.file.readline()  # CRLF
            yield data

    def _run(self):
        buf = b""
        ev = {"id": None, "event": "message", "data": []}
        try:
            for chunk in self._chunks():
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.decode().rstrip("\r")
                    if line == "":
                        if ev["data"] or ev["id"] is not None:
                            self.events.put({"id": ev["id"], "event": ev["event"],
                                             "data": "\n".join(ev["data"]),
                                             "t": time.monotonic()})
                        ev = {"id": None, "event": "message", "data": []}
                    elif line.startswith(":"):
                        continue
                    else:
                        k, _, v = line.partition(":")
                        v = v[1:] if v.startswith(" ") else v
                        if k == "data":
                            ev["data"].append(v)
                        elif k in ("id", "event"):
                            ev[k] = v
        except (OSError, ValueError):
            pass
        finally:
            self.closed.set()

    def next(self, timeout=10, skip=("heartbeat",)):
        """The next event not of a kind in skip; AssertionError on timeout."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("no event within %.1f s" % timeout)
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                raise AssertionError("no event within %.1f s" % timeout)
            if e["event"] not in skip:
                return e

    def until(self, pred, timeout=10, skip=("heartbeat",)):
        """Events up to and including the first for which pred is true."""
        got = []
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                raise AssertionError("not seen within %.1f s; got %r" % (timeout, got))
            e = self.next(left, skip)
            got.append(e)
            if pred(e):
                return got

    def drain(self, wait=0.3):
        """Whatever arrives within wait seconds."""
        got = []
        end = time.time() + wait
        while True:
            left = end - time.time()
            if left <= 0:
                return got
            try:
                got.append(self.events.get(timeout=left))
            except queue.Empty:
                return got

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
