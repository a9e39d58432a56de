"""The operator's control of a running session: pause and resume (every lot's remaining time
kept), withdraw a lot; each in the audit ledger and on the session's event stream.

A pause is applied in Redis lot by lot under one token (the pause's Redis time in ms, kept
in SQL as paused_at): the scripts apply a token once, so retries, a second worker and the
worker's repair pass (reconcile) never stop or move a lot twice."""

from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine
from app.auctions.models import Auction, AuctionStatus, LotHold
from app.auctions.trail.rebuild import auction_rounds
from app.audit import ledger
from app.db import after_commit, commit
from app.errors import Conflict, NotFound
from app.listings.models import Listing, ListingStatus
from app.schemas import datetime_to_ms, ms_to_datetime
from app.security import Principal
from app.sessions import lifecycle, openings, rules, stream
from app.sessions.models import AuctionSession, SessionMode, SessionStatus
from app.sessions.service import get_session, lots_of
from app.settlements import service as settlements

log = structlog.get_logger()
ACTIVE = lifecycle.ACTIVE
REPAIR_BATCH = 100


async def _running_lots(session: AsyncSession, *, session_id: int) -> list[Auction]:
    """The lots still to close that are in the engine (not queued behind a live lot)."""
    return [lot for lot in await lots_of(session, session_id=session_id)
            if lot.status in ACTIVE and lot.lot_hold is None]


async def pause(session: AsyncSession, *, engine: Engine, principal: Principal,
                session_id: int) -> AuctionSession:
    """Pause a running session: no bid, no opening and no close until it resumes."""
    event = await get_session(session, session_id=session_id, principal=principal, lock=True)
    now_ms = await engine.server_time_ms()
    status = rules.session_status(stored=event.status.value, now_ms=now_ms,
                                  starts_ms=datetime_to_ms(event.starts_at))
    if status != "running":
        raise Conflict(f"Only a running session can be paused; this one is {status}.",
                       code="session_not_running")
    event.status, event.paused_at = SessionStatus.paused, ms_to_datetime(now_ms)
    ids = [lot.id for lot in await _running_lots(session, session_id=event.id)]
    await ledger.append(session, actor_id=principal.user_id, action="session.paused",
                        entity_type="session", entity_id=event.id,
                        payload={"paused_at": event.paused_at, "auction_ids": ids})
    # SQL first: a crash before the lots are paused leaves a paused session, which the
    # worker's reconcile pass finishes pausing (same token, so nothing twice).
    session_id = event.id
    after_commit(session, lambda: apply_pause(engine, session_id=session_id, token=now_ms,
                                              auction_ids=ids))
    return event


async def apply_pause(engine: Engine, *, session_id: int, token: int,
                      auction_ids: Sequence[int]) -> None:
    """Stop every lot's clock under the pause token, then tell the session's stream."""
    for auction_id in auction_ids:
        await engine.control.pause(auction_id, token)
    await stream.emit(engine, session_id=session_id, name=f"session_paused:{token}",
                      type="session_paused", paused_at_ms=token)


async def resume(session: AsyncSession, *, engine: Engine, principal: Principal,
                 session_id: int) -> AuctionSession:
    """Resume a paused session: each lot's times move by its pause, a live session's next
    lot opens if the last one closed meanwhile."""
    event = await get_session(session, session_id=session_id, principal=principal, lock=True)
    if event.status is not SessionStatus.paused or event.paused_at is None:
        raise Conflict("Only a paused session can be resumed.", code="session_not_paused")
    token = datetime_to_ms(event.paused_at)
    shifts: dict[str, int] = {}
    for lot in await _running_lots(session, session_id=event.id):
        resumed = await engine.control.resume(lot.id, token)
        if resumed.status == "resumed":
            shifts[str(lot.id)] = resumed.shift_ms
            await _shift_rounds(session, lot, shift_ms=resumed.shift_ms, paused_ms=token)
        if resumed.ends_at_ms is not None:
            await engine.schedule_deadline(lot.id, resumed.ends_at_ms)
    now_ms = await engine.server_time_ms()
    event.status, event.paused_at = SessionStatus.published, None
    await ledger.append(session, actor_id=principal.user_id, action="session.resumed",
                        entity_type="session", entity_id=event.id,
                        payload={"paused_at": ms_to_datetime(token),
                                 "resumed_at": ms_to_datetime(now_ms), "shifted_ms": shifts})
    await session.flush()
    if event.mode is SessionMode.live and not await _running_lots(session, session_id=event.id):
        await lifecycle.open_next_lot(session, engine=engine, event=event)
    # Told now: the lots run again whatever becomes of this commit (a failed one leaves SQL
    # paused and the lots running, which the next resume sets right without a second event).
    await stream.emit(engine, session_id=event.id, name=f"session_resumed:{token}",
                      type="session_resumed", paused_ms=now_ms - token)
    session_id = event.id
    after_commit(session, lambda: lifecycle.finish_if_done(session, engine=engine, session_id=session_id))
    return event


async def _shift_rounds(session: AsyncSession, lot: Auction, *, shift_ms: int, paused_ms: int) -> None:
    """SQL's times of the lot's rounds still to close move as Redis's did (a round that had
    started keeps its start: it opened then)."""
    shift, paused_at = timedelta(milliseconds=shift_ms), ms_to_datetime(paused_ms)
    for round_ in await auction_rounds(session, lot.id):
        if round_.closed_at is not None:
            continue
        if round_.starts_at > paused_at:
            round_.starts_at += shift
        round_.ends_at += shift
    if lot.hard_close_at is not None:
        lot.hard_close_at += shift


async def withdraw(session: AsyncSession, *, engine: Engine, principal: Principal, auction_id: int,
                   reason: str, session_id: int | None = None) -> Auction:
    """Withdraw a lot not yet closed: bids stop, it closes as withdrawn (no sale, deposits
    released as for an unsold lot); a live session's next lot opens after the gap. With
    session_id: only a lot of that session."""
    lot = await session.get(Auction, auction_id)
    if lot is None or (session_id is not None and lot.session_id != session_id):
        raise NotFound("No such auction.", code="auction_not_found")
    if lot.session_id is not None:  # the session row first, as every session change does
        event = await get_session(session, session_id=lot.session_id, principal=principal, lock=True)
        if event.status not in (SessionStatus.published, SessionStatus.paused):
            raise Conflict(f"A lot of a {event.status.value} session cannot be withdrawn.",
                           code="session_not_running")
    was_running, now_ms = lot.lot_hold is None, await engine.server_time_ms()
    claimed = await session.execute(
        update(Auction).where(Auction.id == lot.id, Auction.status.in_(ACTIVE))
        .values(status=AuctionStatus.cancelled, lot_hold=None, closed_at=ms_to_datetime(now_ms))
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise Conflict("The lot is closed or withdrawn already.", code="lot_closed")
    if was_running:  # within the transaction: the closer's finalise waits for it, then skips
        status, closed_at = await engine.control.withdraw(lot.id)
        if status == "closed":
            raise Conflict("The lot has closed: its outcome stands.", code="lot_closed")
        now_ms = closed_at or now_ms
    await session.execute(update(Listing).where(Listing.id == lot.listing_id)
                          .values(status=ListingStatus.approved))
    await session.refresh(lot)
    lot.closed_at = ms_to_datetime(now_ms)
    await settlements.settle_close(session, engine=engine, auction_id=lot.id,
                                   winner_registration_id=None, hammer_price=None,
                                   closed_at=lot.closed_at)
    await ledger.append(session, actor_id=principal.user_id, action="auction.withdrawn",
                        entity_type="auction", entity_id=lot.id,
                        payload={"reason": reason, "session_id": lot.session_id,
                                 "lot_number": lot.lot_number, "was_running": was_running,
                                 "closed_at": lot.closed_at})
    await lifecycle.lot_closed(session, engine=engine, auction_id=lot.id, opens_next=was_running)
    # read now: finish_if_done (after the commit) may roll back first, expiring the row
    ids = (lot.id, lot.session_id, lot.lot_number)
    after_commit(session, lambda: _withdrawn(engine, *ids))
    log.info("lot_withdrawn", auction_id=lot.id, session_id=lot.session_id)
    return lot


async def _withdrawn(engine: Engine, auction_id: int, session_id: int | None,
                     lot_number: int | None) -> None:
    await engine.unschedule_deadline(auction_id)
    if session_id is not None and lot_number is not None:
        await openings.forget(engine, session_id=session_id, auction_id=auction_id,
                              lot_number=lot_number)


async def reconcile(*, engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The worker's repair pass: a paused session's lots all paused (a crash between the
    commit and Redis, a lot loaded meanwhile), a live session left with no lot running
    given its next one. Idempotent: the pause token and the lot claim apply once."""
    async with sessionmaker() as session:
        paused = (await session.execute(
            select(AuctionSession.id, AuctionSession.paused_at)
            .where(AuctionSession.status == SessionStatus.paused).limit(REPAIR_BATCH))).all()
        for session_id, paused_at in paused:
            ids = [lot.id for lot in await _running_lots(session, session_id=session_id)]
            await apply_pause(engine, session_id=session_id, token=datetime_to_ms(paused_at),
                              auction_ids=ids)
        running = select(Auction.id).where(Auction.session_id == AuctionSession.id,
                                           Auction.status.in_(ACTIVE), Auction.lot_hold.is_(None))
        queued = select(Auction.id).where(Auction.session_id == AuctionSession.id,
                                          Auction.lot_hold == LotHold.queued)
        stalled = (await session.scalars(select(AuctionSession.id).where(
            AuctionSession.status == SessionStatus.published, AuctionSession.mode == SessionMode.live,
            ~running.exists(), queued.exists()).limit(REPAIR_BATCH))).all()
        await session.rollback()
        for session_id in stalled:
            await _restart(session, engine, session_id)


async def _restart(session: AsyncSession, engine: Engine, session_id: int) -> None:
    """Open a stalled live session's next lot (own transaction; the claim lets one through)."""
    event = await session.scalar(select(AuctionSession).where(AuctionSession.id == session_id)
                                 .with_for_update().execution_options(populate_existing=True))
    if event.status is SessionStatus.published and not await _running_lots(session, session_id=session_id):
        if await lifecycle.open_next_lot(session, engine=engine, event=event):
            log.warning("live_session_restarted", session_id=session_id)
    await commit(session)
