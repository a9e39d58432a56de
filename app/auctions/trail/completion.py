"""Completing the SQL bid trail from the engine's streams before an auction settles.

A bid the engine accepted is normally in SQL before its 201 (the journal). One whose journal
write never happened (the API process died, the database refused) is still in the auction's
Redis stream; ``recover`` puts it into SQL, idempotently, before the trail is digested.
"""

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine, Event
from app.auctions.models import Bid, Registration
from app.db import utcnow
from app.money import from_minor
from app.schemas import ms_to_datetime

log = structlog.get_logger()
STREAM_BATCH = 1000  # the most stream entries read at once


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


async def _missing_events(
    session: AsyncSession, engine: Engine, auction_id: int, missing: int
) -> list[Event]:
    """Bid entries whose sequence SQL lacks, from the public events stream (open bids) and
    the private one (sealed bids)."""
    found: list[Event] = []
    for sealed in (False, True):
        found += await _missing_in(session, engine, auction_id, sealed=sealed, missing=missing)
    return found


async def _missing_in(
    session: AsyncSession, engine: Engine, auction_id: int, *, sealed: bool, missing: int
) -> list[Event]:
    """Bid entries of one stream whose sequence SQL lacks, read from the newest back
    (stream order is sequence order) until every earlier sequence is in SQL.

    Missing bids are nearly always the last few (journal writes in flight when a process
    died), so this reads a batch or two of the stream even for a long trail; batches start
    at about the number missing and double.
    """
    found: list[Event] = []
    before, batch = None, min(STREAM_BATCH, missing + 8)
    while events := await engine.bid_entries_newest_first(
        auction_id, sealed=sealed, before=before, count=batch
    ):
        before, batch = events[-1].id, min(STREAM_BATCH, batch * 2)
        bids = {int(e.fields["seq"]): e for e in events if e.type in ("bid", "sealed_bid")}
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


async def _bid_rows(session: AsyncSession, auction_id: int, entries: list[Event]) -> list[dict]:
    """Bid rows for stream entries, the bidder found from the paddle's registration."""
    events = [e.fields | {"id": e.id} for e in entries]
    paddles = {e["paddle"] for e in events}
    owners = dict((await session.execute(
        select(Registration.paddle, Registration.organization_id).where(
            Registration.auction_id == auction_id, Registration.paddle.in_(paddles)
        )
    )).all()) if paddles else {}
    return [
        {"auction_id": auction_id, "round_index": int(e.get("round") or 0), "sequence": int(e["seq"]),
         "organization_id": owners[e["paddle"]], "paddle": e["paddle"],
         "amount": from_minor(int(e["amount"])),
         "placed_at": ms_to_datetime(int(e["placed_at_ms"])),
         "ends_at": ms_to_datetime(int(e["ends_at_ms"])), "placed_by_id": None,
         "idempotency_key": None, "event_id": e["id"], "recorded_at": utcnow(),
         "channel": e.get("channel") or "online",
         "clerk_id": int(e["clerk"]) if e.get("clerk") else None}
        for e in events if e["paddle"] in owners
    ]


