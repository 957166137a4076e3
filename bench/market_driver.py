#!/usr/bin/env python3
"""The client side of bench/market: drives a release `plumberleads serve` whose database
bench/market-seed.sql filled with active, funded pros, and measures the marketplace end to end.

  run     logs a sample of pros in, opens their live streams (`GET /api/v1/pro/stream`), verifies
          leads at a fixed rate and times verification -> `offer.created` on a watched stream;
          then claims through the API: (a) many leads, each claimed by the pros it was offered to,
          (b) hot leads offered to many pros who all claim at the same instant. Writes JSON.
  report  prints the table from that JSON and bench/market's pgbench figures.

The leads are submitted (POST /api/v1/leads with a partner key) before the timed phase and their
codes read from the dev SMS outbox, so the timed phase is verifications only: what it measures is
the road from a verified lead to an offer on a pro's screen, not intake (bench/leads has that).
Latency is open-loop: verifications are sent on a fixed schedule whatever the answers do, so a
slow server shows up as latency rather than as a lower rate.
"""

import argparse
import asyncio
import json
import math
import os
import random
import re
import sys
import time

import aiohttp
import psycopg

try:
    import uvloop
except ImportError:  # the standard loop works, a little slower
    uvloop = None

# Real area codes of the seed's metros, in bench.metros order (n = 0..9), so each lead's number
# looks like a local one; intake refuses duplicates, so every lead gets a number of its own.
AREA_CODES = ["612", "312", "212", "213", "713", "602", "215", "210", "619", "214"]
# Urgencies as homeowners pick them, roughly: emergencies change the offer's time to claim and
# need the pro's 24/7 flag (the seed sets it), so they take matching's other branch.
URGENCIES = ["within_48h"] * 14 + ["emergency"] * 3 + ["flexible"] * 3
CODE = re.compile(r"code is (\d{6})")


def now():
    return time.perf_counter()


def pct(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s), math.ceil(p / 100.0 * len(s))) - 1)]


def summary(values):
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "mean": sum(values) / len(values),
        "p50": pct(values, 50),
        "p90": pct(values, 90),
        "p99": pct(values, 99),
        "max": max(values),
    }


def phone_for(metro, k):
    """The k-th number of a metro: NPA-NXX-XXXX with NXX 200..899, leaving out N11 and 555."""
    exchanges = [x for x in range(200, 900) if x % 100 != 11 and x != 555]
    return f"+1{AREA_CODES[metro]}{exchanges[(k // 10000) % len(exchanges)]:03d}{k % 10000:04d}"


class Feeds:
    """Every watched stream's events, as they arrive: each `offer.created` once, with its lead,
    pro and arrival time, and a count of every kind."""

    def __init__(self):
        self.offer_seen = {}  # offer id -> (lead id, pro id, arrival)
        self.kinds = {}
        self.opened = 0
        self.refused = 0
        self.dropped = 0
        self.bytes = 0

    def on_event(self, pro, kind, data, at):
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind != "offer.created":
            return
        try:
            offer = json.loads(data)
        except ValueError:
            return
        lead, offer_id = offer.get("lead_id"), offer.get("id")
        if lead and offer_id and offer_id not in self.offer_seen:
            self.offer_seen[offer_id] = (lead, pro, at)


async def watch(session, base, pro, token, feeds, ready, stop):
    """One pro's live stream, reconnecting with Last-Event-ID if it ends (it should not)."""
    last_id = None
    first = True
    while not stop.is_set():
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        try:
            async with session.get(f"{base}/api/v1/pro/stream", headers=headers) as r:
                if r.status != 200:
                    feeds.refused += 1
                    if first:
                        ready.release()
                    return
                feeds.opened += 1
                if first:
                    ready.release()
                    first = False
                kind, data = None, []
                async for raw in r.content:
                    feeds.bytes += len(raw)
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if not line:
                        if kind and data:
                            feeds.on_event(pro, kind, "\n".join(data), now())
                        kind, data = None, []
                        continue
                    if line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        kind = value
                    elif name == "data":
                        data.append(value)
                    elif name == "id":
                        last_id = value
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        if first:
            feeds.refused += 1
            ready.release()
            return
        if not stop.is_set():
            feeds.dropped += 1
            await asyncio.sleep(0.2)


class Driver:
    def __init__(self, args):
        self.a = args
        self.base = args.base.rstrip("/")
        self.results = {"settings": {k: v for k, v in vars(args).items() if k not in ("partner_key", "password")}}
        self.upkeep_runs = []
        self.autovacuum_off = False

    async def db(self):
        return await psycopg.AsyncConnection.connect(self.a.db, autocommit=True)

    async def query(self, sql, params=None):
        async with await self.db() as c:
            cur = await c.execute(sql, params)
            return await cur.fetchall() if cur.description else cur.rowcount

    # --- setting up -----------------------------------------------------------------------

    async def login_sample(self, session):
        """Logs in a random sample of bulk pros (Argon2 verification: a few at a time)."""
        rows = await self.query(
            """SELECT p.id::text, u.email, p.metro FROM bench.pros p JOIN identity.users u ON u.id = p.id
               ORDER BY random() LIMIT %s""",
            (self.a.streams,),
        )
        tokens, failed = {}, 0
        sem = asyncio.Semaphore(4)

        async def one(pro, email):
            nonlocal failed
            async with sem:
                async with session.post(
                    f"{self.base}/api/v1/auth/login", json={"email": email, "password": self.a.password}
                ) as r:
                    if r.status == 200:
                        tokens[pro] = (await r.json())["access_token"]
                    else:
                        failed += 1

        started = now()
        await asyncio.gather(*(one(pro, email) for pro, email, _ in rows))
        self.results["login"] = {"pros": len(tokens), "failed": failed, "seconds": now() - started}
        return tokens

    async def prepare_leads(self, session, count):
        """Submits `count` leads as a partner and reads their texted codes from the dev outbox."""
        zips = await self.query("SELECT metro, zip FROM bench.lead_zips ORDER BY metro, zip")
        by_metro = {}
        for metro, z in zips:
            by_metro.setdefault(metro, []).append(z)
        categories = [r[0] for r in await self.query("SELECT slug FROM categories WHERE active ORDER BY sort_order")]
        rng = random.Random(self.a.seed)
        counters = [0] * 10
        leads = []
        for i in range(count):
            metro = i % 10
            counters[metro] += 1
            leads.append(
                {
                    "metro": metro,
                    "zip": rng.choice(by_metro[metro]),
                    "category": rng.choice(categories),
                    "urgency": rng.choice(URGENCIES),
                    "phone": phone_for(metro, counters[metro]),
                }
            )
        headers = {"Authorization": f"Bearer {self.a.partner_key}"}
        sem = asyncio.Semaphore(32)
        refused = {}

        async def submit(lead):
            body = {
                "name": "Bench Homeowner",
                "phone": lead["phone"],
                "zip": lead["zip"],
                "category": lead["category"],
                "urgency": lead["urgency"],
                "description": "Benchmark request: water under the kitchen sink, please call",
                "consent": True,
            }
            async with sem:
                async with session.post(f"{self.base}/api/v1/leads", json=body, headers=headers) as r:
                    if r.status == 201:
                        lead["id"] = (await r.json())["id"]
                    else:
                        refused[r.status] = refused.get(r.status, 0) + 1

        started = now()
        await asyncio.gather(*(submit(lead) for lead in leads))
        submitted = now() - started
        leads = [lead for lead in leads if "id" in lead]
        # The codes go out through the job queue: wait for every one to reach the outbox.
        wanted = {lead["phone"]: lead for lead in leads}
        deadline = now() + 300
        while True:
            rows = await self.query("SELECT to_number, body FROM dev_sms_outbox WHERE body LIKE '%code is%'")
            for number, body in rows:
                m = CODE.search(body)
                if m and number in wanted:
                    wanted[number]["code"] = m.group(1)
            if all("code" in lead for lead in leads) or now() > deadline:
                break
            await asyncio.sleep(0.5)
        leads = [lead for lead in leads if "code" in lead]
        self.results["prepare"] = {
            "submitted": len(leads),
            "refused": refused,
            "submit_seconds": submitted,
            "codes_seconds": now() - started - submitted,
        }
        return leads

    async def wait_idle(self, limit=600.0):
        """Until no job is due or running (texts, e-mails, distribution looks)."""
        started = now()
        while now() - started < limit:
            n = (await self.query("SELECT count(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= now())"))[0][0]
            if n == 0:
                return now() - started
            await asyncio.sleep(0.5)
        return now() - started

    async def verify(self, session, lead, record):
        headers = {"Authorization": f"Bearer {self.a.partner_key}"}
        lead["sent"] = now()
        try:
            async with session.post(
                f"{self.base}/api/v1/leads/{lead['id']}/verification", json={"code": lead["code"]}, headers=headers
            ) as r:
                await r.read()
                lead["status"] = r.status
        except aiohttp.ClientError as e:
            lead["status"] = type(e).__name__
        lead["answered"] = now()
        record.append(lead)

    # --- upkeep ---------------------------------------------------------------------------------

    async def autovacuum_is_off(self):
        return (await self.query("SHOW autovacuum"))[0][0] == "off"

    async def upkeep(self, stop=None):
        """VACUUM (ANALYZE) of the tables the run churns, as autovacuum would do them in production.
        This machine's PostgreSQL runs with autovacuum off: without it the planner keeps the plans
        it made while offers and purchases were empty (per-pro sequential scans of offers inside
        matching, seconds a lead once there are a few thousand), and the job queue's dead rows pile
        up. Once when `stop` is None; else every --upkeep seconds until `stop` is set."""
        tables = "jobs, leads, offers, purchases, pros, ledger_accounts, pro_events, pro_changes, match_exclusions, lead_events, ledger_entries, lead_verifications, identity.sessions"
        async with await self.db() as c:
            while True:
                t = now()
                await c.execute(f"VACUUM (ANALYZE) {tables}")
                self.upkeep_runs.append(now() - t)
                if stop is None:
                    return
                try:
                    await asyncio.wait_for(stop.wait(), self.a.upkeep)
                    return
                except asyncio.TimeoutError:
                    pass

    # --- 1. verified lead -> offer on the stream ----------------------------------------------

    async def sampler(self, stop, series):
        """Once a second: distribution's backlog (due look jobs) and the oldest due job's age, and
        how late this client's own event loop runs (its lateness adds to every latency)."""
        async with await self.db() as c:
            while not stop.is_set():
                cur = await c.execute(
                    """SELECT count(*) FILTER (WHERE kind = 'distribute_lead'),
                              count(*),
                              coalesce(extract(epoch FROM now() - min(run_at)), 0)
                       FROM jobs WHERE state = 'queued' AND run_at <= now()"""
                )
                looks, due, oldest = await cur.fetchone()
                t = now()
                await asyncio.sleep(1.0)
                series.append({"looks_due": looks, "jobs_due": due, "oldest_due_s": float(oldest),
                               "loop_lag_s": max(0.0, now() - t - 1.0)})

    async def activity(self, stop, counts):
        """Where the database's time goes, sampled: every 50 ms, what each busy backend of this
        database is running (pg_stat_statements would need a PostgreSQL restart on a shared
        machine). A statement's share of the samples is its share of the time backends were busy."""
        async with await self.db() as c:
            while not stop.is_set():
                cur = await c.execute(
                    """SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), coalesce(wait_event_type, 'CPU')
                       FROM pg_stat_activity
                       WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"""
                )
                for query, wait in await cur.fetchall():
                    key = (query.strip(), wait)
                    counts[key] = counts.get(key, 0) + 1
                counts[("", "samples")] = counts.get(("", "samples"), 0) + 1
                await asyncio.sleep(0.05)

    def cpu(self):
        """CPU seconds so far: the server, every PostgreSQL process, this driver."""
        tick = os.sysconf("SC_CLK_TCK")

        def of(pid):
            try:
                f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                return (int(f[11]) + int(f[12])) / tick
            except (OSError, IndexError, ValueError):
                return 0.0

        pg = 0.0
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if open(f"/proc/{pid}/comm").read().strip() == "postgres":
                        pg += of(pid)
                except OSError:
                    pass
        t = os.times()
        return {"server": of(self.a.server_pid) if self.a.server_pid else 0.0, "postgres": pg,
                "driver": t.user + t.system, "wall": now()}

    async def send_at_rate(self, session, leads, rate):
        """Open loop: verification i goes at t0 + i/rate whatever earlier answers did."""
        done, tasks = [], []
        t0 = now()
        for i, lead in enumerate(leads):
            delay = t0 + i / rate - now()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.verify(session, lead, done)))
        await asyncio.gather(*tasks)
        return now() - t0

    async def withdraw_backlog(self):
        """Looks still due after the drain limit are withdrawn, so the claim phases start on an
        idle queue; their leads stay `verified`, never offered, and are counted as such."""
        return await self.query(
            """DELETE FROM jobs WHERE kind = 'distribute_lead' AND state = 'queued' AND run_at <= now()
                 AND (payload ->> 'lead_id')::uuid IN (SELECT id FROM leads WHERE status = 'verified')"""
        )

    async def stream_phase(self, session, warmup, leads, feeds):
        rate, dur = self.a.rate, self.a.duration
        # Warm-up: the pool's connections prepare their statements, the caches fill, and the
        # first offers exist before the planner's statistics are taken.
        if warmup:
            await self.send_at_rate(session, warmup, rate)
            await self.wait_idle(self.a.drain)
        if self.autovacuum_off:
            await self.upkeep()
        series, stop, upkeep_stop, counts = [], asyncio.Event(), asyncio.Event(), {}
        sampler = asyncio.create_task(self.sampler(stop, series))
        activity = asyncio.create_task(self.activity(stop, counts))
        cpu0 = self.cpu()
        upkeep = asyncio.create_task(self.upkeep(upkeep_stop)) if self.autovacuum_off else None
        sending = await self.send_at_rate(session, leads, rate)
        # Let distribution catch up (up to --drain seconds), then give the last events time to
        # reach the streams.
        drain = await self.wait_idle(self.a.drain)
        cpu1 = self.cpu()
        await asyncio.sleep(2.0)
        stop.set()
        upkeep_stop.set()
        await sampler
        await activity
        if upkeep:
            await upkeep
        withdrawn = await self.withdraw_backlog()

        ok = [lead for lead in leads if lead.get("status") == 200]
        sent_at = {lead["id"]: lead["sent"] for lead in ok}
        # Only offers of a lead's first batch count: a later batch (after the first one expired,
        # 5 minutes for an emergency) is not what verification -> offer means.
        seen = {o: v for o, v in feeds.offer_seen.items() if v[0] in sent_at}
        first_batch = {r[0] for r in await self.query(
            "SELECT id::text FROM offers WHERE id = ANY(%s::uuid[]) AND batch = 1", (list(seen),))}
        per_offer, first = [], {}
        for offer, (lead, _pro, at) in seen.items():
            if offer in first_batch:
                per_offer.append((at - sent_at[lead]) * 1000)
                first[lead] = min(first.get(lead, at), at)
        per_lead = [(at - sent_at[lead]) * 1000 for lead, at in first.items()]
        rows = await self.query(
            """SELECT l.id, l.status::text, extract(epoch FROM o.first - l.verified_at) * 1000,
                      coalesce(o.offers, 0), (SELECT coalesce(sum(cardinality(e.pro_ids)), 0) FROM match_exclusions e WHERE e.lead_id = l.id),
                      extract(epoch FROM l.verified_at), extract(epoch FROM o.first)
               FROM leads l
               LEFT JOIN LATERAL (SELECT count(*) AS offers, min(created_at) AS first FROM offers WHERE lead_id = l.id) o ON true
               WHERE l.id = ANY(%s::uuid[])""",
            ([lead["id"] for lead in ok],),
        )
        offered = [r for r in rows if r[3] > 0]
        # Server side, every lead: verified_at -> its first offers. A lead distribution had not
        # reached by the drain limit counts as infinitely late, so p99 is honest about a backlog.
        server = [float(r[2]) if r[2] is not None else float("inf") for r in rows]
        span = (max(float(r[6]) for r in offered) - min(float(r[5]) for r in rows)) if offered else None
        statuses = {}
        for lead in leads:
            statuses[str(lead.get("status"))] = statuses.get(str(lead.get("status")), 0) + 1
        self.results["stream"] = {
            "rate": rate,
            "warmup_leads": len(warmup),
            "duration_s": dur,
            "sent": len(leads),
            "send_seconds": sending,
            "achieved_rate": len(leads) / sending if sending else None,
            "verified_ok": len(ok),
            "statuses": statuses,
            "verify_ms": summary([(lead["answered"] - lead["sent"]) * 1000 for lead in leads]),
            "first_offer_per_lead_ms": summary(per_lead),
            "per_offer_ms": summary(per_offer),
            "server_verified_to_offer_ms": summary(server),
            "leads_distributed_db": sum(1 for r in rows if r[1] in ("offered", "sold", "unsold")),
            "leads_with_offers_db": len(offered),
            "offers_db": sum(int(r[3]) for r in rows),
            "candidates_per_lead": sum(int(r[3]) + int(r[4]) for r in offered) / len(offered) if offered else None,
            "distributed_per_s": len(offered) / span if span else None,
            "drain_seconds": drain,
            "looks_withdrawn": withdrawn,
            "upkeep_runs": len(self.upkeep_runs),
            "upkeep_seconds": sum(self.upkeep_runs),
            "cpu_seconds": {k: cpu1[k] - cpu0[k] for k in cpu0},
            "db_activity": {
                "samples": counts.pop(("", "samples"), 0),
                "top": [{"query": q, "wait": w, "samples": n}
                        for (q, w), n in sorted(counts.items(), key=lambda kv: -kv[1])[:12]],
            },
            "backlog": series,
            "max_looks_due": max((s["looks_due"] for s in series), default=0),
            "max_oldest_due_s": max((s["oldest_due_s"] for s in series), default=0),
            "max_loop_lag_ms": 1000 * max((s["loop_lag_s"] for s in series), default=0),
        }

    # --- 3. claims through the API ------------------------------------------------------------

    async def claim(self, session, token, offer_id, out):
        t = now()
        try:
            async with session.post(
                f"{self.base}/api/v1/pro/offers/{offer_id}/claim", headers={"Authorization": f"Bearer {token}"}
            ) as r:
                body = await r.read()
                status = r.status
                kind = ""
                if status != 200:
                    try:
                        kind = json.loads(body).get("type", "")
                    except ValueError:
                        pass
        except aiohttp.ClientError as e:
            status, kind = type(e).__name__, ""
        out.append((status, kind, (now() - t) * 1000, t))

    async def verify_and_wait(self, session, leads, rate):
        """Verifies `leads` at `rate` a second and waits until distribution has looked at them all."""
        await self.send_at_rate(session, leads, rate)
        await self.wait_idle(self.a.drain)

    async def claims_distinct(self, session, tokens, leads):
        """(a) Each lead claimed by every pro it was offered to, many leads at once, in random
        order: max_buyers of each lead's offers succeed, the rest are told it sold out."""
        await self.verify_and_wait(session, leads, self.a.rate)
        if self.autovacuum_off:
            await self.upkeep()
        rows = await self.query(
            "SELECT id::text, pro_id::text FROM offers WHERE lead_id = ANY(%s::uuid[]) AND status = 'pending'",
            ([lead["id"] for lead in leads],),
        )
        rows = [(o, p) for o, p in rows if p in tokens]
        random.Random(self.a.seed).shuffle(rows)
        sem = asyncio.Semaphore(self.a.claim_concurrency)
        out = []

        async def one(offer, pro):
            async with sem:
                await self.claim(session, tokens[pro], offer, out)

        t0 = now()
        await asyncio.gather(*(one(o, p) for o, p in rows))
        elapsed = now() - t0
        self.results["claims_distinct"] = self.claim_stats(out, elapsed, len(leads))

    async def claims_hot(self, session, tokens, leads):
        """(b) One lead offered to `hot_pros` pros at once (distribution's batch, plus offers added
        by SQL to other logged-in pros: distribution itself offers a shared lead to 2 x max_buyers),
        every one of them claiming at the same instant. Repeated for each hot lead."""
        runs, out_all = [], []
        pros = list(tokens)
        rng = random.Random(self.a.seed + 1)
        for lead in leads:
            await self.verify_and_wait(session, [lead], 10)
            async with await self.db() as c:
                cur = await c.execute(
                    "SELECT pro_id::text FROM offers WHERE lead_id = %s AND status = 'pending'", (lead["id"],)
                )
                offered = {r[0] for r in await cur.fetchall()}
                extra = [p for p in rng.sample(pros, min(len(pros), self.a.hot_pros + len(offered))) if p not in offered]
                extra = extra[: max(0, self.a.hot_pros - len(offered))]
                await c.execute(
                    """INSERT INTO offers (id, lead_id, pro_id, batch, base_cents, urgency_bps, exclusive_bps, price_cents,
                                           distance_miles, score, score_distance, score_responsiveness, score_rating,
                                           score_fairness, created_at, expires_at)
                       SELECT gen_random_uuid(), o.lead_id, p, o.batch, o.base_cents, o.urgency_bps, o.exclusive_bps,
                              o.price_cents, o.distance_miles, o.score, o.score_distance, o.score_responsiveness,
                              o.score_rating, o.score_fairness, o.created_at, o.expires_at
                       FROM (SELECT * FROM offers WHERE lead_id = %s ORDER BY id LIMIT 1) o, unnest(%s::uuid[]) AS p""",
                    (lead["id"], extra),
                )
                cur = await c.execute(
                    "SELECT id::text, pro_id::text FROM offers WHERE lead_id = %s AND status = 'pending'", (lead["id"],)
                )
                offers = [(o, p) for o, p in await cur.fetchall() if p in tokens]
                cur = await c.execute("SELECT max_buyers FROM leads WHERE id = %s", (lead["id"],))
                max_buyers = (await cur.fetchone())[0]
            go, out = asyncio.Event(), []

            async def one(offer, pro):
                await go.wait()
                await self.claim(session, tokens[pro], offer, out)

            tasks = [asyncio.create_task(one(o, p)) for o, p in offers]
            await asyncio.sleep(0.2)  # every task is parked on the event
            t0 = now()
            go.set()
            await asyncio.gather(*tasks)
            elapsed = now() - t0
            ok = sum(1 for s, *_ in out if s == 200)
            runs.append({"offers": len(offers), "max_buyers": max_buyers, "ok": ok, "seconds": elapsed})
            out_all.extend(out)
            await self.wait_idle(30)
        stats = self.claim_stats(out_all, sum(r["seconds"] for r in runs), len(leads))
        stats["runs"] = runs
        stats["oversold"] = sum(1 for r in runs if r["ok"] > r["max_buyers"])
        self.results["claims_hot"] = stats

    @staticmethod
    def claim_stats(out, elapsed, leads):
        statuses = {}
        for status, kind, _ms, _t in out:
            key = f"{status} {kind.rsplit('/', 1)[-1]}".strip()
            statuses[key] = statuses.get(key, 0) + 1
        ok = [ms for s, _k, ms, _t in out if s == 200]
        return {
            "leads": leads,
            "claims": len(out),
            "seconds": elapsed,
            "claims_per_s": len(out) / elapsed if elapsed else None,
            "purchases_per_s": len(ok) / elapsed if elapsed else None,
            "statuses": statuses,
            "latency_ms": summary([ms for _s, _k, ms, _t in out]),
            "ok_latency_ms": summary(ok),
        }

    async def server_histograms(self, session, names):
        """Mean and bucket-bound p50/p99 (ms) of the server's own histograms, from /metrics."""
        async with session.get(f"{self.base}/metrics") as res:
            text = await res.text()
        out = {}
        for name in names:
            buckets, total, count = [], 0.0, 0.0
            for line in text.splitlines():
                if line.startswith(name + "_bucket{"):
                    le = line.split('le="', 1)[1].split('"', 1)[0]
                    buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
                elif line.startswith(name + "_sum"):
                    total = float(line.rsplit(" ", 1)[1])
                elif line.startswith(name + "_count"):
                    count = float(line.rsplit(" ", 1)[1])
            buckets.sort()

            def bound(q):
                return next((le * 1000 for le, n in buckets if n >= q * count), None) if count else None

            out[name] = {"n": int(count), "mean": total / count * 1000 if count else None,
                         "p50_le": bound(0.5), "p99_le": bound(0.99)}
        return out

    # --- the run -------------------------------------------------------------------------------

    async def run(self):
        a = self.a
        stream_conn = aiohttp.TCPConnector(limit=0)
        req_conn = aiohttp.TCPConnector(limit=max(256, a.hot_pros + 16))
        no_timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=stream_conn, timeout=no_timeout) as streams, aiohttp.ClientSession(
            connector=req_conn, timeout=timeout
        ) as session:
            tokens = await self.login_sample(session)
            print(f"  logged in {len(tokens)} pros in {self.results['login']['seconds']:.1f}s", file=sys.stderr)
            feeds, stop = Feeds(), asyncio.Event()
            ready = asyncio.Semaphore(0)
            watchers = [asyncio.create_task(watch(streams, self.base, pro, tok, feeds, ready, stop))
                        for pro, tok in tokens.items()]
            for _ in watchers:
                await ready.acquire()
            print(f"  {feeds.opened} streams open ({feeds.refused} refused)", file=sys.stderr)
            self.results["streams"] = {"opened": feeds.opened, "refused": feeds.refused}

            self.autovacuum_off = await self.autovacuum_is_off()
            warm, timed = int(a.rate * a.warmup), int(a.rate * a.duration)
            total = warm + timed + a.claim_leads + a.hot_leads
            leads = await self.prepare_leads(session, total)
            print(f"  {len(leads)} leads submitted, codes read", file=sys.stderr)
            await self.wait_idle()

            await self.stream_phase(session, leads[:warm], leads[warm:warm + timed], feeds)
            self.results["in_server"] = await self.server_histograms(
                session, ("distribution_matching_seconds", "roster_refresh_seconds"))
            s = self.results["stream"]
            print(f"  verified {s['verified_ok']} leads at {s['achieved_rate']:.0f}/s; distribution offered "
                  f"{s['leads_with_offers_db']} ({s['looks_withdrawn']} looks withdrawn after the drain limit); "
                  f"{s['first_offer_per_lead_ms']['n']} seen on the watched streams", file=sys.stderr)

            # The claim phases need every offer to go to a pro whose token we hold: the others
            # are paused meanwhile (matching still reads them all, and records why they were left out).
            paused = await self.query(
                "UPDATE pros SET paused = true WHERE NOT paused AND user_id <> ALL(%s::uuid[])", (list(tokens),)
            )
            try:
                rest = leads[warm + timed:]
                await self.claims_distinct(session, tokens, rest[: a.claim_leads])
                c = self.results["claims_distinct"]
                print(f"  claims (a): {c['claims']} in {c['seconds']:.2f}s", file=sys.stderr)
                await self.claims_hot(session, tokens, rest[a.claim_leads: a.claim_leads + a.hot_leads])
                c = self.results["claims_hot"]
                print(f"  claims (b): {c['claims']} in {c['seconds']:.2f}s", file=sys.stderr)
            finally:
                await self.query("UPDATE pros SET paused = false WHERE paused AND user_id <> ALL(%s::uuid[])",
                                 (list(tokens),))
            self.results["paused_during_claims"] = paused
            stop.set()
            for w in watchers:
                w.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            self.results["streams"].update({"dropped": feeds.dropped, "events": feeds.kinds, "bytes": feeds.bytes})
        with open(a.out, "w") as f:
            json.dump(self.results, f, indent=1, default=float)


# --- report -------------------------------------------------------------------------------------


def report(path, extra_path):
    r = json.load(open(path))
    x = json.load(open(extra_path)) if extra_path else {}
    s = r["stream"]

    def fmt(v, d=1):
        if v is None or v != v:
            return "-"
        return "inf" if v == float("inf") else f"{v:.{d}f}"

    def dur(v):
        # Milliseconds, or seconds once they run to tens of thousands (a backlog's latency).
        if v is not None and v == v and v != float("inf") and v >= 10000:
            return f"{v / 1000:.1f} s"
        return f"{fmt(v)} ms"

    def ms(stats):
        return f"p50 {dur(stats.get('p50'))}  p99 {dur(stats.get('p99'))}  (n={stats.get('n', 0)})"

    print()
    print(f"marketplace: {x.get('pros', '?')} active funded pros in 10 metros, {r['streams']['opened']} live streams "
          f"watched; {s['rate']:g} verified leads/s for {s['duration_s']:g} s after {s['warmup_leads']} warm-up leads; "
          f"pool {x.get('pool', '?')}, job slots {x.get('jobs', '?')}, pros' offer texts/e-mails {x.get('notices', '?')}; "
          f"build {x.get('commit', '?')}")
    rows = [
        ("1. verification sent -> offer.created on a watched stream (first per lead)", ms(s["first_offer_per_lead_ms"]), "p99 < 250 ms"),
        ("   every offer.created seen (per offer)", ms(s["per_offer_ms"]), ""),
        ("   server side, every lead: verified_at -> first offer (not offered = inf)", ms(s["server_verified_to_offer_ms"]), ""),
        ("   verifications: sent, rate, answers",
         f"{s['sent']} at {fmt(s['achieved_rate'])}/s, {s['statuses']}; answer {ms(s['verify_ms'])}", ""),
        ("   leads offered (DB) / offers made / looks left undone at the drain limit",
         f"{s['leads_with_offers_db']} of {s['verified_ok']} / {s['offers_db']} / {s['looks_withdrawn']}", ""),
        ("   distribution throughput, candidates read per lead",
         f"{fmt(s['distributed_per_s'])} leads/s, {fmt(s['candidates_per_lead'], 0)} candidates (offers + exclusions)", ""),
        ("   backlog: most looks due, oldest due job, drained after",
         f"{s['max_looks_due']}, {fmt(s['max_oldest_due_s'])} s, {fmt(s['drain_seconds'])} s after the last send", ""),
        ("   CPU seconds from the first verification to drained (wall x 2 cores available)",
         "server {server:.1f}, PostgreSQL {postgres:.1f}, driver {driver:.1f} of {cap:.0f}".format(
             cap=2 * s["cpu_seconds"]["wall"], **s["cpu_seconds"]), ""),
        ("   client event-loop lag (max); VACUUM ANALYZE runs (autovacuum stand-in)",
         f"{fmt(s['max_loop_lag_ms'])} ms; {s['upkeep_runs']} taking {fmt(s['upkeep_seconds'])} s", ""),
    ]
    for name, title, target in (
        ("distribution_matching_seconds", "2. matching one lead in the server (coverage from the roster, its query, rules, rank)", "< 5 ms"),
        ("roster_refresh_seconds", "   the roster's read of changed pros before each look", ""),
    ):
        h = (r.get("in_server") or {}).get(name) or {}
        rows.append((title, f"mean {fmt(h.get('mean'), 2)} ms  p50 <= {fmt(h.get('p50_le'), 1)} ms  "
                            f"p99 <= {fmt(h.get('p99_le'), 1)} ms  (n={h.get('n', 0)}, /metrics buckets)", target))
    m = x.get("match") or {}
    rows.append(("   its one query: offered already, bought from the phone (pgbench, 1 client)",
                 f"mean {fmt(m.get('mean_ms'), 2)} ms  p99 {fmt(m.get('p99_ms'), 2)} ms  "
                 f"({m.get('candidates', '?')} pros cover ZIP {m.get('zip', '?')}; {m.get('runs', '?')} runs)", ""))
    for key, title in (("claims_distinct", "3a. claims, distinct offers (HTTP)"), ("claims_hot", "3b. claims, hot lead (HTTP)")):
        c = r.get(key)
        if not c:
            continue
        rows.append((title, f"{fmt(c['claims_per_s'], 0)} claims/s, {fmt(c['purchases_per_s'], 0)} purchases/s "
                            f"({c['claims']} claims on {c['leads']} leads in {fmt(c['seconds'], 2)} s)", ""))
        rows.append(("    answers", ", ".join(f"{k}: {v}" for k, v in sorted(c["statuses"].items())), ""))
        rows.append(("    latency", ms(c["latency_ms"]), ""))
        if key == "claims_hot" and c.get("runs"):
            rows.append(("    per hot lead", f"{c['runs'][0]['offers']} pros claiming at once; leads over max_buyers: "
                                             f"{c['oversold']} of {len(c['runs'])}", "0"))
    p = x.get("pgbench_claims") or {}
    rows.append(("3c. pgbench: a claim's SQL on fresh rows (no HTTP)",
                 f"{fmt(p.get('tps'), 0)} claims/s, mean {fmt(p.get('latency_ms'), 2)} ms, "
                 f"{p.get('clients', '?')} clients, {p.get('failed', '?')} failed", ""))
    rows.append(("4. server peak RSS", f"{x.get('rss_mib', '?')} MiB", ""))
    rows.append(("   admin ledger-check", x.get("ledger", "?"), "sound"))
    width = max(len(t) for t, _, _ in rows)
    for title, value, target in rows:
        print(f"  {title:<{width}}  {value}" + (f"   [target {target}]" if target else ""))
    act = s.get("db_activity") or {}
    busy = sum(t["samples"] for t in act.get("top", []))
    if act.get("samples"):
        print(f"\n  where PostgreSQL's time went in phase 1 (busy backends sampled every 50 ms, {act['samples']} samples;"
              f" mean {sum(t['samples'] for t in act['top']) / act['samples']:.1f} busy in the top statements):")
        for t in act["top"][:8]:
            print(f"    {100 * t['samples'] / busy:5.1f}%  {t['wait']:<8} {t['query']}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--db", required=True, help="libpq URL of the bench database")
    r.add_argument("--partner-key", required=True)
    r.add_argument("--password", required=True, help="the demo plumber's password, shared by the bulk pros")
    r.add_argument("--rate", type=float, default=100)
    r.add_argument("--duration", type=float, default=30)
    r.add_argument("--warmup", type=float, default=5)
    r.add_argument("--drain", type=float, default=600, help="longest wait for distribution to catch up")
    r.add_argument("--upkeep", type=float, default=30, help="seconds between VACUUM ANALYZEs when autovacuum is off")
    r.add_argument("--streams", type=int, default=500)
    r.add_argument("--claim-leads", type=int, default=400)
    r.add_argument("--claim-concurrency", type=int, default=32)
    r.add_argument("--hot-leads", type=int, default=10)
    r.add_argument("--hot-pros", type=int, default=200)
    r.add_argument("--seed", type=int, default=13)
    r.add_argument("--server-pid", type=int, default=0, help="for the server's CPU time")
    r.add_argument("--out", required=True)
    q = sub.add_parser("report")
    q.add_argument("json")
    q.add_argument("extra", nargs="?")
    args = p.parse_args()
    if args.cmd == "report":
        report(args.json, args.extra)
        return
    if uvloop:
        uvloop.install()
    asyncio.run(Driver(args).run())


if __name__ == "__main__":
    main()
