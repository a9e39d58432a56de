"""The bid trail at settlement: its SHA-256 digest, streamed from SQL in sequence order.

The trail is made complete first (app/auctions/trail/completion.py: bids the engine accepted
whose journal write never happened are recovered from the auction's streams)."""

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Bid
from app.settlements.rules import TrailDigest

DIGEST_BATCH = 10_000

# PostgreSQL builds the canonical lines itself (see rules.TrailDigest for the format) and
# hands them over joined in chunks of CHUNK consecutive sequences: a few large text values
# cross the wire instead of a row per bid, and Python only hashes.
CHUNK = 5000
_PG_CHUNKS = text(rf"""
SELECT count(*),
       string_agg(sequence::text || '|' || round_index::text || '|' || paddle || '|'
                  || amount::text || '|'
                  || to_char(placed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                  || E'\n', '' ORDER BY sequence)
  FROM bids
 WHERE auction_id = :auction_id
 GROUP BY (sequence - 1) / {CHUNK}
 ORDER BY (sequence - 1) / {CHUNK}
""")


async def digest(session: AsyncSession, *, auction_id: int) -> TrailDigest:
    """The SHA-256 of the auction's SQL bid trail, streamed in sequence order (no ORM objects)."""
    result = TrailDigest()
    if session.bind.dialect.name == "postgresql":
        chunks = await session.stream(
            _PG_CHUNKS.bindparams(auction_id=auction_id)
            .execution_options(yield_per=4)
        )
        async for count, lines in chunks:
            result.update_raw(lines, count=count)
        return result
    rows = await session.stream(
        select(Bid.sequence, Bid.round_index, Bid.paddle, Bid.amount, Bid.placed_at)
        .where(Bid.auction_id == auction_id).order_by(Bid.sequence)
        .execution_options(yield_per=DIGEST_BATCH)
    )
    async for partition in rows.partitions():
        for sequence, round_index, paddle, amount, placed_at in partition:
            result.add(sequence=sequence, round_index=round_index, paddle=paddle, amount=amount,
                       placed_at=placed_at)
    return result
