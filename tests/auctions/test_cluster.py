"""The bidding invariants with the app on a 3-master Redis Cluster (all keys of an auction in
one hash slot), end to end over HTTP."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from app.closing.closer import close_due
from app.main import create_app
from tests.support import databases
from tests.support.actors import Actors
from tests.support.asgi import asgi_client
from tests.support.auctions import API, create_auction
from tests.support.live import (
    enterprises,
    ms,
    qualify_all,
    server_now,
    sleep_until,
    soft_close_burst,
)
from tests.support.pages import bid_trail


@pytest.fixture
def cluster_settings(settings, cluster: str):
    """The test's settings on the session's Redis Cluster (tests/auctions/conftest.py)."""
    return settings.model_copy(update={"redis_url": cluster, "redis_cluster": True})


@pytest.fixture
async def cluster_app(cluster_settings, database_url: str):
    application = create_app(cluster_settings)
    async with LifespanManager(application, startup_timeout=30, shutdown_timeout=30):
        assert isinstance(application.state.redis, RedisCluster)
        yield application
    await databases.empty_all_tables(database_url)


@pytest.fixture
async def cluster_client(cluster_app) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(cluster_app) as http:
        yield http


@pytest.fixture
async def cluster_actors(cluster_app, cluster_client, cluster_settings) -> Actors:
    return await Actors.bootstrap(app=cluster_app, client=cluster_client, settings=cluster_settings)


async def test_burst_on_a_redis_cluster_keeps_every_invariant(cluster_actors, cluster_client,
                                                              cluster_app):
    counts = await soft_close_burst(cluster_actors, cluster_client, cluster_app, bidders=50,
                                    attempts=10)
    assert counts["accepted"] >= 3


async def test_auction_keys_share_one_slot_and_auctions_spread(cluster_actors, cluster_client,
                                                               cluster_app):
    engine = cluster_app.state.engine
    auctions = [await create_auction(cluster_actors) for _ in range(6)]
    bidders = await enterprises(cluster_actors, 2)
    slots = set()
    for auction in auctions:
        await qualify_all(cluster_client, cluster_actors.admin, auction["id"], bidders)
        bid = await cluster_client.post(f"{API}/auctions/{auction['id']}/bids",
                                        json={"amount": "2000000.00"}, headers=bidders[0].headers)
        assert bid.status_code == 201, bid.text
        keys = engine.keys(auction["id"])
        auction_slots = {key_slot(k.encode()) for k in (keys.state, keys.bidders, keys.idem,
                                                        keys.events)}
        assert len(auction_slots) == 1
        slots |= auction_slots
        for key in (keys.state, keys.bidders, keys.events):
            assert await cluster_app.state.redis.exists(key) == 1
    nodes = {cluster_app.state.redis.get_node_from_key(engine.keys(a["id"]).state).name
             for a in auctions}
    assert len(slots) == 6 and len(nodes) >= 2, "auctions should spread over the masters"


async def test_racing_bids_and_close_on_a_cluster(cluster_actors, cluster_client, cluster_app):
    client, admin = cluster_client, cluster_actors.admin
    bidders = await enterprises(cluster_actors, 10)
    auction = await create_auction(cluster_actors, lasts=5)
    auction_id = auction["id"]
    paddles = await qualify_all(client, admin, auction_id, bidders)
    answers = await asyncio.gather(*(
        client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2000000.00"},
                    headers=b.headers | {"Idempotency-Key": "same-key"}) for b in bidders
    ))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    (won,) = [a.json() for a in answers if a.status_code == 201]
    state, _ = await server_now(client, auction_id)
    assert state["leading_paddle"] == won["paddle"] and state["bid_count"] == 1
    await sleep_until(client, auction_id, ms(auction["ends_at"]))
    assert await close_due(cluster_app.state.engine, cluster_app.state.sessionmaker) == 1
    result = (await client.get(f"{API}/auctions/{auction_id}/result")).json()
    assert result["winning_paddle"] == won["paddle"] in paddles.values()
    trail = await bid_trail(client, auction_id, admin.headers)
    assert [(b["sequence"], b["id"]) for b in trail] == [(1, won["id"])]
    stream = await client.get(f"{API}/auctions/{auction_id}/events")
    assert [line for line in stream.text.splitlines() if line.startswith("event:")] == [
        "event: bid", "event: round_closed", "event: closed"]
