"""Exactly one settlement per sold auction: closers racing from several "processes" (their
own Redis clients and database pools), and a closer dying before or after its commit."""

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.auctions.engine import Engine
from app.closing.closer import close_auction, close_due, finalise
from app.db import commit, create_engine, create_sessionmaker
from app.redis import create_redis
from app.security import Role
from app.settlements.models import Settlement
from tests.support.auctions import API, approved_listing, iso, qualified_bidder
from tests.support.settlements import (
    ledger_actions,
    run_auction,
    settlement_of,
    verify_ok,
    wait_until_due,
)

LOTS = 50
CLOSERS = 4


async def _due_auctions(actors, client, count: int) -> list[int]:
    """count auctions with two bids each, all ending together a few seconds from now."""
    institute = await actors.user(Role.institute)
    alice, bob = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    listings = [await approved_listing(actors, institute) for _ in range(count)]
    start = datetime.now(UTC) - timedelta(seconds=1)
    ends = iso(datetime.now(UTC) + timedelta(seconds=3 + count * 0.2))
    body = {"rounds": [{"kind": "english", "starts_at": iso(start), "ends_at": ends}],
            "bid_increment": "10000.00", "deposit_amount": "100000.00",
            "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03", "payment_days": 30}
    ids = []
    for listing_id in listings:
        created = await client.post(f"{API}/auctions", json=body | {"listing_id": listing_id},
                                    headers=actors.admin.headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])

    async def prepare(auction_id: int) -> None:
        for bidder in (alice, bob):
            await qualified_bidder(actors, auction_id, bidder)
        for bidder, amount in ((alice, "2000000.00"), (bob, "2010000.00")):
            response = await client.post(f"{API}/auctions/{auction_id}/bids",
                                         json={"amount": amount}, headers=bidder.headers)
            assert response.status_code == 201, response.text

    await asyncio.gather(*(prepare(i) for i in ids))
    await wait_until_due(client, ids[-1])
    return ids


class _Process:
    """A closer with its own Redis client and database pool, like a separate worker."""

    def __init__(self, settings) -> None:
        self.redis = create_redis(settings.redis_url)
        self.engine = Engine(self.redis, settings.redis_prefix)
        self.db = create_engine(settings.sqlalchemy_url)
        self.sessionmaker = create_sessionmaker(self.db)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.db.dispose()


async def _count(app, *where) -> int:
    async with app.state.sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(Settlement).where(*where))


async def test_racing_closers_make_exactly_one_settlement_per_auction(app, actors, client, settings):
    ids = await _due_auctions(actors, client, LOTS)
    processes = [_Process(settings) for _ in range(CLOSERS)]

    async def by_auction(p: _Process) -> int:
        order = random.sample(ids, len(ids))
        return sum([await close_auction(p.engine, p.sessionmaker, i) for i in order])

    try:
        finalised = await asyncio.gather(
            close_due(processes[0].engine, processes[0].sessionmaker),
            close_due(processes[1].engine, processes[1].sessionmaker),
            by_auction(processes[2]), by_auction(processes[3]),
        )
    finally:
        for p in processes:
            await p.close()
    assert sum(finalised) == LOTS
    assert await _count(app) == LOTS
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Settlement.auction_id, Settlement.attempt))).all()
    assert sorted(rows) == [(i, 1) for i in sorted(ids)]
    admin = actors.admin.headers
    assert len(await ledger_actions(client, admin, action="settlement.created")) == LOTS
    assert len(await ledger_actions(client, admin, action="auction.closed")) == LOTS
    assert await app.state.engine.due_auctions(2**62) == []
    for auction_id in ids[:3]:
        s = await settlement_of(actors, auction_id)
        assert s["hammer_price"] == "2010000.00" and s["bid_count"] == 2
    assert await close_due(app.state.engine, app.state.sessionmaker) == 0
    await verify_ok(client, admin)


async def test_a_closer_dying_before_its_commit_leaves_nothing_behind(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00"), ("bob", "2010000.00")])
    await wait_until_due(client, sale.auction_id)
    engine, sessionmaker = app.state.engine, app.state.sessionmaker
    result = await engine.close_round(sale.auction_id)  # Redis closed the round ...
    assert result.status == "closed"
    async with sessionmaker() as session:  # ... the SQL work was done, then the process died
        assert await finalise(session, engine=engine, auction_id=sale.auction_id, result=result)
        await session.rollback()
    assert await _count(app) == 0
    result_body = await client.get(f"{API}/auctions/{sale.auction_id}/result")
    assert result_body.status_code == 409
    assert await close_due(engine, sessionmaker) == 1  # the next pass redoes it
    assert await close_due(engine, sessionmaker) == 0
    assert await _count(app) == 1
    s = await settlement_of(actors, sale.auction_id)
    assert s["buyer_organization_id"] == sale.bidders["bob"].organization_id
    await verify_ok(client, actors.admin.headers)


async def test_a_closer_dying_after_its_commit_is_not_repeated(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00")])
    await wait_until_due(client, sale.auction_id)
    engine, sessionmaker = app.state.engine, app.state.sessionmaker
    result = await engine.close_round(sale.auction_id)
    async with sessionmaker() as session:  # committed, but died before unscheduling
        assert await finalise(session, engine=engine, auction_id=sale.auction_id, result=result)
        await commit(session)
    assert await engine.due_auctions(2**62) == [str(sale.auction_id)]
    assert await close_due(engine, sessionmaker) == 0
    assert await engine.due_auctions(2**62) == []
    assert await _count(app) == 1
    created = await ledger_actions(client, actors.admin.headers, action="settlement.created")
    assert len(created) == 1
    await verify_ok(client, actors.admin.headers)
