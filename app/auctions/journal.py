"""The durable bid trail: accepted bids group-committed to SQL before anyone hears "201".

Every API process runs one Journal. Requests hand it their accepted bid and wait; a single
flusher writes whatever has queued up in one transaction, so a burst of N bids costs a few
commits instead of N. A bid is answered only after the commit that holds it.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import structlog
from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.models import Bid

log = structlog.get_logger()
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class BidEntry:
    """One accepted bid as the engine decided it."""

    auction_id: int
    round_index: int
    sequence: int
    organization_id: int
    paddle: str
    amount: Decimal
    placed_at: datetime
    ends_at: datetime
    placed_by_id: int
    idempotency_key: str | None
    event_id: str

    def row(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


class JournalClosed(RuntimeError):
    """The journal is stopping and takes no more bids."""


class Journal:
    """Group commit of accepted bids; record() returns the bid's row id once it is durable."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self._queue: asyncio.Queue[tuple[BidEntry, asyncio.Future[int]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self.batches = 0
        self.bids = 0

    def start(self) -> None:
        """Start the flusher task."""
        self._task = asyncio.create_task(self._run(), name="bid-journal")

    async def stop(self) -> None:
        """Flush what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def record(self, entry: BidEntry) -> int:
        """Queue the bid and wait until it is committed; returns its row id."""
        if self._task is None:
            raise JournalClosed("the bid journal is not running")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((entry, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._flush(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _flush(self, batch: list[tuple[BidEntry, asyncio.Future[int]]]) -> None:
        try:
            ids = await write_bids(self.sessionmaker, [entry for entry, _ in batch])
        except Exception as exc:
            log.exception("journal_flush_failed", bids=len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.bids += len(batch)
        for entry, future in batch:
            if not future.done():
                future.set_result(ids[(entry.auction_id, entry.sequence)])


async def write_bids(
    sessionmaker: async_sessionmaker[AsyncSession], entries: list[BidEntry]
) -> dict[tuple[int, int], int]:
    """Insert the bids in one transaction (a replayed one is already there); ids by key."""
    async with sessionmaker() as session, session.begin():
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Bid).on_conflict_do_nothing(index_elements=["auction_id", "sequence"])
        await session.execute(stmt, [entry.row() for entry in entries])
        keys = {(e.auction_id, e.sequence) for e in entries}
        rows = await session.execute(
            select(Bid.auction_id, Bid.sequence, Bid.id).where(
                tuple_(Bid.auction_id, Bid.sequence).in_(list(keys))
            )
        )
        return {(auction_id, sequence): bid_id for auction_id, sequence, bid_id in rows}
