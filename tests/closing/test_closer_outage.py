"""The closer while Redis is down: one warning line per outage (no traceback per pass) and
fewer tries while it lasts; it carries on once Redis is back. Other errors keep their traceback."""

import asyncio

import pytest
import structlog
from structlog.testing import capture_logs

from app.auctions.engine import Engine
from app.closing import closer
from app.db import create_engine, create_sessionmaker
from app.redis import create_redis


@pytest.fixture
async def closer_parts(settings, own_redis, monkeypatch):
    """An engine on the test's own Redis, a sessionmaker, and a fresh logger to capture."""
    monkeypatch.setattr(closer, "log", structlog.get_logger())  # the module's may be cached
    db = create_engine(settings.sqlalchemy_url)
    redis = create_redis(own_redis.url)
    engine = Engine(redis, settings.redis_prefix)
    yield engine, create_sessionmaker(db)
    await engine.aclose()
    await redis.aclose()
    await db.dispose()


async def _passes(engine, sessionmaker, seconds: float, during=None) -> list[dict]:
    """The closer's log while it runs for `seconds` (calling `during` half way)."""
    stop = asyncio.Event()
    with capture_logs() as logs:
        task = asyncio.create_task(closer.run_closer(engine, sessionmaker, stop=stop))
        await asyncio.sleep(seconds / 2)
        if during is not None:
            await asyncio.to_thread(during)
        await asyncio.sleep(seconds / 2)
        stop.set()
        await asyncio.wait_for(task, 5)
    return logs


async def test_an_outage_is_one_warning_then_one_line_when_redis_is_back(
    closer_parts, own_redis, monkeypatch
):
    engine, sessionmaker = closer_parts
    done = 0  # passes that reached Redis
    real_close_due = closer.close_due

    async def counted(*args):
        nonlocal done
        result = await real_close_due(*args)
        done += 1
        return result

    monkeypatch.setattr(closer, "close_due", counted)
    own_redis.kill()
    logs = await _passes(engine, sessionmaker, 3.0, during=own_redis.start)

    events = [(e["event"], e["log_level"]) for e in logs]
    assert events == [("closer_redis_unreachable", "warning"), ("closer_redis_back", "info")], events
    assert not any("exc_info" in e for e in logs)
    # backing off: 1.5 s of outage at 0.05 s a pass would be ~30 tries
    assert logs[1]["failed_passes"] <= 8
    assert done > 0  # and it went on closing once Redis was back


async def test_an_unexpected_error_keeps_its_traceback(closer_parts, monkeypatch):
    engine, sessionmaker = closer_parts

    async def broken(*_args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(closer, "close_due", broken)
    logs = await _passes(engine, sessionmaker, 0.3)

    assert logs and all(e["event"] == "closer_pass_failed" and e["exc_info"] for e in logs)
