"""Helpers for the round-kind tests: auctions of any kind and rounds, bids, closing."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx

from app.closing.closer import close_auction
from tests.support.actors import Actor, Actors
from tests.support.auctions import API, approved_listing, iso
from tests.support.live import enterprises, ms, now, qualify_all, sleep_until


def rnd(kind: str, starts_in: float, lasts: float, **params) -> dict:
    """A round starting `starts_in` seconds from now, lasting `lasts` seconds."""
    start = now() + timedelta(seconds=starts_in)
    return {"kind": kind, "starts_at": iso(start),
            "ends_at": iso(start + timedelta(seconds=lasts))} | params


async def kind_auction(
    actors: Actors, rounds: list[dict], *, increment: str = "10000.00", **listing
) -> dict:
    """An auction of a fresh approved listing (starting price 2,000,000.00) with `rounds`."""
    listing_id = await approved_listing(actors, **listing)
    body = {"listing_id": listing_id, "rounds": rounds, "bid_increment": increment,
            "deposit_amount": "100000.00", "buyer_premium_rate": "0.05",
            "seller_commission_rate": "0.03", "payment_days": 30}
    response = await actors.client.post(f"{API}/auctions", json=body, headers=actors.admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def opened_field(
    actors: Actors, client: httpx.AsyncClient, count: int, kind: str, lasts: float, **params
) -> tuple[int, list[Actor], dict[int, str]]:
    """`count` enterprises qualified for a new auction of one `kind` round lasting `lasts` s,
    returned as the round opens on the server clock: (auction id, bidders, org id -> paddle).

    The round starts in the future, so a burst at its start never misses it however long the
    set-up took: the lead is twice the time the bidders took to make (qualifying them costs
    about as much), plus a second. Registration and approval work while it is scheduled."""
    started = time.monotonic()
    bidders = await enterprises(actors, count)
    lead = 2 * (time.monotonic() - started) + 1
    auction = await kind_auction(actors, [rnd(kind, lead, lasts, **params)])
    aid = auction["id"]
    paddles = await qualify_all(client, actors.admin, aid, bidders)
    assert len(set(paddles.values())) == count
    early = await bid(client, aid, bidders[0], amount="1999999.99")  # too low once open
    assert code(early) == "auction_not_open", f"qualifying outran the {lead:.1f}s lead"
    await sleep_until(client, aid, ms(auction["starts_at"]))
    return aid, bidders, paddles


async def bid(
    client: httpx.AsyncClient, auction_id: int, who: Actor, key: str | None = None, **body
) -> httpx.Response:
    headers = who.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"{API}/auctions/{auction_id}/bids", json=body, headers=headers)


def code(response: httpx.Response) -> str:
    return response.json().get("code", "")


async def state(client: httpx.AsyncClient, auction_id: int, who: Actor | None = None) -> dict:
    headers = who.headers if who else {}
    response = await client.get(f"{API}/auctions/{auction_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def bids(client: httpx.AsyncClient, auction_id: int, who: Actor | None = None) -> list[dict]:
    headers = who.headers if who else {}
    response = await client.get(f"{API}/auctions/{auction_id}/bids", params={"limit": 1000},
                                headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def wait_round_end(client: httpx.AsyncClient, auction_id: int) -> None:
    """Sleep until the current round's ends_at has passed on the server clock."""
    body = await state(client, auction_id)
    wait = (ms(body["ends_at"]) - ms(body["server_time"])) / 1000 + 0.05
    assert wait < 30, wait
    if wait > 0:
        await asyncio.sleep(wait)


async def close(app, auction_id: int) -> bool:
    """Run the closer on this auction once (True when it finalised it)."""
    return await close_auction(app.state.engine, app.state.sessionmaker, auction_id)


async def finish(app, client: httpx.AsyncClient, auction_id: int) -> dict:
    """Wait for the round to end, close it, and return the result."""
    await wait_round_end(client, auction_id)
    assert await close(app, auction_id)
    response = await client.get(f"{API}/auctions/{auction_id}/result")
    assert response.status_code == 200, response.text
    return response.json()


async def settlement(client: httpx.AsyncClient, admin: Actor, settlement_id: int) -> dict:
    response = await client.get(f"{API}/settlements/{settlement_id}", headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def forget_auction(app, auction_id: int) -> None:
    """Redis loses the auction, idempotency keys included (a restart without persistence)."""
    keys = app.state.engine.keys(auction_id)
    await app.state.engine.redis.delete(keys.state, keys.bidders, keys.idem, keys.bids,
                                        keys.advanced)
