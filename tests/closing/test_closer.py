"""The closer: racing closers finalise each due auction once; past-due rounds never read as open;
reserve and no-bid outcomes; deadlines follow extensions."""

import asyncio
import contextlib
import time
from collections import Counter
from datetime import timedelta

from app.auctions.engine import Engine
from app.closing.closer import close_auction, close_due, reload_lost_rounds
from app.db import create_engine, create_sessionmaker
from app.redis import create_redis
from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import (
    auction_body,
    bounded,
    enterprises,
    ms,
    now,
    qualify_all,
    server_now,
    sleep_until,
)

RESERVE = "2500000.00"
# index % 4 -> (reserve, bids, expected outcome)
SCENARIOS = {
    0: (None, [], "unsold"),  # no bids
    1: (None, ["2000000.00", "2010000.00"], "sold"),
    2: (RESERVE, ["2000000.00", "2010000.00"], "unsold"),  # reserve not met
    3: (RESERVE, ["2000000.00", "2500000.00"], "sold"),  # reserve met exactly
}


@contextlib.asynccontextmanager
async def closers(settings, count: int):
    """`count` independent closers (own Redis client, own DB pool), like separate processes."""
    made = []
    try:
        for _ in range(count):
            db = create_engine(settings.sqlalchemy_url)
            redis = create_redis(settings.redis_url, cluster=settings.redis_cluster)
            made.append((db, redis))
        yield [(Engine(redis, settings.redis_prefix), create_sessionmaker(db)) for db, redis in made]
    finally:
        for db, redis in made:
            await redis.aclose()
            await db.dispose()


async def stream_types(app, auction_id: int) -> list[str]:
    """Every event type in the auction's Redis stream, from the start."""
    events = await app.state.engine.events_since(auction_id, None, count=10_000)
    return [e.type for e in events]


async def test_four_closers_race_on_twenty_due_auctions(actors, client, app, settings):
    institute = await actors.user(Role.institute)
    alice, bob = await enterprises(actors, 2)
    started = time.monotonic()
    listing_ids = await bounded(
        (approved_listing(actors, institute, reserve_price=SCENARIOS[i % 4][0]) for i in range(21)),
        6,
    )
    admin = actors.admin.headers
    # All 20 end together, once set-up is done: about 2x the requests the listings took.
    ends = now() + timedelta(seconds=1 + 3 * (time.monotonic() - started))

    async def make(i: int, listing_id: int) -> dict:
        body = auction_body(listing_id, starts_at=now() - timedelta(seconds=1),
                            ends_at=ends if i < 20 else now() + timedelta(seconds=120))
        response = await client.post(f"{API}/auctions", json=body, headers=admin)
        assert response.status_code == 201, response.text
        return response.json()

    auctions = await bounded((make(i, lid) for i, lid in enumerate(listing_ids)), 6)
    not_due = auctions.pop()
    with_bids = [a for i, a in enumerate(auctions) if SCENARIOS[i % 4][1]]
    paddles = await bounded(
        (qualify_all(client, actors.admin, a["id"], [alice, bob])
         for a in with_bids), 4,
    )
    winners = {}
    for auction, by_org in zip(with_bids, paddles, strict=True):
        i = auctions.index(auction)
        for bidder, amount in zip((alice, bob), SCENARIOS[i % 4][1], strict=True):
            bid = await client.post(f"{API}/auctions/{auction['id']}/bids", json={"amount": amount},
                                    headers=bidder.headers)
            assert bid.status_code == 201, bid.text
        winners[auction["id"]] = by_org[bob.organization_id]

    # Past due, before any closer ran: never open, not bid on, not registered for.
    await sleep_until(client, auctions[0]["id"], ms(auctions[0]["ends_at"]))
    for auction in auctions:
        state, _ = await server_now(client, auction["id"])
        assert state["status"] == "closed" and state["minimum_next_bid"] is None
        assert state["outcome"] is None  # not finalised yet
    page = (await client.get(f"{API}/auctions", headers=admin)).json()
    listed = {a["id"]: a["status"] for a in page["items"]}
    assert all(listed[a["id"]] == "closed" for a in auctions) and listed[not_due["id"]] == "open"
    late = await client.post(f"{API}/auctions/{auctions[1]['id']}/bids",
                             json={"amount": "9000000.00"}, headers=alice.headers)
    assert late.status_code == 409 and late.json()["code"] == "auction_closed"
    (carol,) = await enterprises(actors, 1)
    too_late = await client.post(f"{API}/auctions/{auctions[0]['id']}/registrations",
                                 headers=carol.headers)
    assert too_late.status_code == 409 and too_late.json()["code"] == "auction_closed"

    async with closers(settings, 4) as workers:
        ids = [a["id"] for a in auctions]

        async def by_id_reversed(engine, sessionmaker) -> int:
            return sum([await close_auction(engine, sessionmaker, i) for i in reversed(ids)])

        results = await asyncio.gather(
            close_due(*workers[0]), close_due(*workers[1]),
            by_id_reversed(*workers[2]), by_id_reversed(*workers[3]),
        )
        assert sum(results) == 20, results
        assert [await close_due(*w) for w in workers] == [0, 0, 0, 0]

    for i, auction in enumerate(auctions):
        expected = SCENARIOS[i % 4][2]
        state = (await client.get(f"{API}/auctions/{auction['id']}")).json()
        assert (state["status"], state["outcome"]) == ("closed", expected), (i, state)
        listing = (await client.get(f"{API}/listings/{auction['listing_id']}")).json()
        assert listing["status"] == expected
        result = (await client.get(f"{API}/auctions/{auction['id']}/result")).json()
        assert result["outcome"] == expected
        if expected == "sold":
            assert result["winning_paddle"] == winners[auction["id"]]
            assert result["hammer_price"] == SCENARIOS[i % 4][1][-1]
        else:
            assert result["winning_paddle"] is None and result["hammer_price"] is None
        types = Counter(await stream_types(app, auction["id"]))
        assert types["closed"] == 1 and types["round_closed"] == 1, types
        sse = await client.get(f"{API}/auctions/{auction['id']}/events")
        assert sse.text.count("event: closed") == 1
    # Finalised auctions leave the deadline schedule; the one not due stays on it.
    assert await app.state.engine.due_auctions(ms(state["server_time"]) + 600_000) == [
        str(not_due["id"])
    ]
    # The auction that is not due yet stays open, whatever the closers did.
    state = (await client.get(f"{API}/auctions/{not_due['id']}")).json()
    assert state["status"] == "open" and state["outcome"] is None
    assert await stream_types(app, not_due["id"]) == []


async def test_reads_around_the_deadline_never_show_a_past_due_round_open(actors, client):
    auction = await create_auction(actors, lasts=3)  # room for a slow set-up before end - 300
    auction_id = auction["id"]
    end = ms(auction["ends_at"])
    await sleep_until(client, auction_id, end - 300)
    seen = Counter()
    for _ in range(400):
        state, server = await server_now(client, auction_id)
        assert (state["status"] == "open") == (server < end), (state["status"], server, end)
        seen[state["status"]] += 1
        if server > end + 200:
            break
    assert seen["open"] and seen["closed"]


async def test_not_due_auction_is_rescheduled_after_an_extension(actors, client, app):
    engine, sessionmaker = app.state.engine, app.state.sessionmaker
    auction = await create_auction(actors, starts_in=0, lasts=1.0, window=5, extension=2)
    auction_id = auction["id"]
    first_end = ms(auction["ends_at"])
    (alice,) = await enterprises(actors, 1)
    await qualify_all(client, actors.admin, auction_id, [alice])
    bid = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2000000.00"},
                            headers=alice.headers)
    assert bid.status_code == 201, bid.text
    new_end = ms(bid.json()["ends_at"])
    assert new_end > first_end
    # Not due: nothing happens, the deadline stays.
    assert await close_auction(engine, sessionmaker, auction_id) is False
    # The recorded deadline lags behind the extension until a closer looks at it.
    await sleep_until(client, auction_id, first_end)
    assert await close_due(engine, sessionmaker) == 0
    score = await app.state.redis.zscore(engine.deadlines_key, str(auction_id))
    assert int(score) == new_end
    state, server = await server_now(client, auction_id)
    assert server < new_end and state["status"] == "open" and state["outcome"] is None
    assert await stream_types(app, auction_id) == ["bid", "extended"]
    assert await close_due(engine, sessionmaker) == 0  # not in the due set any more

    await sleep_until(client, auction_id, new_end)
    assert await close_due(engine, sessionmaker) == 1
    state = (await client.get(f"{API}/auctions/{auction_id}")).json()
    assert state["status"] == "closed" and state["outcome"] == "sold"
    assert state["ends_at"] == bid.json()["ends_at"]
    assert await stream_types(app, auction_id) == ["bid", "extended", "round_closed", "closed"]


async def test_round_closes_after_redis_lost_everything(actors, client, app, settings):
    auction = await create_auction(actors, starts_in=0, lasts=1.0)
    auction_id = auction["id"]
    (alice,) = await enterprises(actors, 1)
    await qualify_all(client, actors.admin, auction_id, [alice])
    bid = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2000000.00"},
                            headers=alice.headers)
    assert bid.status_code == 201
    redis = app.state.redis
    for key in [k async for k in redis.scan_iter(match=f"{settings.redis_prefix}:*")]:
        await redis.delete(key)
    await asyncio.sleep((ms(auction["ends_at"]) - ms(bid.json()["placed_at"])) / 1000 + 0.1)
    finalised = 0
    # What run_closer does on its periodic pass, nobody reading the auction.
    assert await reload_lost_rounds(app.state.engine, app.state.sessionmaker) == 1
    for _ in range(3):
        finalised += await close_due(app.state.engine, app.state.sessionmaker)
    assert finalised == 1
