"""The feed across a Redis restart: the reader reconnects, watchers miss no event."""

import asyncio

import httpx

from tests.feed.support import feed_server, wait_for_streams
from tests.support.auctions import API
from tests.support.own_redis import lot_on
from tests.support.server import next_events, sse_events


async def _bid(client: httpx.AsyncClient, auction_id: int, who, amount: str) -> dict:
    """A bid, retried while the API's Redis connections come back after the restart (an
    unreachable Redis is a deliberate 503 unavailable, never a 500)."""
    for _ in range(100):
        response = await client.post(f"{API}/auctions/{auction_id}/bids",
                                     json={"amount": amount}, headers=who.headers)
        if response.status_code == 201:
            return response.json()
        assert response.status_code == 503, response.text
        await asyncio.sleep(0.1)
    raise AssertionError("no bid accepted after the restart")


async def test_watchers_keep_their_streams_across_a_redis_restart(settings, own_redis):
    async with lot_on(settings, own_redis) as lot:
        client, auction_id, alice, bob = lot.client, lot.auction_id, lot.alice, lot.bob
        async with (feed_server(lot.settings) as live,
                    httpx.AsyncClient(base_url=live.url, timeout=60) as http):
            responses = [await http.send(http.build_request(
                "GET", f"{API}/auctions/{auction_id}/events"), stream=True) for _ in range(3)]
            streams = [sse_events(r) for r in responses]
            await wait_for_streams(live, 3)
            await _bid(client, auction_id, alice, "2000000.00")
            before = [await next_events(s, 1, within=10) for s in streams]

            own_redis.kill()
            await asyncio.sleep(1)  # the reader finds Redis gone and retries
            own_redis.start()
            amounts = ["2010000.00", "2020000.00", "2030000.00"]
            for n, amount in enumerate(amounts):
                await _bid(client, auction_id, (bob, alice)[n % 2], amount)
            after = [await next_events(s, 3, within=30) for s in streams]
            for response in responses:
                await response.aclose()
    for head, rest in zip(before, after, strict=True):
        assert [e.data["amount"] for e in head + rest] == ["2000000.00", *amounts]
        assert [e.data["sequence"] for e in head + rest] == [1, 2, 3, 4]
