#!/usr/bin/env python3
"""A firmware server for the e2e tests: serves a directory over HTTP/1.1 on 127.0.0.1,
with Range support and injected faults, and logs every request.

  ota_server.py --dir DIR --port-file F [--port N] [--ignore-range]
                [--truncate N] [--drop-once-at N] [--log F]

--port 0 (the default) binds a free port; the port number is written to --port-file
once the socket listens ("-": to stdout, one line), so a test can block on reading it
instead of sleeping.
--ignore-range   answer every GET with 200 and the whole file, as python3 -m
                 http.server does
--truncate N     every response announces the whole Content-Length but sends only
                 N body bytes, then closes the connection
--drop-once-at N the first file response sends N body bytes, then closes; later
                 requests are served normally
--stall-once-at N the first file response sends N body bytes, then sends nothing more
                 (the connection stays open) until the client gives up
--status CODE    answer GET/HEAD with this status (403, 503, ...) and a short body
                 instead of the file; with --status-times N only the first N requests
--log F          one line per request: "GET /path range=bytes=N- -> 206 sent=K"
"""
import argparse
import os
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
STATE = {"dropped": False, "stalled": False, "statuses": 0}


def log(line):
    if ARGS.log:
        with LOCK, open(ARGS.log, "a") as f:
            f.write(line + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ota-test-server/1.0"

    def log_message(self, fmt, *args):  # keep stderr quiet; --log records requests
        pass

    def _path(self):
        rel = self.path.split("?", 1)[0].lstrip("/")
        full = os.path.realpath(os.path.join(ARGS.dir, rel))
        root = os.path.realpath(ARGS.dir)
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            return None
        return full

    def _forced_status(self):
        if ARGS.status is None:
            return None
        with LOCK:
            if ARGS.status_times is not None and STATE["statuses"] >= ARGS.status_times:
                return None
            STATE["statuses"] += 1
        return ARGS.status

    def _send(self, head_only):
        rng = self.headers.get("Range")
        forced = self._forced_status()
        if forced is not None:
            body = b"status %d\n" % forced
            self.send_response(forced)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            log("%s %s range=%s -> %d sent=0" % (self.command, self.path, rng, forced))
            self.close_connection = True
            return
        full = self._path()
        if full is None:
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            log("%s %s range=%s -> 404 sent=0" % (self.command, self.path, rng))
            self.close_connection = True
            return
        with open(full, "rb") as f:
            data = f.read()
        status, start, end = 200, 0, len(data)
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng or "")
        if m and not ARGS.ignore_range:
            start = int(m.group(1))
            end = int(m.group(2)) + 1 if m.group(2) else len(data)
            end = min(end, len(data))
            if start >= len(data) or start >= end:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                log("%s %s range=%s -> 416 sent=0" % (self.command, self.path, rng))
                self.close_connection = True
                return
            status = 206
        body = data[start:end]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "none" if ARGS.ignore_range else "bytes")
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if head_only:
            log("%s %s range=%s -> %d sent=0" % (self.command, self.path, rng, status))
            return
        limit = len(body)
        if ARGS.truncate is not None:
            limit = min(limit, ARGS.truncate)
        stall = False
        with LOCK:
            if ARGS.drop_once_at is not None and not STATE["dropped"]:
                STATE["dropped"] = True
                limit = min(limit, ARGS.drop_once_at)
            if ARGS.stall_once_at is not None and not STATE["stalled"]:
                STATE["stalled"] = True
                limit = min(limit, ARGS.stall_once_at)
                stall = True
        sent = 0
        try:
            while sent < limit:
                n = self.wfile.write(body[sent:min(limit, sent + 4096)])
                sent += n if n else 0
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        log("%s %s range=%s -> %d sent=%d%s" % (self.command, self.path, rng, status, sent,
                                                " stalled" if stall else ""))
        if stall:
            # Hold the connection open and silent until the client closes it.
            try:
                self.connection.settimeout(120)
                while self.connection.recv(4096):
                    pass
            except OSError:
                pass
            return
        if limit < len(body):
            # Cut the connection: the client sees EOF before Content-Length.
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def do_GET(self):
        self._send(False)

    def do_HEAD(self):
        self._send(True)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--ignore-range", action="store_true")
    p.add_argument("--truncate", type=int)
    p.add_argument("--drop-once-at", type=int)
    p.add_argument("--stall-once-at", type=int)
    p.add_argument("--status", type=int)
    p.add_argument("--status-times", type=int)
    p.add_argument("--log")
    ARGS = p.parse_args()
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.port_file == "-":
        sys.stdout.write("%d\n" % srv.server_address[1])
        sys.stdout.flush()
    else:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
