"""Placing bids (one Lua call, then the durable trail) and reading the trail."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import BidAccepted, BidResult, Engine, fingerprint_of
from app.auctions.journal import record_bid
from app.auctions.models import Auction, Bid
from app.auctions.schemas import BidOut
from app.auctions.service import get_auction, load_round, to_minor
from app.errors import Conflict
from app.pagination import PageParams, fetch_page
from app.schemas import format_money
from app.security import Principal

# Codes whose cause may be a Redis that lost the auction: rebuild from SQL and decide again.
_MAYBE_UNLOADED = {"not_qualified", "auction_not_open"}

_MESSAGES = {
    "bid_too_low": "The bid is below the minimum next bid.",
    "auction_closed": "The auction is closed.",
    "auction_not_open": "The auction has not opened yet.",
    "not_qualified": "Your organization is not qualified to bid in this auction.",
    "already_leading": "You are already the leading bidder.",
    "idempotency_key_reused": "This Idempotency-Key was used with another request body.",
}


async def place_bid(
    session: AsyncSession, *, engine: Engine, principal: Principal, auction_id: int,
    amount, idempotency_key: str | None,
) -> Bid:
    """Decide the bid in Redis; an accepted bid is recorded in the trail before we answer."""
    fingerprint = fingerprint_of({"amount": format_money(amount)})
    result = await _decide(
        engine, auction_id, principal, to_minor(amount), idempotency_key, fingerprint
    )
    if not result.ok and result.code in _MAYBE_UNLOADED and await engine.read(auction_id) is None:
        auction = await get_auction(session, auction_id=auction_id)
        await load_round(session, engine=engine, auction=auction)
        result = await _decide(
            engine, auction_id, principal, to_minor(amount), idempotency_key, fingerprint
        )
    if not result.ok:
        raise Conflict(_MESSAGES.get(result.code, result.code), code=result.code)
    assert isinstance(result, BidAccepted)
    return await record_bid(
        session, auction_id=auction_id, round_index=0, accepted=result,
        organization_id=principal.organization_id, placed_by_id=principal.user_id,
        idempotency_key=idempotency_key,
    )


async def _decide(engine, auction_id, principal, amount, key, fingerprint) -> BidResult:
    return await engine.place_bid(
        auction_id, bidder_id=principal.organization_id, amount=amount,
        idempotency_key=key, fingerprint=fingerprint,
    )


async def list_bids(
    session: AsyncSession, *, auction: Auction, page: PageParams
) -> tuple[list[Bid], str | None]:
    """A page of the auction's accepted bids, newest first."""
    stmt = select(Bid).where(Bid.auction_id == auction.id)
    return await fetch_page(session, stmt, id_column=Bid.id, page=page)


def bid_out(bid: Bid, principal: Principal | None) -> BidOut:
    """A bid as the caller may see it: paddles only, except to admin and auditor."""
    out = BidOut.model_validate(bid)
    if principal is None or not principal.is_staff_reader:
        out.organization_id = None
    return out
