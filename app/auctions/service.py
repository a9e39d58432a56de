"""Auctions: creation from an approved listing, reading with live state, loading rounds."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import rules
from app.auctions.engine import Engine, Snapshot
from app.auctions.models import Auction, AuctionRound, AuctionStatus, Bid, Registration, RegistrationStatus
from app.auctions.schemas import AntiSnipingOut, AuctionCreate, AuctionOut, AuctionResult, RoundOut
from app.audit import ledger
from app.db import after_commit
from app.errors import Conflict, NotFound, Unprocessable
from app.listings.models import Listing, ListingStatus
from app.listings.service import can_see_reserve
from app.pagination import PageParams, fetch_page
from app.schemas import datetime_to_ms, ms_to_datetime
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
    _check_rounds(data, now_ms=await engine.server_time_ms())
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
                     ends_at=r.ends_at, params={})
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


def _check_rounds(data: AuctionCreate, *, now_ms: int) -> None:
    for r in data.rounds:
        if r.kind not in rules.SUPPORTED_KINDS:
            raise Unprocessable(f"Round kind {r.kind} is not available yet.", code="unsupported_round_kind")
    if len(data.rounds) > 1:
        raise Unprocessable("Several rounds are not available yet.", code="unsupported_round_kind")
    if datetime_to_ms(data.rounds[-1].ends_at) <= now_ms:
        raise Unprocessable("The last round must end in the future.", code="round_in_past")


def round_spec(auction: Auction, round_: AuctionRound) -> rules.RoundSpec:
    """The engine's view of one configured round."""
    return rules.RoundSpec(
        kind=round_.kind, starts_at_ms=datetime_to_ms(round_.starts_at),
        ends_at_ms=datetime_to_ms(round_.ends_at),
        starting_price=to_minor(auction.starting_price), increment=to_minor(auction.bid_increment),
        window_ms=auction.window_seconds * 1000, extension_ms=auction.extension_seconds * 1000,
        hard_close_ms=datetime_to_ms(auction.hard_close_at) if auction.hard_close_at else None,
        reserve=to_minor(auction.reserve_price) if auction.reserve_price is not None else None,
    )


async def load_round(session: AsyncSession, *, engine: Engine, auction: Auction) -> None:
    """Put the auction's round and qualified bidders into Redis, rebuilt from SQL (idempotent)."""
    round_ = await session.scalar(
        select(AuctionRound).where(AuctionRound.auction_id == auction.id)
        .order_by(AuctionRound.round_index.desc()).limit(1)
    )
    qualified = await session.execute(
        select(Registration.organization_id, Registration.paddle).where(
            Registration.auction_id == auction.id,
            Registration.status == RegistrationStatus.qualified,
        )
    )
    for organization_id, paddle in qualified:
        await engine.qualify(auction.id, organization_id, paddle)
    last = await session.scalar(
        select(Bid).where(Bid.auction_id == auction.id).order_by(Bid.sequence.desc()).limit(1)
    )
    spec = round_spec(auction, round_)
    restore, leader_paddle = None, None
    if last is not None:
        count = await session.scalar(select(func.count()).where(Bid.auction_id == auction.id))
        restore = rules.RoundState(
            ends_at_ms=max(datetime_to_ms(last.ends_at), spec.ends_at_ms),
            current_price=to_minor(last.amount), leader=str(last.organization_id),
            bid_count=count or 0, seq=last.sequence,
        )
        leader_paddle = last.paddle
    await engine.open_round(
        auction.id, spec, round_.round_index, final=True, restore=restore,
        leader_paddle=leader_paddle,
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


async def list_auctions(
    session: AsyncSession, *, page: PageParams, listing_id: int | None
) -> tuple[list[Auction], str | None]:
    """A page of auctions, newest first."""
    stmt = select(Auction)
    if listing_id is not None:
        stmt = stmt.where(Auction.listing_id == listing_id)
    return await fetch_page(session, stmt, id_column=Auction.id, page=page)


async def describe(
    session: AsyncSession, *, engine: Engine, auction: Auction, principal: Principal | None
) -> AuctionOut:
    """The auction as the caller may see it, with its live state at the Redis server time."""
    listing = await session.get(Listing, auction.listing_id)
    rounds = (await session.scalars(
        select(AuctionRound).where(AuctionRound.auction_id == auction.id)
        .order_by(AuctionRound.round_index)
    )).all()
    snap = await snapshot(session, engine=engine, auction=auction)
    status = _status(auction, snap)
    live = status is AuctionStatus.open
    price = snap.state.current_price
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
        rounds=[RoundOut.model_validate(r) for r in rounds],
        current_round=snap.round_index, current_round_kind=snap.spec.kind,
        current_price=from_minor(price) if price is not None else None,
        minimum_next_bid=from_minor(rules.minimum_next_bid(snap.spec, snap.state)) if live else None,
        leading_paddle=snap.leader_paddle,
        starts_at=ms_to_datetime(snap.spec.starts_at_ms), ends_at=ms_to_datetime(snap.state.ends_at_ms),
        bid_count=snap.state.bid_count, outcome=auction.outcome,
        server_time=ms_to_datetime(snap.now_ms), created_at=auction.created_at,
    )


def _status(auction: Auction, snap: Snapshot) -> AuctionStatus:
    if auction.status in (AuctionStatus.cancelled, AuctionStatus.closed):
        return auction.status
    return AuctionStatus(snap.status)


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
