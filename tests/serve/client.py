#!/usr/bin/python3
"""Raw-socket clients for the otakit serve tests (standard library only, loopback only).

Every mode is bounded in time and prints one line (or one JSON object) saying what
happened; the shell tests make the assertions.

  raw PORT PAYLOAD [--src ADDR]     send bytes (a Python bytes expression), print the
                                    status line, CLOSED when the server hung up without
                                    one, TIMEOUT when nothing came within 10 s
  interrupt URL NBYTES OUT          GET, keep the first NBYTES of the body, then reset
  hold PORT N [--src ADDR]          open N silent connections, then one more: print
                                    "held H extra refused|accepted"; with --request
                                    the extra one asks for a file while the N are
                                    held, then they close: "... waited, then served"
  trickle PORT [--interval S]       send a request head one byte at a time: print
                                    "closed after K bytes" or "open"
  idle PORT                         connect and say nothing: print "closed" or "open"
  stall URL OUT --first N --go FILE read the head and N body bytes, print STALLED, wait
                                    for FILE to exist, then read the rest into OUT
  slowloris PORT PATH SHA256        256 slow connections held open while 32 normal
                                    clients download PATH; print a JSON summary
"""
import argparse
import hashlib
import http.client
import json
import os
import selectors
import socket
import struct
import sys
import threading
import time
import urllib.parse

HOST = "127.0.0.1"


def connect(port, src=None, rcvbuf=None, timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def reset(s):
    """Close with RST: the peer sees the connection die, as when a device loses WiFi."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def read_head(s):
    """Read up to the end of the response head; return (head bytes, first body bytes)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return buf, None
        buf += chunk
        if len(buf) > 1 << 20:
            raise RuntimeError("response head too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def still_open(s, wait):
    """True if the server has not closed s within `wait` seconds (we never send)."""
    s.settimeout(wait)
    try:
        data = s.recv(1)
        return bool(data)
    except socket.timeout:
        return True
    except OSError:
        return False


def mode_raw(a):
    # the payload is a bytes expression written by the tests, e.g. b'GET /' + b'a' * 9
    payload = eval(a.payload, {"__builtins__": {}, "bytes": bytes})  # noqa: S307
    s = connect(a.port, a.src)
    s.sendall(payload)
    try:
        if a.half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        print("TIMEOUT")
        return
    line = data.split(b"\r\n", 1)[0].decode("latin-1")
    print(line if line else "CLOSED")


def mode_interrupt(a):
    u = urllib.parse.urlsplit(a.url)
    s = connect(u.port, rcvbuf=262144)
    s.sendall(f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
    head, body = read_head(s)
    if body is None:
        print("NO RESPONSE")
        return 1
    while len(body) < a.nbytes:
        chunk = s.recv(min(65536, a.nbytes - len(body)))
        if not chunk:
            break
        body += chunk
    body = body[: a.nbytes]
    reset(s)
    with open(a.out, "wb") as f:
        f.write(body)
    print(head.split(b"\r\n", 1)[0].decode(), len(body))
    return 0


def mode_hold(a):
    held = []
    for _ in range(a.n):
        held.append(connect(a.port, a.src))
    # the server accepts, then counts; give it a moment to refuse any of these
    alive = sum(1 for s in held if still_open(s, 0.2))
    extra = connect(a.port, a.src)
    if not a.request:
        verdict = "accepted" if still_open(extra, 1.5) else "refused"
        print(f"held {alive} extra {verdict}")
    else:
        # past a total limit the server stops accepting: the extra connection waits in
        # the listen queue and is served once a slot is free
        extra.sendall(b"GET /notes.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        extra.settimeout(1.5)
        try:
            first = extra.recv(64)
            verdict = "served at once" if first else "refused"
        except ConnectionResetError:
            verdict = "refused"
        except socket.timeout:
            for s in held:
                s.close()
            held = []
            extra.settimeout(15.0)
            try:
                first = extra.recv(64)
                verdict = "waited, then served" if first.startswith(b"HTTP/1.1 200") else "refused"
            except OSError:
                verdict = "waited forever"
        print(f"held {alive} extra {verdict}")
    for s in held + [extra]:
        s.close()


def mode_trickle(a):
    s = connect(a.port)
    head = b"GET /hello-world.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * 4000
    deadline = time.monotonic() + a.max
    sent = 0
    s.settimeout(a.interval)
    while time.monotonic() < deadline and sent < len(head):
        try:
            s.send(head[sent:sent + 1])
            sent += 1
        except OSError:
            print(f"closed after {sent} bytes")
            return
        try:
            if s.recv(1) == b"":
                print(f"closed after {sent} bytes")
                return
        except socket.timeout:
            pass
        except OSError:
            print(f"closed after {sent} bytes")
            return
    print("open")


def mode_idle(a):
    s = connect(a.port)
    if a.ready:
        open(a.ready, "w").close()  # tell the test the connection is up
    print("open" if still_open(s, a.max) else "closed")


def mode_stall(a):
    u = urllib.parse.urlsplit(a.url)
    s = connect(u.port, rcvbuf=262144, timeout=a.max)  # > loopback MSS: no silly-window stall
    s.sendall(f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
    head, body = read_head(s)
    if body is None:
        print("NO RESPONSE", flush=True)
        return 1
    while len(body) < a.first:
        chunk = s.recv(a.first - len(body))
        if not chunk:
            break
        body += chunk
    print("STALLED", len(body), flush=True)
    deadline = time.monotonic() + a.max
    while not os.path.exists(a.go) and time.monotonic() < deadline:
        time.sleep(0.05)
    parts = [body]
    try:
        while True:
            chunk = s.recv(262144)
            if not chunk:
                break
            parts.append(chunk)
    except OSError:
        pass
    body = b"".join(parts)
    with open(a.out, "wb") as f:
        f.write(body)
    print("DONE", len(body), hashlib.sha256(body).hexdigest(), flush=True)
    return 0


class Slow:
    """One slowloris connection: a request head that never ends, a byte at a time."""

    def __init__(self, port, src, n):
        self.port, self.src, self.n = port, src, n
        self.sock = None
        self.reconnects = -1
        self.open()

    def open(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = connect(self.port, self.src)
        self.sock.setblocking(False)
        self.sock.send(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-%d: " % self.n)
        self.reconnects += 1

    def tick(self):
        try:
            self.sock.send(b"a")
            return True
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False

    def closed_by_server(self):
        try:
            return self.sock.recv(1) == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True


def count_open(slow, quiet=1.0):
    """Connections the server has not closed: wait until none closes for `quiet` s."""
    live = [c for c in slow if not c.closed_by_server()]
    sel = selectors.DefaultSelector()
    for c in live:
        sel.register(c.sock, selectors.EVENT_READ, c)
    closed = set()
    while True:
        events = sel.select(timeout=quiet)
        if not events:
            break
        for key, _ in events:
            c = key.data
            if c.closed_by_server():
                closed.add(c)
                sel.unregister(c.sock)
    sel.close()
    return len(live) - len(closed)


def mode_slowloris(a):
    sources = [f"127.0.0.{i}" for i in range(2, 2 + a.sources)]
    slow = [Slow(a.port, sources[i % len(sources)], i) for i in range(a.slow)]
    # every slow connection must be open and part-way through its head before the
    # normal clients start (refused ones are closed by the server at once)
    open_at_start = count_open(slow)

    results = []
    lock = threading.Lock()

    def normal(idx):
        ok = 0
        for _ in range(a.rounds):
            try:
                conn = http.client.HTTPConnection(HOST, a.port, timeout=60)
                conn.request("GET", a.path)
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                if resp.status == 200 and hashlib.sha256(body).hexdigest() == a.sha256:
                    ok += 1
            except OSError:
                pass
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=normal, args=(i,)) for i in range(a.normal)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + a.max
    next_tick = time.monotonic()
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        if time.monotonic() >= next_tick:
            for c in slow:
                if c.closed_by_server() or not c.tick():
                    try:
                        c.open()
                    except OSError:
                        pass
            next_tick = time.monotonic() + a.interval
        for t in threads:
            t.join(timeout=0.05)
    open_at_end = count_open(slow, quiet=0.2)
    finished = not any(t.is_alive() for t in threads)
    summary = {
        "slow": a.slow,
        "slow_open_at_start": open_at_start,
        "slow_open_at_end": open_at_end,
        "slow_reconnects": sum(c.reconnects for c in slow),
        "normal_clients": a.normal,
        "normal_finished": finished,
        "downloads_ok": sum(results),
        "downloads_wanted": a.normal * a.rounds,
    }
    for c in slow:
        c.sock.close()
    print(json.dumps(summary))
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("raw")
    r.add_argument("port", type=int)
    r.add_argument("payload")
    r.add_argument("--src")
    r.add_argument("--half-close", action="store_true")
    r = sub.add_parser("interrupt")
    r.add_argument("url")
    r.add_argument("nbytes", type=int)
    r.add_argument("out")
    r = sub.add_parser("hold")
    r.add_argument("port", type=int)
    r.add_argument("n", type=int)
    r.add_argument("--src")
    r.add_argument("--request", action="store_true")
    r = sub.add_parser("trickle")
    r.add_argument("port", type=int)
    r.add_argument("--interval", type=float, default=0.2)
    r.add_argument("--max", type=float, default=30.0)
    r = sub.add_parser("idle")
    r.add_argument("port", type=int)
    r.add_argument("--ready", help="file to create once connected")
    r.add_argument("--max", type=float, default=30.0)
    r = sub.add_parser("stall")
    r.add_argument("url")
    r.add_argument("out")
    r.add_argument("--first", type=int, default=65536)
    r.add_argument("--go", required=True)
    r.add_argument("--max", type=float, default=60.0)
    r = sub.add_parser("slowloris")
    r.add_argument("port", type=int)
    r.add_argument("path")
    r.add_argument("sha256")
    r.add_argument("--slow", type=int, default=256)
    r.add_argument("--sources", type=int, default=8)
    r.add_argument("--normal", type=int, default=32)
    r.add_argument("--rounds", type=int, default=4)
    r.add_argument("--interval", type=float, default=1.0)
    r.add_argument("--max", type=float, default=90.0)
    a = p.parse_args()
    return {
        "raw": mode_raw,
        "interrupt": mode_interrupt,
        "hold": mode_hold,
        "trickle": mode_trickle,
        "idle": mode_idle,
        "stall": mode_stall,
        "slowloris": mode_slowloris,
    }[a.mode](a) or 0


if __name__ == "__main__":
    sys.exit(main())
