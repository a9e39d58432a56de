"""Sessions and lots as callers see them, every lot's live state read in one Redis round trip."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine, Snapshot
from app.auctions.models import Auction, AuctionRound, AuctionStatus, LotHold
from app.listings.models import Listing
from app.money import from_minor
from app.schemas import datetime_to_ms, ms_to_datetime
from app.security import Principal
from app.sessions import rules
from app.sessions.models import AuctionSession
from app.sessions.schemas import LotOut, SessionAntiSnipingOut, SessionOut


def session_out(event: AuctionSession, *, now_ms: int, lots: list[LotOut] | None = None) -> SessionOut:
    """The session at server time now_ms (published reads running once it has started)."""
    status = rules.session_status(stored=event.status.value, now_ms=now_ms,
                                  starts_ms=datetime_to_ms(event.starts_at))
    derived = {"status": status, "lots": lots, "server_time": ms_to_datetime(now_ms),
               "anti_sniping": SessionAntiSnipingOut.model_validate(event)}
    stored = {name: getattr(event, name) for name in SessionOut.model_fields if name not in derived}
    return SessionOut(**stored, **derived)


async def lot_views(
    session: AsyncSession, *, engine: Engine, lots: Sequence[Auction], principal: Principal | None
) -> tuple[int, list[LotOut]]:
    """The server time and the lots as the caller may see them (one Redis pipeline)."""
    ids = [lot.id for lot in lots]
    titles = dict((await session.execute(
        select(Auction.id, Listing.title).join(Listing, Listing.id == Auction.listing_id)
        .where(Auction.id.in_(ids)))).all()) if ids else {}
    rounds: dict[int, list[AuctionRound]] = defaultdict(list)
    if ids:
        for r in await session.scalars(select(AuctionRound).where(AuctionRound.auction_id.in_(ids))
                                       .order_by(AuctionRound.round_index)):
            rounds[r.auction_id].append(r)
    now_ms, snaps = await engine.read_many(ids)
    staff = principal is not None and principal.is_staff_reader
    return now_ms, [lot_out(lot, title=titles[lot.id], rounds=rounds[lot.id], snap=snap, staff=staff)
                    for lot, snap in zip(lots, snaps, strict=True)]


def close_outcome(snap: Snapshot) -> str | None:
    """The outcome the close script wrote ('sold' or 'unsold'); None before it has run."""
    if not snap.state.closed or snap.close is None or snap.close.outcome is None:
        return None
    return "sold" if snap.close.outcome.sold else "unsold"


def lot_out(lot: Auction, *, title: str, rounds: Sequence[AuctionRound], snap: Snapshot | None,
            staff: bool) -> LotOut:
    """One lot: SQL for what is settled, the engine's snapshot while it runs."""
    loaded = snap is not None and lot.status is not AuctionStatus.cancelled
    close = snap.close if loaded else None
    status = rules.lot_status(
        cancelled=lot.status is AuctionStatus.cancelled,
        closed_outcome=lot.outcome.value if lot.status is AuctionStatus.closed and lot.outcome else None,
        held=lot.lot_hold is not None, live_status=snap.status if loaded else None,
        live_round=snap.round_index if loaded else 0, live_final=snap.final if loaded else True,
        live_outcome=close_outcome(snap) if loaded else None,
    )
    hidden = loaded and snap.sealed and not staff
    view = snap if staff or not loaded else snap.public()
    price = view.state.current_price if loaded and not hidden else None
    hammer = lot.hammer_price
    if hammer is None and status is rules.LotStatus.sold and close and close.outcome.price:
        hammer = from_minor(close.outcome.price)
    opens_at, ends_at = rounds[0].starts_at, rounds[-1].final_ends_at or rounds[-1].ends_at
    if lot.lot_hold is LotHold.queued:  # a live lot waiting for its turn: no time yet
        opens_at = ends_at = None
    elif loaded and snap.final:  # extensions included
        ends_at = ms_to_datetime(snap.state.ends_at_ms)
    return LotOut(
        lot_number=lot.lot_number, auction_id=lot.id, listing_id=lot.listing_id, title=title,
        starting_price=lot.starting_price, bid_increment=lot.bid_increment, status=status,
        opens_at=opens_at, ends_at=ends_at,
        current_price=from_minor(price) if price is not None else None,
        bid_count=None if hidden or not loaded else view.state.bid_count, hammer_price=hammer,
    )
