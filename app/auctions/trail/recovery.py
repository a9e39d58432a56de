"""Bringing Redis back in line with SQL when the two disagree about an auction's trail."""

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine
from app.auctions.models import Auction
from app.auctions.trail.rebuild import load_round

log = structlog.get_logger()


async def resync_from_sql(
    engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], auction_id: int
) -> None:
    """Drop the auction's live round in Redis and rebuild it from the SQL trail.

    Called when the journal finds a sequence already held by another bid: Redis was rebuilt
    while an accepted bid was still on its way to SQL, so Redis leads with a bid SQL refused.
    SQL is the record; the stream is kept (it is the history clients resume from).
    """
    keys = engine.keys(auction_id)
    await engine.redis.delete(keys.state, keys.idem)
    async with sessionmaker() as session:
        auction = await session.get(Auction, auction_id)
        if auction is not None:
            await load_round(session, engine=engine, auction=auction)
    log.warning("auction_resynced_from_sql", auction_id=auction_id)
