"""The hub on real Redis, without HTTP: a topic that everyone left is replaced, not orphaned."""

import asyncio

import redis.asyncio as aioredis

from app.feed.hub import FeedSpec, Hub, Limits, create_feed_redis

SPEC = FeedSpec(encode=lambda entry_id, kind, _: f"id: {entry_id}\nevent: {kind}\n\n".encode(),
                terminal=frozenset({"closed"}))


async def test_a_watcher_after_everyone_left_gets_live_entries(redis_url, redis_prefix):
    key = f"{redis_prefix}:{{feed}}:events"
    writer = aioredis.Redis.from_url(redis_url)
    hub = Hub(create_feed_redis(redis_url, cluster=False), Limits(linger_s=0.4))
    await hub.start()
    try:
        first = await hub.subscribe(key, SPEC, after=None, client="a")
        hub.unsubscribe(first)
        await asyncio.sleep(0.5)
        await writer.xadd(key, {"type": "bid"})  # wakes the reader, which finds nobody watching
        await asyncio.sleep(0.05)
        assert key not in hub.topics
        second = await hub.subscribe(key, SPEC, after=None, client="a")
        assert [e.data.split(b"\n")[1] for e in second.backlog] == [b"event: bid"]
        await writer.xadd(key, {"type": "closed"})
        async with asyncio.timeout(5):
            (entry,) = await second.take()
        assert entry.last and entry.data.endswith(b"event: closed\n\n")
        hub.unsubscribe(second)
        assert hub.streams == 0 and hub.clients == {}
    finally:
        await hub.stop()
        await writer.delete(key)
        await writer.aclose()
