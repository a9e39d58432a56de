"""Token versions: revoking a user's access tokens (and later page sessions) at once.

Each user has a token version in SQL (`users.token_version`), carried in every token he is
issued (claim `ver`). A change of role, organisation, password or active state increments it in
the same transaction. A token is honoured only while its version is the user's current one.

Every authenticated request reads the current version from Redis: one GET, shared by every
API process, so a revocation is refused at once in all of them (an in-process cache could
not be invalidated everywhere before the revoking request answers). The database is behind
it: a missing key (Redis restarted empty, or the key aged out) is loaded from SQL and
stored. Versions only grow, and Redis is written with "set if greater", so a stale reload
racing a revocation can never lower it. A token newer than Redis's version (a Redis that lost
a write) reloads from SQL too, so Redis heals in that direction on its own.
"""

from collections.abc import Awaitable, Callable

from app.errors import Unauthorized
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

    def _key(self, user_id: int) -> str:
        return f"{self._prefix}:tokver:{user_id}"

    async def publish(self, user_id: int, version: int) -> int:
        """Make version the user's current one unless a greater one is; the version held after."""
        held = await self._set_max(keys=[self._key(user_id)], args=[version, KEY_TTL_SECONDS])
        return int(held)

    async def _reload(self, user_id: int) -> int | None:
        version = await self._load(user_id)
        return None if version is None else await self.publish(user_id, version)

    async def check(self, user_id: int, version: int) -> None:
        """Unauthorized (token_revoked) unless version is the user's current token version."""
        raw = await self._redis.get(self._key(user_id))
        current = int(raw) if raw is not None else None
        if current is None or version > current:
            current = await self._reload(user_id)
        if current != version:
            raise revoked()
