#!/usr/bin/env python3
"""The balancer's behaviour, on loopback, with this folder's configuration and three stand-in
app nodes (Python HTTP servers that echo what they were sent; no release binary of the app is
needed). Only the listen addresses and the upstream list are changed, to loopback ports.

Usage: test_lb.py PREFIX   (PREFIX: a copy of deploy/nginx made by deploy/check, with tls/*.pem
and mime.types in it). Exits non-zero on the first failed expectation.

Checks: HTTP→HTTPS redirect; TLS 1.3 accepted and TLS 1.2 refused; HSTS sent exactly once;
round-robin over the three nodes; X-Forwarded-For is the balancer's view of the client only (a
forged value is dropped); /metrics is 404 and never reaches a node; a stopped node is skipped
with no failed request, and comes back; per-IP connection limit answers 429; no node at all →
503 problem document with Retry-After.
"""

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = sys.argv[1] if len(sys.argv) > 1 else ""
HTTP_PORT, HTTPS_PORT = 18480, 18443
passed = 0


def expect(cond, what):
    global passed
    if not cond:
        print(f"  FAIL {what}")
        sys.exit(1)
    passed += 1
    print(f"  ok   {what}")


def serve_node(name, port, release):
    """A stand-in app node (its own process, so that stopping it drops every connection as a
    crash would): answers with its name and the headers it was sent; /slow is held until the
    file `release` exists (at most 30 s), so the connection-limit check does not depend on how
    fast 55 TLS handshakes are made (on a busy 2-core machine they took longer than a fixed 4 s)."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path == "/slow":
                deadline = time.monotonic() + 30
                while not os.path.exists(release) and time.monotonic() < deadline:
                    time.sleep(0.01)
            body = json.dumps({"node": name, "path": self.path,
                               "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


# How long a failed node stays out of rotation in the rehearsal (production: 30 s).
FAIL_TIMEOUT = 2
# Created once every /slow request of the connection-limit check has been sent.
RELEASE = os.path.join(PREFIX or ".", "release-slow")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


class Node:
    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self):
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-B", __file__, "--node", self.name, str(self.port), RELEASE])
            wait_port(self.port)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def write_config(nodes):
    with open(os.path.join(PREFIX, "conf.d", "plumberleads.conf")) as f:
        site = f.read()
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{HTTP_PORT} default_server;")
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{HTTPS_PORT} ssl")
    with open(os.path.join(PREFIX, "conf.d", "plumberleads.conf"), "w") as f:
        f.write(site)
    env = os.path.join(PREFIX, "env", "test")
    os.makedirs(env, exist_ok=True)
    with open(os.path.join(PREFIX, "env", "production", "upstream.conf")) as f:
        upstream = f.read()
    upstream = re.sub(r"server 10\.[0-9.]+:8080", "SERVER", upstream)
    # nginx's own clock cannot be moved: the rehearsal shortens the time a failed node stays out.
    upstream = upstream.replace("fail_timeout=30s", f"fail_timeout={FAIL_TIMEOUT}s")
    for n in nodes:
        upstream = upstream.replace("SERVER", f"server 127.0.0.1:{n.port}", 1)
    with open(os.path.join(env, "upstream.conf"), "w") as f:
        f.write(upstream)
    shutil.copy(os.path.join(PREFIX, "env", "production", "server_names.conf"), env)
    link = os.path.join(PREFIX, "plumberleads-env")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("env/test", link)
    with open(os.path.join(PREFIX, "nginx.conf")) as f:
        main = f.read()
    main = main.replace("user www-data;", "")
    with open(os.path.join(PREFIX, "nginx.conf"), "w") as f:
        f.write(main)


def tls_context(version=ssl.TLSVersion.TLSv1_3):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = version
    ctx.maximum_version = version
    return ctx


def get(path, headers=None, host="plumberleads.com"):
    c = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=tls_context(), timeout=10)
    h = {"Host": host}
    h.update(headers or {})
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def main():
    nodes = [Node(f"web-0{i}") for i in (1, 2, 3)]
    write_config(nodes)
    log = os.path.join(PREFIX, "logs", "error.log")
    nginx = subprocess.Popen(["nginx", "-p", PREFIX + "/", "-c", os.path.join(PREFIX, "nginx.conf"),
                              "-e", log, "-g", "daemon off;"])
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        run(nodes)
    finally:
        nginx.terminate()
        nginx.wait(10)
        for n in nodes:
            n.stop()
    print(f"nginx load balancer: {passed} passed, 0 failed")


def run(nodes):
    c = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=5)
    c.request("GET", "/request?zip=10001", headers={"Host": "plumberleads.com"})
    r = c.getresponse()
    expect(r.status == 301 and r.getheader("Location") == "https://plumberleads.com/request?zip=10001",
           f"HTTP → HTTPS redirect (301 {r.getheader('Location')})")

    with socket.create_connection(("127.0.0.1", HTTPS_PORT)) as s:
        with tls_context().wrap_socket(s) as t:
            expect(t.version() == "TLSv1.3", "TLS 1.3 accepted")
    try:
        with socket.create_connection(("127.0.0.1", HTTPS_PORT)) as s:
            with tls_context(ssl.TLSVersion.TLSv1_2).wrap_socket(s):
                refused = False
    except ssl.SSLError:
        refused = True
    expect(refused, "TLS 1.2 refused")

    r, body = get("/", headers={"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"})
    sent = json.loads(body)["headers"]
    expect(r.status == 200, "proxied to a node")
    expect(r.msg.get_all("Strict-Transport-Security") == ["max-age=63072000; includeSubDomains"],
           "HSTS sent exactly once")
    expect(sent.get("x-forwarded-for") == "127.0.0.1",
           f"X-Forwarded-For is the client the balancer saw, the forged one dropped ({sent.get('x-forwarded-for')})")
    expect(sent.get("x-forwarded-proto") == "https" and "x-real-ip" not in sent, "X-Forwarded-Proto https, no X-Real-IP")
    expect(re.fullmatch(r"[0-9a-f]{32}", sent.get("x-request-id", "")) is not None, "X-Request-Id set for the node")

    seen = [json.loads(get("/")[1])["node"] for _ in range(6)]
    expect(sorted(seen) == sorted(["web-01", "web-02", "web-03"] * 2), f"round-robin over three nodes ({seen})")

    r, b = get("/metrics")
    r2, b2 = get("/metrics/anything")
    expect(r.status == 404 and r2.status == 404 and b"node" not in b + b2,
           "/metrics is 404 and never reaches a node")
    expect(unknown_host_closed(), "a Host that is not ours is closed without an answer (444)")
    run_limits()
    run_failover(nodes)
    run_no_nodes(nodes)


def unknown_host_closed():
    try:
        get("/", host="evil.example")
        return False
    except (http.client.RemoteDisconnected, ConnectionResetError, ssl.SSLError):
        return True


def run_failover(nodes):
    nodes[1].stop()
    results = []
    for _ in range(30):
        try:
            results.append(json.loads(get("/")[1])["node"])
        except Exception as e:  # noqa: BLE001 - any failure is a failed request
            results.append(f"error: {e}")
    expect(all(not r.startswith("error") for r in results) and "web-02" not in results,
           f"web-02 stopped: 30 requests, none failed, none sent to it ({sorted(set(results))})")
    nodes[1].start()
    # Back in rotation once fail_timeout has passed: asked for until it answers, with a deadline.
    deadline = time.monotonic() + FAIL_TIMEOUT + 5
    seen = set()
    while "web-02" not in seen and time.monotonic() < deadline:
        seen.add(json.loads(get("/")[1])["node"])
    expect("web-02" in seen, f"web-02 back in rotation after fail_timeout ({sorted(seen)})")


def run_limits():
    if os.path.exists(RELEASE):
        os.unlink(RELEASE)
    conns = []
    statuses = []
    for _ in range(55):
        c = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, context=tls_context(), timeout=40)
        c.request("GET", "/slow", headers={"Host": "plumberleads.com"})
        conns.append(c)
    # The 5 over the limit were answered 429 at once; now the 50 held by the nodes may finish.
    open(RELEASE, "w").close()
    for c in conns:
        try:
            statuses.append(c.getresponse().status)
        except Exception:  # noqa: BLE001
            statuses.append(0)
        c.close()
    expect(statuses.count(429) == 5 and statuses.count(200) == 50,
           f"55 connections at once from one address: {statuses.count(200)} served, {statuses.count(429)} × 429")


def run_no_nodes(nodes):
    for n in nodes:
        n.stop()
    r, body = get("/request")
    expect(r.status == 503 and r.getheader("Retry-After") == "5"
           and r.getheader("Content-Type") == "application/problem+json"
           and json.loads(body)["status"] == 503,
           "no node reachable: 503 problem document with Retry-After: 5")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--node"]:
        serve_node(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
