#!/usr/bin/env python3
"""SMS for critical alerts: an Alertmanager webhook receiver that texts the on-call numbers
through Twilio's Messages API.

Alertmanager has no Twilio receiver; the document wants SMS for critical alerts and names Twilio
as the SMS provider. This relay listens on loopback beside Alertmanager (see
../alertmanager/alertmanager.yml, receiver critical-pagerduty-sms-slack), turns each webhook
call into one short text, and sends it to every number in SMS_TO. It answers 200 only when every
text was accepted, otherwise 502, so Alertmanager retries. Python standard library only.

Settings (environment; secrets are read from files, never from the environment itself):
  SMS_RELAY_BIND            host:port to listen on (default 127.0.0.1:9097)
  TWILIO_ACCOUNT_SID_FILE   file holding the account SID
  TWILIO_AUTH_TOKEN_FILE    file holding the auth token
  TWILIO_FROM               sending number, E.164
  SMS_TO                    comma-separated on-call numbers, E.164
  TWILIO_API_BASE           default https://api.twilio.com (tests point it at a fake)
"""

import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 320  # two SMS segments
MAX_REQUEST = 1 << 20


def read_secret(var):
    path = os.environ.get(var)
    if not path:
        raise SystemExit(f"sms-relay: {var} is not set")
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


class Config:
    def __init__(self):
        self.bind = os.environ.get("SMS_RELAY_BIND", "127.0.0.1:9097")
        self.sid = read_secret("TWILIO_ACCOUNT_SID_FILE")
        self.token = read_secret("TWILIO_AUTH_TOKEN_FILE")
        self.sender = os.environ.get("TWILIO_FROM", "")
        self.to = [n.strip() for n in os.environ.get("SMS_TO", "").split(",") if n.strip()]
        self.api = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
        if not self.sender or not self.to:
            raise SystemExit("sms-relay: TWILIO_FROM and SMS_TO must be set")


def message(payload):
    """One line per alert, status first, cut to MAX_BODY characters."""
    status = str(payload.get("status", "firing")).upper()
    alerts = payload.get("alerts") or []
    lines = [f"PlumberLeads {status} ({len(alerts)})"]
    for a in alerts:
        ann = a.get("annotations") or {}
        lab = a.get("labels") or {}
        lines.append(ann.get("summary") or lab.get("alertname", "alert"))
    body = "\n".join(lines)
    return body if len(body) <= MAX_BODY else body[: MAX_BODY - 1] + "…"


def send(cfg, to, body):
    url = f"{cfg.api}/2010-04-01/Accounts/{urllib.parse.quote(cfg.sid)}/Messages.json"
    data = urllib.parse.urlencode({"To": to, "From": cfg.sender, "Body": body}).encode()
    auth = base64.b64encode(f"{cfg.sid}:{cfg.token}".encode()).decode()
    req = urllib.request.Request(url, data=data, method="POST", headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError) as e:
        print(f"sms-relay: sending to {to[:4]}… failed: {e}", file=sys.stderr)
        return False


def make_handler(cfg):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/sms":
                self.send_error(404)
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_REQUEST:
                self.send_error(400)
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                self.send_error(400)
                return
            body = message(payload)
            ok = all([send(cfg, n, body) for n in cfg.to])
            self.send_response(200 if ok else 502)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            print("sms-relay: " + fmt % args, file=sys.stderr)

    return Handler


def serve(cfg):
    host, _, port = cfg.bind.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), make_handler(cfg))
    return server


if __name__ == "__main__":
    srv = serve(Config())
    print(f"sms-relay: listening on {srv.server_address[0]}:{srv.server_address[1]}", file=sys.stderr)
    srv.serve_forever()
