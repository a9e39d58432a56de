"""The result of a closed auction: outcome, winning paddle, hammer price and its settlement."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, AuctionStatus, Registration
from app.auctions.schemas import AuctionResult
from app.errors import Conflict
from app.settlements import service as settlements


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
