"""The bid trail at settlement: made complete from the engine's event stream, then digested.

A bid the engine accepted is normally in SQL before its 201 (the journal). One whose journal
write never happened (the API process died, the database refused) is still in the auction's
Redis event stream; ``recover`` puts it into SQL, idempotently, before the digest is taken.
"""

from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine
from app.auctions.models import Bid, Registration
from app.db import utcnow
from app.schemas import ms_to_datetime
from app.settlements.rules import TrailDigest

log = structlog.get_logger()
STREAM_BATCH = 1000  # the most stream entries read at once
DIGEST_BATCH = 10_000
CENT = Decimal("0.01")

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


async def recover(session: AsyncSession, *, engine: Engine, auction_id: int) -> list[int]:
    """Insert the bids the engine accepted but SQL lacks (idempotent); their sequences."""
    snap = await engine.read(auction_id)
    if snap is None:  # Redis lost the auction: what it knew is gone, SQL is all there is
        return []
    count = await _count(session, auction_id)
    if count >= snap.state.seq:
        return []
    events = await _missing_events(session, engine, auction_id, snap.state.seq - count)
    rows = await _bid_rows(session, auction_id, events)
    if rows:
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Bid).on_conflict_do_nothing(index_elements=["auction_id", "sequence"])
        await session.execute(stmt, rows)  # a row the journal wrote meanwhile is skipped
        count += len(rows)
    if gap := snap.state.seq - count:
        log.warning("bid_trail_gap", auction_id=auction_id, unrecoverable=gap)
    return sorted(row["sequence"] for row in rows)


async def _count(session: AsyncSession, auction_id: int, *, below: int | None = None) -> int:
    stmt = select(func.count()).where(Bid.auction_id == auction_id)
    if below is not None:
        stmt = stmt.where(Bid.sequence < below)
    return await session.scalar(stmt) or 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _missing_events(
    session: AsyncSession, engine: Engine, auction_id: int, missing: int
) -> list[dict[str, str]]:
    """Bid entries whose sequence SQL lacks, from the public events stream (open bids) and
    the private one (sealed bids)."""
    keys = engine.keys(auction_id)
    found: list[dict[str, str]] = []
    for key in (keys.events, keys.private):
        found += await _missing_in(session, engine, auction_id, key, missing)
    return found


async def _missing_in(
    session: AsyncSession, engine: Engine, auction_id: int, key: str, missing: int
) -> list[dict[str, str]]:
    """Bid entries of one stream whose sequence SQL lacks, read from the newest back
    (stream order is sequence order) until every earlier sequence is in SQL.

    Missing bids are nearly always the last few (journal writes in flight when a process
    died), so this reads a batch or two of the stream even for a long trail; batches start
    at about the number missing and double.
    """
    found, upper = [], "+"
    batch = min(STREAM_BATCH, missing + 8)
    while rows := await engine.redis.xrevrange(key, max=upper, min="-", count=batch):
        upper, batch = "(" + _text(rows[-1][0]), min(STREAM_BATCH, batch * 2)
        events = [{_text(k): _text(v) for k, v in fields.items()} | {"id": _text(entry_id)}
                  for entry_id, fields in rows]
        bids = {int(e["seq"]): e for e in events if e.get("type") in ("bid", "sealed_bid")}
        if not bids:
            continue
        have = set((await session.execute(
            select(Bid.sequence).where(Bid.auction_id == auction_id, Bid.sequence.in_(list(bids)))
        )).scalars())
        found += [e for seq, e in bids.items() if seq not in have]
        lowest = min(bids)
        if await _count(session, auction_id, below=lowest) >= lowest - 1:
            break  # sequences 1 .. lowest-1 are all in SQL
    return found


async def _bid_rows(session: AsyncSession, auction_id: int, events: list[dict[str, str]]) -> list[dict]:
    """Bid rows for stream events, the bidder found from the paddle's registration."""
    paddles = {e["paddle"] for e in events}
    owners = dict((await session.execute(
        select(Registration.paddle, Registration.organization_id).where(
            Registration.auction_id == auction_id, Registration.paddle.in_(paddles)
        )
    )).all()) if paddles else {}
    return [
        {"auction_id": auction_id, "round_index": int(e.get("round") or 0), "sequence": int(e["seq"]),
         "organization_id": owners[e["paddle"]], "paddle": e["paddle"],
         "amount": (Decimal(int(e["amount"])) * CENT).quantize(CENT),
         "placed_at": ms_to_datetime(int(e["placed_at_ms"])),
         "ends_at": ms_to_datetime(int(e["ends_at_ms"])), "placed_by_id": None,
         "idempotency_key": None, "event_id": e["id"], "recorded_at": utcnow()}
        for e in events if e["paddle"] in owners
    ]


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
