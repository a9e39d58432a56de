"""Fixed-window rate limits kept in Redis (shared by every API process)."""

from app.errors import TooManyRequests
from app.redis import AsyncRedis

# One atomic step: count this hit, start the window on the first, report count and TTL.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""

# Count one hit on every key if each is below its limit (ARGV[2..]); else count nothing and
# answer the remaining window (ms) of the first key at its limit. ARGV[1]: the window in ms.
_RESERVE = """
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
    return ttl
  end
end
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0
"""

# Give back the hits a reservation counted (the attempt turned out not to count).
_RELEASE = """
for _, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
end
return 0
"""


def too_many(ttl_ms: int) -> TooManyRequests:
    """429 rate_limited with Retry-After for the rest of the window."""
    retry_after = max(1, -(-int(ttl_ms) // 1000))
    return TooManyRequests(
        f"Too many attempts; retry in {retry_after} s.", code="rate_limited",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimiter:
    """At most `limit` hits per key in each window of `window_seconds`."""

    def __init__(self, redis: AsyncRedis, prefix: str) -> None:
        self._hit = redis.register_script(_HIT)
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)
        self.prefix = prefix

    def key(self, name: str, key: str) -> str:
        """The Redis key of one counter (a {hash tag} in key keeps counters in one slot)."""
        return f"{self.prefix}:ratelimit:{name}:{key}"

    async def hit(self, name: str, key: str, *, limit: int, window_seconds: int) -> None:
        """Count a hit; TooManyRequests with Retry-After once the limit is passed."""
        count, ttl_ms = await self._hit(keys=[self.key(name, key)], args=[window_seconds * 1000])
        if int(count) > limit:
            raise too_many(int(ttl_ms))

    async def reserve(self, counters: dict[str, int], *, window_seconds: int) -> None:
        """Count one hit on each counter (a key -> its limit) if all are below their limits;
        TooManyRequests, counting nothing, otherwise. The keys must share one hash slot."""
        ttl_ms = await self._reserve(
            keys=list(counters), args=[window_seconds * 1000, *counters.values()]
        )
        if int(ttl_ms) > 0:
            raise too_many(int(ttl_ms))

    async def release(self, keys: list[str]) -> None:
        """Take back one hit of each counter that a reservation counted."""
        await self._release(keys=keys)
