"""Watching lots: a user's list (the auction's existence is checked by the caller's layer)."""

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import Watch


async def watch(session: AsyncSession, *, user_id: int, auction_id: int) -> None:
    """Watch a lot (again: no change)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(Watch).values(user_id=user_id, auction_id=auction_id)
                          .on_conflict_do_nothing(index_elements=["user_id", "auction_id"]))
    await session.commit()


async def unwatch(session: AsyncSession, *, user_id: int, auction_id: int) -> None:
    """Stop watching a lot (not watched: no change)."""
    await session.execute(delete(Watch).where(Watch.user_id == user_id, Watch.auction_id == auction_id))
    await session.commit()


async def watched(session: AsyncSession, *, user_id: int) -> list[int]:
    """The auction ids the user watches."""
    return list((await session.scalars(select(Watch.auction_id).where(Watch.user_id == user_id)
                                       .order_by(Watch.auction_id))).all())
