"""Placing bids (one Lua call, then the durable trail) and reading the trail."""

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import BidAccepted, BidResult, Engine, fingerprint_of
from app.auctions.journal import BidEntry, Journal
from app.auctions.models import Auction, Bid
from app.auctions.schemas import BidOut
from app.auctions.service import from_minor, get_auction, load_round, to_minor
from app.errors import Conflict
from app.pagination import PageParams, fetch_page
from app.schemas import format_money, ms_to_datetime
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
    *, engine: Engine, journal: Journal, sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal, auction_id: int, amount: Decimal, idempotency_key: str | None,
) -> BidOut:
    """Decide the bid in Redis; an accepted bid is in the SQL trail before we answer."""
    fingerprint = fingerprint_of({"amount": format_money(amount)})
    args = (engine, auction_id, principal, to_minor(amount), idempotency_key, fingerprint)
    result = await _decide(*args)
    if not result.ok and result.code in _MAYBE_UNLOADED and await engine.read(auction_id) is None:
        async with sessionmaker() as session:
            auction = await get_auction(session, auction_id=auction_id)
            await load_round(session, engine=engine, auction=auction)
        result = await _decide(*args)
    if not result.ok and idempotency_key is not None:
        # Redis may have lost the key (restart, FLUSHALL): the durable trail still knows it.
        replay = await _replay_from_trail(
            sessionmaker, auction_id=auction_id, principal=principal, amount=amount,
            idempotency_key=idempotency_key,
        )
        if replay is not None:
            return replay
    if not result.ok:
        raise Conflict(_MESSAGES.get(result.code, result.code), code=result.code)
    assert isinstance(result, BidAccepted)
    entry = BidEntry(
        auction_id=auction_id, round_index=0, sequence=result.seq,
        organization_id=principal.organization_id, paddle=result.paddle,
        amount=from_minor(result.amount), placed_at=ms_to_datetime(result.placed_at_ms),
        ends_at=ms_to_datetime(result.ends_at_ms), placed_by_id=principal.user_id,
        idempotency_key=idempotency_key, event_id=result.event_id,
    )
    bid_id = await journal.record(entry)
    return BidOut(
        id=bid_id, sequence=entry.sequence, round_index=entry.round_index, amount=entry.amount,
        paddle=entry.paddle, placed_at=entry.placed_at, ends_at=entry.ends_at,
    )


async def _replay_from_trail(
    sessionmaker: async_sessionmaker[AsyncSession], *, auction_id: int, principal: Principal,
    amount: Decimal, idempotency_key: str,
) -> BidOut | None:
    """The first answer to this key if its bid is in SQL; 409 if the key came with another body."""
    async with sessionmaker() as session:
        bid = await session.scalar(
            select(Bid).where(
                Bid.auction_id == auction_id, Bid.organization_id == principal.organization_id,
                Bid.idempotency_key == idempotency_key,
            )
        )
    if bid is None:
        return None
    if bid.amount != amount:
        code = "idempotency_key_reused"
        raise Conflict(_MESSAGES[code], code=code)
    return bid_out(bid, principal)


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
