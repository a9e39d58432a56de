"""`python -m bench.feed`: watchers of one lot on one API process, bids at a fixed rate.

For each scenario (watchers, bids/s): a fresh lot; bids at the rate with nobody watching (the
bid route's baseline); then the watchers connect (load client processes, bench/feedclient.py)
and the same bids go on. Reported: delivery latency (the bid's 201 to its receipt at each
watcher) p50/p99, events lost (each watcher must see every bid 1..n in order, backlog
included), server RSS per watcher, the feed's Redis connections (CLIENT LIST) and the bid
route's p99 without and with the watchers. The client's own ceiling is measured first
against a trivial SSE server. Writes bench/results/<UTC>-feed.json.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import redis

from app.feed.hub import raise_nofile_limit
from bench import feedclient
from bench.seed import API, PASSWORD, Seeder
from bench.stack import DEFAULT_PG, DEFAULT_REDIS, ROOT, Stack, free_port

# (watchers, bids per second, seconds of bidding, p99 target ms); the smaller first, as memory
# freed by a larger run's watchers would be reused by the next one's
SCENARIOS = [
    (1_000, 20.0, 20.0, 250.0),
    (10_000, 2.0, 20.0, 500.0),
]
PER_PROCESS = 5_000  # watchers per load-client process
FEED_CLIENT = "techauction-feed"


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def pct(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_clients(url: str) -> tuple[int, int]:
    """(the feed's connections, every connection) on the bench's Redis."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        clients = client.client_list()
    finally:
        client.close()
    return sum(c.get("name") == FEED_CLIENT for c in clients), len(clients)


class Clients:
    """Load-client processes holding `count` streams of one path between them."""

    def __init__(self, port: int, path: str, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        shares = [PER_PROCESS] * (count // PER_PROCESS) + ([count % PER_PROCESS] if count % PER_PROCESS
                                                          else [])
        self.pipes, self.procs = [], []
        for share in shares:
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=feedclient.watch, args=(theirs, "127.0.0.1", port, path, share))
            proc.start()
            self.pipes.append(ours)
            self.procs.append(proc)

    def wait_open(self) -> int:
        return sum(pipe.recv()[1] for pipe in self.pipes)

    def collect(self) -> tuple[list[list[tuple[int, float]]], int]:
        for pipe in self.pipes:
            pipe.send("stop")
        records, lost = [], 0
        for pipe, proc in zip(self.pipes, self.procs, strict=True):
            _, theirs, gone = pipe.recv()
            records += theirs
            lost += gone
            proc.join(30)
        return records, lost


def client_ceiling(watchers: int = 2_000, events: int = 100) -> dict:
    """How many events/s the load client takes from a server that only writes them."""
    port = free_port()
    server = multiprocessing.get_context("spawn").Process(target=feedclient.blast,
                                                          args=(port, events))
    server.start()
    time.sleep(1.0)
    try:
        clients = Clients(port, "/", watchers)
        clients.wait_open()
        time.sleep(3.0)
        records, _ = clients.collect()
    finally:
        server.terminate()
        server.join(10)
    times = [t for watcher in records for _, t in watcher]
    span = max(times) - min(times) if times else 0
    return {"watchers": watchers, "events": len(times), "seconds": round(span, 3),
            "events_per_s": round(len(times) / span) if span else None}


async def drive_bids(http: httpx.AsyncClient, auction_id: int, bidders: list[dict], *, rate: float,
                     seconds: float, start: int) -> list[tuple[int, float, float]]:
    """Bids at a fixed rate (each at its slot, or at once if late): (sequence, 201 time, ms)."""
    done, began = [], time.monotonic()
    for k in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, began + k / rate - time.monotonic()))
        amount = f"{1000 + start + k + 1}.00"
        sent = time.perf_counter()
        response = await http.post(f"{API}/auctions/{auction_id}/bids", json={"amount": amount},
                                   headers=bidders[(start + k) % 2])
        took = (time.perf_counter() - sent) * 1000
        if response.status_code == 201:
            done.append((response.json()["sequence"], time.time(), took))
    return done


def deliveries(records: list[list[tuple[int, float]]], bids: list[tuple[int, float, float]],
               expected: int, live_from: int) -> dict:
    """Latency of live bids (201 to receipt, and request sent to receipt) and events lost or
    out of order, over all watchers."""
    accepted = {seq: at for seq, at, _ in bids}
    sent = {seq: at - took / 1000 for seq, at, took in bids}
    latencies, from_sent, lost, disordered = [], [], 0, 0
    for watcher in records:
        seqs = [seq for seq, _ in watcher]
        lost += expected - len(set(seqs))
        disordered += seqs != sorted(seqs)
        live = [(seq, t) for seq, t in watcher if seq > live_from and seq in accepted]
        latencies += [(t - accepted[seq]) * 1000 for seq, t in live]
        from_sent += [(t - sent[seq]) * 1000 for seq, t in live]
    return {"latency_p50_ms": pct(latencies, 0.5), "latency_p99_ms": pct(latencies, 0.99),
            "latency_max_ms": pct(latencies, 1.0), "deliveries": len(latencies),
            "from_request_sent_p50_ms": pct(from_sent, 0.5),
            "from_request_sent_p99_ms": pct(from_sent, 0.99),
            "events_lost": lost, "watchers_out_of_order": disordered}


async def scenario(stack: Stack, seeder: Seeder, institute: dict, bidders: list[dict], *,
                   watchers: int, rate: float, seconds: float, target: float) -> dict:
    auction_id = await seeder.auction(institute, watchers)
    await seeder.qualify_all(auction_id, bidders)
    pid = stack.process.pid
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as http:
        log(f"{watchers} watchers at {rate}/s: baseline bids with nobody watching")
        baseline = await drive_bids(http, auction_id, bidders, rate=rate, seconds=seconds, start=0)
        rss_before = rss_kb(pid)
        # Two halves: the second shows what one more watcher costs, without the fixed cost
        # the first connections bring (database and Redis pools grown to their size).
        path = f"{API}/auctions/{auction_id}/events"
        halves = [Clients(stack.port, path, watchers // 2)]
        opened = await asyncio.to_thread(halves[0].wait_open)
        await asyncio.sleep(3)
        rss_half = rss_kb(pid)
        halves.append(Clients(stack.port, path, watchers - watchers // 2))
        second = await asyncio.to_thread(halves[1].wait_open)
        opened += second
        await asyncio.sleep(3)
        rss_idle = rss_kb(pid)
        feed_conns = redis_clients(stack.redis_url)
        log(f"{opened} streams open; RSS +{(rss_idle - rss_before) / 1024:.1f} MB; bidding")
        cpu, began = cpu_seconds(pid), time.monotonic()
        live = await drive_bids(http, auction_id, bidders, rate=rate, seconds=seconds,
                                start=len(baseline))
        server_cpu = (cpu_seconds(pid) - cpu) / (time.monotonic() - began)
        feed_conns_after = redis_clients(stack.redis_url)
        await asyncio.sleep(2)
    records, disconnected = [], 0
    for half in halves:
        theirs, gone = await asyncio.to_thread(half.collect)
        records, disconnected = records + theirs, disconnected + gone
    result = deliveries(records, baseline + live, len(baseline) + len(live), len(baseline))
    result |= {
        "watchers": watchers, "watchers_open": opened, "watchers_disconnected": disconnected,
        "server_cpu_while_bidding": round(server_cpu, 2),
        "bids_per_s": rate, "seconds": seconds, "bids_accepted": len(live),
        "target_p99_ms": target, "target_met": (result["latency_p99_ms"] or 1e9) < target,
        "rss_before_mb": round(rss_before / 1024, 1), "rss_with_watchers_mb": round(rss_idle / 1024, 1),
        "kb_per_idle_watcher": round((rss_idle - rss_before) / max(1, opened), 1),
        "kb_per_idle_watcher_second_half": round((rss_idle - rss_half) / max(1, second), 1),
        "feed_redis_connections": [feed_conns[0], feed_conns_after[0]],
        "redis_clients_total": [feed_conns[1], feed_conns_after[1]],
        "bid_p50_ms_without": pct([t for *_, t in baseline], 0.5),
        "bid_p99_ms_without": pct([t for *_, t in baseline], 0.99),
        "bid_p50_ms_with": pct([t for *_, t in live], 0.5),
        "bid_p99_ms_with": pct([t for *_, t in live], 0.99),
    }
    log(json.dumps(result))
    return result


async def run_scenarios(stack: Stack, chosen: list) -> list[dict]:
    admin_email = f"bench-admin-{stack.token}@example.com"
    await asyncio.to_thread(stack.run_cli, "create-admin", "--email", admin_email,
                            "--password", PASSWORD)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        seeder = Seeder(client)
        seeder.admin = await seeder.sign_in(admin_email)
        institute, _ = await seeder.user("institute", "institute")
        bidders = [(await seeder.user("enterprise", "enterprise"))[0] for _ in range(2)]
        return [await scenario(stack, seeder, institute, bidders, watchers=w, rate=r, seconds=s,
                               target=t) for w, r, s, t in chosen]


def scenarios_from(argv: list[str]) -> list[tuple[int, float, float, float]]:
    """WATCHERS:RATE:SECONDS[:TARGET_MS] arguments, or the issue's two scenarios."""
    chosen = []
    for arg in argv:
        parts = [float(x) for x in arg.split(":")]
        chosen.append((int(parts[0]), parts[1], parts[2], parts[3] if len(parts) > 3 else 500.0))
    return chosen or SCENARIOS


def main() -> int:
    raise_nofile_limit()  # inherited by the server the stack starts
    os.environ.update(TECHAUCTION_FEED_MAX_STREAMS_PER_CLIENT="100000",
                      TECHAUCTION_FEED_MAX_STREAMS_PER_PROCESS="100000")
    started = datetime.now(UTC)
    log("the load client's ceiling against a server that only writes events")
    ceiling = client_ceiling()
    log(f"client ceiling: {ceiling}")
    stack = Stack(pg_server=os.environ.get("BENCH_PG", DEFAULT_PG),
                  redis_url=os.environ.get("TECHAUCTION_REDIS_URL", DEFAULT_REDIS), workers=1)
    try:
        stack.start(log)
        results = asyncio.run(run_scenarios(stack, scenarios_from(sys.argv[1:])))
        server_log = (stack.tmp / "server.log").read_text(errors="replace")
    finally:
        stack.close(log)
    out = ROOT / "bench" / "results" / f"{started:%Y%m%dT%H%M%SZ}-feed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"started": started.isoformat(), "api_processes": 1,
                               "client_ceiling": ceiling, "scenarios": results,
                               "server_log": {"lines": server_log.count("\n"),
                                              "tracebacks": server_log.count("Traceback"),
                                              "errors": server_log.count('"level": "error"')},
                               "cpus": os.cpu_count()}, indent=2) + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
