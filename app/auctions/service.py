"""Auctions: creation from an approved listing, reading with live state, loading rounds."""

from dataclasses import replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import rules
from app.auctions.engine import Engine, Snapshot
from app.auctions.models import Auction, AuctionRound, AuctionStatus, Bid, Registration, RegistrationStatus
from app.auctions.schemas import (
    AntiSnipingOut,
    AuctionCreate,
    AuctionOut,
    AuctionResult,
    RoundIn,
    RoundOut,
)
from app.audit import ledger
from app.db import after_commit
from app.errors import Conflict, NotFound, Unprocessable
from app.listings.models import Listing, ListingStatus
from app.listings.service import can_see_reserve
from app.pagination import PageParams, fetch_page
from app.schemas import datetime_to_ms, encode_cursor, ms_to_datetime
from app.security import Principal
from app.settlements import service as settlements

CENT = Decimal("0.01")


def to_minor(amount: Decimal) -> int:
    """Decimal money as integer minor units (what Redis holds)."""
    return int((amount / CENT).to_integral_value())


def from_minor(units: int) -> Decimal:
    """Integer minor units as Decimal money."""
    return (Decimal(units) * CENT).quantize(CENT)


async def create_auction(
    session: AsyncSession, *, engine: Engine, principal: Principal, data: AuctionCreate
) -> Auction:
    """Schedule an auction of an approved listing; the listing goes in_auction."""
    listing = await session.scalar(
        select(Listing).where(Listing.id == data.listing_id).with_for_update()
    )
    if listing is None:
        raise NotFound("No such listing.", code="listing_not_found")
    if listing.status is not ListingStatus.approved:
        raise Conflict("Only an approved listing can be auctioned.", code="listing_not_approved")
    _check_rounds(data, listing, now_ms=await engine.server_time_ms())
    auction = Auction(
        listing_id=listing.id, created_by_id=principal.user_id, status=AuctionStatus.scheduled,
        currency=listing.currency, starting_price=listing.starting_price,
        reserve_price=listing.reserve_price, bid_increment=data.bid_increment,
        deposit_amount=data.deposit_amount, window_seconds=data.anti_sniping.window_seconds,
        extension_seconds=data.anti_sniping.extension_seconds,
        hard_close_at=data.anti_sniping.hard_close_at,
        buyer_premium_rate=data.buyer_premium_rate,
        seller_commission_rate=data.seller_commission_rate, payment_days=data.payment_days,
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


def _check_rounds(data: AuctionCreate, listing: Listing, *, now_ms: int) -> None:
    """Refuse round settings the engine cannot run (422 with a stable code)."""
    last = len(data.rounds) - 1
    for i, r in enumerate(data.rounds):
        if r.kind not in rules.ENGINE_KINDS:
            raise _bad(f"Round kind {r.kind} is not available.", "unsupported_round_kind")
        dutch = (r.step, r.interval_seconds or r.interval_ms, r.floor)
        if r.kind == "dutch":
            if any(v is None for v in dutch):
                raise _bad("A dutch round needs step, interval_seconds (or interval_ms) and "
                           "floor.", "dutch_params_required")
            if i != last:
                raise _bad("A dutch round sells to its first bidder: it must be the last round.",
                           "dutch_not_final")
            if r.floor > listing.starting_price:
                raise _bad("The dutch floor must not be above the starting price.",
                           "floor_above_starting_price")
            if listing.reserve_price is not None and r.floor < listing.reserve_price:
                raise _bad("The dutch floor must not be below the reserve price.",
                           "floor_below_reserve")
        elif any(v is not None for v in dutch):
            raise _bad("step, interval and floor are for dutch rounds only.",
                       "dutch_params_not_allowed")
        if i == last and r.advance is not None:
            raise _bad("The last round has no next round to advance to.", "advance_on_final_round")
        if i != last and r.advance is None:
            raise _bad("Every round but the last must say how many bidders advance (advance).",
                       "advance_required")
    if datetime_to_ms(data.rounds[-1].ends_at) <= now_ms:
        raise Unprocessable("The last round must end in the future.", code="round_in_past")


def round_spec(
    auction: Auction, round_: AuctionRound, *, final: bool = True
) -> rules.RoundSpec:
    """The engine's view of one configured round (params: dutch settings, advance, and the
    starting price and advanced bidders a previous round handed on)."""
    p = round_.params or {}
    return rules.RoundSpec(
        kind=round_.kind, starts_at_ms=datetime_to_ms(round_.starts_at),
        ends_at_ms=datetime_to_ms(round_.ends_at),
        starting_price=p.get("starting_price") or to_minor(auction.starting_price),
        increment=to_minor(auction.bid_increment),
        window_ms=auction.window_seconds * 1000, extension_ms=auction.extension_seconds * 1000,
        hard_close_ms=datetime_to_ms(auction.hard_close_at) if auction.hard_close_at else None,
        reserve=to_minor(auction.reserve_price) if auction.reserve_price is not None else None,
        step=p.get("step"), interval_ms=p.get("interval_ms"), floor=p.get("floor"),
        advance=None if final else p.get("advance"),
    )


async def auction_rounds(session: AsyncSession, auction_id: int) -> list[AuctionRound]:
    """The auction's rounds in order."""
    return list((await session.scalars(
        select(AuctionRound).where(AuctionRound.auction_id == auction_id)
        .order_by(AuctionRound.round_index)
    )).all())


async def load_round(session: AsyncSession, *, engine: Engine, auction: Auction) -> None:
    """Put the auction's current round (the first not closed in SQL) and its qualified
    bidders into Redis, rebuilt from the SQL trail (idempotent)."""
    rounds = await auction_rounds(session, auction.id)
    round_ = next((r for r in rounds if r.closed_at is None), rounds[-1])
    final = round_ is rounds[-1]
    qualified = await session.execute(
        select(Registration.organization_id, Registration.paddle).where(
            Registration.auction_id == auction.id,
            Registration.status == RegistrationStatus.qualified,
        )
    )
    for organization_id, paddle in qualified:
        await engine.qualify(auction.id, organization_id, paddle)
    spec = round_spec(auction, round_, final=final)
    top = await session.scalar(select(func.max(Bid.sequence)).where(Bid.auction_id == auction.id))
    trail = (await session.scalars(
        select(Bid).where(Bid.auction_id == auction.id, Bid.round_index == round_.round_index)
        .order_by(Bid.sequence)
    )).all()
    restore, leader_paddle = None, None
    if trail:
        # max: bids journalled between the two reads (the round is live elsewhere) count too
        top = max(top or 0, trail[-1].sequence)
        standing = rules.standing(
            rules.StandingBid(str(b.organization_id), to_minor(b.amount), b.sequence) for b in trail
        )
        if rules.is_sealed(spec):
            restore = rules.RoundState(ends_at_ms=spec.ends_at_ms, bid_count=len(trail),
                                       seq=top, bids=standing)
        elif spec.kind == "dutch":  # the lot was taken: the round ends then, the closer sells
            took = trail[0]
            spec = replace(spec, ends_at_ms=max(datetime_to_ms(took.placed_at),
                                                spec.starts_at_ms + 1))
            restore = rules.RoundState(
                ends_at_ms=spec.ends_at_ms, current_price=to_minor(took.amount),
                leader=str(took.organization_id), bid_count=1, seq=top, bids=standing,
            )
            leader_paddle = took.paddle
        else:
            last = trail[-1]
            restore = rules.RoundState(
                ends_at_ms=max(datetime_to_ms(last.ends_at), spec.ends_at_ms),
                current_price=to_minor(last.amount), leader=str(last.organization_id),
                bid_count=len(trail), seq=top, bids=standing,
                proxy_max=None if last.proxy_max is None else to_minor(last.proxy_max),
            )
            leader_paddle = last.paddle
    elif top:  # later rounds go on numbering where the earlier ones stopped
        restore = rules.RoundState(ends_at_ms=spec.ends_at_ms, seq=top)
    keyed = await session.execute(
        select(Bid.organization_id, Bid.idempotency_key).where(
            Bid.auction_id == auction.id, Bid.idempotency_key.is_not(None))
    )
    await engine.restore_idempotency_keys(auction.id, keyed.all())
    advanced = (round_.params or {}).get("advanced") if round_.round_index > 0 else None
    await engine.open_round(
        auction.id, spec, round_.round_index, final=final, restore=restore,
        leader_paddle=leader_paddle, advanced=advanced,
    )


async def get_auction(session: AsyncSession, *, auction_id: int) -> Auction:
    """One auction (auctions are public) or 404."""
    auction = await session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("No such auction.", code="auction_not_found")
    return auction


async def snapshot(session: AsyncSession, *, engine: Engine, auction: Auction) -> Snapshot:
    """The live round state from Redis, rebuilding it from SQL when Redis lost it."""
    snap = await engine.read(auction.id)
    if snap is None:
        await load_round(session, engine=engine, auction=auction)
        snap = await engine.read(auction.id)
    assert snap is not None
    return snap


# Rows examined per request at most when a status filter skips many: the page may then be
# short, and its cursor goes on from the last row examined.
MAX_SCANNED = 2_000

# The SQL statuses an auction can have while its live status is the key (a round past due
# reads closed before the closer has written it).
_SQL_STATUSES = {
    AuctionStatus.scheduled: (AuctionStatus.scheduled, AuctionStatus.open),
    AuctionStatus.open: (AuctionStatus.scheduled, AuctionStatus.open),
    AuctionStatus.closed: (AuctionStatus.scheduled, AuctionStatus.open, AuctionStatus.closed),
    AuctionStatus.cancelled: (AuctionStatus.cancelled,),
}


async def list_auctions(
    session: AsyncSession, *, engine: Engine, principal: Principal | None, page: PageParams,
    listing_id: int | None, status: AuctionStatus | None,
) -> tuple[list[AuctionOut], str | None]:
    """A page of auctions as the caller sees them, newest first, filtered by live status."""
    stmt = select(Auction)
    if listing_id is not None:
        stmt = stmt.where(Auction.listing_id == listing_id)
    if status is not None:
        stmt = stmt.where(Auction.status.in_(_SQL_STATUSES[status]))
    items: list[AuctionOut] = []
    after, scanned = page.after_id, 0
    while True:
        rows, more = await fetch_page(session, stmt, id_column=Auction.id,
                                      page=replace(page, after_id=after))
        for auction in rows:
            scanned, after = scanned + 1, auction.id
            view = await describe(session, engine=engine, auction=auction, principal=principal)
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
    status = _status(auction, snap)
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
    )


def _round_out(r: AuctionRound) -> RoundOut:
    p = r.params or {}
    return RoundOut(
        round_index=r.round_index, kind=r.kind, starts_at=r.starts_at, ends_at=r.ends_at,
        closed_at=r.closed_at, final_ends_at=r.final_ends_at,
        step=from_minor(p["step"]) if p.get("step") else None, interval_ms=p.get("interval_ms"),
        floor=from_minor(p["floor"]) if p.get("floor") else None, advance=p.get("advance"),
    )


def _status(auction: Auction, snap: Snapshot) -> AuctionStatus:
    if auction.status in (AuctionStatus.cancelled, AuctionStatus.closed):
        return auction.status
    status = snap.status
    if (status == "closed" and not snap.final) or (status == "scheduled" and snap.round_index):
        return AuctionStatus.open  # between rounds: the auction is under way
    return AuctionStatus(status)


async def result(session: AsyncSession, *, auction: Auction) -> AuctionResult:
    """The recorded outcome; 409 until the closer has finalised the auction."""
    if auction.status is not AuctionStatus.closed or auction.outcome is None:
        raise Conflict("The auction has not been closed yet.", code="auction_not_closed")
    paddle = None
    if auction.winning_registration_id is not None:
        paddle = await session.scalar(
            select(Registration.paddle).where(Registration.id == auction.winning_registration_id)
        )
    return AuctionResult(
        auction_id=auction.id, outcome=auction.outcome, winning_paddle=paddle,
        hammer_price=auction.hammer_price, closed_at=auction.closed_at,
        settlement_id=await settlements.current_settlement_id(session, auction_id=auction.id),
    )
