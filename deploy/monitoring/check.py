#!/usr/bin/env python3
"""Checks on deploy/monitoring beyond what promtool and amtool do on their own (run by
deploy/check, with promtool and amtool on PATH and PyYAML importable):

1. Every alert's threshold (annotations.threshold) is the number in .env.sample's setting
   (annotations.setting), i.e. the seed document's, and stands in the expression as "> N".
2. Every alert has a unit test that fires it and one that keeps it quiet; and the tests have
   teeth: turning an alert's "> N" into ">= N", or raising N, makes `promtool test rules` fail.
3. Severities are the document's four, and each routes (amtool) to the receiver whose
   integrations are the document's: critical PagerDuty+SMS+Slack, high PagerDuty+Slack,
   medium Email+Slack, low Email.
4. Every metric that a rule, a dashboard or the Datadog check names is exported by the app
   (found in crates/), is node_exporter's, or is listed in deploy/README.md under
   "Metrics the app must add"; and the Datadog check lists every app metric used.
5. Every dashboard query parses as PromQL (promtool check rules on them as recording rules).
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MON = os.path.join(ROOT, "deploy", "monitoring")
RULES = os.path.join(MON, "prometheus", "rules", "plumberleads.rules.yml")
TESTS = os.path.join(MON, "prometheus", "tests", "plumberleads.test.yml")
AM = os.path.join(MON, "alertmanager", "alertmanager.yml")
DATADOG = os.path.join(MON, "datadog", "conf.d", "openmetrics.d", "conf.yaml")
DASHBOARDS = glob.glob(os.path.join(MON, "grafana", "dashboards", "*.json"))
README = os.path.join(ROOT, "deploy", "README.md")
ENV_SAMPLE = os.path.join(ROOT, ".env.sample")

SEVERITY_INTEGRATIONS = {
    "critical": {"pagerduty", "sms", "slack"},
    "high": {"pagerduty", "slack"},
    "medium": {"email", "slack"},
    "low": {"email"},
}
HISTOGRAMS = {"http_request_duration_seconds", "jobs_run_seconds"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "bool", "offset", "inf", "nan"}

failures = []


def fail(msg):
    failures.append(msg)
    print(f"  FAIL {msg}")


def ok(msg):
    print(f"  ok   {msg}")


def env_defaults():
    out = {}
    for line in open(ENV_SAMPLE, encoding="utf-8"):
        m = re.match(r"^([A-Z_]+)=(.*)$", line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def to_number(value):
    """A .env.sample value as the number the rules use: durations in seconds."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)?", value)
    if not m:
        raise ValueError(value)
    n, unit = float(m.group(1)), m.group(2)
    return n * {None: 1, "s": 1, "ms": 0.001, "m": 60, "h": 3600}[unit]


def fmt(n):
    return str(int(n)) if float(n).is_integer() else repr(float(n))


def alerts():
    doc = yaml.safe_load(open(RULES, encoding="utf-8"))
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def promtool_test(rules_text):
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "rules"))
        os.makedirs(os.path.join(d, "tests"))
        with open(os.path.join(d, "rules", "plumberleads.rules.yml"), "w") as f:
            f.write(rules_text)
        with open(TESTS) as src, open(os.path.join(d, "tests", "t.yml"), "w") as f:
            f.write(src.read())
        r = subprocess.run(["promtool", "test", "rules", os.path.join(d, "tests", "t.yml")],
                           capture_output=True, text=True)
        return r.returncode == 0


def check_thresholds():
    print("thresholds match .env.sample (the seed's numbers)")
    env = env_defaults()
    for a in alerts():
        ann = a.get("annotations", {})
        if "setting" not in ann:
            continue
        setting, threshold = ann["setting"], float(ann["threshold"])
        want = to_number(env[setting])
        if setting.endswith("_WINDOW"):
            pass  # the window itself is the threshold (job age)
        if threshold != want:
            fail(f"{a['alert']}: threshold {threshold} but {setting}={env[setting]} ({want})")
            continue
        if not re.search(r">\s*" + re.escape(fmt(threshold)) + r"\s*$", a["expr"].strip()):
            fail(f"{a['alert']}: expression does not end in '> {fmt(threshold)}'")
            continue
        ok(f"{a['alert']}: > {fmt(threshold)} ({setting}={env[setting]})")
    window = env["PLUMBERLEADS_ALERT_WINDOW"]
    for a in alerts():
        if a["alert"] in ("HighCpuUsage", "HighMemoryUsage") and a.get("for") != window:
            fail(f"{a['alert']}: for {a.get('for')} but the seed's window is {window}")
        if a["alert"] in ("SlowResponses", "HighErrorRate", "DatabaseConnectionErrors") and f"[{window}]" not in a["expr"]:
            fail(f"{a['alert']}: not measured over [{window}]")
    ok(f"CPU and memory hold for {window}; response time, errors and DB errors are measured over [{window}]")


def check_tests_have_teeth():
    print("every alert has a firing and a quiet unit test, and the tests catch a changed threshold")
    tests = yaml.safe_load(open(TESTS, encoding="utf-8"))["tests"]
    fires, quiet = set(), set()
    for t in tests:
        for c in t.get("alert_rule_test", []):
            (fires if c.get("exp_alerts") else quiet).add(c["alertname"])
    for a in alerts():
        name = a["alert"]
        if name not in fires:
            fail(f"{name}: no test where it fires")
        if name not in quiet:
            fail(f"{name}: no test where it stays quiet")
    original = open(RULES, encoding="utf-8").read()
    if not promtool_test(original):
        fail("promtool test rules fails on the committed rules")
        return
    for a in alerts():
        m = re.search(r">\s*([0-9.]+)\s*$", a["expr"].strip())
        if not m:
            continue
        t = float(m.group(1))
        raised = fmt(round(max(t * 1.1, t + 1), 6))
        for label, new in [(">=", ">= " + m.group(1)), ("raised", "> " + raised)]:
            expr_new = a["expr"].strip()[: m.start()] + new
            mutated = original.replace(a["expr"].strip(), expr_new, 1) if a["expr"].strip() in original else None
            if mutated is None:
                # folded scalar: replace the threshold at the end of the rule's expression text
                mutated = re.sub(r"(- alert: " + a["alert"] + r"\n(?:.*\n)*?.*?)>\s*" + re.escape(m.group(1)) + r"\n",
                                 lambda mm: mm.group(1) + new + "\n", original, count=1)
            if mutated == original:
                fail(f"{a['alert']}: could not mutate its threshold for the teeth test")
                continue
            if promtool_test(mutated):
                fail(f"{a['alert']}: tests still pass with '{new}' — they do not pin the threshold")
            else:
                ok(f"{a['alert']}: tests fail with '{new}'")


def check_routing():
    print("severities route to the document's notification methods")
    am = yaml.safe_load(open(AM, encoding="utf-8"))
    receivers = {}
    for r in am["receivers"]:
        kinds = set()
        if r.get("pagerduty_configs"):
            kinds.add("pagerduty")
        if r.get("slack_configs"):
            kinds.add("slack")
        if r.get("email_configs"):
            kinds.add("email")
        for w in r.get("webhook_configs", []):
            if w["url"].endswith("/sms"):
                kinds.add("sms")
        receivers[r["name"]] = kinds
    used = set()
    for a in alerts():
        sev = a.get("labels", {}).get("severity")
        if sev not in SEVERITY_INTEGRATIONS:
            fail(f"{a['alert']}: severity {sev!r} is not one of the document's")
            continue
        used.add(sev)
    for sev, want in SEVERITY_INTEGRATIONS.items():
        out = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={AM}", f"severity={sev}",
                              "alertname=Test"], capture_output=True, text=True)
        receiver = out.stdout.strip()
        got = receivers.get(receiver)
        if got != want:
            fail(f"severity={sev} routes to {receiver!r} with {sorted(got or [])}, want {sorted(want)}")
        else:
            ok(f"severity={sev} → {receiver} ({' + '.join(sorted(want))})")
    if used != set(SEVERITY_INTEGRATIONS):
        print(f"  note severities used by the rules: {sorted(used)}")


def metric_names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS or word.startswith("__"):
            continue
        names.add(word)
    return names


def base_name(name):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in HISTOGRAMS:
            return name[: -len(suffix)]
    return name


def exported_by_app():
    names = set()
    for path in glob.glob(os.path.join(ROOT, "crates", "**", "*.rs"), recursive=True):
        text = open(path, encoding="utf-8").read()
        names |= set(re.findall(r'metrics::(?:counter|gauge|histogram)!\(\s*"([a-zA-Z0-9_:]+)"', text))
    return names


def must_add():
    text = open(README, encoding="utf-8").read()
    m = re.search(r"^## Metrics the app must add\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not m:
        fail("deploy/README.md has no '## Metrics the app must add' section")
        return set()
    return set(re.findall(r"^- `([a-zA-Z0-9_:]+)(?:\{[^}]*\})?`", m.group(1), re.M))


def dashboard_exprs():
    out = []
    for path in DASHBOARDS:
        for p in json.load(open(path, encoding="utf-8"))["panels"]:
            for t in p.get("targets", []):
                out.append((os.path.basename(path), p["title"], t["expr"]))
    return out


def check_metrics():
    print("every metric used is exported by the app, node_exporter's, or listed as to add")
    app, todo = exported_by_app(), must_add()
    used = {}
    for a in alerts():
        for n in metric_names(a["expr"]):
            used.setdefault(base_name(n), set()).add(f"rule {a['alert']}")
    for dash, title, expr in dashboard_exprs():
        for n in metric_names(expr):
            used.setdefault(base_name(n), set()).add(f"{dash}: {title}")
    dd = yaml.safe_load(open(DATADOG, encoding="utf-8"))["instances"][0]["metrics"]
    dd_names = {m if isinstance(m, str) else next(iter(m)) for m in dd}
    app_used = set()
    for name, where in sorted(used.items()):
        if name == "up" or name.startswith("node_"):
            continue
        app_used.add(name)
        if name in app:
            continue
        if name in todo:
            continue
        fail(f"{name} (used by {', '.join(sorted(where))}) is neither exported by the app nor listed to add")
    for name in sorted(todo & app):
        print(f"  note {name} is now exported by the app: take it off deploy/README.md's list")
    ok(f"{len(app_used)} app metrics used: {len(app_used & app)} exported today, {len(app_used - app)} to add")
    for name in sorted(app_used):
        dd_name = name[: -len("_total")] if name.endswith("_total") else name
        if dd_name not in dd_names:
            fail(f"Datadog check does not collect {name} (as {dd_name})")
    for name in sorted(dd_names):
        full = {name, name + "_total"}
        if not full & (app | todo):
            fail(f"Datadog check collects {name}, which the app neither exports nor is to add")
    ok(f"Datadog OpenMetrics check collects all {len(app_used)} (+ {len(dd_names - {n[:-6] if n.endswith('_total') else n for n in app_used})} more)")


def check_dashboard_promql():
    print("every dashboard query is valid PromQL")
    exprs = dashboard_exprs()
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{i}", "expr": e.replace("$__range", "1h")} for i, (_, _, e) in enumerate(exprs)
    ]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump(rules, f)
        path = f.name
    try:
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        fail("dashboard queries do not parse:\n" + r.stdout + r.stderr)
    else:
        ok(f"{len(exprs)} queries in {len(DASHBOARDS)} dashboards parse")


def main():
    check_thresholds()
    check_tests_have_teeth()
    check_routing()
    check_metrics()
    check_dashboard_promql()
    if failures:
        print(f"monitoring: {len(failures)} problem(s)")
        return 1
    print("monitoring: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
