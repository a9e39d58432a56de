"""Token versions: revoking a user's access tokens (and later page sessions) at once.

Each user has a token version in SQL (`users.token_version`), carried in every token he is
issued (claim `ver`). A change of role, organisation, password or active state increments it in
the same transaction. A token is honoured only while its version is the user's current one.

Every authenticated request reads the current version from Redis, shared by every API
process, so a revocation is refused at once in all of them (an in-process cache could not be
invalidated everywhere before the revoking request answers). The reads of one event-loop turn
go out as one MGET: a busy worker pays about one Redis call per turn, not one per request
(a GET each cost ~80 us of the worker's CPU here, a sixth of a bid's). The database is behind
it: a missing key (Redis restarted empty, or the key aged out) is loaded from SQL and
stored. Versions only grow, and Redis is written with "set if greater", so a stale reload
racing a revocation can never lower it. A token newer than Redis's version (a Redis that lost
a write) reloads from SQL too, so Redis heals in that direction on its own.
"""

import asyncio
from collections.abc import Awaitable, Callable

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from app.errors import ServiceUnavailable, Unauthorized
from app.redis import AsyncRedis

VersionLoader = Callable[[int], Awaitable[int | None]]  # user id -> version; None: no such user

# Set the key to ARGV[1] unless it holds a greater version; answer the version it holds after.
_SET_MAX = """
local held = tonumber(redis.call('GET', KEYS[1]))
local wanted = tonumber(ARGV[1])
if held == nil or held < wanted then
  redis.call('SET', KEYS[1], wanted, 'EX', ARGV[2])
  return wanted
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return held
"""

KEY_TTL_SECONDS = 7 * 24 * 3600  # an idle user's key ages out; the next request reloads it


def unreachable() -> ServiceUnavailable:
    """The error when Redis does not answer a version read or write."""
    return ServiceUnavailable(
        "Sign-in state is unreachable for a moment; retry.", code="unavailable",
        headers={"Retry-After": "1"},
    )


def revoked() -> Unauthorized:
    """The error for a token whose version is no longer the user's."""
    return Unauthorized(
        "The access token was revoked (the account changed); sign in again.", code="token_revoked"
    )


class TokenVersions:
    """The current token version of every user, kept in Redis with SQL behind it."""

    def __init__(self, redis: AsyncRedis, prefix: str, load: VersionLoader) -> None:
        self._redis = redis
        self._prefix = prefix
        self._load = load
        self._set_max = redis.register_script(_SET_MAX)
        # A cluster's keys lie in many slots: its client splits the MGET per slot.
        self._mget = redis.mget_nonatomic if isinstance(redis, RedisCluster) else redis.mget
        self._pending: dict[int, list[asyncio.Future[str | None]]] = {}
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until done

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:tokver:{user_id}"

    async def publish(self, user_id: int, version: int) -> int:
        """Make version the user's current one unless a greater one is; the version held after."""
        try:
            held = await self._set_max(keys=[self._key(user_id)], args=[version, KEY_TTL_SECONDS])
        except (RedisError, OSError) as exc:
            raise unreachable() from exc
        return int(held)

    async def _reload(self, user_id: int) -> int | None:
        version = await self._load(user_id)
        return None if version is None else await self.publish(user_id, version)

    async def _read(self, user_id: int) -> str | None:
        """The user's version as Redis holds it, read with the other reads of this loop turn."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._pending.setdefault(user_id, []).append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        try:
            return await future
        except (RedisError, OSError) as exc:
            raise unreachable() from exc

    def _flush(self) -> None:
        pending, self._pending, self._scheduled = self._pending, {}, False
        task = asyncio.ensure_future(self._read_all(pending))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_all(self, pending: dict[int, list[asyncio.Future[str | None]]]) -> None:
        try:
            values = await self._mget([self._key(user_id) for user_id in pending])
        except Exception as exc:  # each waiting request gets the error
            for futures in pending.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutting down): so are the waiting requests
            for futures in pending.values():
                for future in futures:
                    future.cancel()
            raise
        for futures, value in zip(pending.values(), values, strict=True):
            for future in futures:
                if not future.done():
                    future.set_result(value)

    async def check(self, user_id: int, version: int) -> None:
        """Unauthorized (token_revoked) unless version is the user's current token version."""
        raw = await self._read(user_id)
        current = int(raw) if raw is not None else None
        if current is None or version > current:
            current = await self._reload(user_id)
        if current != version:
            raise revoked()
