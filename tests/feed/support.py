"""Helpers of the feed tests: a live server with feed settings, raw SSE lines, CLIENT LIST."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import redis.asyncio as aioredis

from app.feed.hub import CLIENT_NAME
from app.settings import Settings
from tests.support.auctions import API
from tests.support.server import LiveServer


@contextlib.asynccontextmanager
async def feed_server(settings: Settings, **feed: object) -> AsyncIterator[LiveServer]:
    """The app under uvicorn with its own closer and the given settings changed."""
    async with LiveServer(settings.model_copy(update={"closer_in_api": True, **feed})) as server:
        yield server


def hub_of(server: LiveServer):
    """The feed hub of a live server's app (read from the test's thread: counters only)."""
    return server.server.config.app.state.feed


async def feed_connections(redis_url: str) -> int:
    """How many Redis connections the feed holds now (CLIENT LIST, by client name)."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return sum(1 for c in await client.client_list() if c.get("name") == CLIENT_NAME)
    finally:
        await client.aclose()


async def bid(client: httpx.AsyncClient, auction_id: int, who, amount: str) -> dict:
    response = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": amount},
                                 headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def raw_lines(response: httpx.Response, into: list[str]) -> None:
    """Every line of the stream, comments included, appended as they come (until it ends)."""
    async for line in response.aiter_lines():
        into.append(line)


async def wait_for_streams(server: LiveServer, count: int, within: float = 30) -> None:
    """Until the server's hub holds `count` streams (or fail after `within` s)."""
    for _ in range(int(within / 0.05)):
        if hub_of(server).streams == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{hub_of(server).streams} streams, not {count}")
