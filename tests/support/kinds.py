"""Helpers for the round-kind tests: auctions of any kind and rounds, bids, closing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from app.auctions.worker import close_auction
from tests.support.actors import Actor, Actors
from tests.support.auctions import API, approved_listing, iso
from tests.support.live import ms, now


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
