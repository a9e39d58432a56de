"""Auctions: creation from an approved listing, reading with live state."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.domain import rules
from app.auctions.domain.registry import foreign_params, listed
from app.auctions.engine import Engine, Snapshot
from app.auctions.models import Auction, AuctionRound, AuctionStatus, LotHold
from app.auctions.schemas import (
    AntiSnipingOut,
    AuctionCreate,
    AuctionOut,
    RoundIn,
    RoundOut,
)
from app.auctions.trail.rebuild import auction_rounds, load_round, round_spec
from app.audit import ledger
from app.db import after_commit
from app.errors import Conflict, NotFound, Unprocessable
from app.listings.models import Listing, ListingStatus
from app.listings.service import can_see_reserve
from app.money import from_minor, to_minor
from app.pagination import PageParams, fetch_page
from app.schemas import datetime_to_ms, encode_cursor, ms_to_datetime
from app.security import Principal


async def create_auction(
    session: AsyncSession, *, engine: Engine, principal: Principal, data: AuctionCreate,
    starting_price: Decimal | None = None, lot_hold: LotHold | None = None,
) -> Auction:
    """Schedule an auction of an approved listing; the listing goes in_auction. A session's
    lot may relist an unsold listing at its own starting price, and is held out of the engine."""
    listing = await session.scalar(
        select(Listing).where(Listing.id == data.listing_id).with_for_update()
    )
    if listing is None:
        raise NotFound("No such listing.", code="listing_not_found")
    allowed = (ListingStatus.approved, ListingStatus.unsold) if lot_hold else (ListingStatus.approved,)
    if listing.status not in allowed:
        raise Conflict("Only an approved listing can be auctioned.", code="listing_not_approved")
    _check_rounds(data, listing, now_ms=await engine.server_time_ms())
    auction = Auction(
        listing_id=listing.id, created_by_id=principal.user_id, status=AuctionStatus.scheduled,
        currency=listing.currency, starting_price=starting_price or listing.starting_price,
        reserve_price=listing.reserve_price, bid_increment=data.bid_increment,
        deposit_amount=data.deposit_amount, window_seconds=data.anti_sniping.window_seconds,
        extension_seconds=data.anti_sniping.extension_seconds,
        hard_close_at=data.anti_sniping.hard_close_at,
        buyer_premium_rate=data.buyer_premium_rate,
        seller_commission_rate=data.seller_commission_rate, payment_days=data.payment_days,
        lot_hold=lot_hold,
    )
    session.add(auction)
    await session.flush()
    rounds = [
        AuctionRound(auction_id=auction.id, round_index=i, kind=r.kind, starts_at=r.starts_at,
                     ends_at=r.ends_at, params=_params(r))
        for i, r in enumerate(data.rounds)
    ]
    session.add_all(rounds)
    listing.status = ListingStatus.in_auction
    await session.flush()
    await ledger.append(
        session, actor_id=principal.user_id, action="auction.created", entity_type="auction",
        entity_id=auction.id, payload=data.model_dump(mode="json") | {
            "starting_price": auction.starting_price, "reserve_price": auction.reserve_price},
    )
    if lot_hold is None:
        after_commit(session, lambda: load_round(session, engine=engine, auction=auction))
    return auction


def _params(r: RoundIn) -> dict:
    """The kind-specific settings of a round as stored (money in minor units)."""
    params: dict = {}
    if r.step is not None:
        params["step"] = to_minor(r.step)
    if r.interval_seconds is not None or r.interval_ms is not None:
        params["interval_ms"] = r.interval_ms or r.interval_seconds * 1000
    if r.floor is not None:
        params["floor"] = to_minor(r.floor)
    if r.advance is not None:
        params["advance"] = r.advance
    return params


def _bad(message: str, code: str) -> Unprocessable:
    return Unprocessable(message, code=code)


# How the API names a kind's parameters when it asks for them, and when it refuses them.
_NEEDED = {"interval_ms": "interval_seconds (or interval_ms)"}
_REFUSED = {"interval_ms": "interval"}


def _check_rounds(data: AuctionCreate, listing: Listing, *, now_ms: int) -> None:
    """Refuse round settings the engine cannot run (422 with a stable code)."""
    last = len(data.rounds) - 1
    for i, r in enumerate(data.rounds):
        try:
            _check_round(r, listing, final=i == last)
        except Unprocessable as exc:
            raise _in_round(exc, i) from None
    if datetime_to_ms(data.rounds[-1].ends_at) <= now_ms:
        raise _in_round(Unprocessable("The last round must end in the future.", code="round_in_past"),
                        last)


def _in_round(exc: Unprocessable, index: int) -> Unprocessable:
    # which round is refused, as a validation error says where (the console pins it to its row)
    exc.extensions["errors"] = [{"loc": ["body", "rounds", index], "msg": exc.detail, "type": exc.code}]
    return exc


def _check_round(r: RoundIn, listing: Listing, *, final: bool) -> None:
    """One round's settings as its kind takes them, and its place among the rounds."""
    kind, params = rules.kind_of(r.kind), _params(r)
    if any(params.get(p) is None for p in kind.params):
        needed = listed(_NEEDED.get(p, p) for p in kind.params)
        raise _bad(f"A {kind.name} round needs {needed}.", f"{kind.name}_params_required")
    if kind.must_be_final and not final:
        raise _bad(f"A {kind.name} round {kind.must_be_final}: it must be the last round.",
                   f"{kind.name}_not_final")
    reserve = None if listing.reserve_price is None else to_minor(listing.reserve_price)
    refusal = kind.refuse_params(params, to_minor(listing.starting_price), reserve)
    if refusal is not None:
        raise _bad(refusal.message, refusal.code)
    owner = foreign_params(kind, params)
    if owner is not None:
        refused = listed(_REFUSED.get(p, p) for p in owner.params)
        raise _bad(f"{refused} are for {owner.name} rounds only.", f"{owner.name}_params_not_allowed")
    if final and r.advance is not None:
        raise _bad("The last round has no next round to advance to.", "advance_on_final_round")
    if not final and r.advance is None:
        raise _bad("Every round but the last must say how many bidders advance (advance).",
                   "advance_required")


async def get_auction(
    session: AsyncSession, *, auction_id: int, principal: Principal | None = None
) -> Auction:
    """One auction (auctions are public, but for a draft session's lots: staff only) or 404."""
    auction = await session.get(Auction, auction_id)
    staff = principal is not None and principal.is_staff_reader
    if auction is None or (auction.lot_hold is LotHold.draft and not staff):
        raise NotFound("No such auction.", code="auction_not_found")
    return auction


async def snapshot(session: AsyncSession, *, engine: Engine, auction: Auction) -> Snapshot:
    """The live round state from Redis, rebuilding it from SQL when Redis lost it."""
    snap = await engine.read(auction.id)
    if snap is None:
        await load_round(session, engine=engine, auction=auction)
        snap = await engine.read(auction.id)
    return snap or await unloaded_snapshot(session, engine=engine, auction=auction)


async def unloaded_snapshot(session: AsyncSession, *, engine: Engine, auction: Auction) -> Snapshot:
    """The first round as configured, untouched: a lot held out of the engine, or cancelled."""
    rounds = await auction_rounds(session, auction.id)
    spec = round_spec(auction, rounds[0], final=len(rounds) == 1)
    return Snapshot(spec, rules.RoundState.initial(spec), await engine.server_time_ms(), 0,
                    len(rounds) == 1, None, None)


# Rows examined per request at most when a status filter skips many: the page may then be
# short, and its cursor goes on from the last row examined.
MAX_SCANNED = 2_000

# The SQL statuses an auction can have while its live status is the key. SQL holds scheduled
# (until the closer writes closed; a round past due reads closed before that) and cancelled (a
# session's lot withdrawn or cancelled); open is only ever a live status.
_SQL_STATUSES = {
    AuctionStatus.scheduled: (AuctionStatus.scheduled,),
    AuctionStatus.open: (AuctionStatus.scheduled,),
    AuctionStatus.closed: (AuctionStatus.scheduled, AuctionStatus.closed),
    AuctionStatus.cancelled: (AuctionStatus.cancelled,),
}


async def list_auctions(
    session: AsyncSession, *, engine: Engine, principal: Principal | None, page: PageParams,
    listing_id: int | None, status: AuctionStatus | None,
) -> tuple[list[AuctionOut], str | None]:
    """A page of auctions as the caller sees them, newest first, filtered by live status."""
    stmt = select(Auction)
    if principal is None or not principal.is_staff_reader:  # a draft session's lots are not public
        stmt = stmt.where(or_(Auction.lot_hold.is_(None), Auction.lot_hold != LotHold.draft))
    if listing_id is not None:
        stmt = stmt.where(Auction.listing_id == listing_id)
    if status is not None:
        stmt = stmt.where(Auction.status.in_(_SQL_STATUSES[status]))
    items: list[AuctionOut] = []
    after, scanned = page.after_id, 0
    while True:
        rows, more = await fetch_page(session, stmt, id_column=Auction.id,
                                      page=replace(page, after_id=after))
        views = await describe_many(session, engine=engine, auctions=rows, principal=principal)
        for auction, view in zip(rows, views, strict=True):
            scanned, after = scanned + 1, auction.id
            if status is None or view.status is status:
                items.append(view)
                if len(items) == page.limit:
                    last = auction is rows[-1] and more is None
                    return items, None if last else encode_cursor(auction.id)
        if more is None:
            return items, None
        if scanned >= MAX_SCANNED:
            return items, encode_cursor(after)


async def describe(
    session: AsyncSession, *, engine: Engine, auction: Auction, principal: Principal | None
) -> AuctionOut:
    """The auction as the caller may see it, with its live state at the Redis server time."""
    listing = await session.get(Listing, auction.listing_id)
    rounds = await auction_rounds(session, auction.id)
    snap = await snapshot(session, engine=engine, auction=auction)
    return _auction_out(auction, listing, rounds, snap, principal)


async def describe_many(
    session: AsyncSession, *, engine: Engine, auctions: Sequence[Auction],
    principal: Principal | None,
) -> list[AuctionOut]:
    """describe() of each auction of a page: their live states read in one Redis round trip
    (Engine.read_many), their listings and rounds in one SQL query each."""
    if not auctions:
        return []
    ids = [a.id for a in auctions]
    listings = {row.id: row for row in await session.scalars(
        select(Listing).where(Listing.id.in_({a.listing_id for a in auctions})))}
    rounds: dict[int, list[AuctionRound]] = defaultdict(list)
    for r in await session.scalars(select(AuctionRound).where(AuctionRound.auction_id.in_(ids))
                                   .order_by(AuctionRound.auction_id, AuctionRound.round_index)):
        rounds[r.auction_id].append(r)
    _, snaps = await engine.read_many(ids)
    return [
        _auction_out(auction, listings[auction.listing_id], rounds[auction.id],
                     snap or await snapshot(session, engine=engine, auction=auction), principal)
        for auction, snap in zip(auctions, snaps, strict=True)
    ]


def _auction_out(auction: Auction, listing: Listing, rounds: list[AuctionRound], snap: Snapshot,
                 principal: Principal | None) -> AuctionOut:
    status = live_status(auction, snap)
    staff = principal is not None and principal.is_staff_reader
    view = snap if staff else snap.public()
    price = view.state.current_price
    minimum = snap.minimum_next_bid if status is AuctionStatus.open else None
    return AuctionOut(
        id=auction.id, listing_id=auction.listing_id, listing_title=listing.title, status=status,
        currency=auction.currency, starting_price=auction.starting_price,
        reserve_price=auction.reserve_price if can_see_reserve(principal, listing) else None,
        bid_increment=auction.bid_increment, deposit_amount=auction.deposit_amount,
        anti_sniping=AntiSnipingOut(
            window_seconds=auction.window_seconds, extension_seconds=auction.extension_seconds,
            hard_close_at=auction.hard_close_at,
        ),
        buyer_premium_rate=auction.buyer_premium_rate,
        seller_commission_rate=auction.seller_commission_rate, payment_days=auction.payment_days,
        rounds=[_round_out(r) for r in rounds],
        current_round=snap.round_index, current_round_kind=snap.spec.kind,
        current_price=from_minor(price) if price is not None else None,
        minimum_next_bid=from_minor(minimum) if minimum is not None else None,
        leading_paddle=view.leader_paddle,
        starts_at=ms_to_datetime(snap.spec.starts_at_ms), ends_at=ms_to_datetime(snap.state.ends_at_ms),
        bid_count=view.state.bid_count, outcome=auction.outcome,
        server_time=ms_to_datetime(snap.now_ms), created_at=auction.created_at,
        session_id=auction.session_id, lot_number=auction.lot_number,
    )


def _round_out(r: AuctionRound) -> RoundOut:
    p = r.params or {}
    return RoundOut(
        round_index=r.round_index, kind=r.kind, starts_at=r.starts_at, ends_at=r.ends_at,
        closed_at=r.closed_at, final_ends_at=r.final_ends_at,
        step=from_minor(p["step"]) if p.get("step") else None, interval_ms=p.get("interval_ms"),
        floor=from_minor(p["floor"]) if p.get("floor") else None, advance=p.get("advance"),
    )


def live_status(auction: Auction, snap: Snapshot) -> AuctionStatus:
    """The auction's status now: SQL once closed or cancelled, the engine's snapshot before."""
    if auction.status in (AuctionStatus.closed, AuctionStatus.cancelled):
        return auction.status
    status = snap.status
    if (status == "closed" and not snap.final) or (status == "scheduled" and snap.round_index):
        return AuctionStatus.open  # between rounds: the auction is under way
    return AuctionStatus(status)
