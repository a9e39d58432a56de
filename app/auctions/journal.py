"""The durable bid trail: every bid the engine accepted, in SQL."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import BidAccepted
from app.auctions.models import Bid
from app.auctions.service import from_minor
from app.schemas import ms_to_datetime


async def record_bid(
    session: AsyncSession, *, auction_id: int, round_index: int, accepted: BidAccepted,
    organization_id: int, placed_by_id: int, idempotency_key: str | None,
) -> Bid:
    """Store an accepted bid once (a replayed idempotent answer finds the stored row)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    values = dict(
        auction_id=auction_id, round_index=round_index, sequence=accepted.seq,
        organization_id=organization_id, paddle=accepted.paddle,
        amount=from_minor(accepted.amount), placed_at=ms_to_datetime(accepted.placed_at_ms),
        ends_at=ms_to_datetime(accepted.ends_at_ms), placed_by_id=placed_by_id,
        idempotency_key=idempotency_key, event_id=accepted.event_id,
    )
    stmt = insert(Bid).values(**values).on_conflict_do_nothing(
        index_elements=["auction_id", "sequence"]
    )
    await session.execute(stmt)
    bid = await session.scalar(
        select(Bid).where(Bid.auction_id == auction_id, Bid.sequence == accepted.seq)
    )
    assert bid is not None
    return bid
