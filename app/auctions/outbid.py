"""Outbid notices, derived by the worker from each open auction's public event stream.

Not one per bid: a pass reads the bids since its cursor, and every paddle that led at some
point of them (or led before them) and does not lead after them is told once. The notice's
key is the sequence of the bid that took the lead from him the last time, so a pass redone
after a crash (the cursor lives in Redis and moves only after the SQL commit) writes
nothing twice. Sealed bids never reach the public stream, so they tell nobody anything."""

import asyncio
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine, Event
from app.auctions.models import Auction, AuctionStatus, Registration
from app.auctions.notices import lot_facts
from app.money import from_minor
from app.notifications.outbox import enqueue

log = structlog.get_logger()
READ_BATCH = 1000
AUCTIONS_PER_PASS = 500
KEEP_SECONDS = 7 * 24 * 3600  # a closed auction's cursor is dropped a week after its last bid


@dataclass(frozen=True)
class Standing:
    """Where a pass left an auction: the last entry read, the round, its leading paddle."""

    cursor: str | None = None
    round: str = ""
    leader: str | None = None


@dataclass(frozen=True)
class Outbid:
    paddle: str
    by_seq: int  # the bid that took the lead from him
    leader: str
    amount: int


def outbid_in(standing: Standing, events: list[Event]) -> tuple[Standing, list[Outbid]]:
    """The standing after these events and who lost the lead over them (once each)."""
    leader, rnd = standing.leader, standing.round
    lost: dict[str, int] = {}  # paddle -> seq of the bid that last took the lead from him
    last_bid: Event | None = None
    for event in events:
        if event.type != "bid":
            continue
        if event.fields.get("round", "") != rnd:
            leader, rnd = None, event.fields.get("round", "")  # a new round: no standing yet
        paddle = event.fields["paddle"]
        if leader is not None and paddle != leader:
            lost[leader] = int(event.fields["seq"])
        lost.pop(paddle, None)
        leader, last_bid = paddle, event
    cursor = events[-1].id if events else standing.cursor
    told = [Outbid(p, seq, leader, int(last_bid.fields["amount"]))
            for p, seq in sorted(lost.items()) if p != leader and last_bid is not None]
    return Standing(cursor, rnd, leader), told


def _key(engine: Engine, auction_id: int) -> str:
    return f"{engine.prefix}:{{auction:{auction_id}}}:outbid"


async def _load(engine: Engine, auction_id: int) -> Standing:
    raw = await engine.redis.hgetall(_key(engine, auction_id))
    h = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
         for k, v in raw.items()}
    return Standing(h.get("cursor") or None, h.get("round", ""), h.get("leader") or None)


async def _save(engine: Engine, auction_id: int, standing: Standing) -> None:
    key = _key(engine, auction_id)
    await engine.redis.hset(key, mapping={
        "cursor": standing.cursor or "", "round": standing.round, "leader": standing.leader or ""})
    await engine.redis.expire(key, KEEP_SECONDS)


async def _tell(session: AsyncSession, auction_id: int, told: list[Outbid]) -> None:
    owners = dict((await session.execute(select(Registration.paddle, Registration.organization_id)
                                         .where(Registration.auction_id == auction_id,
                                                Registration.paddle.in_([o.paddle for o in told])))).all())
    facts = await lot_facts(session, auction_id)
    for o in told:
        if o.paddle in owners:
            await enqueue(session, event_type="bid.outbid", organization_id=owners[o.paddle],
                          auction_id=auction_id, dedup_key=f"bid.outbid:{auction_id}:{o.paddle}:{o.by_seq}",
                          payload={"title": facts["title"], "currency": facts["currency"],
                                   "paddle": o.paddle, "leading_paddle": o.leader,
                                   "amount": str(from_minor(o.amount)), "sequence": o.by_seq})


async def notify_auction(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession],
                         auction_id: int) -> int:
    """One auction's pass; how many were told they were outbid."""
    standing = await _load(engine, auction_id)
    events = await engine.events_since(auction_id, standing.cursor, count=READ_BATCH)
    if not events:
        return 0
    after, told = outbid_in(standing, events)
    if told:
        async with sessionmaker() as session:
            await _tell(session, auction_id, told)
            await session.commit()
    await _save(engine, auction_id, after)  # only now: a crash before this redoes the pass
    return len(told)


async def notify_outbid(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """A pass over every auction not yet closed; how many notices were written."""
    async with sessionmaker() as session:
        ids = (await session.scalars(select(Auction.id).where(
            Auction.status.in_([AuctionStatus.scheduled, AuctionStatus.open]))
            .order_by(Auction.id).limit(AUCTIONS_PER_PASS))).all()
    return sum([await notify_auction(engine, sessionmaker, auction_id) for auction_id in ids])


async def run_outbid(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], *,
                     stop: asyncio.Event, interval: float = 0.5) -> None:
    """Passes every interval seconds until stop is set."""
    while not stop.is_set():
        try:
            await notify_outbid(engine, sessionmaker)
        except Exception:
            log.exception("outbid_pass_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
