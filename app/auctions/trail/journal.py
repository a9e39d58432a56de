"""The durable bid trail: accepted bids group-committed to SQL before anyone hears "201".

Every API process runs one Journal. Requests hand it their accepted bid and wait; a single
flusher writes whatever has queued up in one transaction, so a burst of N bids costs a few
commits instead of N. A bid is answered only after the commit that holds it. After the first
bid of a batch the flusher lingers a moment (2.5 ms by default) for others to join it: at a
moderate rate every bid would otherwise be a commit of its own. A batch that already holds a
few bids when the flusher takes it (they queued up during the last commit: the server is
busy) is written at once: its commit is shared already, and waiting would only idle the
requests behind it.
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.auctions.models import Bid
from app.db import utcnow
from app.errors import ServiceUnavailable
from app.metrics import BID_JOURNAL_WAIT

log = structlog.get_logger()
MAX_BATCH = 500
SHARED_BATCH = 4  # bids that already share a commit well enough not to linger for more


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
    placed_by_id: int | None
    idempotency_key: str | None
    event_id: str
    proxy_max: Decimal | None = None
    channel: str = "online"
    clerk_id: int | None = None

    def row(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


class SequenceTaken(ServiceUnavailable):
    """Another bid already holds this (auction, sequence) in SQL: Redis was rebuilt while this
    bid's write was in flight. This bid must not be answered 201 (the client gets 503)."""

    code = "bid_not_recorded"


class JournalClosed(RuntimeError):
    """The journal is stopping and takes no more bids."""


class Journal:
    """Group commit of accepted bids; record() returns the bid's row id once it is durable."""

    def __init__(
        self, engine: AsyncEngine, on_sequence_taken: Callable[[int], Awaitable[None]] | None = None,
        *, linger_s: float = 0.0,
    ) -> None:
        self.engine = engine
        self.linger_s = linger_s
        self.on_sequence_taken = on_sequence_taken
        self._queue: asyncio.Queue[tuple[BidEntry, asyncio.Future[int]]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._conn: AsyncConnection | None = None  # held between batches: no pool checkout
        self._driver: Any = None  # its asyncpg connection (PostgreSQL only)
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
        await self._drop_connection(broken=False)

    async def record(self, entry: BidEntry) -> int:
        """Queue the bid and wait until it is committed; returns its row id."""
        if self._task is None:
            raise JournalClosed("the bid journal is not running")
        queued = time.perf_counter()
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((entry, future))
        bid_id = await future
        BID_JOURNAL_WAIT.observe(time.perf_counter() - queued)
        return bid_id

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            self._take_queued(batch)
            if self.linger_s and len(batch) < SHARED_BATCH:
                await asyncio.sleep(self.linger_s)
                self._take_queued(batch)
            try:
                await self._flush(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _take_queued(self, batch: list[tuple[BidEntry, asyncio.Future[int]]]) -> None:
        while len(batch) < MAX_BATCH and not self._queue.empty():
            batch.append(self._queue.get_nowait())

    async def _flush(self, batch: list[tuple[BidEntry, asyncio.Future[int]]]) -> None:
        try:
            ids = await self._write([entry for entry, _ in batch])
        except Exception as exc:
            log.exception("journal_flush_failed", bids=len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.bids += len(batch)
        diverged: set[int] = set()
        for entry, future in batch:
            if future.done():
                continue
            bid_id, event_id = ids[(entry.auction_id, entry.sequence)]
            if event_id == entry.event_id:
                future.set_result(bid_id)
            else:
                log.error("journal_sequence_taken", auction_id=entry.auction_id,
                          sequence=entry.sequence, event_id=entry.event_id, stored=event_id)
                future.set_exception(SequenceTaken(
                    "The bid could not be recorded; check the auction and bid again.",
                    headers={"Retry-After": "1"},
                ))
                diverged.add(entry.auction_id)
        for auction_id in diverged:
            await self._resync(auction_id)

    async def _write(self, entries: list[BidEntry]) -> dict[tuple[int, int], tuple[int, str]]:
        """Write through the connection the journal holds; on a failure, once more on a new
        one (the database may have dropped it). Writing a batch twice is safe: rows already
        there are kept as they are."""
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = await self.engine.connect()
                # fetched once: SQLAlchemy's getter costs a greenlet switch on every call
                self._driver = await asyncpg_driver(self._conn)
            try:
                return await write_bids(self._conn, entries, driver=self._driver)
            except Exception:
                await self._drop_connection()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _drop_connection(self, *, broken: bool = True) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is not None:
            if broken:
                with contextlib.suppress(Exception):
                    await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def _resync(self, auction_id: int) -> None:
        if self.on_sequence_taken is None:
            return
        try:
            await self.on_sequence_taken(auction_id)
        except Exception:
            log.exception("journal_resync_failed", auction_id=auction_id)


async def asyncpg_driver(conn: AsyncConnection) -> Any:
    """conn's asyncpg connection on PostgreSQL; None on other databases."""
    if conn.dialect.name != "postgresql":
        return None
    return (await conn.get_raw_connection()).driver_connection


async def write_bids(
    conn: AsyncConnection, entries: list[BidEntry], *, driver: Any = None
) -> dict[tuple[int, int], tuple[int, str]]:
    """Insert the bids at once (a replayed one is already there, and stays as it is).

    Returns (row id, event id) by (auction, sequence): the caller checks the row is its bid.
    `driver` is conn's asyncpg connection when the caller already has it.
    """
    recorded_at = utcnow()
    if conn.dialect.name == "postgresql":
        # One autocommitted statement straight on the driver: one round trip, one commit and
        # little Python for the whole batch (at a low bid rate every bid is a batch of one).
        driver = driver or await asyncpg_driver(conn)
        columns = [[getattr(e, name) for e in entries] for name in BidEntry.__slots__]
        rows = await driver.fetch(_PG_INSERT, *columns, recorded_at)
    else:
        async with conn.begin():
            stmt = sqlite_insert(Bid).on_conflict_do_nothing(
                index_elements=["auction_id", "sequence"])
            await conn.execute(stmt, [e.row() | {"recorded_at": recorded_at} for e in entries])
        rows = []
    stored = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    missing = {(e.auction_id, e.sequence) for e in entries} - stored.keys()
    if missing:  # rows already there (replays, or a rebuilt round's clash): read them
        found = await conn.execute(
            select(Bid.auction_id, Bid.sequence, Bid.id, Bid.event_id).where(
                tuple_(Bid.auction_id, Bid.sequence).in_(list(missing))
            )
        )
        stored |= {(a, seq): (bid_id, event_id) for a, seq, bid_id, event_id in found}
        await conn.commit()
    return stored


# Columns in BidEntry's field order, then recorded_at.
_PG_INSERT = """
INSERT INTO bids (auction_id, round_index, sequence, organization_id, paddle, amount, placed_at,
                  ends_at, placed_by_id, idempotency_key, event_id, proxy_max, channel, clerk_id,
                  recorded_at)
SELECT b.*, $15::timestamptz
  FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[], $5::varchar[], $6::numeric[],
              $7::timestamptz[], $8::timestamptz[], $9::bigint[], $10::varchar[],
              $11::varchar[], $12::numeric[], $13::varchar[], $14::bigint[]) AS b
ON CONFLICT (auction_id, sequence) DO NOTHING
RETURNING auction_id, sequence, id, event_id
"""
