"""Rebuilding a round in Redis from SQL: the configured round as the engine's spec, and the
current round's state from the durable trail (after a Redis restart, a lost key, a next round)."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.domain import rules
from app.auctions.engine import Engine
from app.auctions.models import (
    Auction,
    AuctionRound,
    AuctionStatus,
    Bid,
    Registration,
    RegistrationStatus,
)
from app.money import to_minor
from app.schemas import datetime_to_ms


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


def _trail_bid(bid: Bid) -> rules.TrailBid:
    """A bid of the SQL trail as the kinds restore rounds from it (minor units, ms)."""
    return rules.TrailBid(
        str(bid.organization_id), to_minor(bid.amount), bid.sequence, datetime_to_ms(bid.placed_at),
        datetime_to_ms(bid.ends_at), bid.paddle,
        None if bid.proxy_max is None else to_minor(bid.proxy_max),
    )


async def auction_rounds(session: AsyncSession, auction_id: int) -> list[AuctionRound]:
    """The auction's rounds in order."""
    return list((await session.scalars(
        select(AuctionRound).where(AuctionRound.auction_id == auction_id)
        .order_by(AuctionRound.round_index)
    )).all())


async def load_round(session: AsyncSession, *, engine: Engine, auction: Auction) -> None:
    """Put the auction's current round (the first not closed in SQL) and its qualified
    bidders into Redis, rebuilt from the SQL trail (idempotent). A session's lot held out of
    the engine, or a cancelled auction, is left out."""
    if auction.lot_hold is not None or auction.status is AuctionStatus.cancelled:
        return
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
        restored = rules.kind_of(spec.kind).restore(spec, [_trail_bid(b) for b in trail], top)
        spec, restore, leader_paddle = restored.spec, restored.state, restored.leader_paddle
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
        proxy_channel=trail[-1].channel.value if trail else None,
    )
