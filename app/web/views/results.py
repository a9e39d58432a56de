"""Lot results for the consoles: an institute's lots, and an enterprise's won or lost auctions."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine.engine import Engine
from app.auctions.models import Auction, AuctionOutcome, AuctionStatus, Bid, Registration
from app.auctions.service import live_status
from app.listings.models import Listing
from app.pagination import PageParams, fetch_rows_page
from app.security import Principal, Role
from app.settlements.models import Settlement, SettlementStatus


@dataclass
class LotResult:
    auction_id: int
    title: str
    status: AuctionStatus
    currency: str
    outcome: AuctionOutcome | None = None
    hammer_price: Decimal | None = None
    winning_paddle: str | None = None
    closed_at: datetime | None = None
    reason: str | None = None  # unsold, to its owner: no_bids | reserve_not_met
    settlement_status: SettlementStatus | None = None
    mine: str | None = None  # to a bidder: won | lost | no_bid


async def lot_results(session: AsyncSession, principal: Principal, engine: Engine,
                      page: PageParams) -> tuple[list[LotResult], str | None]:
    """A page of the institute's auctions of its listings, or of the enterprise's auctions it
    qualified for, running ones at their live status (one Redis round trip); the next cursor."""
    stmt = select(Auction, Listing.title).join(Listing, Listing.id == Auction.listing_id)
    if principal.role is Role.institute:
        stmt = stmt.where(Listing.organization_id == principal.organization_id)
    elif principal.role is Role.enterprise:
        stmt = stmt.where(Auction.id.in_(select(Registration.auction_id).where(
            Registration.organization_id == principal.organization_id,
            Registration.paddle.is_not(None))))
    else:
        return [], None
    rows, cursor = await fetch_rows_page(session, stmt, id_column=Auction.id, page=page)
    closed = [a.id for a, _ in rows if a.status is AuctionStatus.closed]
    bids = await _bid_counts(session, closed, None)
    own = await _bid_counts(session, closed, principal.organization_id)
    paddles = await _paddles(session, [a.winning_registration_id for a, _ in rows])
    settled = await _settlements(session, closed)
    running = [a for a, _ in rows if a.status is AuctionStatus.scheduled]
    _, snaps = await engine.read_many([a.id for a in running])
    live = {a.id: live_status(a, snap) for a, snap in zip(running, snaps, strict=True) if snap}
    results = []
    for auction, title in rows:
        result = LotResult(auction.id, title, live.get(auction.id, auction.status), auction.currency)
        if auction.status is AuctionStatus.closed and auction.outcome is not None:
            latest = settled.get(auction.id, [])
            result.outcome, result.closed_at = auction.outcome, auction.closed_at
            result.hammer_price = auction.hammer_price
            result.winning_paddle = paddles.get(auction.winning_registration_id)
            result.settlement_status = latest[-1].status if latest else None
            if principal.role is Role.institute and auction.outcome is AuctionOutcome.unsold:
                # as the API's result says it (recorded at the close; older closes: the bids)
                result.reason = (auction.unsold_reason or
                                 ("reserve_not_met" if bids.get(auction.id) else "no_bids"))
            if principal.role is Role.enterprise:
                buyers = {s.buyer_organization_id for s in latest}
                result.mine = ("won" if principal.organization_id in buyers
                               else "lost" if own.get(auction.id) else "no_bid")
        results.append(result)
    return results, cursor


async def _bid_counts(session: AsyncSession, auction_ids: list[int], organization_id: int | None):
    if not auction_ids:
        return {}
    stmt = select(Bid.auction_id, func.count()).where(Bid.auction_id.in_(auction_ids))
    if organization_id is not None:
        stmt = stmt.where(Bid.organization_id == organization_id)
    return dict((await session.execute(stmt.group_by(Bid.auction_id))).all())


async def _paddles(session: AsyncSession, registration_ids: list[int | None]) -> dict[int, str]:
    ids = [i for i in registration_ids if i is not None]
    if not ids:
        return {}
    rows = await session.execute(select(Registration.id, Registration.paddle)
                                 .where(Registration.id.in_(ids)))
    return dict(rows.all())


async def _settlements(session: AsyncSession, auction_ids: list[int]) -> dict[int, list[Settlement]]:
    found: dict[int, list[Settlement]] = {}
    if auction_ids:
        rows = await session.scalars(select(Settlement).where(Settlement.auction_id.in_(auction_ids))
                                     .order_by(Settlement.auction_id, Settlement.attempt))
        for settlement in rows:
            found.setdefault(settlement.auction_id, []).append(settlement)
    return found
