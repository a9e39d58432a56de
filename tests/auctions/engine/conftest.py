"""Fixtures for the bidding engine: real Redis (single, and the cluster of tests/auctions/conftest.py),
a unique prefix per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from app.auctions.engine import Engine
from app.redis import AsyncRedis


@pytest.fixture(scope="session")
async def single_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
async def cluster_client(cluster: str) -> AsyncIterator[RedisCluster]:
    client = RedisCluster.from_url(cluster, decode_responses=True)
    await client.initialize()
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A prefix unique to this test, so tests never see each other's keys."""
    return f"test:{uuid.uuid4().hex}"


async def _delete_prefixed(client: AsyncRedis, prefix: str) -> None:
    """Delete every key under prefix, one key per call (cluster-safe)."""
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.delete(key)


@pytest.fixture(params=["single", "cluster"])
def backend(request: pytest.FixtureRequest) -> AsyncRedis:
    """The Redis client of each backend the Lua tests must pass on."""
    return request.getfixturevalue(f"{request.param}_client")


@pytest.fixture
async def engine(backend: AsyncRedis, key_prefix: str) -> AsyncIterator[Engine]:
    """An engine on an isolated prefix (single Redis and cluster); its keys are removed after."""
    engine = Engine(backend, key_prefix)
    yield engine
    await engine.aclose()
    await _delete_prefixed(backend, key_prefix)
