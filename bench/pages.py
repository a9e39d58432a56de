"""The room page's budget: bytes of a cold load, and server time at a fixed rate.

    python -m bench.pages [--rate 100] [--seconds 15] [--bids 40]

Serves the app under uvicorn with one worker on PostgreSQL and Redis at 127.0.0.1 (bench/stack.py:
a throw-away database and Redis prefix), seeds one open english auction with bids, then:

- cold load: headless chromium (the tests' /usr/bin/chromium, if present) opens the room with an
  empty cache and counts every byte on the wire (headers included, as Chrome's DevTools
  protocol reports them): the HTML, CSS, JS, icon, the JSON state the script fetches and the
  event stream's first bytes (one second of it). The same is measured with httpx (no browser:
  the page and what it names, the JSON, the stream's first second). Target: under 100 KB.
  The app does not compress (no gzip): the figures are the raw bytes.
- server time: anonymous GETs of the room at a fixed rate (open loop: request i is sent at
  start + i / rate whatever came back before) for the given seconds, p50 / p99 / max of the
  response time, and of the time from each request's schedule (what a paced client that fell
  behind would add), as the client saw it, and as the server's own latency histogram (/metrics,
  bucket bounds) saw it. Target: p99 < 50 ms at 100 requests/s. The load client's own ceiling
  (closed loop on GET /healthz) and the room's (closed loop on the room) are reported, so the
  client is seen not to be the limit.

Writes bench/results/<UTC date-time>-pages.json and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from datetime import UTC, datetime

import httpx

from bench.seed import API, PASSWORD, Seeder
from bench.stack import ROOT, Stack

BUDGET_BYTES = 100 * 1024
ROUTE = "/auctions/{auction_id}"  # the room's route in the server's latency histogram
P99_TARGET_MS = 50.0
CHROMIUM = os.environ.get("TECHAUCTION_CHROMIUM", "/usr/bin/chromium")
ASSETS = re.compile(r'<(?:link|script)[^>]+(?:href|src)="(/static/[^"]+)"')


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


async def seed_room(stack: Stack, bids: int) -> int:
    """One open english auction with `bids` bids from 8 qualified bidders; its id."""
    email = f"bench-admin-{stack.token}@example.com"
    await asyncio.to_thread(stack.run_cli, "create-admin", "--email", email, "--password", PASSWORD)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=60) as client:
        seeder = Seeder(client)
        seeder.admin = await seeder.sign_in(email)
        institute, _ = await seeder.user("institute", "institute")
        auction_id = await seeder.auction(institute, 1)
        bidders = [(await seeder.user("enterprise", "enterprise"))[0] for _ in range(8)]
        await seeder.qualify_all(auction_id, bidders)
        for i in range(bids):
            await seeder.call("POST", f"{API}/auctions/{auction_id}/bids", expect=201,
                              headers=bidders[i % len(bidders)], json={"amount": f"{1000 + i}.00"})
    log(f"seeded auction {auction_id} with {bids} bids")
    return auction_id


# ------------------------------------------------------------------------- cold load


def _header_bytes(response: httpx.Response) -> int:
    """The status line and headers as sent on the wire (HTTP/1.1)."""
    status = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    return status + sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2


async def cold_load_httpx(base_url: str, auction_id: int) -> dict:
    """The room and what it loads, fetched as a browser would on a cold cache (no browser)."""
    parts: dict[str, dict] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        room = await client.get(f"/auctions/{auction_id}", headers={"Accept-Language": "zh-CN"})
        parts["html"] = {"body": len(room.content), "headers": _header_bytes(room)}
        for url in ASSETS.findall(room.text):
            asset = await client.get(url)
            parts[url.split("?")[0]] = {"body": len(asset.content), "headers": _header_bytes(asset)}
        state = await client.get(f"{API}/auctions/{auction_id}", headers={"Accept": "application/json"})
        parts["json_state"] = {"body": len(state.content), "headers": _header_bytes(state)}
        after = re.search(r'data-last-event-id="([^"]*)"', room.text)
        query = f"?after={after.group(1)}" if after and after.group(1) else ""
        received = 0
        async with client.stream("GET", f"/auctions/{auction_id}/events{query}") as events:
            headers = _header_bytes(events)
            try:
                async with asyncio.timeout(1.0):
                    async for chunk in events.aiter_raw():
                        received += len(chunk)
            except TimeoutError:
                pass
        parts["event_stream_first_second"] = {"body": received, "headers": headers}
    total = sum(p["body"] + p["headers"] for p in parts.values())
    return {"parts": parts, "total_bytes": total, "total_kib": round(total / 1024, 1)}


async def cold_load_browser(base_url: str, auction_id: int, chromium: bool) -> dict | None:
    """Bytes on the wire of a cold load in headless chromium (None without it)."""
    if not chromium:
        return None
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return None
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        try:
            context = await browser.new_context(locale="zh-CN")
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})

            def received(event):
                urls[event["requestId"]] = event["response"]["url"]
                sizes[event["requestId"]] = int(event["response"].get("encodedDataLength", 0))

            def data(event):
                sizes[event["requestId"]] = sizes.get(event["requestId"], 0) + int(
                    event.get("encodedDataLength", 0))

            def finished(event):
                sizes[event["requestId"]] = max(sizes.get(event["requestId"], 0),
                                                int(event["encodedDataLength"]))

            cdp.on("Network.responseReceived", received)
            cdp.on("Network.dataReceived", data)
            cdp.on("Network.loadingFinished", finished)
            await page.goto(f"{base_url}/auctions/{auction_id}")
            await page.wait_for_selector("#connection.online", timeout=15_000)
            await asyncio.sleep(1.0)
        finally:
            await browser.close()
    parts = {urls[r].replace(base_url, "").split("?")[0]: n for r, n in sizes.items() if r in urls}
    total = sum(parts.values())
    return {"parts": parts, "total_bytes": total, "total_kib": round(total / 1024, 1)}


# ------------------------------------------------------------------------- server time


def _percentiles(samples_ms: list[float]) -> dict:
    ordered = sorted(samples_ms)
    if not ordered:
        return {}

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50_ms": pick(0.50), "p99_ms": pick(0.99), "max_ms": round(ordered[-1], 2),
            "mean_ms": round(statistics.fmean(ordered), 2)}


async def paced(base_url: str, path: str, rate: float, seconds: float) -> dict:
    """Open loop: request i sent at start + i / rate; latency from send and from schedule."""
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    response_ms: list[float] = []
    behind_ms: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10, limits=limits) as client:
        await client.get(path)  # warm the connection and the page's caches

        async def one(scheduled: float) -> None:
            nonlocal errors
            sent = time.perf_counter()
            try:
                response = await client.get(path)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            done = time.perf_counter()
            if not ok:
                errors += 1
                return
            response_ms.append((done - sent) * 1000)
            behind_ms.append((done - scheduled) * 1000)

        start = time.perf_counter() + 0.05
        count = int(rate * seconds)
        tasks = []
        for i in range(count):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {"offered_req_s": rate, "seconds": seconds, "requests": count, "errors": errors,
            "achieved_req_s": round(len(response_ms) / elapsed, 1),
            "response": _percentiles(response_ms), "from_schedule": _percentiles(behind_ms)}


_BUCKET = re.compile(r'^techauction_http_request_seconds_bucket\{(.*)\} ([0-9.e+]+)$', re.M)


async def server_buckets(base_url: str, route: str) -> dict[float, float] | None:
    """The server's own latency histogram of GET `route` (cumulative count per bucket bound,
    seconds), from /metrics; None when the metrics are not served."""
    token = os.environ.get("TECHAUCTION_METRICS_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/metrics", headers=headers)
    if response.status_code != 200:
        return None
    found: dict[float, float] = {}
    for labels, value in _BUCKET.findall(response.text):
        pairs = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if pairs.get("route") == route and pairs.get("method") == "GET":
            found[float(pairs["le"])] = float(value)
    return found


def server_quantiles(before: dict | None, after: dict | None) -> dict | None:
    """From two histogram reads: the requests between them, the share within each bound, and
    the bound each of p50 and p99 falls under (the server's own time, without the client's)."""
    if not before or not after:
        return None
    counts = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = counts.get(float("inf")) or max(counts.values())
    if not total:
        return None
    shares = {("+Inf" if le == float("inf") else f"{le * 1000:g}ms"): round(n / total, 4)
              for le, n in counts.items()}

    def under(q: float) -> str:
        le = next(le for le, n in counts.items() if n / total >= q)
        return "+Inf" if le == float("inf") else f"<= {le * 1000:g} ms"

    return {"requests": int(total), "p50": under(0.5), "p99": under(0.99),
            "share_within": shares}


async def ceiling(base_url: str, path: str, seconds: float = 4.0, concurrency: int = 16) -> dict:
    """Closed loop: as many requests as `concurrency` clients can send back to back."""
    done = 0
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                sent = time.perf_counter()
                await client.get(path)
                latencies.append((time.perf_counter() - sent) * 1000)
                done += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return {"path": path, "concurrency": concurrency, "req_s": round(done / elapsed, 1)} | _percentiles(
        latencies)


# ------------------------------------------------------------------------- the run


async def measure(stack: Stack, args: argparse.Namespace) -> dict:
    auction_id = await seed_room(stack, args.bids)
    room = f"/auctions/{auction_id}"
    base = stack.base_url
    log("cold load (httpx, then chromium)")
    by_httpx = await cold_load_httpx(base, auction_id)
    by_browser = await cold_load_browser(base, auction_id, args.chromium)
    log(f"paced load: {args.rate:g} req/s for {args.seconds:g} s on {room}")
    before = await server_buckets(base, ROUTE)
    load = await paced(base, room, args.rate, args.seconds)
    load["server_side"] = server_quantiles(before, await server_buckets(base, ROUTE))
    log("ceilings: the load client (GET /healthz), then the room, closed loop")
    client_ceiling = await ceiling(base, "/healthz")
    room_ceiling = await ceiling(base, room)
    cold = by_browser or by_httpx
    return {
        "run": datetime.now(UTC).strftime("%Y-%m-%dT%H%MZ"), "bench": "pages",
        "command": "python -m bench.pages " + " ".join(
            f"--{k} {v}" for k, v in (("rate", args.rate), ("seconds", args.seconds), ("bids", args.bids))),
        "settings": {"workers": 1, "database": "postgresql", "redis": stack.redis_url,
                     "cpus": os.cpu_count(), "bids_in_room": args.bids, "compression": "none"},
        "host": {"load_average_before": os.getloadavg()},
        "cold_load": {"browser": by_browser, "httpx": by_httpx},
        "server_time": {"room_paced": load, "client_ceiling": client_ceiling,
                        "room_ceiling": room_ceiling},
        "targets": {
            "room_cold_load_bytes": {"measured": cold["total_bytes"], "target": BUDGET_BYTES,
                                     "met": cold["total_bytes"] < BUDGET_BYTES},
            "room_p99_ms_at_rate": {"measured": load["response"].get("p99_ms"),
                                    "target": P99_TARGET_MS,
                                    "met": (load["response"].get("p99_ms") or 1e9) < P99_TARGET_MS
                                    and load["errors"] == 0},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="room requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the paced load lasts")
    parser.add_argument("--bids", type=int, default=40, help="bids in the room before measuring")
    args = parser.parse_args()
    args.chromium = os.path.exists(CHROMIUM)
    stack = Stack(workers=1)
    try:
        stack.start(log)
        result = asyncio.run(measure(stack, args))
    finally:
        stack.close(log)
    path = ROOT / "bench" / "results" / f"{result['run']}-pages.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    log(f"written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
