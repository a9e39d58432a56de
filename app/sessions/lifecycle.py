"""What a lot's close does to its session, inside the closer's transaction: the session
deposit, a live session's next lot, the session's finish. Called by app.closing.closer."""

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine
from app.auctions.models import Auction, AuctionOutcome, AuctionStatus, LotHold, Registration
from app.auctions.trail.rebuild import load_round
from app.audit import ledger
from app.db import after_commit, utcnow
from app.money import to_minor
from app.schemas import datetime_to_ms, ms_to_datetime
from app.sessions import openings, rules, stream
from app.sessions.deposits import mark_applied, release_unused
from app.sessions.models import AuctionSession, SessionMode, SessionStatus
from app.sessions.service import open_lot_count, place_lot

log = structlog.get_logger()

ACTIVE = (AuctionStatus.scheduled, AuctionStatus.open)  # a lot's SQL status until it closes


async def lot_closed(session: AsyncSession, *, engine: Engine, auction_id: int,
                     opens_next: bool = True) -> None:
    """A lot was finalised or withdrawn (in this transaction): carry on with its session, if
    it has one (opens_next False: the lot never ran, a live session's next one waits on)."""
    # The session row is not locked here: the closer already holds the auction row and the
    # ledger head, while the session's own changes lock the session row first. So finishing
    # the session runs once this commits, in a transaction of its own.
    auction = await session.get(Auction, auction_id)
    if auction is None or auction.session_id is None:
        return
    event = await session.get(AuctionSession, auction.session_id)
    # Told before the commit: Redis has decided the close; a retry after a failed commit
    # finds the event there (the stream's dedup) and adds nothing.
    await _tell_closed(session, engine=engine, auction=auction)
    await mark_applied(session, auction=auction)
    if event.status is not SessionStatus.published:  # paused: the resume opens the next lot
        return
    if event.mode is SessionMode.live and opens_next:
        await open_next_lot(session, engine=engine, event=event)
    session_id = event.id
    after_commit(session, lambda: finish_if_done(session, engine=engine, session_id=session_id))


async def _tell_closed(session: AsyncSession, *, engine: Engine, auction: Auction) -> None:
    """lot_closed on the session's stream: sold, passed or withdrawn, the hammer and paddle."""
    paddle = None if auction.winning_registration_id is None else await session.scalar(
        select(Registration.paddle).where(Registration.id == auction.winning_registration_id))
    outcome = rules.closed_outcome(withdrawn=auction.status is AuctionStatus.cancelled,
                                   sold=auction.outcome is AuctionOutcome.sold)
    await stream.emit(
        engine, session_id=auction.session_id, name=f"lot_closed:{auction.id}", type="lot_closed",
        auction_id=auction.id, lot_number=auction.lot_number, outcome=outcome.value,
        hammer_price=None if auction.hammer_price is None else to_minor(auction.hammer_price),
        winning_paddle=paddle,
        closed_at_ms=None if auction.closed_at is None else datetime_to_ms(auction.closed_at))


async def open_next_lot(session: AsyncSession, *, engine: Engine, event: AuctionSession) -> bool:
    """Live: open the next queued lot lot_gap_seconds from now (Redis clock); True if opened."""
    # A conditional update lets one closer open it, however many race.
    following = await session.scalar(
        select(Auction).where(Auction.session_id == event.id, Auction.lot_hold == LotHold.queued)
        .order_by(Auction.lot_number).limit(1)
    )
    if following is None or await _a_lot_runs(session, session_id=event.id):
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
    after_commit(session, lambda: _load(session, engine, event.id, following, slot.opens_ms))
    log.info("session_lot_opened", session_id=event.id, auction_id=following.id)
    return True


async def _a_lot_runs(session: AsyncSession, *, session_id: int) -> bool:
    """Whether a lot of the session is in the engine and not yet closed: then none opens. With
    the claim below, racing closers open one lot: one that saw an earlier claim committed sees
    its lot running, one that did not is stopped by the claim's row lock."""
    return bool(await session.scalar(select(Auction.id).where(
        Auction.session_id == session_id, Auction.status.in_(ACTIVE), Auction.lot_hold.is_(None)
    ).limit(1)))


async def _load(session: AsyncSession, engine: Engine, session_id: int, lot: Auction,
                opens_ms: int) -> None:
    await load_round(session, engine=engine, auction=lot)
    await openings.expect(engine, session_id=session_id, auction_id=lot.id,
                          lot_number=lot.lot_number, opens_at_ms=opens_ms)


async def finish_if_done(session: AsyncSession, *, engine: Engine, session_id: int) -> bool:
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
    await stream.emit(engine, session_id=event.id, name="session_finished",
                      type="session_finished")
    await session.commit()
    log.info("session_finished", session_id=event.id)
    return True


async def finish_sessions(*, engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Finish the published sessions whose lots are all closed; how many were finished."""
    # A finish lost to a crash between a lot's close and its session's finish.
    open_lots = select(Auction.id).where(
        Auction.session_id == AuctionSession.id,
        Auction.status.not_in([AuctionStatus.closed, AuctionStatus.cancelled]))
    async with sessionmaker() as session:
        due = (await session.scalars(select(AuctionSession.id).where(
            AuctionSession.status == SessionStatus.published, ~open_lots.exists()).limit(100))).all()
        return sum([await finish_if_done(session, engine=engine, session_id=session_id)
                    for session_id in due])
