"""Helpers for the live auction tests: many bidders set up over HTTP, the bid trail and its
invariants, a soft-close bidding burst (a live server and its SSE: tests/support/server.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from app.closing.closer import close_due
from app.security import Role
from tests.support.actors import Actor, Actors
from tests.support.auctions import API, approved_listing, iso
from tests.support.bursts import Burst
from tests.support.pages import bid_trail


# ---------------------------------------------------------------------------- time and money
def ms(timestamp: str) -> int:
    """An API timestamp (ISO 8601, milliseconds, Z) as epoch milliseconds."""
    assert timestamp.endswith("Z") and len(timestamp) == 24, timestamp
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000 + 0.5)


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


def english_round(starts_at: datetime, ends_at: datetime) -> list[dict]:
    return [{"kind": "english", "starts_at": iso(starts_at), "ends_at": iso(ends_at)}]


async def server_now(client: httpx.AsyncClient, auction_id: int) -> tuple[dict, int]:
    """The auction and the Redis server time (ms) of its read."""
    body = (await client.get(f"{API}/auctions/{auction_id}")).json()
    return body, ms(body["server_time"])


async def sleep_until(client: httpx.AsyncClient, auction_id: int, target_ms: int) -> None:
    """Sleep until the engine's clock is past target_ms (bounded)."""
    _, now = await server_now(client, auction_id)
    wait = (target_ms - now) / 1000 + 0.05
    assert wait < 60, f"refusing to wait {wait:.1f}s"
    if wait > 0:
        await asyncio.sleep(wait)


# ---------------------------------------------------------------------------- bulk set-up
async def bounded(coros: Iterable[Awaitable[Any]], limit: int = 12) -> list[Any]:
    """Run the coroutines concurrently, at most `limit` at a time, in order of results."""
    gate = asyncio.Semaphore(limit)

    async def run(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros))


async def enterprises(actors: Actors, count: int, limit: int = 24) -> list[Actor]:
    """`count` enterprise users, each in an organisation of its own."""
    return await bounded((actors.user(Role.enterprise) for _ in range(count)), limit)


_deposit = itertools.count(1)


async def register_and_qualify(
    client: httpx.AsyncClient, admin: Actor, auction_id: int, bidder: Actor
) -> dict:
    """Register the bidder's enterprise and have admin qualify it; the qualified registration."""
    reg = await client.post(f"{API}/auctions/{auction_id}/registrations", headers=bidder.headers)
    assert reg.status_code == 201, reg.text
    approved = await client.post(
        f"{API}/auctions/{auction_id}/registrations/{reg.json()['id']}/approve",
        json={"deposit_reference": f"LIVE-{auction_id}-{next(_deposit)}-{bidder.user_id}"},
        headers=admin.headers,
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


async def qualify_all(
    client: httpx.AsyncClient, admin: Actor, auction_id: int, bidders: list[Actor], limit: int = 12
) -> dict[int, str]:
    """Qualify every bidder; organisation id -> paddle."""
    regs = await bounded(
        (register_and_qualify(client, admin, auction_id, b) for b in bidders), limit
    )
    return {r["organization_id"]: r["paddle"] for r in regs}


async def create_and_qualify(
    client: httpx.AsyncClient, admin: Actor, listing_id: int, bidders: list[Actor]
) -> int:
    """A long english auction of the listing with the bidders qualified; its id."""
    body = auction_body(listing_id, starts_at=later(-1), ends_at=later(600))
    created = await client.post(f"{API}/auctions", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    await qualify_all(client, admin, created.json()["id"], bidders)
    return created.json()["id"]


async def listings(actors: Actors, count: int, **overrides) -> list[int]:
    """`count` approved listings of one institute."""
    institute = await actors.user(Role.institute)
    return await bounded(
        (approved_listing(actors, institute, **overrides) for _ in range(count)), 6
    )


async def bidder_loop(
    client: httpx.AsyncClient, auction_id: int, bidder: Actor, burst: Burst, *,
    increment: Decimal, start: Decimal, attempts: int, index: int, pause: float = 0.02,
) -> None:
    """Bid `attempts` times at about the best price seen + increment; some with key retries."""
    url = f"{API}/auctions/{auction_id}/bids"
    for attempt in range(attempts):
        base = max(burst.best + increment, start) if burst.best else start
        steps = (index * 3 + attempt) % 8  # 0: exactly the minimum, else a little more
        amount = base + increment * steps / 2 + Decimal(index % 7) / 100
        if (index + attempt) % 11 == 0:
            amount = base - Decimal("0.01")  # likely too low
        body = {"amount": money(amount)}
        keyed = (index + attempt) % 4 == 0
        headers = dict(bidder.headers)
        if keyed:
            headers["Idempotency-Key"] = f"b{bidder.user_id}-{attempt}"
        response = await client.post(url, json=body, headers=headers)
        if response.status_code == 201:
            burst.note_created(bidder.organization_id, headers.get("Idempotency-Key"), response.json())
        else:
            burst.note_refusal(response)
        if keyed:
            again = await client.post(url, json=body, headers=headers)
            assert again.status_code == response.status_code, again.text
            assert again.json() == response.json()
            burst.replays += 1
            if index % 2:
                other = await client.post(url, json={"amount": money(amount + 1)}, headers=headers)
                assert other.status_code == 409, other.text
                assert other.json()["code"] == "idempotency_key_reused"
                burst.reuse_refused += 1
            if response.status_code == 201:
                burst.created.append((bidder.organization_id, headers["Idempotency-Key"], again.json()))
        if response.status_code == 409 and response.json()["code"] == "auction_closed":
            return
        if response.status_code == 409 and (index + attempt) % 4 == 1:  # catch up with the room
            state = (await client.get(f"{API}/auctions/{auction_id}")).json()
            if state["current_price"]:
                burst.best = max(burst.best, Decimal(state["current_price"]))
        await asyncio.sleep(pause * ((index * 7 + attempt * 3) % 5))


def assert_english_trail(trail: list[dict], *, starting: Decimal, increment: Decimal) -> None:
    """An english trail: sequences 1..n, each bid at least the last + increment (the first at
    least the starting price), and the leader never raises his own bid."""
    assert [b["sequence"] for b in trail] == list(range(1, len(trail) + 1))
    amounts = [Decimal(b["amount"]) for b in trail]
    assert amounts[0] >= starting
    for before, after in itertools.pairwise(amounts):
        assert after >= before + increment, (before, after)
    for before, after in itertools.pairwise(trail):
        assert before["paddle"] != after["paddle"], "the leader raised his own bid"


def check_trail(
    trail: list[dict], burst: Burst, *, state: dict, paddles: dict[int, str], round_ends_ms: int,
    increment: Decimal, starting: Decimal, window_ms: int, extension_ms: int, hard_close_ms: int,
) -> dict[str, int]:
    """The bidding invariants over the SQL trail and the answers; counts of what happened."""
    assert trail, "no bid was accepted"
    assert_english_trail(trail, starting=starting, increment=increment)
    for bid in trail:
        assert paddles[bid["organization_id"]] == bid["paddle"]
    # Every 201 is in the trail; distinct answers never share a sequence.
    by_seq = {b["sequence"]: b for b in trail}
    answers: dict[int, dict] = {}
    for org, _, body in burst.created:
        stored = by_seq[body["sequence"]]
        assert (stored["id"], stored["amount"], stored["paddle"]) == (
            body["id"], body["amount"], body["paddle"]
        )
        assert stored["organization_id"] == org
        assert body.get("organization_id") is None
        assert (stored["placed_at"], stored["ends_at"]) == (body["placed_at"], body["ends_at"])
        if body["sequence"] in answers:
            assert answers[body["sequence"]] == body, "two different 201s share a sequence"
        answers[body["sequence"]] = body
    # The leader is the highest bidder; the live state agrees with the trail.
    top = trail[-1]
    assert state["leading_paddle"] == top["paddle"]
    assert state["current_price"] == top["amount"] == money(max(Decimal(b["amount"]) for b in trail))
    assert state["bid_count"] == len(trail)
    assert state["ends_at"] == top["ends_at"], "something but an accepted bid moved ends_at"
    # Soft close: ends_at moves only for bids inside the window, never past the hard close.
    ends, extended, outside, capped = round_ends_ms, 0, 0, 0
    for bid in trail:
        placed, new_ends = ms(bid["placed_at"]), ms(bid["ends_at"])
        assert placed < ends, "a bid was accepted after the round ended"
        expected = ends
        if placed >= ends - window_ms:
            expected = max(ends, min(max(ends, placed + extension_ms), hard_close_ms))
        else:
            outside += 1
        assert new_ends == expected, (bid, ends, expected)
        assert new_ends <= hard_close_ms
        capped += placed + extension_ms > hard_close_ms
        extended += new_ends != ends
        ends = new_ends
    return {"accepted": len(trail), "extended": extended, "outside_window": outside,
            "answers": len(answers), "capped": capped}


async def soft_close_burst(
    actors: Actors, client: httpx.AsyncClient, app, *, bidders: int, attempts: int,
    window: int = 1, extension: int = 1, hard_after: int = 2,
) -> dict[str, int]:
    """One lot, `bidders` qualified enterprises bidding from just before the soft-close window
    until the hard close; then the closer. Checks every bidding invariant; returns counts."""
    team = await enterprises(actors, bidders)
    listing_id, calibration = await listings(actors, 2)
    # Registration must end before the window opens. Time a sample of it under the current
    # load (on a throw-away auction) and budget the real one from that.
    sample = team[: max(8, bidders // 10)]
    started = time.monotonic()
    await create_and_qualify(client, actors.admin, calibration, sample)
    budget = (time.monotonic() - started) * len(team) / len(sample)
    ends = later(budget * 1.5 + window + 2.5)
    body = auction_body(listing_id, starts_at=later(-1), ends_at=ends, window=window,
                        extension=extension, hard_close_at=ends + timedelta(seconds=hard_after))
    created = await client.post(f"{API}/auctions", json=body, headers=actors.admin.headers)
    assert created.status_code == 201, created.text
    auction = created.json()
    auction_id = auction["id"]
    paddles = await qualify_all(client, actors.admin, auction_id, team)
    assert len(set(paddles.values())) == bidders

    round_ends_ms = ms(auction["ends_at"])
    hard_ms = ms(auction["anti_sniping"]["hard_close_at"])
    await sleep_until(client, auction_id, round_ends_ms - window * 1000 - 2000)
    _, begun = await server_now(client, auction_id)
    burst = Burst()
    increment, starting = Decimal(auction["bid_increment"]), Decimal(auction["starting_price"])
    await asyncio.gather(*(
        bidder_loop(client, auction_id, bidder, burst, increment=increment, start=starting,
                    attempts=attempts, index=i, pause=0.1)
        for i, bidder in enumerate(team)
    ))
    state, _ = await server_now(client, auction_id)
    trail = await bid_trail(client, auction_id, actors.admin.headers, limit=97)
    counts = check_trail(
        trail, burst, state=state, paddles=paddles, round_ends_ms=round_ends_ms,
        increment=increment, starting=starting, window_ms=window * 1000,
        extension_ms=extension * 1000, hard_close_ms=hard_ms,
    )
    assert counts["extended"] and counts["outside_window"], (
        counts, f"budget {budget:.1f}s, burst began {round_ends_ms - begun} ms before the end")
    assert burst.replays and burst.reuse_refused
    assert burst.refused.get("bid_too_low"), burst.refused

    # The closer: sold to the leader at the top bid; the event stream matches the trail.
    await sleep_until(client, auction_id, ms(state["ends_at"]))
    assert await close_due(app.state.engine, app.state.sessionmaker) == 1
    closed = (await client.get(f"{API}/auctions/{auction_id}/result")).json()
    assert closed["outcome"] == "sold" and closed["hammer_price"] == trail[-1]["amount"]
    assert closed["winning_paddle"] == trail[-1]["paddle"]
    stream = await client.get(f"{API}/auctions/{auction_id}/events")
    events = [json.loads(line[6:]) for line in stream.text.splitlines() if line.startswith("data: ")]
    bids = [(e["sequence"], e["amount"], e["paddle"], e["ends_at"]) for e in events if "amount" in e]
    assert bids == [(b["sequence"], b["amount"], b["paddle"], b["ends_at"]) for b in trail]
    assert stream.text.count("event: closed") == 1
    assert stream.text.count("event: extended") == counts["extended"]
    return counts


# ---------------------------------------------------------------------------- auction body
def auction_body(
    listing_id: int, *, starts_at: datetime, ends_at: datetime, increment: str = "10000.00",
    window: int = 0, extension: int = 0, hard_close_at: datetime | None = None, **extra,
) -> dict:
    anti: dict[str, Any] = {"window_seconds": window, "extension_seconds": extension}
    if hard_close_at is not None:
        anti["hard_close_at"] = iso(hard_close_at)
    return {
        "listing_id": listing_id, "rounds": english_round(starts_at, ends_at),
        "bid_increment": increment, "deposit_amount": "100000.00", "anti_sniping": anti,
        "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30,
    } | extra


def now() -> datetime:
    return datetime.now(UTC)


def later(seconds: float) -> datetime:
    return now() + timedelta(seconds=seconds)


async def little_of_everything(actors: Actors) -> dict:
    """A draft listing, an approved one in an open english auction, and a qualified bidder:
    rows at small ids, so that generated ids (fuzzing) often hit real ones."""
    from tests.support.auctions import LISTING

    institute = await actors.user(Role.institute)
    enterprise = await actors.user(Role.enterprise)
    draft = await actors.client.post(f"{API}/listings", json=LISTING, headers=institute.headers)
    assert draft.status_code == 201, draft.text
    listing_id = await approved_listing(actors, institute)
    body = auction_body(listing_id, starts_at=later(-1), ends_at=later(3600))
    created = await actors.client.post(f"{API}/auctions", json=body, headers=actors.admin.headers)
    assert created.status_code == 201, created.text
    auction_id = created.json()["id"]
    await register_and_qualify(actors.client, actors.admin, auction_id, enterprise)
    return {"admin": actors.admin, "institute": institute, "enterprise": enterprise,
            "auction_id": auction_id}
