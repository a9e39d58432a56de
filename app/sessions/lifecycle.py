"""What a lot's close does to its session, inside the closer's transaction: the session
deposit, a live session's next lot, the session's finish. Called by app.closing.closer."""

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine
from app.auctions.models import Auction, LotHold
from app.auctions.trail.rebuild import load_round
from app.audit import ledger
from app.db import after_commit, utcnow
from app.schemas import ms_to_datetime
from app.sessions import rules
from app.sessions.deposits import mark_applied, release_unused
from app.sessions.models import AuctionSession, SessionMode, SessionStatus
from app.sessions.service import lot_count, place_lot

log = structlog.get_logger()


async def lot_closed(session: AsyncSession, *, engine: Engine, auction_id: int) -> None:
    """A lot was finalised (this transaction): carry on with its session, if it has one.

    The closer's transaction already holds the ledger head, so closes of one session's lots
    run one after another: the last of them sees every other lot closed and finishes it."""
    auction = await session.get(Auction, auction_id)
    if auction is None or auction.session_id is None:
        return
    event = await session.get(AuctionSession, auction.session_id)
    await mark_applied(session, auction=auction)
    if event.status is not SessionStatus.published:
        return
    if event.mode is SessionMode.live:
        await open_next_lot(session, engine=engine, event=event)
    if await lot_count(session, session_id=event.id, open_only=True) == 0:
        await _finish(session, event)


async def open_next_lot(session: AsyncSession, *, engine: Engine, event: AuctionSession) -> bool:
    """Live: the next queued lot opens lot_gap_seconds from now (Redis clock); a conditional
    update lets one closer open it, however many race. True if this call opened it."""
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


async def _finish(session: AsyncSession, event: AuctionSession) -> None:
    finished = await session.execute(
        update(AuctionSession)
        .where(AuctionSession.id == event.id, AuctionSession.status == SessionStatus.published)
        .values(status=SessionStatus.finished, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if finished.rowcount != 1:
        return
    await session.refresh(event)
    released = await release_unused(session, session_id=event.id)
    await ledger.append(session, actor_id=None, action="session.finished", entity_type="session",
                        entity_id=event.id, payload={"released_session_registration_ids": released})
    log.info("session_finished", session_id=event.id)
