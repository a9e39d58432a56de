"""The result of a closed auction: outcome, winning paddle, hammer price and its settlement."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, AuctionStatus, Registration
from app.auctions.schemas import AuctionResult
from app.errors import Conflict
from app.listings.models import Listing
from app.security import Principal, Role
from app.settlements import service as settlements


async def result(
    session: AsyncSession, *, auction: Auction, viewer: Principal | None = None
) -> AuctionResult:
    """The recorded outcome; 409 until the closer has finalised the auction. Why an unsold
    auction did not sell is told to admin, auditor and the listing's institute only."""
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
        unsold_reason=auction.unsold_reason if await _told_why(session, auction, viewer) else None,
    )


async def _told_why(session: AsyncSession, auction: Auction, viewer: Principal | None) -> bool:
    if viewer is None or auction.unsold_reason is None:
        return False
    if viewer.role in (Role.admin, Role.auditor):
        return True
    if viewer.role is not Role.institute:
        return False
    owner = await session.scalar(select(Listing.organization_id).where(Listing.id == auction.listing_id))
    return owner is not None and owner == viewer.organization_id
