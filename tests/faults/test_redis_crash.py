"""kill -9 the Redis in the middle of a bidding burst: restarted empty, or from its AOF."""

import asyncio

from tests.faults import scenario
from tests.support.harness import Rig


async def _restart_redis(rig: Rig, burst: scenario.Burst) -> None:
    assert rig.redis is not None
    rig.redis.mark()
    rig.redis.kill9()
    await asyncio.to_thread(rig.redis.start)  # same port, same --dir


async def test_redis_without_persistence_comes_back_empty(rig: Rig) -> None:
    """The open round is rebuilt from SQL; every 201 survives into the trail and settlement."""

    async def fault(rig: Rig, burst: scenario.Burst) -> None:
        await _restart_redis(rig, burst)
        assert not await asyncio.to_thread(rig.redis.marked), "Redis did not come back empty"

    outcome = await scenario.run(rig, aof=False, fault=fault)
    print(scenario.summary(outcome))


async def test_redis_with_aof_always_comes_back_from_its_log(rig: Rig) -> None:
    """appendfsync always: Redis replays its AOF; no 201 is lost and none is doubled."""

    async def fault(rig: Rig, burst: scenario.Burst) -> None:
        await _restart_redis(rig, burst)
        assert await asyncio.to_thread(rig.redis.marked), "the AOF was not replayed"

    outcome = await scenario.run(rig, aof=True, fault=fault)
    print(scenario.summary(outcome))


async def test_redis_lost_after_the_round_ended_before_the_worker_settled(rig: Rig) -> None:
    """No worker runs as the round ends; Redis comes back empty; the new worker rebuilds the
    ended round from SQL and settles it with every 201 in the trail."""

    async def stop_worker(rig: Rig, burst: scenario.Burst) -> None:
        rig.kill_worker()

    async def lose_redis_then_start_worker(rig: Rig, burst: scenario.Burst) -> None:
        await asyncio.sleep(0.3)  # every bidder is past the end
        await _restart_redis(rig, burst)
        assert not await asyncio.to_thread(rig.redis.marked), "Redis did not come back empty"
        await asyncio.to_thread(rig.start_worker)

    outcome = await scenario.run(rig, aof=False, fault=stop_worker,
                                 after_close=lose_redis_then_start_worker)
    print(scenario.summary(outcome))
