#!/usr/bin/env python3
"""A small hawkBit DDI v1 responder for the fleet tests (loopback only).

Every controller that polls gets one action (id 1) deploying ARTIFACT until it closes
it with a feedback whose status.execution is "closed". The artifact is served with
Range support (--no-range: Range is ignored, the whole file comes back with 200).
GET /_state returns what the devices reported: per controller, the feedbacks' execution,
finished and progress, the configData it sent, and the request counts.

usage: ddi_responder.py --artifact FILE --port-file F [--tenant T] [--sleep HH:MM:SS]
                        [--token TOKEN] [--no-range] [--version V] [--artifact-url URL]
                        [--forget-closed | --drop-closed-reply]
(--artifact-url: the deployment links to URL, e.g. `otakit serve`, for the bytes.
--forget-closed: each controller's first closing feedback is answered 200 but not kept,
so the action is still offered, as from a server that lost it. --drop-closed-reply: the
first closing feedback is kept but the connection closes without a reply; a feedback to
a closed action gets 410, as hawkBit's. STATE["closed_feedbacks"] counts the closing
feedbacks taken per controller, STATE["gone"] the 410s.)
"""
import argparse
import hashlib
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"feedback": {}, "config": {}, "closed": {}, "requests": 0, "bad_auth": 0,
         "downloads": 0, "range_requests": 0, "closed_feedbacks": {}, "gone": 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--tenant", default="DEFAULT")
    ap.add_argument("--sleep", default="00:00:10")
    ap.add_argument("--token")
    ap.add_argument("--no-range", action="store_true")
    ap.add_argument("--version", default="2.0.0")
    ap.add_argument("--artifact-url", help="serve the artifact from this URL instead")
    lose = ap.add_mutually_exclusive_group()
    lose.add_argument("--forget-closed", action="store_true")
    lose.add_argument("--drop-closed-reply", action="store_true")
    args = ap.parse_args()
    blob = open(args.artifact, "rb").read()
    name = args.artifact.rsplit("/", 1)[-1]
    hashes = {"sha1": hashlib.sha1(blob).hexdigest(), "md5": hashlib.md5(blob).hexdigest(),
              "sha256": hashlib.sha256(blob).hexdigest()}
    base_re = re.compile(r"^/%s/controller/v1/([A-Za-z0-9_.-]+)(/.*)?$" % re.escape(args.tenant))

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def log_message(self, *a):
            pass

        def reply(self, code, body=b"", ctype="application/hal+json", extra=None):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def route(self):
            with LOCK:
                STATE["requests"] += 1
            if self.path == "/_state":
                with LOCK:
                    body = json.dumps(STATE).encode()
                self.reply(200, body, "application/json")
                return None
            m = base_re.match(self.path.split("?")[0])
            if m is None:
                self.reply(404)
                return None
            if args.token is not None and \
                    self.headers.get("Authorization") != "TargetToken " + args.token:
                with LOCK:
                    STATE["bad_auth"] += 1
                self.reply(401)
                return None
            return m.group(1), m.group(2) or ""

        def body_json(self):
            n = int(self.headers.get("Content-Length", "0"))
            try:
                return json.loads(self.rfile.read(n) or b"null")
            except ValueError:
                return None

        def do_GET(self):
            r = self.route()
            if r is None:
                return
            cid, rest = r
            host = "http://%s:%d" % self.server.server_address[:2]
            me = "%s/%s/controller/v1/%s" % (host, args.tenant, cid)
            if rest == "":
                links = {}
                with LOCK:
                    if not STATE["closed"].get(cid):
                        links["deploymentBase"] = {"href": me + "/deploymentBase/1?c=-7"}
                    if cid not in STATE["config"]:
                        links["configData"] = {"href": me + "/configData"}
                self.reply(200, json.dumps({"config": {"polling": {"sleep": args.sleep}},
                                            "_links": links}).encode())
            elif rest == "/deploymentBase/1":
                url = args.artifact_url or me + "/softwaremodules/1/artifacts/" + name
                art = {"filename": name, "hashes": hashes, "size": len(blob),
                       "_links": {"download-http": {"href": url},
                                  "md5sum-http": {"href": me + "/softwaremodules/1/artifacts/" + name + ".MD5SUM"}}}
                dep = {"id": "1", "deployment": {"download": "forced", "update": "forced",
                                                 "chunks": [{"part": "os", "version": args.version,
                                                             "name": "app", "artifacts": [art]}]},
                       "actionHistory": {"status": "SCHEDULED", "messages": []}}
                self.reply(200, json.dumps(dep).encode())
            elif rest == "/softwaremodules/1/artifacts/" + name:
                with LOCK:
                    STATE["downloads"] += 1
                rng = self.headers.get("Range")
                m = re.match(r"^bytes=(\d+)-$", rng or "")
                if m and not args.no_range:
                    with LOCK:
                        STATE["range_requests"] += 1
                    start = int(m.group(1))
                    if start >= len(blob):
                        self.reply(416, extra={"Content-Range": "bytes */%d" % len(blob)})
                        return
                    self.reply(206, blob[start:], "application/octet-stream",
                               {"Content-Range": "bytes %d-%d/%d" % (start, len(blob) - 1, len(blob))})
                else:
                    self.reply(200, blob, "application/octet-stream")
            else:
                self.reply(404)

        def do_POST(self):
            r = self.route()
            if r is None:
                return
            cid, rest = r
            fb = self.body_json()
            if rest != "/deploymentBase/1/feedback" or not isinstance(fb, dict) or \
                    not isinstance(fb.get("status"), dict):
                self.reply(400, b'{"message":"bad feedback"}', "application/json")
                return
            st = fb["status"]
            res = st.get("result", {})
            entry = {"execution": st.get("execution"), "finished": res.get("finished"),
                     "progress": res.get("progress"), "details": st.get("details")}
            closing = entry["execution"] == "closed"
            with LOCK:
                if args.drop_closed_reply and cid in STATE["closed"]:
                    STATE["gone"] += 1
                    self.reply(410, b'{"message":"action closed"}', "application/json")
                    return
                n = STATE["closed_feedbacks"].get(cid, 0) + (1 if closing else 0)
                STATE["closed_feedbacks"][cid] = n
                if closing and n == 1 and args.forget_closed:
                    self.reply(200)
                    return
                STATE["feedback"].setdefault(cid, []).append(entry)
                if closing:
                    STATE["closed"][cid] = entry["finished"]
            if closing and n == 1 and args.drop_closed_reply:
                self.close_connection = True
                self.connection.shutdown(2)  # the reply is lost
                return
            self.reply(200)

        def do_PUT(self):
            r = self.route()
            if r is None:
                return
            cid, rest = r
            body = self.body_json()
            if rest != "/configData" or not isinstance(body, dict) or body.get("mode") != "merge":
                self.reply(400)
                return
            with LOCK:
                STATE["config"][cid] = body.get("data")
            self.reply(200)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
