#!/usr/bin/env python3
"""deploy/env/*.env against .env.sample: every name is one of .env.sample's (the app refuses a
misspelt PLUMBERLEADS_* at start), no secret is set in the repository, PLUMBERLEADS_ENV is one
the app knows, every CIDR list parses, and the staff allow-list does not overlap the trusted
proxies (the app refuses to start on a non-loopback bind when they do)."""

import glob
import ipaddress
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRETS = {"DATABASE_URL", "DATABASE_MIGRATION_URL", "REDIS_URL", "TWILIO_AUTH_TOKEN", "PLUMBERLEADS_SECRET_KEY", "PLUMBERLEADS_SECRET_KEY_PREVIOUS",
           "PLUMBERLEADS_JWT_KEYS"}


def parse(path):
    out = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if not m:
            raise SystemExit(f"{path}:{n}: not NAME=value: {line}")
        out[m.group(1)] = m.group(2)
    return out


def nets(value):
    return [ipaddress.ip_network(x.strip()) for x in value.split(",") if x.strip()]


def main():
    sample = parse(os.path.join(ROOT, ".env.sample"))
    failures = 0
    files = sorted(glob.glob(os.path.join(ROOT, "deploy", "env", "*.env")))
    for path in files:
        name = os.path.relpath(path, ROOT)
        env = parse(path)
        problems = [f"{k} is not a setting in .env.sample" for k in env if k not in sample]
        problems += [f"{k} is a secret: it comes from the vault, not this file" for k in env if k in SECRETS]
        if env.get("PLUMBERLEADS_ENV") not in ("development", "production"):
            problems.append(f"PLUMBERLEADS_ENV={env.get('PLUMBERLEADS_ENV')}")
        try:
            trusted = nets(env.get("PLUMBERLEADS_TRUSTED_PROXIES", sample["PLUMBERLEADS_TRUSTED_PROXIES"]))
            staff = nets(env.get("PLUMBERLEADS_STAFF_ALLOW", sample["PLUMBERLEADS_STAFF_ALLOW"]))
            nets(env.get("PLUMBERLEADS_METRICS_ALLOW", ""))
            overlap = [f"{a} ~ {b}" for a in staff for b in trusted if a.version == b.version and a.overlaps(b)]
            if overlap:
                problems.append(f"staff allow-list overlaps trusted proxies: {overlap}")
        except ValueError as e:
            problems.append(f"bad CIDR: {e}")
        if problems:
            failures += 1
            for p in problems:
                print(f"  FAIL {name}: {p}")
        else:
            print(f"  ok   {name}: {len(env)} settings, all known; no secrets; staff allow-list apart from trusted proxies")
    return 1 if failures or not files else 0


if __name__ == "__main__":
    sys.exit(main())
