#!/usr/bin/env python3
"""The local rehearsal of production's shape on one machine: nginx (deploy/nginx, as it is, on
loopback ports) in front of three `plumberleads serve --no-worker` nodes, one `plumberleads worker`
(its probes and /metrics on their own port), one PostgreSQL database and one Redis — the pieces
the infrastructure document runs on separate droplets.

Used by `deploy/local/up` (start it, print the addresses, stop on Ctrl-C) and by
`deploy/local/test_failover.py` (kill a node during a stream of requests). Standard library only.

The binary: $PLUMBERLEADS_BIN, else target/release/plumberleads, else target/debug/plumberleads.
"""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HOST = "plumberleads.localhost"


def find_binary():
    explicit = os.environ.get("PLUMBERLEADS_BIN")
    if explicit:
        return explicit
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "plumberleads")
        if os.access(path, os.X_OK):
            return path
    sys.exit("no plumberleads binary: build one (cargo build --release -p plumberleads) or set PLUMBERLEADS_BIN")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port, path="/health/live"):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def redis_answers():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Process:
    """One app process: a web node (`serve --no-worker`) or the worker (`worker --listen`)."""

    def __init__(self, stack, name, port, args):
        self.stack, self.name, self.port, self.args = stack, name, port, args
        self.proc = None
        self.log = os.path.join(stack.dir, f"{name}.log")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        env = dict(self.stack.env, PLUMBERLEADS_BIND=self.address)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([self.stack.binary, *self.args], env=env, cwd=self.stack.dir,
                                         stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not answers(self.port):
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.proc.returncode}: see {self.log}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name} did not answer /health/live within {timeout} s: see {self.log}")
            time.sleep(0.05)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=45):
        return self.proc.wait(timeout)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(45)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Stack:
    def __init__(self, *, https_port=28443, http_port=28480, node_ports=(28101, 28102, 28103), worker_port=28104,
                 database="plumberleads_local", run_dir=None, fail_timeout=None):
        self.binary = find_binary()
        self.dir = run_dir or tempfile.mkdtemp(prefix="plumberleads-local-")
        os.makedirs(self.dir, exist_ok=True)
        self.https_port, self.http_port = https_port, http_port
        self.database = database
        self.fail_timeout = fail_timeout
        self.public_url = f"https://{HOST}:{https_port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": f"postgres://localhost/{database}",
            "PLUMBERLEADS_PUBLIC_URL": self.public_url,
            # nginx is the only proxy; it sets X-Forwarded-For to the client it saw.
            "PLUMBERLEADS_TRUSTED_PROXIES": "127.0.0.1/32",
            "PLUMBERLEADS_STORAGE_DIR": os.path.join(self.dir, "storage"),
            "PLUMBERLEADS_LOG_FORMAT": "json",
            "PLUMBERLEADS_DB_MIN_CONNECTIONS": "1",
            "PLUMBERLEADS_DB_MAX_CONNECTIONS": "10",
        }
        if redis_answers():
            self.env["REDIS_URL"] = "redis://127.0.0.1:6379"
            self.env["PLUMBERLEADS_REDIS_NAMESPACE"] = f"pl-local-{database}"
        self.nodes = [Process(self, f"web-0{i + 1}", p, ["serve", "--no-worker"]) for i, p in enumerate(node_ports)]
        self.worker = Process(self, "worker", worker_port, ["worker", "--listen", f"127.0.0.1:{worker_port}"])
        self.nginx = None
        self.prefix = os.path.join(self.dir, "nginx")
        self.access_log = os.path.join(self.prefix, "logs", "access.log")

    # --- nginx ------------------------------------------------------------------------------
    def write_nginx(self):
        p = self.prefix
        shutil.rmtree(p, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "deploy", "nginx"), p)
        shutil.copy("/etc/nginx/mime.types", p)
        os.makedirs(os.path.join(p, "tls"))
        os.makedirs(os.path.join(p, "logs"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", f"/CN={HOST}",
                        "-keyout", os.path.join(p, "tls", "privkey.pem"),
                        "-out", os.path.join(p, "tls", "fullchain.pem")], check=True, capture_output=True)
        conf = os.path.join(p, "nginx.conf")
        with open(conf) as f:
            main = f.read()
        main = main.replace("user www-data;", "").replace("/run/nginx.pid", os.path.join(p, "nginx.pid"))
        main = main.replace("/var/log/nginx/error.log", os.path.join(p, "logs", "error.log"))
        # The same log line with the time in milliseconds, which the failover figures need.
        main = main.replace('\'{"time":"$time_iso8601",', '\'{"time":"$time_iso8601","msec":$msec,')
        main = main.replace("/var/log/nginx/plumberleads.access.log", self.access_log)
        with open(conf, "w") as f:
            f.write(main)
        site_path = os.path.join(p, "conf.d", "plumberleads.conf")
        with open(site_path) as f:
            site = f.read()
        site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{self.http_port} default_server;")
        site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{self.https_port} ssl")
        with open(site_path, "w") as f:
            f.write(site)
        # The production upstream block, with the three local nodes in place of the droplets.
        with open(os.path.join(p, "env", "production", "upstream.conf")) as f:
            upstream = f.read()
        for n in self.nodes:
            upstream = re.sub(r"server 10\.[0-9.]+:8080", f"server {n.address}", upstream, count=1)
        if self.fail_timeout is not None:
            upstream = upstream.replace("fail_timeout=30s", f"fail_timeout={self.fail_timeout}s")
        env = os.path.join(p, "env", "local")
        os.makedirs(env)
        with open(os.path.join(env, "upstream.conf"), "w") as f:
            f.write(upstream)
        with open(os.path.join(env, "server_names.conf"), "w") as f:
            f.write(f"server_name {HOST};\n")
        os.symlink("env/local", os.path.join(p, "plumberleads-env"))

    def start_nginx(self):
        self.nginx = subprocess.Popen(["nginx", "-p", self.prefix + "/", "-c", os.path.join(self.prefix, "nginx.conf"),
                                       "-e", os.path.join(self.prefix, "logs", "error.log"), "-g", "daemon off;"])
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=0.2).close()
                return
            except OSError:
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not start: {self.prefix}/logs/error.log")
                time.sleep(0.05)

    # --- the whole ----------------------------------------------------------------------------
    def up(self, demo=True):
        self.write_nginx()
        # Migrate once, before the nodes (each would also wait on the migration lock).
        args = ["seed", "--demo"] if demo else ["migrate"]
        out = subprocess.run([self.binary, *args], env=dict(self.env, PLUMBERLEADS_BIND="127.0.0.1:0"),
                             cwd=self.dir, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {out.stderr.strip()}")
        for p in (*self.nodes, self.worker):
            p.start()
        for p in (*self.nodes, self.worker):
            p.wait_ready()
        self.start_nginx()
        return self

    def down(self):
        if self.nginx is not None:
            self.nginx.terminate()
            self.nginx.wait(10)
            self.nginx = None
        for p in (*self.nodes, self.worker):
            p.stop()

    def drop_database(self):
        subprocess.run(["psql", "-q", "-d", "postgres", "-c", f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'],
                       check=True, capture_output=True)

    def node_by_address(self):
        return {n.address: n.name for n in self.nodes}

    def access_entries(self):
        with open(self.access_log) as f:
            return [json.loads(line) for line in f if line.strip()]


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def up_command():
    stack = Stack(run_dir=os.path.join(ROOT, "target", "local"))
    print(f"starting with {stack.binary} in {stack.dir}", flush=True)
    stack.up(demo=True)
    print(f"""PlumberLeads behind nginx: {stack.public_url}/ (self-signed certificate; {HOST} is loopback)
  web nodes: {', '.join('http://' + n.address for n in stack.nodes)}   worker: http://{stack.worker.address}/metrics
  database: {stack.env['DATABASE_URL']}   redis: {stack.env.get('REDIS_URL', 'none')}   logs: {stack.dir}
  Demo plumber login: demo-pro@plumberleads.localhost / copper wrench harbor 27
Ctrl-C stops everything (each node drains its requests first).""", flush=True)
    stopping = []
    # Ctrl-C (or SIGTERM) stops the loop below, then everything, in order.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(1))
    try:
        while not stopping:
            for p in (*stack.nodes, stack.worker):
                if p.proc.poll() is not None:
                    print(f"{p.name} exited ({p.proc.returncode}); see {p.log}", flush=True)
                    stopping.append(1)
            time.sleep(1)
    finally:
        stack.down()


if __name__ == "__main__":
    up_command()
