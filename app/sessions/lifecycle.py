"""What a lot's close does to its session, inside the closer's transaction: the session
deposit, a live session's next lot, the session's finish. Called by app.closing.closer."""

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine
from app.auctions.models import Auction, AuctionStatus, LotHold
from app.auctions.trail.rebuild import load_round
from app.audit import ledger
from app.db import after_commit, utcnow
from app.schemas import ms_to_datetime
from app.sessions import rules
from app.sessions.deposits import mark_applied, release_unused
from app.sessions.models import AuctionSession, SessionMode, SessionStatus
from app.sessions.service import open_lot_count, place_lot

log = structlog.get_logger()


async def lot_closed(session: AsyncSession, *, engine: Engine, auction_id: int) -> None:
    """A lot was finalised (in this transaction): carry on with its session, if it has one."""
    # The session row is not locked here: the closer already holds the auction row and the
    # ledger head, while the session's own changes lock the session row first. So finishing
    # the session runs once this commits, in a transaction of its own.
    auction = await session.get(Auction, auction_id)
    if auction is None or auction.session_id is None:
        return
    event = await session.get(AuctionSession, auction.session_id)
    await mark_applied(session, auction=auction)
    if event.status is not SessionStatus.published:
        return
    if event.mode is SessionMode.live:
        await open_next_lot(session, engine=engine, event=event)
    session_id = event.id
    after_commit(session, lambda: finish_if_done(session, session_id=session_id))


async def open_next_lot(session: AsyncSession, *, engine: Engine, event: AuctionSession) -> bool:
    """Live: open the next queued lot lot_gap_seconds from now (Redis clock); True if opened."""
    # A conditional update lets one closer open it, however many race.
    following = await session.scalar(
        select(Auction).where(Auction.session_id == event.id, Auction.lot_hold == LotHold.queued)
        .order_by(Auction.lot_number).limit(1)
    )
    if following is None:
        return False
    claimed = await session.execute(
        update(Auction).where(Auction.id == following.id, Auction.lot_hold == LotHold.queued)
        .values(lot_hold=None).execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return False
    following.lot_hold = None
    opens = await engine.server_time_ms() + event.lot_gap_seconds * 1000
    slot = rules.Slot(opens, opens + event.lot_duration_seconds * 1000)
    await place_lot(session, event=event, auction=following, slot=slot)
    await ledger.append(session, actor_id=None, action="session.lot_opened", entity_type="session",
                        entity_id=event.id,
                        payload={"auction_id": following.id, "lot_number": following.lot_number,
                                 "opens_at": ms_to_datetime(slot.opens_ms),
                                 "closes_at": ms_to_datetime(slot.closes_ms)})
    after_commit(session, lambda: load_round(session, engine=engine, auction=following))
    log.info("session_lot_opened", session_id=event.id, auction_id=following.id)
    return True


async def finish_if_done(session: AsyncSession, *, session_id: int) -> bool:
    """Finish a published session with no lot left to close (own transaction); True if so."""
    # Deposits still held then are released: their bidders won nothing.
    event = await session.scalar(
        select(AuctionSession).where(AuctionSession.id == session_id).with_for_update()
        .execution_options(populate_existing=True))
    if event.status is not SessionStatus.published or await open_lot_count(
        session, session_id=session_id
    ):
        await session.rollback()
        return False
    event.status, event.finished_at = SessionStatus.finished, utcnow()
    released = await release_unused(session, session_id=event.id)
    await ledger.append(session, actor_id=None, action="session.finished", entity_type="session",
                        entity_id=event.id, payload={"released_session_registration_ids": released})
    await session.commit()
    log.info("session_finished", session_id=event.id)
    return True


async def finish_sessions(*, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Finish the published sessions whose lots are all closed; how many were finished."""
    # A finish lost to a crash between a lot's close and its session's finish.
    open_lots = select(Auction.id).where(
        Auction.session_id == AuctionSession.id,
        Auction.status.not_in([AuctionStatus.closed, AuctionStatus.cancelled]))
    async with sessionmaker() as session:
        due = (await session.scalars(select(AuctionSession.id).where(
            AuctionSession.status == SessionStatus.published, ~open_lots.exists()).limit(100))).all()
        return sum([await finish_if_done(session, session_id=session_id) for session_id in due])
