"""Auctions run to their close through HTTP, and settlement reading helpers."""

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from app.auctions.models import Registration
from app.closing.closer import close_due
from app.security import Role
from tests.support.actors import Actor, Actors
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder


@dataclass
class Sale:
    auction_id: int
    listing_id: int
    institute: Actor
    bidders: dict[str, Actor]


async def run_auction(
    actors: Actors, bids: list[tuple[str, str]], *, lasts: float | None = None, reserve: str | None = None,
    institute: Actor | None = None, others: tuple[str, ...] = (), **auction_overrides,
) -> Sale:
    """An english auction whose named bidders bid in order (name, amount), others qualified
    without bidding; not yet closed."""
    institute = institute or await actors.user(Role.institute)
    extra = {"reserve_price": reserve} if reserve else {}
    listing_id = await approved_listing(actors, institute, **extra)
    bidders = {name: await actors.user(Role.enterprise) for name in [*dict(bids), *others]}
    # The clock starts here: only registration and bidding happen while the round runs,
    # given time enough for a loaded machine (about 0.3 s a request).
    lasts = lasts or 1.0 + 0.3 * (2 * len(bidders) + len(bids))
    auction = await create_auction(actors, listing_id=listing_id, starts_in=-0.1, lasts=lasts,
                                   **auction_overrides)
    for bidder in bidders.values():
        await qualified_bidder(actors, auction["id"], bidder)
    for name, amount in bids:
        response = await actors.client.post(
            f"{API}/auctions/{auction['id']}/bids", json={"amount": amount},
            headers=bidders[name].headers,
        )
        assert response.status_code == 201, response.text
    return Sale(auction["id"], listing_id, institute, bidders)


async def wait_until_due(client, auction_id: int) -> None:
    """Until the engine says the round is over (Redis time)."""
    async with asyncio.timeout(15):
        while True:
            if (await client.get(f"{API}/auctions/{auction_id}")).json()["status"] == "closed":
                return
            await asyncio.sleep(0.05)


async def close(app, client, auction_id: int) -> None:
    """Wait for the round to be due, then run the closer once."""
    await wait_until_due(client, auction_id)
    await close_due(app.state.engine, app.state.sessionmaker)


async def settled(app, actors: Actors, bids, **kwargs) -> tuple[Sale, dict]:
    """An auction run, closed and settled; the sale and its settlement (as admin sees it)."""
    sale = await run_auction(actors, bids, **kwargs)
    await close(app, actors.client, sale.auction_id)
    return sale, await settlement_of(actors, sale.auction_id)


async def settlement_of(actors: Actors, auction_id: int) -> dict:
    """The auction's current settlement, through the result and the settlement endpoints."""
    result = (await actors.client.get(f"{API}/auctions/{auction_id}/result")).json()
    assert result["settlement_id"], result
    response = await actors.client.get(
        f"{API}/settlements/{result['settlement_id']}", headers=actors.admin.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def deposits(app, auction_id: int) -> dict[int, str | None]:
    """organization_id -> deposit_status of the auction's registrations (read from SQL)."""
    async with app.state.sessionmaker() as session:
        rows = await session.execute(
            select(Registration.organization_id, Registration.deposit_status)
            .where(Registration.auction_id == auction_id)
        )
        return {org: status.value if status else None for org, status in rows}


async def ledger_actions(client, headers, **filters) -> list[dict]:
    """Ledger entries (newest first), optionally filtered."""
    response = await client.get(f"{API}/audit/ledger", params={"limit": 1000} | filters,
                                headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def verify_ok(client, headers) -> dict:
    body = (await client.get(f"{API}/audit/verify", headers=headers)).json()
    assert body["ok"] is True, body
    return body


async def sale_world(app, actors: Actors, bids: list[tuple[str, str]]) -> dict:
    """One settled sale (winner bob, loser alice, by bids) plus outsiders of every role."""
    sale, s = await settled(app, actors, bids)
    return {
        "sale": sale, "settlement": s,
        "admin": actors.admin, "auditor": await actors.user(Role.auditor),
        "owner": sale.institute, "other_institute": await actors.user(Role.institute),
        "buyer": sale.bidders["bob"], "loser": sale.bidders["alice"],
        "outsider": await actors.user(Role.enterprise),
    }
