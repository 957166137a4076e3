"""sms-relay against a fake Twilio on loopback: every on-call number gets the text with the
account's Basic auth; a Twilio failure makes the relay answer 502 so Alertmanager retries."""

import base64
import json
import os
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import relay

PAYLOAD = {
    "status": "firing",
    "alerts": [
        {"labels": {"alertname": "ServiceOutage", "severity": "critical"},
         "annotations": {"summary": "No healthy PlumberLeads node"}},
        {"labels": {"alertname": "SupabaseDown", "severity": "critical"},
         "annotations": {"summary": "Supabase (PostgreSQL) unreachable from every node"}},
    ],
}


class FakeTwilio:
    def __init__(self, status=201):
        self.received = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers["Content-Length"])
                outer.received.append((self.path, self.headers["Authorization"],
                                       urllib.parse.parse_qs(self.rfile.read(n).decode())))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RelayTest(unittest.TestCase):
    def start(self, twilio_status):
        self.twilio = FakeTwilio(twilio_status)
        d = tempfile.mkdtemp()
        for name, value in [("sid", "AC123"), ("token", "s3cret")]:
            with open(os.path.join(d, name), "w") as f:
                f.write(value + "\n")
        env = {"SMS_RELAY_BIND": "127.0.0.1:0", "TWILIO_ACCOUNT_SID_FILE": os.path.join(d, "sid"),
               "TWILIO_AUTH_TOKEN_FILE": os.path.join(d, "token"), "TWILIO_FROM": "+12125550100",
               "SMS_TO": "+12125550101, +12125550102", "TWILIO_API_BASE": self.twilio.base}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            self.srv = relay.serve(relay.Config())
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}/sms"

    def tearDown(self):
        if not hasattr(self, "srv"):
            return
        self.srv.shutdown()
        self.srv.server_close()
        self.twilio.close()

    def post(self, payload):
        req = urllib.request.Request(self.url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def test_texts_every_on_call_number(self):
        self.start(201)
        self.assertEqual(self.post(PAYLOAD), 200)
        self.assertEqual(len(self.twilio.received), 2)
        auth = "Basic " + base64.b64encode(b"AC123:s3cret").decode()
        for (path, got_auth, form), to in zip(self.twilio.received, ["+12125550101", "+12125550102"]):
            self.assertEqual(path, "/2010-04-01/Accounts/AC123/Messages.json")
            self.assertEqual(got_auth, auth)
            self.assertEqual(form["To"], [to])
            self.assertEqual(form["From"], ["+12125550100"])
            self.assertEqual(form["Body"], ["PlumberLeads FIRING (2)\nNo healthy PlumberLeads node\n"
                                            "Supabase (PostgreSQL) unreachable from every node"])

    def test_twilio_failure_is_retried_by_alertmanager(self):
        self.start(500)
        self.assertEqual(self.post(PAYLOAD), 502)

    def test_long_messages_are_cut(self):
        many = {"status": "firing", "alerts": [{"annotations": {"summary": "x" * 100}}] * 10}
        self.assertEqual(len(relay.message(many)), relay.MAX_BODY)

    def test_bad_request(self):
        self.start(201)
        req = urllib.request.Request(self.url, data=b"not json", method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(e.exception.code, 400)
        self.assertEqual(self.twilio.received, [])


if __name__ == "__main__":
    unittest.main()
