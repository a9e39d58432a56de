"""Absentee bids: a qualified bidder's proxy maximum left before an english session lot opens
(202, stored in SQL, replaceable until the opening), applied when the lot opens by the worker
through the same Lua path as a proxy bid, earliest first (so of equal maxima the earlier leads),
each with a key of its own (a retried opening replays, never bids twice), channel absentee."""

from decimal import Decimal

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.bidding import trail_entries
from app.auctions.engine import BidAccepted, Engine
from app.auctions.models import (
    AbsenteeBid,
    Auction,
    AuctionRound,
    AuctionStatus,
    BidChannel,
    Registration,
    RegistrationStatus,
)
from app.auctions.schemas import AbsenteeOut
from app.auctions.service import get_auction
from app.auctions.trail.journal import BidEntry, write_bids
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.money import to_minor
from app.security import Principal

log = structlog.get_logger()
_NOT_YET = frozenset({"auction_not_open", "session_paused"})


class LotOpened(Exception):
    """The lot opened while the maximum was being left: bid it as a live proxy instead."""


async def _lock(session: AsyncSession, auction_id: int) -> None:
    # NO KEY UPDATE: leaving and applying take turns, while the trail's inserts (their
    # foreign key's KEY SHARE on the auction row) are not blocked.
    await session.execute(select(Auction.id).where(Auction.id == auction_id)
                          .with_for_update(key_share=True))


async def leave(
    *, engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], principal: Principal,
    auction_id: int, max_amount: Decimal, idempotency_key: str | None = None,
) -> AbsenteeOut:
    """Store (or replace) the bidder's absentee maximum on a lot not yet open; a retry with
    the request's Idempotency-Key gets the first answer, even after the opening."""
    async with sessionmaker() as session:
        auction = await get_auction(session, auction_id=auction_id)
        replay = await _replay(session, auction_id, principal, max_amount, idempotency_key)
        if replay is not None:
            return replay
        await _check_lot(session, auction)
        paddle = await session.scalar(select(Registration.paddle).where(
            Registration.auction_id == auction_id,
            Registration.organization_id == principal.organization_id,
            Registration.status == RegistrationStatus.qualified))
        if paddle is None:
            raise Conflict("Your organization is not qualified to bid in this auction.",
                           code="not_qualified")
        await _lock(session, auction_id)
        if await _opened(engine, auction_id):
            raise LotOpened
        row = await session.scalar(select(AbsenteeBid).where(
            AbsenteeBid.auction_id == auction_id,
            AbsenteeBid.organization_id == principal.organization_id))
        if row is None:
            row = AbsenteeBid(auction_id=auction_id, organization_id=principal.organization_id,
                              max_amount=max_amount, placed_by_id=principal.user_id)
            session.add(row)
        else:  # replaced: it ranks from now among equal maxima
            row.max_amount, row.placed_by_id, row.left_at = max_amount, principal.user_id, utcnow()
        row.idempotency_key = idempotency_key
        await session.flush()
        out = _out(row, paddle)
        await session.commit()
    return out


async def replayed(
    *, sessionmaker: async_sessionmaker[AsyncSession], principal: Principal, auction_id: int,
    max_amount: Decimal, idempotency_key: str,
) -> AbsenteeOut | None:
    """The first answer to a keyed maximum left as an absentee bid, if it was one."""
    async with sessionmaker() as session:
        return await _replay(session, auction_id, principal, max_amount, idempotency_key)


def _out(row: AbsenteeBid, paddle: str) -> AbsenteeOut:
    return AbsenteeOut(auction_id=row.auction_id, paddle=paddle, max_amount=row.max_amount,
                       left_at=row.left_at)


async def _replay(session: AsyncSession, auction_id: int, principal: Principal,
                  max_amount: Decimal, key: str | None) -> AbsenteeOut | None:
    """The first answer to a keyed request already stored; 409 if the key came with another
    maximum; None for a new request."""
    if key is None:
        return None
    row = await session.scalar(select(AbsenteeBid).where(
        AbsenteeBid.auction_id == auction_id,
        AbsenteeBid.organization_id == principal.organization_id,
        AbsenteeBid.idempotency_key == key))
    if row is None:
        return None
    if row.max_amount != max_amount:
        raise Conflict("This Idempotency-Key was used with another request body.",
                       code="idempotency_key_reused")
    paddle = await session.scalar(select(Registration.paddle).where(
        Registration.auction_id == auction_id,
        Registration.organization_id == principal.organization_id))
    return _out(row, paddle)


async def _check_lot(session: AsyncSession, auction: Auction) -> None:
    if auction.status is AuctionStatus.cancelled or auction.closed_at is not None:
        raise Conflict("The auction is closed.", code="auction_closed")
    if auction.session_id is None:  # a standalone auction has no opening to apply it at
        raise Conflict("The auction has not opened yet.", code="auction_not_open")
    kind = await session.scalar(select(AuctionRound.kind).where(
        AuctionRound.auction_id == auction.id, AuctionRound.round_index == 0))
    if kind != "english":
        raise Unprocessable("An absentee maximum is taken only by a lot opening with an "
                            "english round.", code="invalid_bid")


async def _opened(engine: Engine, auction_id: int) -> bool:
    snap = await engine.read(auction_id)
    return snap is not None and (snap.round_index > 0 or snap.now_ms >= snap.spec.starts_at_ms)


async def apply_opening(
    *, engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], auction_id: int,
) -> int:
    """Bid the lot's absentee maxima now it is open (idempotent); how many are still to apply
    (the lot paused or not open yet on the Redis clock: the caller tries again later)."""
    async with sessionmaker() as session:
        pending = select(AbsenteeBid.id).where(AbsenteeBid.auction_id == auction_id,
                                               AbsenteeBid.applied_at.is_(None)).limit(1)
        if await session.scalar(pending) is None:  # most lots: no lock taken, nothing to do
            return 0
        await _lock(session, auction_id)
        rows = (await session.scalars(select(AbsenteeBid).where(
            AbsenteeBid.auction_id == auction_id, AbsenteeBid.applied_at.is_(None))
            .order_by(AbsenteeBid.left_at, AbsenteeBid.id))).all()
        entries: list[BidEntry] = []
        waiting = 0
        for row in rows:
            key = f"absentee-{row.id}"
            result = await engine.place_bid(auction_id, bidder_id=row.organization_id,
                                            max_amount=to_minor(row.max_amount),
                                            idempotency_key=key, channel=BidChannel.absentee.value)
            if isinstance(result, BidAccepted):
                entries += trail_entries(result, auction_id=auction_id, bidder=row.organization_id,
                                         channel=BidChannel.absentee, placed_by=row.placed_by_id,
                                         clerk=None, idempotency_key=key)
            elif result.code in _NOT_YET:
                waiting += 1
                continue
            else:  # below the starting price, or the lot closed: it bids nothing
                log.info("absentee_bid_refused", auction_id=auction_id, code=result.code)
            row.applied_at = utcnow()
        if entries:  # durable before the rows say applied (a retry replays the same bids)
            async with sessionmaker.kw["bind"].connect() as conn:
                await write_bids(conn, entries)
        await session.commit()
    return waiting
