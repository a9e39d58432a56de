"""Set-up of sessions, lots and session-qualified bidders through the real API."""

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.actors import Actor, Actors
from tests.support.auctions import API, iso

_deposits = itertools.count(1)


def session_body(*, starts_in: float = 0, mode: str = "timed", **overrides) -> dict:
    """A session starting starts_in seconds from now (defaults: 60 s lots, 2 s stagger)."""
    body = {
        "title": "G60 sci-tech outcomes session", "mode": mode,
        "starts_at": iso(datetime.now(UTC) + timedelta(seconds=starts_in)),
        "lot_duration_seconds": 60, "deposit_amount": "100000.00", "bid_increment": "10000.00",
        "anti_sniping": {"window_seconds": 0, "extension_seconds": 0},
        "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30,
    }
    if mode == "timed":
        body["stagger_seconds"] = 2
    return body | overrides


async def create_session(actors: Actors, **kwargs) -> dict:
    response = await actors.client.post(f"{API}/sessions", json=session_body(**kwargs),
                                        headers=actors.admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def add_lot(actors: Actors, session_id: int, listing_id: int, **body) -> dict:
    response = await actors.client.post(f"{API}/sessions/{session_id}/lots",
                                        json={"listing_id": listing_id} | body,
                                        headers=actors.admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def publish(actors: Actors, session_id: int) -> dict:
    response = await actors.client.post(f"{API}/sessions/{session_id}/publish",
                                        headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def qualify(actors: Actors, session_id: int, bidder: Actor) -> dict:
    """The bidder's enterprise registered for the session and qualified; the registration."""
    client = actors.client
    reg = await client.post(f"{API}/sessions/{session_id}/registrations", headers=bidder.headers)
    assert reg.status_code == 201, reg.text
    assert reg.json()["status"] == "pending"
    approved = await client.post(
        f"{API}/sessions/{session_id}/registrations/{reg.json()['id']}/approve",
        json={"deposit_reference": f"SESSION-DEP-{session_id}-{next(_deposits)}"},
        headers=actors.admin.headers,
    )
    assert approved.status_code == 200, approved.text
    return approved.json()


async def bid(client: httpx.AsyncClient, auction_id: int, bidder: Actor, amount: str) -> httpx.Response:
    return await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": amount},
                             headers=bidder.headers)


async def wait_for(client: httpx.AsyncClient, session_id: int, done, *, within: float = 30,
                   headers: dict | None = None) -> dict:
    """GET the session until done(body) holds (bounded)."""
    async with asyncio.timeout(within):
        while True:
            response = await client.get(f"{API}/sessions/{session_id}", headers=headers)
            assert response.status_code == 200, response.text
            if done(response.json()):
                return response.json()
            await asyncio.sleep(0.1)
