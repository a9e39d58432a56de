"""kill -9 the worker, or one of two API processes, in the middle of a bidding burst."""

import asyncio

from tests.faults import scenario
from tests.support.harness import Rig


async def _replace_worker(rig: Rig, burst: scenario.Burst) -> None:
    rig.kill_worker()
    await asyncio.to_thread(rig.start_worker)


async def test_worker_killed_mid_burst_and_at_the_close(rig: Rig) -> None:
    """A new worker takes over (twice: mid-burst and as the round closes); one settlement."""
    outcome = await scenario.run(rig, fault=_replace_worker, after_close=_replace_worker)
    print(scenario.summary(outcome))


async def test_one_of_two_api_processes_killed(rig: Rig) -> None:
    """Bids go on through the other process; the dead one's answered bids are all durable."""

    async def fault(rig: Rig, burst: scenario.Burst) -> None:
        rig.apis[0].kill9()
        assert rig.apis[0].process.poll() is not None

    outcome = await scenario.run(rig, apis=2, fault=fault)
    print(scenario.summary(outcome))
