"""lot_opened on the session's stream when a lot actually opens (its round's start on the
Redis clock, moved by any pause), told by the worker: nothing runs at a lot's opening
otherwise. A global sorted set holds each loaded lot's expected opening; the worker emits
the event once it has passed (dedup by the stream's script) and only then forgets the entry,
so a crash in between emits it on the next pass, never twice."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions import absentee
from app.auctions.engine import Engine
from app.redis import as_text
from app.sessions import stream

BATCH = 100
RECHECK_MS = 1000  # a paused lot is looked at again this much later


def _key(engine: Engine) -> str:
    return f"{engine.prefix}:lot-openings"  # never touched by a script (like the deadlines)


async def expect(engine: Engine, *, session_id: int, auction_id: int, lot_number: int,
                 opens_at_ms: int) -> None:
    """Watch for the lot's opening (publish and a live session's next lot call this)."""
    await engine.redis.zadd(_key(engine), {f"{session_id}:{auction_id}:{lot_number}": opens_at_ms})


async def forget(engine: Engine, *, session_id: int, auction_id: int, lot_number: int) -> None:
    """Stop watching a lot (withdrawn before it opened)."""
    await engine.redis.zrem(_key(engine), f"{session_id}:{auction_id}:{lot_number}")


async def emit_due(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Tell lot_opened for every watched lot now open, its absentee maxima applied first;
    how many were told."""
    now_ms = await engine.server_time_ms()
    key, told = _key(engine), 0
    for member in map(as_text, await engine.redis.zrangebyscore(key, "-inf", now_ms, start=0,
                                                                num=BATCH)):
        session_id, auction_id, lot_number = map(int, member.split(":"))
        snap = await engine.read(auction_id)
        if snap is None:  # cancelled with its session (unloaded), or lost with Redis's data
            await engine.redis.zrem(key, member)
            continue
        if snap.paused_at_ms is not None:
            await engine.redis.zadd(key, {member: now_ms + RECHECK_MS})
            continue
        if snap.round_index == 0 and not snap.state.closed and snap.now_ms < snap.spec.starts_at_ms:
            await engine.redis.zadd(key, {member: snap.spec.starts_at_ms})  # moved by a pause
            continue
        if not snap.state.closed and await absentee.apply_opening(
                engine=engine, sessionmaker=sessionmaker, auction_id=auction_id):
            await engine.redis.zadd(key, {member: now_ms + RECHECK_MS})  # some wait on
            continue
        await stream.emit(engine, session_id=session_id, name=f"lot_opened:{auction_id}",
                          type="lot_opened", auction_id=auction_id, lot_number=lot_number,
                          opens_at_ms=snap.spec.starts_at_ms, ends_at_ms=snap.state.ends_at_ms)
        await engine.redis.zrem(key, member)
        told += 1
    return told
