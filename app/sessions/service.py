"""Sessions: creation, lots (each an auction of one listing), publishing the schedule, cancel."""

from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import service as auctions
from app.auctions.engine import Engine
from app.auctions.models import Auction, AuctionStatus, LotHold
from app.auctions.schemas import AntiSniping, AuctionCreate, RoundIn
from app.auctions.trail.rebuild import auction_rounds, load_round
from app.audit import ledger
from app.db import after_commit, flush_or_raise, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.listings.models import Listing, ListingStatus
from app.pagination import PageParams, fetch_page
from app.schemas import datetime_to_ms, ms_to_datetime
from app.security import Principal
from app.sessions import openings, rules, stream
from app.sessions.deposits import release_unused
from app.sessions.models import AuctionSession, SessionMode, SessionStatus
from app.sessions.schemas import LotCreate, LotRoundIn, SessionCreate

MAX_LOTS = 1000
MAX_LOT_NUMBER = 9999  # as LotCreate takes it; lot_number is a 32-bit column


async def create_session(
    session: AsyncSession, *, engine: Engine, principal: Principal, data: SessionCreate
) -> AuctionSession:
    """A draft session with the terms its lots default to."""
    if datetime_to_ms(data.starts_at) + data.lot_duration_seconds * 1000 <= await engine.server_time_ms():
        raise Unprocessable("The first lot would close in the past.", code="session_in_past")
    anti = data.anti_sniping
    event = AuctionSession(
        title=data.title, description=data.description, mode=data.mode, status=SessionStatus.draft,
        created_by_id=principal.user_id, starts_at=data.starts_at,
        lot_duration_seconds=data.lot_duration_seconds, stagger_seconds=data.stagger_seconds,
        lot_gap_seconds=data.lot_gap_seconds, deposit_amount=data.deposit_amount,
        bid_increment=data.bid_increment, window_seconds=anti.window_seconds,
        extension_seconds=anti.extension_seconds, max_extension_seconds=anti.max_extension_seconds,
        buyer_premium_rate=data.buyer_premium_rate, seller_commission_rate=data.seller_commission_rate,
        payment_days=data.payment_days, registration_closes_at=data.registration_closes_at,
    )
    session.add(event)
    await session.flush()
    await ledger.append(session, actor_id=principal.user_id, action="session.created",
                        entity_type="session", entity_id=event.id, payload=data.model_dump(mode="json"))
    return event


async def get_session(
    session: AsyncSession, *, session_id: int, principal: Principal | None, lock: bool = False
) -> AuctionSession:
    """A session the caller may see (drafts: admin and auditor only), or 404."""
    stmt = select(AuctionSession).where(AuctionSession.id == session_id)
    event = await session.scalar(stmt.with_for_update() if lock else stmt)
    staff = principal is not None and principal.is_staff_reader
    if event is None or (event.status is SessionStatus.draft and not staff):
        raise NotFound("No such session.", code="session_not_found")
    return event


async def list_sessions(
    session: AsyncSession, *, principal: Principal | None, page: PageParams
) -> tuple[list[AuctionSession], str | None]:
    """A page of sessions, newest first; drafts only for admin and auditor."""
    stmt = select(AuctionSession)
    if principal is None or not principal.is_staff_reader:
        stmt = stmt.where(AuctionSession.status != SessionStatus.draft)
    return await fetch_page(session, stmt, id_column=AuctionSession.id, page=page)


async def lots_of(session: AsyncSession, *, session_id: int, after: int | None = None,
                  limit: int | None = None) -> list[Auction]:
    """The session's lots in lot_number order (after: lot numbers above it)."""
    if after is not None and after >= MAX_LOT_NUMBER:  # a cursor past every lot: nothing after it
        return []
    stmt = select(Auction).where(Auction.session_id == session_id).order_by(Auction.lot_number)
    if after is not None:
        stmt = stmt.where(Auction.lot_number > after)
    return list((await session.scalars(stmt if limit is None else stmt.limit(limit))).all())


def schedule(event: AuctionSession, *, lots: int) -> list[rules.Slot]:
    """The slots of the session's lots in order (live: the later ones are estimates)."""
    starts, duration = datetime_to_ms(event.starts_at), event.lot_duration_seconds * 1000
    if event.mode is SessionMode.timed:
        return rules.timed_schedule(starts_ms=starts, duration_ms=duration,
                                    stagger_ms=event.stagger_seconds * 1000, lots=lots)
    return rules.live_schedule(starts_ms=starts, duration_ms=duration,
                               gap_ms=event.lot_gap_seconds * 1000, lots=lots)


def _max_extension_ms(event: AuctionSession) -> int | None:
    return None if event.max_extension_seconds is None else event.max_extension_seconds * 1000


async def add_lot(
    session: AsyncSession, *, engine: Engine, principal: Principal, session_id: int, data: LotCreate
) -> Auction:
    """Add a lot to a draft session: an auction of the listing on the session's terms."""
    # The auction is held out of the engine (lot_hold draft) until the session is published.
    event = await get_session(session, session_id=session_id, principal=principal, lock=True)
    if event.status is not SessionStatus.draft:
        raise Conflict("Lots can be added to a draft session only.", code="session_not_draft")
    numbers = [lot.lot_number for lot in await lots_of(session, session_id=event.id)]
    if len(numbers) >= MAX_LOTS:
        raise Conflict(f"A session has at most {MAX_LOTS} lots.", code="too_many_lots")
    number = data.lot_number or max(numbers, default=0) + 1
    if number in numbers:
        raise Conflict(f"Lot number {number} is taken.", code="lot_number_taken")
    slot = schedule(event, lots=len(numbers) + 1)[sum(1 for n in numbers if n < number)]
    rounds = data.rounds or [LotRoundIn(kind="english")]
    try:
        times = rules.layout_rounds(slot, [r.duration_seconds * 1000 for r in rounds[:-1]])
        auction_data = _auction_create(event, data, rounds, times, slot)
    except (ValueError, ValidationError) as exc:
        raise Unprocessable(f"The lot does not fit the session: {exc}", code="invalid_lot") from exc
    auction = await auctions.create_auction(
        session, engine=engine, principal=principal, data=auction_data,
        starting_price=data.starting_price, lot_hold=LotHold.draft,
    )
    auction.session_id, auction.lot_number = event.id, number
    await flush_or_raise(session, Conflict(f"Lot number {number} is taken.", code="lot_number_taken"))
    await ledger.append(session, actor_id=principal.user_id, action="session.lot_added",
                        entity_type="session", entity_id=event.id,
                        payload=data.model_dump(mode="json") | {"lot_number": number,
                                                                "auction_id": auction.id})
    return auction


def _auction_create(event: AuctionSession, data: LotCreate, rounds: Sequence[LotRoundIn],
                    times: Sequence[tuple[int, int]], slot: rules.Slot) -> AuctionCreate:
    hard = rules.hard_close_ms(slot, _max_extension_ms(event))
    return AuctionCreate(
        listing_id=data.listing_id,
        rounds=[RoundIn(kind=r.kind, starts_at=ms_to_datetime(start), ends_at=ms_to_datetime(end),
                        step=r.step, interval_seconds=r.interval_seconds, interval_ms=r.interval_ms,
                        floor=r.floor, advance=r.advance)
                for r, (start, end) in zip(rounds, times, strict=True)],
        bid_increment=data.bid_increment or event.bid_increment, deposit_amount=event.deposit_amount,
        anti_sniping=AntiSniping(window_seconds=event.window_seconds,
                                 extension_seconds=event.extension_seconds,
                                 hard_close_at=None if hard is None else ms_to_datetime(hard)),
        buyer_premium_rate=event.buyer_premium_rate,
        seller_commission_rate=event.seller_commission_rate, payment_days=event.payment_days,
    )


async def place_lot(session: AsyncSession, *, event: AuctionSession, auction: Auction,
                    slot: rules.Slot) -> None:
    """Move the lot's rounds into its slot (the earlier rounds keep their durations)."""
    rounds = await auction_rounds(session, auction.id)
    durations = [datetime_to_ms(r.ends_at) - datetime_to_ms(r.starts_at) for r in rounds[:-1]]
    for round_, (start, end) in zip(rounds, rules.layout_rounds(slot, durations), strict=True):
        round_.starts_at, round_.ends_at = ms_to_datetime(start), ms_to_datetime(end)
    hard = rules.hard_close_ms(slot, _max_extension_ms(event))
    auction.hard_close_at = None if hard is None else ms_to_datetime(hard)
    await session.flush()


async def publish(
    session: AsyncSession, *, engine: Engine, principal: Principal, session_id: int
) -> AuctionSession:
    """Make the catalogue public and fix the schedule; the lots due to open go to the engine."""
    event = await get_session(session, session_id=session_id, principal=principal, lock=True)
    if event.status is not SessionStatus.draft:
        raise Conflict("Only a draft session can be published.", code="session_not_draft")
    lots = await lots_of(session, session_id=event.id)
    if not lots:
        raise Conflict("A session needs at least one lot.", code="session_has_no_lots")
    slots = schedule(event, lots=len(lots))
    if slots[0].closes_ms <= await engine.server_time_ms():
        raise Conflict("The first lot would close in the past.", code="session_in_past")
    try:
        for k, (lot, slot) in enumerate(zip(lots, slots, strict=True)):
            await place_lot(session, event=event, auction=lot, slot=slot)
            queued = event.mode is SessionMode.live and k > 0
            lot.lot_hold = LotHold.queued if queued else None
    except ValueError as exc:
        raise Unprocessable(f"The schedule does not fit: {exc}", code="invalid_schedule") from exc
    event.status, event.published_at = SessionStatus.published, utcnow()
    await session.flush()
    await ledger.append(
        session, actor_id=principal.user_id, action="session.published", entity_type="session",
        entity_id=event.id, payload={"lots": [
            {"lot_number": lot.lot_number, "auction_id": lot.id, "queued": lot.lot_hold is not None,
             "opens_at": ms_to_datetime(slot.opens_ms), "closes_at": ms_to_datetime(slot.closes_ms)}
            for lot, slot in zip(lots, slots, strict=True)]},
    )
    loaded = [(lot, slot.opens_ms) for lot, slot in zip(lots, slots, strict=True) if lot.lot_hold is None]
    after_commit(session, lambda: _load(session, engine, event.id, loaded))
    return event


async def _load(session: AsyncSession, engine: Engine, session_id: int,
                lots: Sequence[tuple[Auction, int]]) -> None:
    """Load the lots' rounds; the worker tells lot_opened on the session's stream at opens_ms."""
    for lot, opens_ms in lots:
        await load_round(session, engine=engine, auction=lot)
        await openings.expect(engine, session_id=session_id, auction_id=lot.id,
                              lot_number=lot.lot_number, opens_at_ms=opens_ms)


async def cancel(
    session: AsyncSession, *, engine: Engine, principal: Principal, session_id: int
) -> AuctionSession:
    """Cancel the session: its lots not yet closed are withdrawn, unused deposits released."""
    event = await get_session(session, session_id=session_id, principal=principal, lock=True)
    if event.status in (SessionStatus.finished, SessionStatus.cancelled):
        raise Conflict(f"The session is already {event.status.value}.", code="invalid_transition")
    withdrawn = []
    for lot in await lots_of(session, session_id=event.id):
        moved = await session.execute(
            update(Auction).where(Auction.id == lot.id, Auction.status.in_(
                [AuctionStatus.scheduled, AuctionStatus.open]))
            .values(status=AuctionStatus.cancelled, lot_hold=None, closed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 1:
            withdrawn.append(lot.id)
            await session.execute(update(Listing).where(Listing.id == lot.listing_id)
                                  .values(status=ListingStatus.approved))
    event.status, event.finished_at = SessionStatus.cancelled, utcnow()
    released = await release_unused(session, session_id=event.id)
    await ledger.append(session, actor_id=principal.user_id, action="session.cancelled",
                        entity_type="session", entity_id=event.id,
                        payload={"withdrawn_auction_ids": withdrawn,
                                 "released_session_registration_ids": released})
    after_commit(session, lambda: _unload(engine, withdrawn))
    after_commit(session, lambda: stream.emit(engine, session_id=event.id, name="session_cancelled",
                                              type="session_cancelled"))
    return event


async def _unload(engine: Engine, auction_ids: Sequence[int]) -> None:
    """Take withdrawn lots out of the engine: their bids are refused, nobody closes them."""
    for auction_id in auction_ids:
        keys = engine.keys(auction_id)
        await engine.redis.delete(keys.state, keys.bids)
        await engine.unschedule_deadline(auction_id)


async def open_lot_count(session: AsyncSession, *, session_id: int) -> int:
    """How many of the session's lots are still to close (neither closed nor withdrawn)."""
    return int(await session.scalar(
        select(func.count()).select_from(Auction).where(
            Auction.session_id == session_id,
            Auction.status.not_in([AuctionStatus.closed, AuctionStatus.cancelled]))
    ) or 0)
