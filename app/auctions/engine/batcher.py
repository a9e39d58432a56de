"""Concurrent calls of one Lua script, sent to Redis together on a connection of their own.

A bid is one EVALSHA. Sent one by one, each call is a write to Redis and a read back, and on
this machine most of a call's cost is those system calls and the wake-ups they cause (a
write wakes Redis, its reply wakes the worker). A busy worker makes many calls at once: the
calls made in the same turn of the event loop go out as one write, made in the next turn
when the connection is free (else a writer task connects, or waits for the socket to drain).

They go out on one connection the batcher holds, not through the pool: checking a
connection out of redis-py's pool and back, and a Pipeline object, cost a single call more
than twice what the call itself costs here. Batches are written in the order they were made
while earlier ones still wait for their replies; Redis answers in that order, so one reader
hands each caller its own reply or error. Nothing is resent after a connection failure: the
callers of the lost replies get the error (a resent bid might run twice; the bid path answers
it 503, app/auctions/bidding.py). A connection Redis closed while idle (a restart) is replaced
before anything is written on it. Why, with the figures: docs/decisions/0002-script-batcher.md.
"""

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

Call = tuple[Sequence[str], Sequence[str], asyncio.Future[Any]]


@dataclass(eq=False)
class _Link:
    """The batcher's connection, the calls written on it and not yet answered, its reader."""

    conn: AbstractConnection
    waiting: deque[Call] = field(default_factory=deque)
    reader: asyncio.Task[None] | None = None


class ScriptBatcher:
    """Calls `script` like AsyncScript.__call__ does, batching the calls of one loop turn."""

    def __init__(self, redis: Redis, script: AsyncScript, *, max_batch: int = 128) -> None:
        self.redis = redis
        self.script = script
        self.max_batch = max_batch
        self._pending: list[Call] = []
        self._scheduled = False
        self._link: _Link | None = None
        self._unloaded: list[Call] = []  # answered NOSCRIPT: sent again once it is loaded
        self._loading: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()  # batches reach the connection in the order made
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until done

    async def __call__(self, keys: Sequence[str], args: Sequence[str]) -> Any:
        """The script's reply for these keys and args (its error raised, as a direct call)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    async def aclose(self) -> None:
        """Close the connection (calls still waiting for a reply fail) and wait for it."""
        if self._link is not None:
            self._fail(self._link, RedisConnectionError("the script batcher was closed"))
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, [], False
        if not self._write_now(pending):
            self._spawn(self._write(pending))

    def _write_now(self, pending: list[Call]) -> bool:
        """Write the batch in this loop turn when the connection is up and idle; False when
        it is not (the writer task then connects or waits for the socket to drain).

        redis-py's send_packed_command would take two more turns of the loop (our writer
        task, then wait_for's task around the write), and a busy loop's turns are long: the
        calls' wait for them was most of their decision's p99 at half rate
        (docs/decisions/0002-script-batcher.md)."""
        link = self._drop_if_closed(self._link)
        if link is None:
            return False
        writer = link.conn._writer  # redis-py's StreamWriter
        if (writer is None or writer.transport.is_closing() or self._write_lock.locked()
                or writer.transport.get_write_buffer_size() or len(pending) > self.max_batch):
            return False
        link.waiting.extend(pending)  # before the write, as in _send
        try:
            writer.writelines(self._packed(link, pending))
        except Exception as exc:  # the connection broke: _fail answers every waiting call
            self._fail(link, exc)
            return True
        self._start_reader(link)
        return True

    def _spawn(self, coroutine: Any) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _write(self, pending: list[Call]) -> None:
        async with self._write_lock:
            link = None
            try:
                link = await self._connected()
                for start in range(0, len(pending), self.max_batch):
                    await self._send(link, pending[start:start + self.max_batch])
            except Exception as exc:  # no connection, or it broke: nothing more goes out on it
                if link is not None:
                    self._fail(link, exc)
                _fail_calls(pending, exc)

    async def _send(self, link: _Link, batch: list[Call]) -> None:
        link.waiting.extend(batch)  # before the write: its replies may come at once
        await link.conn.send_packed_command(self._packed(link, batch), check_health=False)
        self._start_reader(link)

    def _packed(self, link: _Link, batch: list[Call]) -> list[bytes]:
        return link.conn.pack_commands(
            [("EVALSHA", self.script.sha, len(keys), *keys, *args) for keys, args, _ in batch])

    def _start_reader(self, link: _Link) -> None:
        if link.reader is None:
            link.reader = self._spawn(self._read(link))

    def _drop_if_closed(self, link: _Link | None) -> _Link | None:
        """The link, or None when Redis closed it while idle (a restart): then nothing was
        written on it since, and the next batch goes out on a new connection instead of
        failing on this one (a bid lost that way would be answered 503)."""
        if link is None or link.waiting:
            return link  # calls wait: their reader finds out, and fails them
        reader = link.conn._reader  # redis-py's StreamReader: the loop feeds it EOF
        if reader is None or not reader.at_eof():
            return link
        self._fail(link, RedisConnectionError("Redis closed the batcher's idle connection"))
        return None

    async def _connected(self) -> _Link:
        link = self._drop_if_closed(self._link)
        if link is None or not link.conn.is_connected:
            conn = self.redis.connection_pool.make_connection()
            await conn.connect()
            self._link = _Link(conn)
        return self._link

    async def _read(self, link: _Link) -> None:
        """Hand out replies, in order, until no call waits (a socket timeout applies to each)."""
        try:
            while link.waiting:
                try:
                    reply = await link.conn.read_response()
                except ResponseError as exc:  # an error reply: that call's own
                    reply = exc
                self._answer(link.waiting.popleft(), reply)
        except Exception as exc:  # the connection broke: every call still waiting lost its reply
            self._fail(link, exc)
        finally:
            link.reader = None

    def _answer(self, call: Call, reply: Any) -> None:
        future = call[2]
        if future.done():  # the caller went away (cancelled): nobody to answer
            return
        if isinstance(reply, NoScriptError):
            # Redis forgot the script (restart, SCRIPT FLUSH) and ran nothing: load it once,
            # then send these calls again. The calls that had it kept their replies.
            self._unloaded.append(call)
            if self._loading is None:
                self._loading = self._spawn(self._load_and_resend())
        elif isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            future.set_result(reply)

    async def _load_and_resend(self) -> None:
        try:
            await self.redis.script_load(self.script.script)
            error = None
        except Exception as exc:
            error = exc
        self._loading = None
        calls, self._unloaded = self._unloaded, []
        if error is None:
            await self._write(calls)
        else:
            _fail_calls(calls, error)

    def _fail(self, link: _Link, exc: Exception) -> None:
        """Give up the connection: its waiting calls get the error, the next batch reconnects."""
        if self._link is link:
            self._link = None
        if link.reader is not None and link.reader is not asyncio.current_task():
            link.reader.cancel()
        waiting, link.waiting = link.waiting, deque()
        _fail_calls(waiting, exc)
        self._spawn(self._disconnect(link.conn))

    @staticmethod
    async def _disconnect(conn: AbstractConnection) -> None:
        with contextlib.suppress(Exception):
            await conn.disconnect()


def _fail_calls(calls: Iterable[Call], exc: Exception) -> None:
    """Every caller still waiting gets the error."""
    for *_, future in calls:
        if not future.done():
            future.set_exception(exc)
