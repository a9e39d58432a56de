"""Placing bids (one Lua call, then the durable trail) and reading the trail."""

import asyncio
import time
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.domain.rules import KINDS, SEALED_KINDS
from app.auctions.engine import BidAccepted, BidRejected, BidResult, Engine, PlacedBid
from app.auctions.models import Auction, AuctionRound, Bid, BidChannel
from app.auctions.schemas import BidOut
from app.auctions.service import get_auction
from app.auctions.trail.journal import BidEntry, Journal
from app.auctions.trail.rebuild import load_round
from app.errors import REDIS_UNREACHABLE, Conflict, Unprocessable, unavailable
from app.metrics import BID_DECISION
from app.money import from_minor, to_minor
from app.pagination import PageParams, fetch_page
from app.schemas import ms_to_datetime
from app.security import Principal

_MESSAGES = {
    "bid_too_low": "The bid is below the minimum next bid.",
    "auction_closed": "The auction is closed.",
    "auction_not_open": "The auction has not opened yet.",
    "session_paused": "The session is paused: bids are taken again once it resumes.",
    "not_qualified": "Your organization is not qualified to bid in this auction.",
    "already_leading": "You are already the leading bidder.",
    "idempotency_key_reused": "This Idempotency-Key was used with another request body.",
}


async def place_bid(
    *, engine: Engine, journal: Journal, sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal, auction_id: int, amount: Decimal | None, idempotency_key: str | None,
    max_amount: Decimal | None = None, channel: BidChannel = BidChannel.online,
    bidder_id: int | None = None,
) -> BidOut:
    """Decide the bid in Redis; every bid it placed is in the SQL trail before we answer.

    A floor bid: the clerk (principal) bids for bidder_id, the organization of the paddle."""
    bidder = principal.organization_id if bidder_id is None else bidder_id
    clerk = principal.user_id if channel is BidChannel.floor else None
    args = (engine, auction_id, bidder, amount, max_amount, idempotency_key, channel, clerk)
    result = await _decide(*args)
    if not result.ok and result.unloaded:
        # Redis lost the round (or never had it): rebuild it from SQL and decide again. Another
        # request may have rebuilt it meanwhile; load_round leaves a loaded round alone.
        async with sessionmaker() as session:
            auction = await get_auction(session, auction_id=auction_id)
            await load_round(session, engine=engine, auction=auction)
        result = await _decide(*args)
    if not result.ok and idempotency_key is not None:
        # Redis may have lost the key (restart, FLUSHALL): the durable trail still knows it.
        replay = await _replay_from_trail(
            sessionmaker, auction_id=auction_id, principal=principal, bidder_id=bidder,
            amount=amount, max_amount=max_amount, idempotency_key=idempotency_key, channel=channel,
        )
        if replay is not None:
            return replay
    if not result.ok:
        raise Conflict(_MESSAGES.get(result.code, result.code), code=result.code,
                       extensions=_refusal_extras(result))
    assert isinstance(result, BidAccepted)
    entries = trail_entries(result, auction_id=auction_id, bidder=bidder, channel=channel,
                            placed_by=principal.user_id, clerk=clerk,
                            idempotency_key=idempotency_key)
    if len(entries) == 1:  # the usual case, without gather's task per awaitable
        ids = [await journal.record(entries[0])]
    else:
        ids = await asyncio.gather(*(journal.record(e) for e in entries))
    mine = next(i for i, e in enumerate(entries) if e.sequence == result.seq)
    entry = entries[mine]
    # Every value is already typed and checked (the engine's decision): nothing to validate.
    return BidOut.model_construct(
        id=0 if result.sealed else ids[mine], sequence=0 if result.sealed else entry.sequence,
        round_index=entry.round_index, amount=entry.amount, paddle=entry.paddle,
        placed_at=entry.placed_at, ends_at=entry.ends_at, channel=BidChannel(entry.channel),
        clerk_id=entry.clerk_id,
    )


def trail_entries(
    result: BidAccepted, *, auction_id: int, bidder: int, channel: BidChannel,
    placed_by: int | None, clerk: int | None, idempotency_key: str | None,
) -> list[BidEntry]:
    """The trail rows of every bid an accepted request placed (its own, and a proxy's)."""
    placed = result.placed or (PlacedBid(str(bidder), result.paddle, result.seq, result.amount,
                                         result.ends_at_ms, result.extended, result.event_id,
                                         False, channel.value),)
    leading = placed[-1].seq
    return [
        BidEntry(
            auction_id=auction_id, round_index=result.round_index, sequence=p.seq,
            organization_id=int(p.bidder), paddle=p.paddle, amount=from_minor(p.amount),
            placed_at=ms_to_datetime(result.placed_at_ms), ends_at=ms_to_datetime(p.ends_at_ms),
            # a proxy's automatic bid belongs to the other bidder, placed by nobody's request
            placed_by_id=placed_by if p.seq == result.seq else None,
            idempotency_key=idempotency_key if p.seq == result.seq else None,
            event_id=p.event_id,
            # the leader's secret maximum, so a round rebuilt from SQL goes on bidding for him
            proxy_max=from_minor(result.proxy_max) if p.seq == leading and result.proxy_max
            else None,
            channel=p.channel, clerk_id=clerk if p.seq == result.seq else None,
        )
        for p in placed
    ]


async def _replay_from_trail(
    sessionmaker: async_sessionmaker[AsyncSession], *, auction_id: int, principal: Principal,
    bidder_id: int, amount: Decimal | None, max_amount: Decimal | None, idempotency_key: str,
    channel: BidChannel = BidChannel.online,
) -> BidOut | None:
    """The first answer to this key if its bid is in SQL; 409 if the key came with another body.

    The trail keeps the amount placed, not the request: a proxy or dutch request matches
    when its bid lies within what it allowed (max_amount, the dutch cap)."""
    async with sessionmaker() as session:
        bid = await session.scalar(
            select(Bid).where(
                Bid.auction_id == auction_id, Bid.organization_id == bidder_id,
                Bid.idempotency_key == idempotency_key,
            )
        )
        kind = None if bid is None else await session.scalar(
            select(AuctionRound.kind).where(AuctionRound.auction_id == auction_id,
                                            AuctionRound.round_index == bid.round_index)
        )
    if bid is None:
        return None
    if max_amount is not None:
        matches = bid.amount <= max_amount and (amount is None or bid.amount >= amount)
    elif kind in KINDS and KINDS[kind].amount_is_cap:
        matches = amount is None or bid.amount <= amount
    else:
        matches = bid.amount == amount
    if not matches or bid.channel != channel:  # the clerk's key is not the bidder's own
        code = "idempotency_key_reused"
        raise Conflict(_MESSAGES[code], code=code)
    out = bid_out(bid, principal)
    if kind in SEALED_KINDS:
        out.id = out.sequence = 0
    return out


def _refusal_extras(result: BidRejected) -> dict[str, str]:
    """bid_too_low in an open english or dutch round: the lowest next bid at the instant of the
    refusal, decided with it in Redis (so a keyed retry gets the same answer)."""
    if result.minimum_next is None:
        return {}
    return {"minimum_next_bid": str(from_minor(result.minimum_next))}


async def _decide(engine, auction_id, bidder, amount, max_amount, key, channel, clerk) -> BidResult:
    # The engine fingerprints a keyed request itself (from the minor units, which say
    # exactly what the decimal body said), to tell a retry from a reuse of the key.
    started = time.perf_counter()
    try:
        result = await engine.place_bid(
            auction_id, bidder_id=bidder,
            amount=None if amount is None else to_minor(amount),
            max_amount=None if max_amount is None else to_minor(max_amount),
            idempotency_key=key, channel=channel.value, clerk_id=clerk,
        )
    except ValueError as exc:  # a request this round's kind cannot take
        raise Unprocessable(str(exc), code="invalid_bid") from exc
    except REDIS_UNREACHABLE as exc:
        # 503, deliberately. Which case applies depends on where the connection failed: on
        # connecting, nothing was sent and the bid was NOT placed; lost after the EVALSHA was
        # written (or no reply in time), Redis MAY have placed it. Either way nothing reached
        # the trail (we record only a decision we read), and the client's retry with the same
        # Idempotency-Key is safe: a Redis that kept the bid replays its first decision from
        # the key (the trail then records it once: ON CONFLICT), one that lost it (restarted
        # empty, so the round is rebuilt from SQL) decides it afresh. Without a key a retry is
        # a new bid (an english leader's is refused: already_leading).
        raise unavailable("The bid could not reach the auction engine; it may not have been "
                          "placed. Retry with the same Idempotency-Key.") from exc
    BID_DECISION.labels(result.code).observe(time.perf_counter() - started)
    return result


async def list_bids(
    session: AsyncSession, *, auction: Auction, page: PageParams, staff: bool = False
) -> tuple[list[Bid], str | None]:
    """A page of the auction's accepted bids, newest first; bids of a sealed round stay
    hidden from all but admin and auditor until the round is closed."""
    stmt = select(Bid).where(Bid.auction_id == auction.id)
    if not staff:
        hidden = select(AuctionRound.round_index).where(
            AuctionRound.auction_id == auction.id, AuctionRound.kind.in_(SEALED_KINDS),
            AuctionRound.closed_at.is_(None),
        )
        stmt = stmt.where(Bid.round_index.not_in(hidden))
    return await fetch_page(session, stmt, id_column=Bid.id, page=page)


def bid_out(bid: Bid, principal: Principal | None) -> BidOut:
    """A bid as the caller may see it: paddles only, except to admin and auditor."""
    out = BidOut.model_validate(bid)
    if principal is None or not principal.is_staff_reader:
        out.organization_id = out.clerk_id = None
    return out
