"""One watcher's place in a topic: a bounded buffer of encoded entries, woken on each push."""

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.feed.ids import StreamId

PING = b": ping\n\n"


@dataclass(frozen=True, slots=True)
class Entry:
    """A stream entry encoded once as SSE bytes; id None for a comment."""

    id: StreamId | None
    data: bytes
    last: bool = False


PING_BATCH = (Entry(None, PING),)


class Subscription:
    """What a watcher has yet to send: batches of shared entries (one per Redis read);
    dropped when a batch finds it behind and would bring more than `limit` entries waiting."""

    __slots__ = ("_limit", "_waiter", "after", "backlog", "client", "closed", "deadline", "dropped",
                 "gap", "live", "pending", "queue", "topic")

    def __init__(self, topic: Any, after: StreamId, limit: int) -> None:
        self.topic = topic
        self.after = after  # the id of the last entry sent (or the client's Last-Event-ID)
        self.backlog: list[Entry] = []
        self.gap: StreamId | None = None  # entries before this id must be read from Redis
        self.live = False
        self.client = ""
        self.queue: deque[tuple[Entry, ...]] = deque()
        self.pending = 0  # entries in the queue
        self.closed = False
        self.dropped = False
        self.deadline: asyncio.Timeout | None = None  # set while the response streams
        self._limit = limit
        self._waiter: asyncio.Future | None = None

    def push(self, batch: tuple[Entry, ...]) -> bool:
        """Buffer the batch; False (and the watcher cut off) when the buffer is full."""
        if self.closed:
            return True
        if self.queue and self.pending + len(batch) > self._limit:
            self.dropped = True
            self.close()
            if self.deadline is not None:  # its send waits on a full socket: stop waiting
                self.deadline.reschedule(asyncio.get_running_loop().time())
            return False
        self.queue.append(batch)
        self.pending += len(batch)
        self._wake()
        return True

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def take(self) -> list[Entry]:
        """Everything buffered, waiting for at least one entry; [] once closed."""
        while not self.queue and not self.closed:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.closed:
            return []
        items = [entry for batch in self.queue for entry in batch]
        self.queue.clear()
        self.pending = 0
        return items
