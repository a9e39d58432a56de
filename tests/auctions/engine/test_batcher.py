"""ScriptBatcher on a real Redis: many calls at once, each with its own reply, in call order."""

import asyncio
import socket

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from app.auctions.domain.rules import RoundSpec
from app.auctions.engine import Engine
from app.auctions.engine.batcher import ScriptBatcher
from app.auctions.engine.replies import BidAccepted

APPEND = "return redis.call('RPUSH', KEYS[1], ARGV[1])"
ECHO_OR_FAIL = "if ARGV[1] == 'bad' then return redis.error_reply('BAD input') end return ARGV[1]"


class CountingBatcher(ScriptBatcher):
    """Records the size of every batch it writes."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def _packed(self, link, batch):  # every write, in the loop turn or by the writer task
        self.batches.append(len(batch))
        return super()._packed(link, batch)


@pytest.fixture
async def batchers():
    """Make batchers (class, then its arguments) and close every one after the test."""
    made: list[ScriptBatcher] = []

    def make(cls, *args, **kwargs):
        made.append(cls(*args, **kwargs))
        return made[-1]

    yield make
    for batcher in made:
        await batcher.aclose()


@pytest.fixture
async def list_key(single_client, key_prefix):
    key = f"{key_prefix}:{{batch}}:calls"
    yield key
    await single_client.delete(key)


async def test_calls_made_together_share_writes_and_run_in_call_order(single_client, list_key, batchers):
    batcher = batchers(CountingBatcher, single_client, single_client.register_script(APPEND),
                       max_batch=128)
    await single_client.script_load(APPEND)  # this test counts batches: none resent for NOSCRIPT

    replies = await asyncio.gather(*(batcher([list_key], [str(i)]) for i in range(300)))

    assert replies == list(range(1, 301))  # call i appended the (i+1)-th element
    assert await single_client.lrange(list_key, 0, -1) == [str(i) for i in range(300)]
    assert batcher.batches == [128, 128, 44]


async def test_calls_in_separate_loop_turns_are_sent_separately(single_client, list_key, batchers):
    batcher = batchers(CountingBatcher, single_client, single_client.register_script(APPEND))

    first = await batcher([list_key], ["a"])
    second = await batcher([list_key], ["b"])

    assert (first, second) == (1, 2)
    assert batcher.batches == [1, 1]


async def test_each_call_gets_its_own_reply_or_error(single_client, batchers):
    batcher = batchers(ScriptBatcher, single_client, single_client.register_script(ECHO_OR_FAIL))
    args = ["one", "bad", "two", "bad", "three"]

    results = await asyncio.gather(*(batcher(["{batch}:unused"], [a]) for a in args),
                                   return_exceptions=True)

    assert results[0::2] == ["one", "two", "three"]
    for error in results[1::2]:
        assert isinstance(error, ResponseError) and "BAD input" in str(error)


async def test_a_script_redis_forgot_is_loaded_again_for_the_calls_that_needed_it(
    single_client, list_key, batchers
):
    batcher = batchers(CountingBatcher, single_client, single_client.register_script(APPEND))
    assert await batcher([list_key], ["before"]) == 1
    await single_client.script_flush()

    replies = await asyncio.gather(*(batcher([list_key], [str(i)]) for i in range(20)))

    assert replies == list(range(2, 22))
    assert await single_client.lrange(list_key, 0, -1) == ["before", *map(str, range(20))]


async def test_a_caller_that_went_away_leaves_the_others_their_replies(single_client, list_key, batchers):
    batcher = batchers(ScriptBatcher, single_client, single_client.register_script(APPEND))
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
        await batcher.aclose()
        await client.aclose()

    assert all(isinstance(r, RedisConnectionError) for r in results), results


async def test_batches_written_while_earlier_ones_wait_get_their_replies_in_order(
    single_client, list_key, batchers
):
    batcher = batchers(CountingBatcher, single_client, single_client.register_script(APPEND))
    await batcher([list_key], ["first"])  # connected, and the script is loaded
    calls = []
    for i in range(60):  # one call per loop turn: each is a batch of its own, on one connection
        calls.append(asyncio.ensure_future(batcher([list_key], [str(i)])))
        await asyncio.sleep(0)

    replies = await asyncio.gather(*calls)

    assert replies == list(range(2, 62))
    assert await single_client.lrange(list_key, 0, -1) == ["first", *map(str, range(60))]
    assert len(batcher.batches) > 2  # several batches were written before the first replies


class ReplyHoldingProxy:
    """A loopback TCP proxy in front of the test's Redis: it can hold Redis's replies back and
    cut every connection, as a network failure between the two would."""

    def __init__(self, upstream: dict) -> None:
        self.upstream = upstream
        self.replies_flow = asyncio.Event()
        self.replies_flow.set()
        self.transports: list[asyncio.BaseTransport] = []

    async def __aenter__(self) -> "ReplyHoldingProxy":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_) -> None:
        self.replies_flow.set()
        self.cut()
        self.server.close()

    async def _serve(self, reader, writer) -> None:
        if "path" in self.upstream:
            up_reader, up_writer = await asyncio.open_unix_connection(self.upstream["path"])
        else:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream["host"], self.upstream["port"])
        self.transports += [writer.transport, up_writer.transport]
        await asyncio.gather(self._pump(reader, up_writer, None),
                             self._pump(up_reader, writer, self.replies_flow),
                             return_exceptions=True)

    @staticmethod
    async def _pump(source, sink, gate) -> None:
        while data := await source.read(65536):
            if gate is not None:
                await gate.wait()
            sink.write(data)
            await sink.drain()

    def cut(self) -> None:
        for transport in self.transports:
            transport.abort()
        self.transports.clear()


async def test_a_cut_connection_fails_the_waiting_calls_and_resends_none(
    single_client, list_key, batchers
):
    kwargs = single_client.connection_pool.connection_kwargs
    async with ReplyHoldingProxy(kwargs) as proxy:
        client = aioredis.Redis(host="127.0.0.1", port=proxy.port, decode_responses=True,
                                retry=Retry(NoBackoff(), 0))
        try:
            batcher = batchers(ScriptBatcher, client, client.register_script(APPEND))
            assert await batcher([list_key], ["first"]) == 1
            proxy.replies_flow.clear()
            calls = [asyncio.ensure_future(batcher([list_key], [str(i)])) for i in range(5)]
            for _ in range(500):  # until Redis ran them all (their replies are held back)
                if await single_client.llen(list_key) == 6:
                    break
                await asyncio.sleep(0.01)
            proxy.cut()

            results = await asyncio.gather(*calls, return_exceptions=True)

            assert all(isinstance(r, RedisConnectionError) for r in results), results
            # Redis ran each call once: nothing was sent again after the failure
            assert await single_client.lrange(list_key, 0, -1) == ["first", *map(str, range(5))]
            proxy.replies_flow.set()
            assert await batcher([list_key], ["after"]) == 7  # on a new connection
        finally:
            await client.aclose()


async def test_a_connection_redis_closed_while_idle_is_replaced_before_the_next_call(
    redis_url, single_client, list_key, batchers
):
    """A Redis restart closes the idle connection: the next call goes out on a new one (it was
    never written on the closed one), instead of failing (the bid would be answered 503)."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True, client_name="idle-batcher",
                                     retry=Retry(NoBackoff(), 0))
    try:
        batcher = batchers(ScriptBatcher, client, client.register_script(APPEND))
        assert await batcher([list_key], ["before"]) == 1
        (held,) = [c for c in await single_client.client_list() if c["name"] == "idle-batcher"]
        await single_client.execute_command("CLIENT", "KILL", "ID", held["id"])
        for _ in range(200):  # until the loop has read the EOF
            if batcher._link is None or batcher._link.conn._reader.at_eof():
                break
            await asyncio.sleep(0.01)

        assert await batcher([list_key], ["after"]) == 2
        assert await single_client.lrange(list_key, 0, -1) == ["before", "after"]
    finally:
        await client.aclose()


async def test_an_engines_burst_of_bids_is_split_by_the_batcher_alone(single_client, key_prefix):
    engine = Engine(single_client, key_prefix)
    engine._bid = counting = CountingBatcher(single_client, engine._bid.script)  # type: ignore[union-attr]
    now = await engine.server_time_ms()
    await engine.open_round("burst", RoundSpec("english", now - 1_000, now + 60_000, 10_000, 1), 0)
    for bidder in range(300):
        await engine.qualify("burst", f"b{bidder}", f"{1000 + bidder}")

    results = await asyncio.gather(*(engine.place_bid("burst", bidder_id=f"b{bidder}",
                                                      amount=10_000 + bidder) for bidder in range(300)))

    assert len(results) == 300 and max(r.seq for r in results if isinstance(r, BidAccepted)) > 0
    assert counting.batches[:2] == [128, 128]  # no gate of the engine's cuts a burst shorter
    await engine.aclose()
    async for key in single_client.scan_iter(match=f"{key_prefix}:*"):
        await single_client.delete(key)
