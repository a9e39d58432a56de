"""ScriptBatcher on a real Redis: many calls at once, each with its own reply, in call order."""

import asyncio
import socket

import pytest
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.retry import Retry

from app.auctions.script_batch import ScriptBatcher

APPEND = "return redis.call('RPUSH', KEYS[1], ARGV[1])"
ECHO_OR_FAIL = "if ARGV[1] == 'bad' then return redis.error_reply('BAD input') end return ARGV[1]"


class CountingBatcher(ScriptBatcher):
    """Records the size of every pipeline it sends."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    async def _pipeline(self, batch):
        self.batches.append(len(batch))
        return await super()._pipeline(batch)


@pytest.fixture
async def list_key(single_client, key_prefix):
    key = f"{key_prefix}:{{batch}}:calls"
    yield key
    await single_client.delete(key)


async def test_calls_made_together_share_pipelines_and_run_in_call_order(single_client, list_key):
    batcher = CountingBatcher(single_client, single_client.register_script(APPEND), max_batch=128)

    replies = await asyncio.gather(*(batcher([list_key], [str(i)]) for i in range(300)))

    assert replies == list(range(1, 301))  # call i appended the (i+1)-th element
    assert await single_client.lrange(list_key, 0, -1) == [str(i) for i in range(300)]
    assert batcher.batches == [128, 128, 44]


async def test_calls_in_separate_loop_turns_are_sent_separately(single_client, list_key):
    batcher = CountingBatcher(single_client, single_client.register_script(APPEND))

    first = await batcher([list_key], ["a"])
    second = await batcher([list_key], ["b"])

    assert (first, second) == (1, 2)
    assert batcher.batches == [1, 1]


async def test_each_call_gets_its_own_reply_or_error(single_client):
    batcher = ScriptBatcher(single_client, single_client.register_script(ECHO_OR_FAIL))
    args = ["one", "bad", "two", "bad", "three"]

    results = await asyncio.gather(*(batcher(["{batch}:unused"], [a]) for a in args),
                                   return_exceptions=True)

    assert results[0::2] == ["one", "two", "three"]
    for error in results[1::2]:
        assert isinstance(error, ResponseError) and "BAD input" in str(error)


async def test_a_script_redis_forgot_is_loaded_again_for_the_calls_that_needed_it(
    single_client, list_key
):
    batcher = CountingBatcher(single_client, single_client.register_script(APPEND))
    assert await batcher([list_key], ["before"]) == 1
    await single_client.script_flush()

    replies = await asyncio.gather(*(batcher([list_key], [str(i)]) for i in range(20)))

    assert replies == list(range(2, 22))
    assert await single_client.lrange(list_key, 0, -1) == ["before", *map(str, range(20))]


async def test_a_caller_that_went_away_leaves_the_others_their_replies(single_client, list_key):
    batcher = ScriptBatcher(single_client, single_client.register_script(APPEND))
    calls = [asyncio.ensure_future(batcher([list_key], [str(i)])) for i in range(10)]
    await asyncio.sleep(0)  # every call is queued for the next pipeline
    calls[4].cancel()

    results = await asyncio.gather(*calls, return_exceptions=True)

    assert isinstance(results[4], asyncio.CancelledError)
    # the call was already on its way: Redis ran it, in its place
    assert [r for i, r in enumerate(results) if i != 4] == [1, 2, 3, 4, 6, 7, 8, 9, 10]


async def test_a_connection_failure_fails_every_call_of_the_batch():
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = aioredis.Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
    batcher = ScriptBatcher(client, client.register_script(APPEND))
    try:
        results = await asyncio.gather(*(batcher(["{batch}:k"], [str(i)]) for i in range(5)),
                                       return_exceptions=True)
    finally:
        await client.aclose()

    assert all(isinstance(r, RedisConnectionError) for r in results), results
