#!/usr/bin/env python3
"""Issue 14's rehearsal: the real app, three `serve --no-worker` nodes and a worker behind this
repository's nginx configuration (production's upstream block: max_fails=3 fail_timeout=30s), one
PostgreSQL database, Redis. During a steady stream of requests (pages, the API, a signed-in
portal page) one node is killed outright and later restarted, then another is stopped the way a
deploy stops it (SIGTERM: it drains). Expected, and checked from the clients' side and nginx's
access log:
- no request fails, at any point;
- nginx stops sending to the killed node within the document's health-check window (3 probes
  10 s apart: 30 s) — in fact after its first failed attempts;
- the restarted node is back in rotation once fail_timeout has passed;
- a signed-in session works on every node (sessions live in the database, not in a node);
- the worker answers its own /health and /metrics; /metrics is never reachable through nginx.
Prints the figures. Usage: test_failover.py (binary as in stack.py). Standard library only.
"""

import http.client
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import HOST, Stack, free_port, tls_context  # noqa: E402

WINDOW = 30.0  # the document: /health every 10 s, 3 unhealthy → out
FAIL_TIMEOUT = 30.0  # production's upstream block, unchanged here
passed = 0


def expect(cond, what):
    global passed
    if not cond:
        print(f"  FAIL {what}", flush=True)
        raise SystemExit(1)
    passed += 1
    print(f"  ok   {what}", flush=True)


class Client:
    def __init__(self, stack):
        self.stack = stack
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        h = {"Host": f"{HOST}:{self.stack.https_port}"}
        h.update(headers or {})
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port, context=tls_context(),
                                                    timeout=40)
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        return r, r.read()


def log_in(stack):
    c = Client(stack)
    form = urllib.parse.urlencode({"email": "demo-pro@plumberleads.localhost",
                                   "password": "copper wrench harbor 27", "next": "/pro"})
    r, _ = c.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": stack.public_url})
    cookies = [v.split(";", 1)[0] for k, v in r.getheaders() if k.lower() == "set-cookie"]
    expect(r.status == 303 and r.getheader("Location") == "/pro" and cookies,
           f"a plumber logs in through the balancer ({r.status} → {r.getheader('Location')})")
    return "; ".join(cookies)


def served_by(stack, since, uri_prefix):
    """(msec, node name, upstream statuses) of each access-log entry after `since` for `uri_prefix`."""
    names = stack.node_by_address()
    out = []
    for e in stack.access_entries():
        if e["msec"] >= since and e["uri"].startswith(uri_prefix):
            attempts = [a.strip() for a in re.split(r"[,:]\s", e["upstream"]) if a.strip()]
            out.append((e["msec"], [names.get(a, a) for a in attempts], e["upstream_status"], e["status"]))
    return out


def run(stack):
    names = [n.name for n in stack.nodes]
    c = Client(stack)
    r, body = c.request("GET", "/health")
    expect(r.status == 200 and json.loads(body)["components"]["postgres"]["status"] == "ok",
           "/health through the balancer: 200, PostgreSQL ok")
    t0 = time.time()
    for _ in range(6):
        r, _ = c.request("GET", "/api/v1/categories")
        assert r.status == 200, r.status
    seen = [e[1][-1] for e in served_by(stack, t0, "/api/v1/categories")]
    expect(sorted(seen) == sorted(names * 2), f"round-robin over the three nodes ({seen})")

    cookie = log_in(stack)
    t0 = time.time()
    for _ in range(6):
        r, body = c.request("GET", "/pro/offers", headers={"Cookie": cookie})
        assert r.status == 200 and b"Dana Demo" in body, (r.status, body[:200])
    seen = sorted({e[1][-1] for e in served_by(stack, t0, "/pro/offers")})
    expect(seen == names, f"the signed-in session is honoured by every node ({seen})")

    r, _ = c.request("GET", "/metrics")
    expect(r.status == 404, "/metrics is 404 through the balancer")
    with urllib.request.urlopen(f"http://{stack.worker.address}/metrics", timeout=5) as w:
        text = w.read().decode()
    expect(w.status == 200 and "jobs_queue_depth" in text, "the worker answers /metrics on its own port")

    # --- the stream -----------------------------------------------------------------------------
    results = []  # (sent, done, path, status or error)
    stop = threading.Event()
    paths = ["/", "/api/v1/categories", "/pro/offers", "/request"]

    def stream(i):
        client = Client(stack)
        n = i
        while not stop.is_set():
            path = paths[n % len(paths)]
            n += 1
            sent = time.time()
            try:
                r, _ = client.request("GET", path, headers={"Cookie": cookie} if path.startswith("/pro") else None)
                results.append((sent, time.time(), path, r.status))
            except Exception as e:  # noqa: BLE001 - any failure is a failed request
                results.append((sent, time.time(), path, f"error: {e!r}"))
                client = Client(stack)
            time.sleep(0.02)  # pacing: about 40 requests/s per client

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        victim = stack.nodes[1]
        killed = time.time()
        victim.signal(signal.SIGKILL)
        victim.wait_exit()
        time.sleep(5)
        restarted = time.time()
        victim.start()
        victim.wait_ready()
        # Back once nginx tries it again (fail_timeout after it was taken out), within a deadline.
        deadline = restarted + FAIL_TIMEOUT + 10
        back = None
        while back is None and time.time() < deadline:
            ok = [e for e in served_by(stack, restarted, "/") if e[1][-1] == victim.name and e[3] == 200]
            back = ok[0][0] if ok else None
            time.sleep(0.2)

        drained = stack.nodes[2]
        term = time.time()
        drained.signal(signal.SIGTERM)
        drain_rc = drained.wait_exit()
        drain_s = time.time() - term
        drained.start()
        drained.wait_ready()
        time.sleep(2)
    finally:
        stop.set()
        for t in threads:
            t.join(60)

    failed = [x for x in results if x[3] != 200]
    durations = sorted(x[1] - x[0] for x in results)
    p99 = durations[int(len(durations) * 0.99) - 1]
    print(f"  stream: {len(results)} requests from 4 clients, {len(failed)} failed, p50 "
          f"{durations[len(durations) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, slowest {durations[-1] * 1000:.0f} ms",
          flush=True)
    expect(not failed, f"no request failed while a node was killed, restarted and drained ({failed[:5]})")

    tried = [e for e in served_by(stack, killed, "/") if e[0] < restarted and victim.name in e[1]]
    last_try = max((e[0] for e in tried), default=killed) - killed
    print(f"  {victim.name} killed: nginx tried it {len(tried)} times, the last {last_try * 1000:.0f} ms after the "
          f"kill; none in the {restarted - killed - last_try:.1f} s until its restart", flush=True)
    expect(tried and last_try < WINDOW and restarted - killed - last_try > 1,
           f"nginx stopped sending to the killed node within the window ({last_try:.2f} s < {WINDOW:.0f} s)")
    expect(all(e[3] == 200 for e in tried), "each request that met the dead node was answered by another")
    expect(back is not None, f"{victim.name} back in rotation after restart"
           + (f" ({back - restarted:.1f} s after, {back - killed:.1f} s after the kill; fail_timeout {FAIL_TIMEOUT:.0f} s)"
              if back else ""))
    expect(drain_rc == 0, f"{drained.name} drained and exited 0 on SIGTERM in {drain_s:.2f} s")
    after = [e for e in served_by(stack, term + drain_s + 0.5, "/") if drained.name in e[1]]
    print(f"  {drained.name}: requests it took after its restart: {sum(1 for e in after if e[3] == 200)}", flush=True)


def main():
    if shutil.which("nginx") is None:
        sys.exit("nginx is not installed (apt-get install nginx-light)")
    stack = Stack(https_port=free_port(), http_port=free_port(), node_ports=(free_port(), free_port(), free_port()),
                  worker_port=free_port(), database=f"pl_failover_{os.getpid()}")
    print(f"  {stack.binary}; logs in {stack.dir}", flush=True)
    ok = False
    try:
        stack.up(demo=True)
        run(stack)
        ok = True
    finally:
        stack.down()
        stack.drop_database()
        if ok:
            shutil.rmtree(stack.dir, ignore_errors=True)
    print(f"local rehearsal: {passed} passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()
