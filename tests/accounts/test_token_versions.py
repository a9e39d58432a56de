"""TokenVersions on a real Redis: versions only grow, a missing one comes from the loader, and
the checks of one event-loop turn share one Redis read."""

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.errors import ServiceUnavailable, Unauthorized
from app.redis import create_redis
from app.revocation import TokenVersions


@pytest.fixture
async def redis(redis_url, redis_prefix):
    client = create_redis(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{redis_prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def versions_of(redis, prefix, table: dict[int, int]):
    loaded: list[int] = []

    async def load(user_id: int) -> int | None:
        loaded.append(user_id)
        return table.get(user_id)

    return TokenVersions(redis, prefix, load), loaded


async def test_a_version_never_goes_down(redis, redis_prefix):
    versions, _ = versions_of(redis, redis_prefix, {})
    assert await versions.publish(7, 5) == 5
    assert await versions.publish(7, 3) == 5
    await versions.check(7, 5)
    with pytest.raises(Unauthorized) as refused:
        await versions.check(7, 3)
    assert refused.value.code == "token_revoked"


async def test_a_missing_version_is_loaded_once_and_kept(redis, redis_prefix):
    versions, loaded = versions_of(redis, redis_prefix, {1: 4})
    await versions.check(1, 4)
    await versions.check(1, 4)
    assert loaded == [1]
    with pytest.raises(Unauthorized):
        await versions.check(2, 0)  # no such (active) user


async def test_the_checks_of_one_loop_turn_share_one_read(redis, redis_prefix):
    versions, loaded = versions_of(redis, redis_prefix, {})
    for user_id in range(1, 6):
        await versions.publish(user_id, user_id)
    reads: list[int] = []
    mget = versions._mget

    async def counting(keys):
        reads.append(len(keys))
        return await mget(keys)

    versions._mget = counting
    answers = await asyncio.gather(
        *(versions.check(user_id, user_id) for user_id in range(1, 6) for _ in range(10)),
        versions.check(3, 2), return_exceptions=True,
    )
    assert reads == [5] and loaded == []
    assert answers[:-1] == [None] * 50
    assert isinstance(answers[-1], Unauthorized)


async def test_a_failed_read_fails_every_check_waiting_for_it_with_503(redis, redis_prefix):
    versions, _ = versions_of(redis, redis_prefix, {})

    async def broken(keys):
        raise RedisConnectionError("gone")

    versions._mget = broken
    answers = await asyncio.gather(*(versions.check(1, 0) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(a, ServiceUnavailable) for a in answers)
    assert {a.headers["Retry-After"] for a in answers} == {"1"}
    versions._mget = redis.mget
    await versions.publish(1, 0)
    await versions.check(1, 0)  # the next turn reads again
