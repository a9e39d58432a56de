"""Concurrent calls of one Lua script, sent to Redis together: one write and one read a batch.

A bid is one EVALSHA. Sent one by one, each call is a write to Redis and a read back, and on
this machine most of a call's cost is those system calls and the wake-ups they cause (a
write wakes Redis, its reply wakes the worker). A busy worker makes many calls at once: the
calls made in the same turn of the event loop go out as one non-transactional pipeline.
Redis still runs each script atomically and in the order the calls were made; each caller
gets its own reply or its own error. bench/README.md ("Batched script calls") has the
figures.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[Sequence[str], Sequence[str], asyncio.Future[Any]]


class ScriptBatcher:
    """Calls `script` like AsyncScript.__call__ does, batching the calls of one loop turn."""

    def __init__(self, redis: Redis, script: AsyncScript, *, max_batch: int = 128) -> None:
        self.redis = redis
        self.script = script
        self.max_batch = max_batch
        self._pending: list[Call] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()  # strong references until done

    async def __call__(self, keys: Sequence[str], args: Sequence[str]) -> Any:
        """The script's reply for these keys and args (its error raised, as a direct call)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((keys, args, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, [], False
        task = asyncio.ensure_future(self._send_in_order(pending))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_in_order(self, pending: list[Call]) -> None:
        # One pipeline after the other: concurrent pipelines would be interleaved by Redis.
        for start in range(0, len(pending), self.max_batch):
            await self._send(pending[start:start + self.max_batch])

    async def _send(self, batch: list[Call]) -> None:
        try:
            replies = await self._pipeline(batch)
        except Exception as exc:  # the connection failed: every call of the batch failed
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (keys, args, future), reply in zip(batch, replies, strict=True):
            if isinstance(reply, NoScriptError):
                # Redis forgot the script (restart, SCRIPT FLUSH): this call again, on its own;
                # the script object loads it first. The calls that had it kept their replies.
                reply = await self._direct(keys, args)
            if future.done():  # the caller went away (cancelled): nobody to answer
                continue
            if isinstance(reply, BaseException):
                future.set_exception(reply)
            else:
                future.set_result(reply)

    async def _pipeline(self, batch: list[Call]) -> list[Any]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for keys, args, _ in batch:
                pipe.execute_command("EVALSHA", self.script.sha, len(keys), *keys, *args)
            return await pipe.execute(raise_on_error=False)

    async def _direct(self, keys: Sequence[str], args: Sequence[str]) -> Any:
        try:
            return await self.script(keys=list(keys), args=list(args))
        except Exception as exc:
            return exc
