"""One lot, a bidding burst of many concurrent bidders over real HTTP, a fault in the middle,
then the worker's close and every durability check of PRODUCT.md's Guarantees."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import httpx

from app.security import Role
from tests.support.actors import Actor, Actors, sign_in
from tests.support.auctions import API, approved_listing
from tests.support.bursts import REFUSALS, Burst
from tests.support.digests import trail_sha256
from tests.support.harness import Api, Rig
from tests.support.live import (
    assert_english_trail,
    auction_body,
    enterprises,
    later,
    money,
    ms,
    qualify_all,
)
from tests.support.pages import all_pages, bid_trail

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64)
TIMEOUT = httpx.Timeout(10.0)


@dataclass
class Outcome:
    auction_id: int
    trail: list[dict]
    settlement: dict
    burst: Burst
    timings: dict[str, float]


Fault = Callable[[Rig, Burst], Awaitable[None]]


async def _bidder(
    clients: list[httpx.AsyncClient], prefer: int, auction_id: int, bidder: Actor, index: int,
    burst: Burst, *, increment: Decimal, start: Decimal, stop_at: float,
) -> None:
    """Bid at about the best price seen + increment until the round is closed; every third
    bid carries an Idempotency-Key and is retried with it after a 5xx or a dropped connection."""
    url = f"{API}/auctions/{auction_id}/bids"
    current = prefer
    for attempt in itertools.count():
        if time.monotonic() > stop_at:
            return
        base = max(burst.best + increment, start) if burst.best else start
        amount = base + increment * ((index + attempt) % 3) + Decimal(index % 7) / 100
        keyed = attempt % 3 == 0
        headers = dict(bidder.headers)
        key = None
        if keyed:
            key = f"f{bidder.user_id}-{attempt}"
            headers["Idempotency-Key"] = key
        for retry in range(4 if keyed else 1):
            burst.attempts += 1
            try:
                response = await clients[current].post(url, json={"amount": money(amount)}, headers=headers)
            except httpx.TransportError as exc:
                burst.errors[type(exc).__name__] += 1
                current = (current + 1) % len(clients)  # that API may be gone: use another
                await asyncio.sleep(0.1 * (retry + 1))
                continue
            if response.status_code >= 500:
                burst.errors[f"http_{response.status_code}"] += 1
                await asyncio.sleep(0.1 * (retry + 1))
                continue
            if response.status_code == 201:
                burst.note_created(bidder.organization_id, key, response.json())
            elif response.status_code == 409 and response.json().get("code") in REFUSALS:
                code = response.json()["code"]
                burst.refused[code] += 1
                if code == "auction_closed":
                    burst.closed_seen.set()
                    return
                if code == "bid_too_low" and attempt % 2:
                    await _catch_up(clients[current], auction_id, burst)
            else:
                burst.unexpected.append(f"{response.status_code} {response.text[:300]}")
            break
        await asyncio.sleep(0.02 * ((index * 7 + attempt * 3) % 5))


async def _catch_up(client: httpx.AsyncClient, auction_id: int, burst: Burst) -> None:
    """Learn the current price (a failure in the fault window is just skipped)."""
    try:
        response = await client.get(f"{API}/auctions/{auction_id}")
    except httpx.TransportError as exc:
        burst.errors[type(exc).__name__] += 1
        return
    if response.status_code == 200 and response.json().get("current_price"):
        burst.best = max(burst.best, Decimal(response.json()["current_price"]))


async def run(
    rig: Rig, *, aof: bool = False, apis: int = 1, bidders: int = 14, fault: Fault,
    fault_after: float = 3.0, after_close: Fault | None = None,
) -> Outcome:
    """Start everything, seed over HTTP, burst, fault, close, and check; returns what it saw."""
    timings: dict[str, float] = {}
    began = time.monotonic()
    rig.start_redis(aof=aof)
    servers: list[Api] = rig.start_apis(apis)
    rig.start_worker()
    email, password = rig.create_admin()
    timings["start"] = time.monotonic() - began
    # Seeding and checks go to the last API (the fault scenarios never kill it).
    async with (
        httpx.AsyncClient(base_url=servers[-1].url, timeout=TIMEOUT, limits=LIMITS) as client,
        ApiClients(servers) as clients,
    ):
        headers = await sign_in(client, email, password)
        actors = Actors(client, Actor(0, Role.admin, None, email, headers))
        admin = actors.admin
        started = time.monotonic()
        team = await enterprises(actors, bidders, limit=8)
        listing_id = await approved_listing(actors)
        per_bidder = (time.monotonic() - started) / bidders
        # Qualifying costs about as much as making the user; leave the burst ~10 s before the end.
        ends = later(per_bidder * bidders * 1.5 + fault_after + 8)
        body = auction_body(listing_id, starts_at=later(-1), ends_at=ends, window=1, extension=1,
                            hard_close_at=ends + timedelta(seconds=2))
        created = await client.post(f"{API}/auctions", json=body, headers=admin.headers)
        assert created.status_code == 201, created.text
        auction = created.json()
        auction_id = auction["id"]
        paddles = await qualify_all(client, admin, auction_id, team, limit=8)
        assert len(set(paddles.values())) == bidders
        timings["seed"] = time.monotonic() - started

        burst = Burst()
        increment = Decimal(auction["bid_increment"])
        starting = Decimal(auction["starting_price"])
        hard_ms = ms(auction["anti_sniping"]["hard_close_at"])
        state = (await client.get(f"{API}/auctions/{auction_id}")).json()
        left = (hard_ms - ms(state["server_time"])) / 1000
        assert left > fault_after + 3, f"seeding took too long: {left:.1f}s left of the round"
        stop_at = time.monotonic() + left + 5
        burst_began = time.monotonic()
        tasks = [
            asyncio.create_task(_bidder(clients, i % len(clients), auction_id, bidder, i, burst,
                                        increment=increment, start=starting, stop_at=stop_at))
            for i, bidder in enumerate(team)
        ]
        try:
            await asyncio.sleep(fault_after)
            before = len(burst.created)
            assert before > 0, "no bid was accepted before the fault"
            fault_began = time.monotonic()
            await fault(rig, burst)
            burst.fault_done_at = time.monotonic()
            timings["fault"] = burst.fault_done_at - fault_began
            if after_close is not None:
                await asyncio.wait_for(burst.closed_seen.wait(), timeout=left + 10)
                await after_close(rig, burst)
            async with asyncio.timeout(left + 20):
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        timings["burst"] = time.monotonic() - burst_began

        # The worker closes the round; the result appears once.
        closing = time.monotonic()
        result = None
        while time.monotonic() - closing < 30:
            response = await client.get(f"{API}/auctions/{auction_id}/result")
            if response.status_code == 200:
                result = response.json()
                break
            await asyncio.sleep(0.2)
        assert result is not None, "the worker did not close the auction within 30 s"
        timings["close"] = time.monotonic() - closing

        trail = await bid_trail(client, auction_id, admin.headers, 500)
        settlements = await all_pages(client, f"{API}/settlements", admin.headers, auction=auction_id)
        verify = await client.get(f"{API}/audit/verify", headers=admin.headers)
        outcome = Outcome(auction_id, trail, settlements[0] if settlements else {}, burst, timings)
        check(outcome, settlements=settlements, result=result, verify=verify, paddles=paddles,
              increment=increment, starting=starting)
    timings["total"] = time.monotonic() - began
    return outcome


class ApiClients:
    """One AsyncClient per API process, closed together."""

    def __init__(self, servers: list[Api]) -> None:
        self.clients = [httpx.AsyncClient(base_url=s.url, timeout=TIMEOUT, limits=LIMITS) for s in servers]

    async def __aenter__(self) -> list[httpx.AsyncClient]:
        return self.clients

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            await client.aclose()


def check(
    outcome: Outcome, *, settlements: list[dict], result: dict, verify: httpx.Response,
    paddles: dict[int, str], increment: Decimal, starting: Decimal,
) -> None:
    burst, trail = outcome.burst, outcome.trail
    assert not burst.unexpected, burst.unexpected[:5]
    assert burst.created, "no bid got a 201"
    assert burst.created_after_fault, "no bid was accepted after the fault: bidding did not go on"
    # Never two different 201s with one sequence (a retry with the same key replays the first).
    first: dict[int, tuple[str | None, dict]] = {}
    for _, key, body in burst.created:
        if body["sequence"] in first:
            other_key, other = first[body["sequence"]]
            assert key is not None and key == other_key and body == other, (
                f"two 201s share sequence {body['sequence']}: {other} and {body}")
        first[body["sequence"]] = (key, body)
    # Every 201 is in the SQL trail, as it was answered.
    by_seq = {b["sequence"]: b for b in trail}
    missing = [body for _, _, body in burst.created if body["sequence"] not in by_seq]
    assert not missing, f"{len(missing)} bids answered 201 are not in the SQL trail: {missing[:3]}"
    for org, _, body in burst.created:
        stored = by_seq[body["sequence"]]
        assert (stored["amount"], stored["paddle"], stored["placed_at"]) == (
            body["amount"], body["paddle"], body["placed_at"]), (body, stored)
        assert stored["organization_id"] == org and paddles[org] == stored["paddle"]
    assert_english_trail(trail, starting=starting, increment=increment)
    # Sold to the top of the trail; exactly one settlement, counting and digesting every bid.
    assert result["outcome"] == "sold", result
    assert (result["hammer_price"], result["winning_paddle"]) == (trail[-1]["amount"], trail[-1]["paddle"])
    assert len(settlements) == 1, settlements
    settlement = settlements[0]
    assert settlement["id"] == result["settlement_id"] and settlement["attempt"] == 1
    assert settlement["hammer_price"] == trail[-1]["amount"]
    assert settlement["paddle"] == trail[-1]["paddle"]
    assert settlement["bid_count"] == len(trail)
    assert settlement["bid_trail_sha256"] == trail_sha256(trail)
    # The ledger verifies.
    assert verify.status_code == 200, verify.text
    assert verify.json()["ok"] is True, verify.json()


def summary(outcome: Outcome) -> str:
    b = outcome.burst
    times = " ".join(f"{k}={v:.1f}s" for k, v in outcome.timings.items())
    return (f"auction {outcome.auction_id}: {len(b.created)} x 201 "
            f"({b.created_after_fault} after the fault), "
            f"trail {len(outcome.trail)}, {b.attempts} attempts, refused {dict(b.refused)}, "
            f"errors {dict(b.errors)}; {times}")
