#!/usr/bin/python3
# A tiny Confluent Schema Registry for the tests: GET /schemas/ids/{id}
# answers {"schema": "<text of DIR/<id>.avsc>"}, an unknown id 404 with
# error_code 40403; POST /subjects/{subject}/versions {"schema": "..."}
# registers a schema (the id of an identical one already in DIR, else the
# next id from 100 up, written to DIR/<id>.avsc) and answers {"id": N}; a
# body without a valid JSON schema is 422 (error_code 42201). Threaded.
# Prints its port on stdout line 1.
#
#   registry.py --dir DIR [--port 0] [--user U --password P]
#
# Controls, so a test can make it slow, failing or absent mid-run:
#   POST /control/delay?ms=N    every schema answer waits N ms first
#   POST /control/fail?status=500[&count=K]
#                               answer schema lookups with that status (the
#                               next K lookups only, or until reset)
#   POST /control/hang          accept connections but never answer lookups
#   POST /control/reset         back to normal
#   GET  /control/stats         {"lookups": N, "by_id": {...}, "auth_failures": N,
#                                "registered": {subject: id}}
# fail, delay and hang apply to registrations too. Controls need no auth. With --user/--password every lookup must carry that
# HTTP basic auth, else 401 {"error_code":40101,...}.
import argparse
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse


class State:
    def __init__(self, schema_dir, auth):
        self.lock = threading.Lock()
        self.dir = schema_dir
        self.auth = auth
        self.delay_ms = 0
        self.fail_status = 0
        self.fail_count = -1        # -1: until reset
        self.hang = threading.Event()
        self.unhang = threading.Event()
        self.lookups = 0
        self.by_id = {}
        self.auth_failures = 0
        self.registered = {}

    def reset(self):
        with self.lock:
            self.delay_ms = 0
            self.fail_status = 0
            self.fail_count = -1
            self.hang.clear()
            self.unhang.set()
            self.unhang = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        sys.stderr.write("registry: " + (fmt % args) + "\n")

    def reply(self, status, obj, ctype="application/vnd.schemaregistry.v1+json"):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        st = self.state
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        parts = u.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "subjects" and parts[2] == "versions":
            return self.register(parts[1], body)
        if u.path == "/control/delay":
            with st.lock:
                st.delay_ms = int(q.get("ms", "0"))
        elif u.path == "/control/fail":
            with st.lock:
                st.fail_status = int(q.get("status", "500"))
                st.fail_count = int(q.get("count", "-1"))
        elif u.path == "/control/hang":
            st.hang.set()
        elif u.path == "/control/reset":
            st.reset()
        else:
            return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        return self.reply(200, {"ok": u.path})

    def authorized(self):
        st = self.state
        if st.auth:
            want = "Basic " + base64.b64encode(st.auth.encode()).decode()
            if self.headers.get("Authorization") != want:
                with st.lock:
                    st.auth_failures += 1
                self.reply(401, {"error_code": 40101, "message": "Unauthorized"})
                return False
        return True

    def injected(self):
        """Apply the delay/fail/hang controls; True when already answered."""
        st = self.state
        with st.lock:
            delay = st.delay_ms
            fail = st.fail_status
            if fail and st.fail_count > 0:
                st.fail_count -= 1
                if st.fail_count == 0:
                    st.fail_status = 0
            unhang = st.unhang
        if st.hang.is_set():
            unhang.wait()
            self.close_connection = True
            return True
        if delay:
            time.sleep(delay / 1000.0)
        if fail:
            self.reply(fail, {"error_code": fail * 100 + 1,
                              "message": "injected failure"})
            return True
        return False

    def register(self, subject, body):
        st = self.state
        if not self.authorized() or self.injected():
            return None
        subject = unquote(subject)
        try:
            schema = json.loads(json.loads(body)["schema"])
        except (ValueError, KeyError, TypeError):
            return self.reply(422, {"error_code": 42201,
                                    "message": "Invalid schema"})
        with st.lock:
            ids = []
            for name in os.listdir(st.dir):
                if name.endswith(".avsc") and name[:-5].isdigit():
                    ids.append(int(name[:-5]))
                    with open(os.path.join(st.dir, name), encoding="utf-8") as f:
                        if json.load(f) == schema:
                            st.registered[subject] = int(name[:-5])
                            return self.reply(200, {"id": int(name[:-5])})
            new = max(ids + [99]) + 1
            with open(os.path.join(st.dir, "%d.avsc" % new), "w",
                      encoding="utf-8") as f:
                json.dump(schema, f)
            st.registered[subject] = new
        return self.reply(200, {"id": new})

    def do_GET(self):
        st = self.state
        u = urlparse(self.path)
        if u.path == "/control/stats":
            with st.lock:
                return self.reply(200, {"lookups": st.lookups,
                                        "by_id": st.by_id,
                                        "auth_failures": st.auth_failures,
                                        "registered": st.registered})
        parts = u.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["schemas", "ids"]:
            return self.reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})
        if not self.authorized():
            return None
        with st.lock:
            st.lookups += 1
            st.by_id[parts[2]] = st.by_id.get(parts[2], 0) + 1
        if self.injected():
            return None
        sid = parts[2]
        path = os.path.join(st.dir, sid + ".avsc")
        if not sid.isdigit() or not os.path.isfile(path):
            return self.reply(404, {"error_code": 40403,
                                    "message": "Schema not found"})
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return self.reply(200, {"schema": json.dumps(json.loads(text),
                                                     separators=(",", ":"))})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user")
    ap.add_argument("--password")
    a = ap.parse_args()
    auth = "%s:%s" % (a.user, a.password) if a.user is not None else None
    Handler.state = State(a.dir, auth)
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
