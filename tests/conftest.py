"""Fixtures: a migrated throw-away database, real Redis, the app over ASGI, and actors."""

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.redis import EmbeddedRedis
from app.settings import Environment, Settings
from tests.support import databases
from tests.support.actors import Actors
from tests.support.asgi import asgi_client
from tests.support.own_redis import RedisServer

TEST_JWT_SECRET = "test-secret-" + "x" * 40
TEST_METRICS_TOKEN = "test-metrics-" + "m" * 32

# the `rig` of real processes (faults and serving tests) and the Redis Cluster of the session
pytest_plugins = ["tests.support.rig", "tests.support.cluster"]


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("techauction")


@pytest.fixture(scope="session")
def redis_url(session_tmp: Path) -> str:
    """The configured Redis, or an embedded real one for the whole session."""
    if url := os.environ.get("TECHAUCTION_REDIS_URL"):
        yield url
        return
    embedded = EmbeddedRedis(session_tmp / "redis")
    yield embedded.start()
    embedded.stop()


@pytest.fixture(scope="session")
async def database_url(session_tmp: Path) -> AsyncIterator[str]:
    """A fresh database migrated with Alembic (the only way the schema is made)."""
    url = await databases.create_database(session_tmp)
    await databases.migrate(url)
    yield url
    await databases.drop_database(url)


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so tests never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_prefix: str, tmp_path: Path) -> Settings:
    return Settings(
        env=Environment.test, database_url=database_url, redis_url=redis_url,
        redis_prefix=redis_prefix, jwt_secret=TEST_JWT_SECRET, var_dir=tmp_path / "var",
        gc_freeze=False,  # one process builds an app per test: frozen ones would pile up
    )


@pytest.fixture
def app_factory():
    """What builds the app under test from settings (the bench's tests build the bench's)."""
    return create_app


@pytest.fixture
async def app(app_factory, settings: Settings, database_url: str, redis_url: str, redis_prefix: str):
    """The application with its lifespan running; tables and keys emptied afterwards."""
    application = app_factory(settings)
    async with LifespanManager(application):
        yield application
    await databases.empty_all_tables(database_url)
    await _delete_keys(redis_url, redis_prefix)


async def _delete_keys(redis_url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the real ASGI app."""
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
async def actors(app, client: httpx.AsyncClient, settings: Settings) -> Actors:
    """Makes signed-in users of every role."""
    return await Actors.bootstrap(app=app, client=client, settings=settings)


@pytest.fixture
def own_redis(tmp_path: Path):
    """A redis-server of the test's own (tests/support/own_redis.py), killed after it."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()
