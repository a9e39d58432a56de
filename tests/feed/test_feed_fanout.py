"""Fan-out: 500 watchers of one lot over one Redis reader; a stalled watcher is dropped alone."""

import asyncio
import socket
import time

import httpx
import redis.asyncio as aioredis

from tests.feed.support import bid, feed_connections, feed_server, wait_for_streams
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import enterprises, qualify_all
from tests.support.server import drain, sse_events

WATCHERS = 500


async def test_500_watchers_get_every_event_in_order_over_one_feed_connection(
    actors, client, settings, redis_url
):
    bidders = await enterprises(actors, 2)
    auction = await create_auction(actors, listing_id=await approved_listing(actors),
                                   starts_in=-1, lasts=12)
    auction_id = auction["id"]
    await qualify_all(client, actors.admin, auction_id, bidders)
    limits = httpx.Limits(max_connections=WATCHERS + 10, max_keepalive_connections=0)
    async with (feed_server(settings, feed_max_streams_per_client=WATCHERS) as live,
                httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as http):

        async def watch() -> list[tuple[str, str]]:
            async with http.stream("GET", f"{API}/auctions/{auction_id}/events") as response:
                assert response.status_code == 200
                return [(e.id, e.event) for e in await drain(sse_events(response), within=60)]

        watchers = [asyncio.create_task(watch()) for _ in range(WATCHERS)]
        await wait_for_streams(live, WATCHERS)
        connections = [await feed_connections(redis_url)]
        for n in range(10):
            await bid(client, auction_id, bidders[n % 2], f"{2_000_000 + n * 10_000}.00")
            connections.append(await feed_connections(redis_url))
        seen = await asyncio.wait_for(asyncio.gather(*watchers), timeout=60)
    assert connections == [1] * len(connections), connections
    assert all(s == seen[0] for s in seen)
    assert [kind for _, kind in seen[0]] == ["bid"] * 10 + ["round_closed", "closed"]


def _bid_fields(n: int) -> dict[str, str]:
    return {"type": "bid", "seq": str(n), "round": "0", "amount": str(200_000_000 + n),
            "paddle": "P-1234", "placed_at_ms": "1796083200000", "ends_at_ms": "1796083260000"}


async def _stalled_watcher(port: int, path: str) -> socket.socket:
    """A client that asks for the stream and never reads it (a tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    return sock


async def test_a_stalled_watcher_is_dropped_without_delaying_the_others(app, actors, settings,
                                                                       redis_url):
    auction = await create_auction(actors, lasts=120)
    auction_id = auction["id"]
    path = f"{API}/auctions/{auction_id}/events"
    key = app.state.engine.keys(auction_id).events
    count = 20_000  # about 4 MB of events: more than the stalled socket's buffers hold
    async with (feed_server(settings, feed_queue_size=16) as live,
                httpx.AsyncClient(base_url=live.url, timeout=60) as http):
        stalled = await _stalled_watcher(live.port, path)

        async def watch() -> int:
            got = 0
            async with http.stream("GET", path) as response:
                async for event in sse_events(response):
                    got += event.event == "bid"
                    if got == count:
                        return got
            return got

        watchers = [asyncio.create_task(watch()) for _ in range(3)]
        await wait_for_streams(live, 4)
        redis = aioredis.Redis.from_url(redis_url)
        started = time.monotonic()
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for n in range(1, count + 1):
                    pipe.xadd(key, _bid_fields(n))
                await pipe.execute()
        finally:
            await redis.aclose()
        assert await asyncio.wait_for(asyncio.gather(*watchers), timeout=60) == [count] * 3
        elapsed = time.monotonic() - started
        # The server cut the stalled watcher off: what it buffered ends, short of the events.
        received = await asyncio.wait_for(_read_to_end(stalled), timeout=20)
        assert received.count(b"event: bid") < count
    assert elapsed < 30, elapsed


async def _read_to_end(sock: socket.socket) -> bytes:
    loop, chunks = asyncio.get_running_loop(), []
    try:
        while chunk := await loop.sock_recv(sock, 65536):
            chunks.append(chunk)
    finally:
        sock.close()
    return b"".join(chunks)
