"""Fixed-window rate limits kept in Redis (shared by every API process)."""

from app.errors import TooManyRequests
from app.redis import AsyncRedis

# One atomic step: count this hit, start the window on the first, report count and TTL.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""


class RateLimiter:
    """At most `limit` hits per key in each window of `window_seconds`."""

    def __init__(self, redis: AsyncRedis, prefix: str) -> None:
        self._hit = redis.register_script(_HIT)
        self.prefix = prefix

    async def hit(self, name: str, key: str, *, limit: int, window_seconds: int) -> None:
        """Count a hit; TooManyRequests with Retry-After once the limit is passed."""
        count, ttl_ms = await self._hit(
            keys=[f"{self.prefix}:ratelimit:{name}:{key}"], args=[window_seconds * 1000]
        )
        if int(count) > limit:
            retry_after = max(1, -(-int(ttl_ms) // 1000))
            raise TooManyRequests(
                f"Too many attempts; retry in {retry_after} s.", code="rate_limited",
                headers={"Retry-After": str(retry_after)},
            )
