"""The feed on a Redis Cluster: a watcher held before the bids gets them live, then the close."""

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from tests.feed.support import bid, feed_server, wait_for_streams
from tests.support import databases
from tests.support.actors import Actors
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import enterprises, qualify_all
from tests.support.server import drain, sse_events


async def test_a_watcher_on_a_cluster_gets_live_bids_and_the_close(settings, cluster,
                                                                   database_url):
    settings = settings.model_copy(update={"redis_url": cluster, "redis_cluster": True})
    app = create_app(settings)
    try:
        async with (LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                      base_url="http://testserver") as client):
            actors = await Actors.bootstrap(app=app, client=client, settings=settings)
            alice, bob = await enterprises(actors, 2)
            auction = await create_auction(actors, listing_id=await approved_listing(actors),
                                           lasts=6)
            auction_id = auction["id"]
            await qualify_all(client, actors.admin, auction_id, [alice, bob])
            async with (feed_server(settings) as live,
                        httpx.AsyncClient(base_url=live.url, timeout=30) as http,
                        http.stream("GET", f"{API}/auctions/{auction_id}/events") as response):
                assert response.status_code == 200
                await wait_for_streams(live, 1)
                await bid(client, auction_id, alice, "2000000.00")
                await bid(client, auction_id, bob, "2010000.00")
                events = await drain(sse_events(response), within=20)
    finally:
        await databases.empty_all_tables(database_url)
    assert [e.event for e in events] == ["bid", "bid", "round_closed", "closed"]
    assert [e.data["amount"] for e in events[:2]] == ["2000000.00", "2010000.00"]
