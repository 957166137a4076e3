#!/usr/bin/env python3
"""Writes the Grafana dashboards (dashboards/*.json) from the panel lists below: the document's
Operations and Business dashboards. The JSON is committed; deploy/check runs this with --check
and fails when the committed files differ from what it would write.

    python3 deploy/monitoring/grafana/generate.py          # rewrite dashboards/*.json
    python3 deploy/monitoring/grafana/generate.py --check  # exit 1 if they are stale
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "dashboards")
DS = {"type": "prometheus", "uid": "${datasource}"}
# User traffic only: the load balancer's probes and the scrape are left out, as in the alerts.
USER = 'job="plumberleads",route!~"/health|/health/live|/metrics"'


def panel(title, targets, unit="short", kind="timeseries", thresholds=None, description="", stack=False):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }
    if thresholds is not None:
        steps = [{"color": "green", "value": None}] + [{"color": c, "value": v} for v, c in thresholds]
        p["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": steps}
        if kind == "timeseries":
            p["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
    if stack and kind == "timeseries":
        p["fieldConfig"]["defaults"].setdefault("custom", {})["stacking"] = {"mode": "normal"}
    return p


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def layout(items):
    """Rows take the full width; panels go two to a row, 12 wide and 8 high."""
    out, x, y, pid = [], 0, 0, 1
    for it in items:
        it = dict(it)
        it["id"] = pid
        pid += 1
        if it["type"] == "row":
            if x:
                y += 8
                x = 0
            it["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
        else:
            w = 6 if it["type"] == "stat" else 12
            if x + w > 24:
                x, y = 0, y + 8
            it["gridPos"] = {"h": 8 if w == 12 else 4, "w": w, "x": x, "y": y}
            x += w
            if it["type"] == "stat" and x >= 24:
                x, y = 0, y + 4
        out.append(it)
    return out


def dashboard(uid, title, items, tags):
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source",
                 "current": {}, "hide": 0}
            ]
        },
        "annotations": {"list": []},
        "panels": layout(items),
    }


OPERATIONS = [
    row("System health"),
    panel("Healthy app nodes", [('sum(health_status{job="plumberleads"})', "healthy")], kind="stat",
          description="Nodes answering /health with 200 (the load balancer's view)."),
    panel("Supabase (PostgreSQL) up", [('min(health_component_up{job="plumberleads",component="postgres"})', "postgres")],
          kind="stat", thresholds=[(1, "green")], description="0 = unreachable from at least one node."),
    panel("Redis up", [('min(health_component_up{job="plumberleads",component="redis"})', "redis")], kind="stat"),
    panel("Nodes scraped", [('sum(up{job="plumberleads"})', "app"), ('sum(up{job="node"})', "hosts")], kind="stat"),
    row("Application performance"),
    panel("Request rate by route", [(f"sum by (route) (rate(http_requests_total{{{USER}}}[5m]))", "{{route}}")],
          unit="reqps", stack=True),
    panel("Latency p50 / p99 and mean (alert: mean > 500 ms over 5 min)", [
        (f"histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{{{USER}}}[5m])))", "p50"),
        (f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{USER}}}[5m])))", "p99"),
        (f"sum(rate(http_request_duration_seconds_sum{{{USER}}}[5m])) / sum(rate(http_request_duration_seconds_count{{{USER}}}[5m]))", "mean"),
    ], unit="s", thresholds=[(0.5, "red")]),
    panel("p99 latency by route", [
        (f"histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{{{USER}}}[5m])))", "{{route}}"),
    ], unit="s"),
    row("Errors"),
    panel("Error rate, 5xx % of requests (alert: > 1 %)", [
        (f'100 * sum(rate(http_requests_total{{{USER},status=~"5.."}}[5m])) / sum(rate(http_requests_total{{{USER}}}[5m]))', "5xx %"),
    ], unit="percent", thresholds=[(1, "red")]),
    panel("Responses by status class", [
        (f'sum by (status) (rate(http_requests_total{{{USER},status=~"4..|5.."}}[5m]))', "{{status}}"),
    ], unit="reqps", stack=True),
    panel("Database connection errors in 5 min (alert: > 5)", [
        ('sum(increase(db_connection_errors_total{job="plumberleads"}[5m]))', "errors"),
    ], thresholds=[(5, "red")]),
    panel("Lead submissions refused, by reason", [
        ('sum by (reason) (rate(leads_rejected_total{job="plumberleads"}[5m]))', "{{reason}}"),
    ], unit="ops"),
    row("Database pool"),
    panel("PostgreSQL pool per node", [
        ('db_pool_connections{job="plumberleads"}', "{{instance}} open"),
        ('db_pool_idle_connections{job="plumberleads"}', "{{instance}} idle"),
        ('max(db_pool_max_connections{job="plumberleads"})', "max"),
    ]),
    panel("Pool in use, % of max", [
        ('100 * (db_pool_connections{job="plumberleads"} - db_pool_idle_connections{job="plumberleads"}) / db_pool_max_connections{job="plumberleads"}', "{{instance}}"),
    ], unit="percent", thresholds=[(80, "orange")]),
    row("Background jobs"),
    panel("Queue depth by state", [('max by (state) (jobs_queue_depth{job="plumberleads"})', "{{state}}")]),
    panel("Oldest due job's age (alert: > 5 min)", [('max(jobs_oldest_due_age_seconds{job="plumberleads"})', "age")],
          unit="s", thresholds=[(300, "red")]),
    panel("Job run time p95 by kind", [
        ('histogram_quantile(0.95, sum by (le, kind) (rate(jobs_run_seconds_bucket{job="plumberleads"}[5m])))', "{{kind}}"),
    ], unit="s"),
    panel("Notification delivery (e-mail, SMS)", [
        ('sum by (channel, outcome) (rate(messages_sent_total{job="plumberleads"}[5m]))', "{{channel}} {{outcome}}"),
        ('sum by (reason) (rate(jobs_dead_total{job="plumberleads"}[5m]))', "dead: {{reason}}"),
    ], unit="ops"),
    row("Resource utilisation"),
    panel("CPU % (alert: > 85 % for 5 min)", [
        ('100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="node",mode="idle"}[1m])))', "{{instance}}"),
    ], unit="percent", thresholds=[(85, "red")]),
    panel("Memory % (alert: > 90 % for 5 min)", [
        ('100 * (1 - node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"})', "{{instance}}"),
    ], unit="percent", thresholds=[(90, "red")]),
    panel("Disk % (alert: > 85 %)", [
        ('100 * (node_filesystem_size_bytes{job="node",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"} - node_filesystem_free_bytes{job="node",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"}) / (node_filesystem_size_bytes{job="node",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"} - node_filesystem_free_bytes{job="node",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"} + node_filesystem_avail_bytes{job="node",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs"})', "{{instance}} {{mountpoint}}"),
    ], unit="percent", thresholds=[(85, "red")]),
    panel("App resident memory", [('process_resident_memory_bytes{job="plumberleads"}', "{{instance}}")], unit="bytes"),
    panel("Network traffic", [
        ('sum by (instance) (rate(node_network_receive_bytes_total{job="node",device!="lo"}[5m]))', "{{instance}} in"),
        ('sum by (instance) (rate(node_network_transmit_bytes_total{job="node",device!="lo"}[5m]))', "{{instance}} out"),
    ], unit="Bps"),
]

BUSINESS = [
    row("Users"),
    panel("Registrations per day, by role", [
        ('sum by (role) (increase(accounts_registered_total{job="plumberleads"}[1d]))', "{{role}}"),
    ]),
    panel("Registrations, selected range", [('sum(increase(accounts_registered_total{job="plumberleads"}[$__range]))', "registrations")],
          kind="stat"),
    row("Leads"),
    panel("Leads submitted and verified per hour", [
        ('sum(increase(leads_submitted_total{job="plumberleads"}[1h]))', "submitted"),
        ('sum(increase(leads_verified_total{job="plumberleads"}[1h]))', "verified"),
    ]),
    panel("Verification rate (verified / submitted, 24 h)", [
        ('100 * sum(increase(leads_verified_total{job="plumberleads"}[24h])) / sum(increase(leads_submitted_total{job="plumberleads"}[24h]))', "verified %"),
    ], unit="percent"),
    panel("Leads verified by source", [
        ('sum by (source) (increase(leads_verified_total{job="plumberleads"}[1h]))', "{{source}}"),
    ], stack=True),
    panel("Submissions refused by reason", [
        ('sum by (reason) (increase(leads_rejected_total{job="plumberleads"}[1h]))', "{{reason}}"),
    ], stack=True),
    row("Conversion and revenue"),
    panel("Leads sold per hour", [('sum(increase(leads_sold_total{job="plumberleads"}[1h]))', "sold")]),
    panel("Conversion: leads sold / leads verified (24 h)", [
        ('100 * sum(increase(leads_sold_total{job="plumberleads"}[24h])) / sum(increase(leads_verified_total{job="plumberleads"}[24h]))', "sold %"),
    ], unit="percent"),
    panel("Revenue per day (lead sales)", [
        ('sum(increase(lead_sales_cents_total{job="plumberleads"}[1d])) / 100', "USD"),
    ], unit="currencyUSD"),
    panel("Wallet top-ups per day", [
        ('sum(increase(wallet_topups_cents_total{job="plumberleads"}[1d])) / 100', "USD"),
    ], unit="currencyUSD"),
    panel("Unmet demand: requests no plumber took, per day by job", [
        ('sum by (category) (increase(leads_unsold_total{job="plumberleads"}[1d]))', "{{category}}"),
    ], description="Confirmed requests whose sale window closed unsold (nobody covered them or nobody eligible "
                   "took them). The back office home lists the ZIPs and jobs.", stack=True),
]


def render():
    return {
        "operations.json": dashboard("plumberleads-operations", "PlumberLeads — Operations", OPERATIONS,
                                     ["plumberleads", "operations"]),
        "business.json": dashboard("plumberleads-business", "PlumberLeads — Business", BUSINESS,
                                   ["plumberleads", "business"]),
    }


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    os.makedirs(OUT, exist_ok=True)
    for name, dash in render().items():
        text = json.dumps(dash, indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(OUT, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != text:
            if check:
                stale.append(name)
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    if stale:
        print(f"grafana: {', '.join(stale)} differ from generate.py; run it and commit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
