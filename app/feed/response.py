"""One watcher's Server-Sent Events: backlog, live entries and keep-alive comments.

It ends after the stream's terminal event, when the client goes, or when the hub drops it
for falling behind (its buffer full); a dropped client reconnects with Last-Event-ID."""

import asyncio
from typing import Any

import structlog
from fastapi import Response

from app.feed.hub import Hub
from app.feed.subscription import Entry, Subscription

log = structlog.get_logger()

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]
RETRY = b"retry: 2000\n\n"  # how long EventSource waits before it reconnects (ms)
# Backlog entries per write: small writes, not one buffer of the whole history per watcher
# (thousands of watchers joining a long lot at once would each hold one).
BACKLOG_SLICE = 32


async def _until_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class FeedResponse(Response):
    """The stream of one subscription; releases it (and its cap) however it ends."""

    media_type = "text/event-stream"

    def __init__(self, hub: Hub, sub: Subscription) -> None:
        super().__init__(status_code=200)
        self.hub, self.sub = hub, sub

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        watcher.add_done_callback(lambda _: self.sub.close())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
            complete = await self._stream(send)
        finally:
            watcher.cancel()
            self.hub.unsubscribe(self.sub)
        if complete:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, send: Any) -> bool:
        """Send until the end; False when dropped mid-send (the server then cuts the socket)."""
        sub = self.sub
        try:
            async with asyncio.timeout(None) as deadline:
                sub.deadline = deadline
                backlog = (await self.hub.read_gap(sub) if sub.gap else []) + sub.backlog
                sub.backlog = []
                await send({"type": "http.response.body", "body": RETRY, "more_body": True})
                ended = False
                for start in range(0, len(backlog), BACKLOG_SLICE):
                    chunk, ended = self._chunk(backlog[start:start + BACKLOG_SLICE])
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    if ended:
                        break
                ended = ended or not sub.live
                while not ended and (entries := await sub.take()):
                    chunk, ended = self._chunk(entries)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except TimeoutError:
            log.info("feed_stream_cut", key=sub.topic.key, reason="slow_watcher")
            return False
        finally:
            sub.deadline = None
        return True

    def _chunk(self, entries: list[Entry]) -> tuple[bytes, bool]:
        """The bytes of the entries after the last one sent, up to a terminal one (then True)."""
        sub, parts, after = self.sub, [], self.sub.after
        ended = False
        for entry in entries:
            if entry.id is None:
                parts.append(entry.data)
                continue
            if entry.id <= after:
                continue
            parts.append(entry.data)
            after = entry.id
            if entry.last:
                ended = True
                break
        sub.after = after
        return b"".join(parts), ended
