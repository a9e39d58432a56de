"""The per-process Hub: one reader per watched stream key, each entry encoded once and pushed
to every local watcher's bounded buffer; streams capped per client address and per process.

A reader holds one connection of the feed's own Redis client (socket timeout above its
XREAD BLOCK, no retries of its own: it reconnects with backoff and resumes from the last id
it saw). Topics keep the newest entries already encoded, so a watcher's backlog after its
Last-Event-ID costs no Redis read unless it reaches further back than that history.
"""

import asyncio
import bisect
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app.errors import ServiceUnavailable, TooManyRequests
from app.feed.ids import ZERO, StreamId, format_stream_id, parse_stream_id
from app.feed.subscription import PING_BATCH, Entry, Subscription

log = structlog.get_logger()

CLIENT_NAME = "techauction-feed"
BLOCK_MS = 10_000  # XREAD BLOCK; the socket timeout is this plus SOCKET_MARGIN_S
SOCKET_MARGIN_S = 10.0
BATCH = 1_000
BACKOFF_S = (0.05, 2.0)  # a reader's first and longest wait before it reconnects
READY_S = 5.0  # how long a new watcher waits for its topic's first read
RETRY_AFTER_S = 5
GAP_READS = 8  # concurrent backlog reads that reach behind a topic's history
NOFILE_CEILING = 1 << 20
FAN_OUT_SLICE = 256  # subscribers served per event-loop turn


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """How the entries of one kind of stream become SSE bytes, and which event types end it."""

    encode: Callable[[str, str, dict[str, str]], bytes]  # entry id, event type, fields
    terminal: frozenset[str]

    def entry(self, entry_id: str, fields: dict[str, str]) -> Entry:
        kind = fields.get("type", "")
        return Entry(parse_stream_id(entry_id), self.encode(entry_id, kind, fields),
                     kind in self.terminal)


@dataclass(frozen=True, slots=True)
class Limits:
    """The Hub's settings: buffers, history, keep-alive and caps."""

    queue_size: int = 1024
    history_size: int = 10_000
    keepalive_s: float = 10.0
    linger_s: float = 30.0
    per_client: int = 32
    per_process: int = 20_000


def create_feed_redis(url: str, *, cluster: bool) -> Any:
    """The feed's own client: blocking reads never time out before Redis answers them."""
    options: dict[str, Any] = {"decode_responses": True, "client_name": CLIENT_NAME, "protocol": 2,
                               "socket_timeout": BLOCK_MS / 1000 + SOCKET_MARGIN_S}
    if cluster:
        return RedisCluster.from_url(url, **options)
    return aioredis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), health_check_interval=30,
                                   **options)


def raise_nofile_limit() -> int:
    """Raise this process's open-file limit to its hard limit (each watcher is a socket)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            pass
    return soft


def _rows(reply: Any) -> list[Any]:
    """The entries of a one-stream XREAD reply (the feed's client speaks RESP2)."""
    return list(reply[0][1]) if reply else []


async def fan_out(subscribers: list[Subscription], batch: tuple[Entry, ...],
                  topic: "Topic | None" = None) -> None:
    """Push the batch to each subscriber, a slice per loop turn; the overflowing ones leave."""
    for start in range(0, len(subscribers), FAN_OUT_SLICE):
        if start:
            await asyncio.sleep(0)
        for sub in subscribers[start:start + FAN_OUT_SLICE]:
            if not sub.push(batch) and topic is not None:
                topic.leave(sub)
                log.info("feed_watcher_dropped", key=topic.key, buffered=topic.hub.limits.queue_size)


class Topic:
    """One stream key: its reader task, its encoded history and its live subscribers."""

    def __init__(self, hub: "Hub", key: str, spec: FeedSpec) -> None:
        self.hub, self.key, self.spec = hub, key, spec
        self.history: list[Entry] = []
        self.complete = False  # the history reaches back to the stream's first entry
        self.position: StreamId = ZERO
        self.finished = False
        self.subscribers: set[Subscription] = set()
        self.idle_since = self.published_at = time.monotonic()
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"feed:{key}")

    def join(self, after: StreamId | None, queue_size: int) -> Subscription:
        """A subscription: the history after `after` as backlog, then every live entry."""
        sub = Subscription(self, after or ZERO, queue_size)
        start = bisect.bisect_right(self.history, sub.after, key=lambda e: e.id) if after else 0
        sub.backlog = self.history[start:]
        if not self.complete and self.history and sub.after < self.history[0].id:
            sub.gap = self.history[0].id
        if not self.finished:
            self.subscribers.add(sub)
            sub.live = True
        return sub

    def leave(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)
        if not self.subscribers:
            self.idle_since = time.monotonic()

    async def publish(self, batch: tuple[Entry, ...]) -> None:
        """Remember the entries and hand them to every subscriber; drop those that overflow.

        Subscribers are served FAN_OUT_SLICE at a time, the loop's other work (a bid's
        answer) running between slices instead of waiting behind thousands of watchers."""
        self.position = batch[-1].id
        self.published_at = time.monotonic()
        self.history += batch
        if len(self.history) > 2 * self.hub.limits.history_size:
            del self.history[: -self.hub.limits.history_size]
            self.complete = False
        self.finished = self.finished or any(entry.last for entry in batch)
        await fan_out(list(self.subscribers), batch, self)

    def _idle(self) -> bool:
        return not self.subscribers and time.monotonic() - self.idle_since > self.hub.limits.linger_s

    async def _run(self) -> None:
        try:
            await self._load()
            await self._follow()
            if self.finished:  # an unwatched topic goes at once: nobody would read for a joiner
                await self._linger()
        except Exception:
            log.exception("feed_reader_failed", key=self.key)
        finally:
            if self.hub.topics.get(self.key) is self:
                del self.hub.topics[self.key]
            for sub in list(self.subscribers):
                sub.close()

    async def _linger(self) -> None:
        """Keep a finished topic (its history) until nobody has watched it for a while."""
        while True:
            await asyncio.sleep(self.hub.limits.linger_s / 4)
            if self._idle():
                return

    async def _retrying(self, call: Callable[[], Any], what: str) -> Any:
        """call() until Redis answers, waiting longer after each failure (no traceback)."""
        wait = BACKOFF_S[0]
        while True:
            try:
                result = await call()
            except (RedisError, OSError) as exc:
                log.warning("feed_redis_error", key=self.key, during=what, error=str(exc) or
                            type(exc).__name__, retry_in_s=wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, BACKOFF_S[1])
                continue
            if wait > BACKOFF_S[0]:
                log.info("feed_redis_resumed", key=self.key, during=what)
            return result

    async def _load(self) -> None:
        """The newest entries (the history), then ready for subscribers."""
        size = self.hub.limits.history_size
        rows = await self._retrying(
            lambda: self.hub.redis.xrevrange(self.key, "+", "-", count=size), "load")
        self.history = [self.spec.entry(i, f) for i, f in reversed(rows)]
        self.complete = len(rows) < size
        if self.history:
            self.position = self.history[-1].id
            self.finished = self.history[-1].last
        self.ready.set()

    async def _follow(self) -> None:
        """Blocking reads after the last id seen, until the stream ends or nobody watches."""
        while not self.finished and not self._idle():
            reply = await self._retrying(lambda: self.hub.redis.xread(
                {self.key: format_stream_id(self.position)}, count=BATCH, block=BLOCK_MS), "read")
            if rows := _rows(reply):
                await self.publish(tuple(self.spec.entry(i, f) for i, f in rows))


class Hub:
    """Every topic of this process, the keep-alive ticker and the stream caps."""

    def __init__(self, redis: Any, limits: Limits) -> None:
        self.redis = redis
        self.limits = limits
        self.topics: dict[str, Topic] = {}
        self.clients: dict[str, int] = {}
        self.streams = 0
        self._ticker: asyncio.Task | None = None
        self._gap_reads = asyncio.Semaphore(GAP_READS)

    async def start(self) -> None:
        raise_nofile_limit()
        self._ticker = asyncio.create_task(self._keepalive(), name="feed:keepalive")

    async def stop(self) -> None:
        tasks = [t.task for t in self.topics.values()]
        if self._ticker is not None:
            tasks.append(self._ticker)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.redis.aclose()

    async def subscribe(
        self, key: str, spec: FeedSpec, *, after: StreamId | None, client: str
    ) -> Subscription:
        """Admit one more stream for the client and join the key's topic (503 if not ready)."""
        self._admit(client)
        try:
            topic = self.topics.get(key)
            if topic is None:
                topic = self.topics[key] = Topic(self, key, spec)
            try:
                async with asyncio.timeout(READY_S):
                    await topic.ready.wait()
            except TimeoutError:
                raise ServiceUnavailable("The live feed cannot reach Redis; retry.",
                                         code="feed_unavailable",
                                         headers={"Retry-After": str(RETRY_AFTER_S)}) from None
            sub = topic.join(after, self.limits.queue_size)
        except BaseException:
            self._release(client)
            raise
        sub.client = client
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.topic.leave(sub)
        self._release(sub.client)

    async def read_gap(self, sub: Subscription) -> list[Entry]:
        """The entries between the subscriber's id and the start of the topic's history."""
        topic, entries, low = sub.topic, [], format_stream_id(sub.after)
        async with self._gap_reads:
            while sub.gap is not None:
                rows = await self.redis.xrange(topic.key, min=f"({low}",
                                               max=f"({format_stream_id(sub.gap)}", count=BATCH)
                entries += [topic.spec.entry(i, f) for i, f in rows]
                if len(rows) < BATCH:
                    break
                low = rows[-1][0]
        return entries

    def _admit(self, client: str) -> None:
        retry = {"Retry-After": str(RETRY_AFTER_S)}
        if self.streams >= self.limits.per_process:
            raise ServiceUnavailable("This server holds as many live streams as it can; retry.",
                                     code="too_many_streams", headers=retry)
        if self.clients.get(client, 0) >= self.limits.per_client:
            raise TooManyRequests("Too many live streams from this address; close one or retry.",
                                  code="too_many_streams", headers=retry)
        self.streams += 1
        self.clients[client] = self.clients.get(client, 0) + 1

    def _release(self, client: str) -> None:
        self.streams -= 1
        left = self.clients.get(client, 1) - 1
        if left > 0:
            self.clients[client] = left
        else:
            self.clients.pop(client, None)

    async def _keepalive(self) -> None:
        """A comment to the idle subscribers of every topic quiet for half of keepalive_s,
        checked every half: nobody goes keepalive_s without a byte (proxies keep the stream),
        and a lot being bid on costs no pings."""
        half = self.limits.keepalive_s / 2
        while True:
            await asyncio.sleep(half)
            quiet_since = time.monotonic() - half
            for topic in list(self.topics.values()):
                if topic.published_at <= quiet_since:
                    await fan_out([sub for sub in topic.subscribers if not sub.queue], PING_BATCH)
