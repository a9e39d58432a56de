"""Floor bids: the clerk enters the bid of a paddle raised in the room. Same rules, same
atomic Lua path, same durable trail as an online bid; the trail tells channel `floor` and
the clerk."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions import bidding
from app.auctions.engine import Engine
from app.auctions.models import BidChannel, Registration, RegistrationStatus
from app.auctions.schemas import BidOut
from app.auctions.service import get_auction
from app.auctions.trail.journal import Journal
from app.errors import Conflict, NotFound
from app.security import Principal


async def paddle_owner(session: AsyncSession, *, auction_id: int, paddle: str) -> int:
    """The organization qualified in the auction under paddle (a session lot's registration
    carries the session's paddle); 409 unknown_paddle otherwise."""
    organization_id = await session.scalar(select(Registration.organization_id).where(
        Registration.auction_id == auction_id, Registration.paddle == paddle,
        Registration.status == RegistrationStatus.qualified))
    if organization_id is None:
        raise Conflict(f"Paddle {paddle} is not qualified in this auction.", code="unknown_paddle")
    return organization_id


async def place_floor_bid(
    *, engine: Engine, journal: Journal, sessionmaker: async_sessionmaker[AsyncSession],
    clerk: Principal, auction_id: int, paddle: str, amount: Decimal, idempotency_key: str | None,
    session_id: int | None = None,
) -> BidOut:
    """Place the bid of a paddle in the room, entered by the clerk (admin); with session_id
    (the clerk desk), 404 unless the auction is a lot of that session."""
    async with sessionmaker() as session:
        auction = await get_auction(session, auction_id=auction_id)  # 404 for an unknown one
        if session_id is not None and auction.session_id != session_id:
            raise NotFound("No such lot in this session.")
        bidder_id = await paddle_owner(session, auction_id=auction_id, paddle=paddle)
    return await bidding.place_bid(
        engine=engine, journal=journal, sessionmaker=sessionmaker, principal=clerk,
        auction_id=auction_id, amount=amount, idempotency_key=idempotency_key,
        channel=BidChannel.floor, bidder_id=bidder_id,
    )
