"""Set-up of listings, auctions and qualified bidders through the real API."""

import itertools
from datetime import UTC, datetime, timedelta

from app.security import Role
from tests.support.actors import Actor, Actors

API = "/api/v1"
_deposits = itertools.count(1)

LISTING = {
    "title": "Design and development of a medium-power new-energy simulation test platform",
    "summary": "A test platform simulating medium-power new-energy systems.",
    "field": "new_energy", "ip_type": "patent", "patent_numbers": ["CN202310000001.5"], "trl": 6,
    "transfer_mode": "assignment", "starting_price": "2000000.00", "currency": "CNY",
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def approved_listing(actors: Actors, institute: Actor | None = None, **overrides) -> int:
    """A listing created, submitted and approved; returns its id."""
    institute = institute or await actors.user(Role.institute)
    client = actors.client
    created = await client.post(f"{API}/listings", json=LISTING | overrides, headers=institute.headers)
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    for path, who in (("submit", institute), ("approve", actors.admin)):
        response = await client.post(f"{API}/listings/{listing_id}/{path}", headers=who.headers)
        assert response.status_code == 200, response.text
    return listing_id


async def create_auction(
    actors: Actors, *, listing_id: int | None = None, starts_in: float = -1, lasts: float = 60,
    increment: str = "10000.00", window: int = 0, extension: int = 0,
    hard_close_in: float | None = None, **overrides,
) -> dict:
    """An english auction (times relative to now, in seconds); returns the auction body."""
    listing_id = listing_id or await approved_listing(actors)
    now = datetime.now(UTC)
    anti = {"window_seconds": window, "extension_seconds": extension}
    if hard_close_in is not None:
        anti["hard_close_at"] = iso(now + timedelta(seconds=hard_close_in))
    body = {
        "listing_id": listing_id,
        "rounds": [{"kind": "english", "starts_at": iso(now + timedelta(seconds=starts_in)),
                    "ends_at": iso(now + timedelta(seconds=starts_in + lasts))}],
        "bid_increment": increment, "deposit_amount": "100000.00", "anti_sniping": anti,
        "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30,
    } | overrides
    response = await actors.client.post(f"{API}/auctions", json=body, headers=actors.admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def qualified_bidder(actors: Actors, auction_id: int, bidder: Actor | None = None) -> Actor:
    """An enterprise user registered and qualified for the auction."""
    bidder = bidder or await actors.user(Role.enterprise)
    client = actors.client
    reg = await client.post(f"{API}/auctions/{auction_id}/registrations", headers=bidder.headers)
    assert reg.status_code == 201, reg.text
    approved = await client.post(
        f"{API}/auctions/{auction_id}/registrations/{reg.json()['id']}/approve",
        json={"deposit_reference": f"DEP-{auction_id}-{next(_deposits)}"},
        headers=actors.admin.headers,
    )
    assert approved.status_code == 200, approved.text
    return bidder
