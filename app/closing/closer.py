"""Closes due rounds on time: deadlines from Redis, re-checked inside the close script,
finalised in SQL exactly once however many closers race."""

import asyncio

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions import notices
from app.auctions.domain.registry import kind_of
from app.auctions.engine import CloseResult, Engine
from app.auctions.models import (
    Auction,
    AuctionOutcome,
    AuctionRound,
    AuctionStatus,
    Bid,
    Registration,
    UnsoldReason,
)
from app.auctions.trail.rebuild import auction_rounds, load_round, round_spec
from app.audit import ledger
from app.db import commit
from app.errors import REDIS_UNREACHABLE
from app.listings.models import Listing, ListingStatus
from app.money import from_minor
from app.schemas import ms_to_datetime
from app.sessions import control, lifecycle, openings
from app.settlements import service as settlements

log = structlog.get_logger()
POLL_SECONDS = 0.05
BATCH = 100
# Redis may come back empty (no persistence): look for lost rounds this often.
RELOAD_SECONDS = 2.0
RELOAD_BATCH = 1000
PAUSED_RETRY_MS = 1000  # a paused lot's deadline: checked again this much later
OUTAGE_MAX_PAUSE_SECONDS = 1.0  # the longest wait between tries while Redis is unreachable


async def close_due(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Try to close every auction whose recorded deadline has passed; how many were finalised."""
    now_ms = await engine.server_time_ms()
    finalised = 0
    for auction_id in await engine.due_auctions(now_ms, BATCH):
        finalised += await close_auction(engine, sessionmaker, int(auction_id))
    return finalised


async def close_auction(
    engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], auction_id: int
) -> bool:
    """Close one auction's round if due and finalise it in SQL; True if this call finalised it."""
    result = await engine.close_round(auction_id)
    if result.status == "not_due":
        await engine.schedule_deadline(auction_id, int(result.ends_at_ms))
        return False
    if result.status == "paused":  # its session's resume reschedules it; look again meanwhile
        await engine.schedule_deadline(auction_id, result.now_ms + PAUSED_RETRY_MS)
        return False
    async with sessionmaker() as session:
        if result.status == "no_round":
            await _reload(session, engine, auction_id)
            return False
        if await _next_round(session, engine=engine, auction_id=auction_id, result=result):
            return False
        finalised = await finalise(session, engine=engine, auction_id=auction_id, result=result)
        await commit(session)
    # Only now: a crash before this line leaves the deadline, and the next pass redoes both steps.
    await engine.unschedule_deadline(auction_id)
    if finalised:
        # the paddle, not the organisation: logs are read by operators, not only by auditors
        sold = result.outcome is not None and result.outcome.sold
        log.info("auction_closed", auction_id=auction_id, sold=sold,
                 paddle=result.winner_paddle if sold else None)
    return finalised


async def _next_round(
    session: AsyncSession, *, engine: Engine, auction_id: int, result: CloseResult
) -> bool:
    """A closed non-final round: record it in SQL and open the next round with the bidders
    it advanced (english starting at its best bid). True when the auction goes on; False
    when it is the final round or nobody advanced (then it closes unsold)."""
    auction = await session.get(Auction, auction_id)
    rounds = await auction_rounds(session, auction_id)
    index = int(result.round_index)
    if auction is None or index >= len(rounds) - 1 or not (result.advance and
                                                          result.advance.bidders):
        return False
    current, following = rounds[index], rounds[index + 1]
    closed_at = ms_to_datetime(int(result.closed_at_ms))
    recorded = await session.execute(
        update(AuctionRound)
        .where(AuctionRound.id == current.id, AuctionRound.closed_at.is_(None))
        .values(closed_at=closed_at, final_ends_at=ms_to_datetime(int(result.ends_at_ms)))
    )
    if recorded.rowcount == 1:
        params = dict(following.params or {}) | {"advanced": list(result.advance.bidders)}
        if kind_of(following.kind).starts_at_best_bid and result.advance.best is not None:
            params["starting_price"] = result.advance.best
        following.params = params
        await ledger.append(
            session, actor_id=None, action="auction.round_closed", entity_type="auction",
            entity_id=auction_id,
            payload={"round_index": index, "closed_at": closed_at,
                     "ends_at_ms": result.ends_at_ms, "advanced_paddles":
                     list(result.advanced_paddles), "best_bid": from_minor(result.advance.best)
                     if result.advance.best is not None else None},
        )
        await ledger.append(
            session, actor_id=None, action="auction.round_opened", entity_type="auction",
            entity_id=auction_id,
            payload={"round_index": following.round_index, "kind": following.kind,
                     "starts_at": following.starts_at, "ends_at": following.ends_at,
                     "advanced_paddles": list(result.advanced_paddles),
                     "starting_price": params.get("starting_price")},
        )
    await commit(session)
    await session.refresh(following)
    spec = round_spec(auction, following, final=index + 1 == len(rounds) - 1)
    await engine.open_round(auction_id, spec, following.round_index,
                            final=index + 1 == len(rounds) - 1,
                            advanced=following.params.get("advanced"))
    await engine.schedule_deadline(auction_id, spec.ends_at_ms)
    log.info("round_advanced", auction_id=auction_id, round_index=index + 1,
             advanced=len(result.advance.bidders))
    return True


async def _reload(session: AsyncSession, engine: Engine, auction_id: int) -> None:
    """Redis lost the round: rebuild it from SQL (closed ones just leave the schedule)."""
    auction = await session.get(Auction, auction_id)
    if auction is None or auction.status in (AuctionStatus.closed, AuctionStatus.cancelled):
        await engine.unschedule_deadline(auction_id)
        return
    await load_round(session, engine=engine, auction=auction)


async def finalise(
    session: AsyncSession, *, engine: Engine, auction_id: int, result: CloseResult
) -> bool:
    """Record the close and its settlement in SQL once: the conditional update lets exactly
    one closer through, and everything below it commits (or not) with it."""
    outcome = result.outcome
    rounds = (await session.scalars(
        select(AuctionRound.round_index).where(AuctionRound.auction_id == auction_id)
    )).all()
    # a non-final round's outcome is provisional: reaching here, nobody advanced -> unsold
    sold = outcome is not None and outcome.sold and result.round_index == max(rounds)
    winner_registration = None
    if sold:
        winner_registration = await session.scalar(
            select(Registration.id).where(
                Registration.auction_id == auction_id,
                Registration.organization_id == int(outcome.winner),
            )
        )
    closed_at = ms_to_datetime(int(result.closed_at_ms))
    reason = None if sold else await _unsold_reason(session, engine, auction_id, int(result.round_index))
    claimed = await session.execute(
        update(Auction)
        .where(Auction.id == auction_id,
               Auction.status.not_in([AuctionStatus.closed, AuctionStatus.cancelled]))
        .values(
            status=AuctionStatus.closed, closed_at=closed_at,
            outcome=AuctionOutcome.sold if sold else AuctionOutcome.unsold,
            hammer_price=from_minor(outcome.price) if sold else None,
            winning_registration_id=winner_registration, unsold_reason=reason,
        )
    )
    if claimed.rowcount != 1:
        return False
    await session.execute(
        update(AuctionRound)
        .where(AuctionRound.auction_id == auction_id, AuctionRound.round_index == result.round_index)
        .values(closed_at=closed_at, final_ends_at=ms_to_datetime(int(result.ends_at_ms)))
    )
    listing_id = select(Auction.listing_id).where(Auction.id == auction_id).scalar_subquery()
    await session.execute(
        update(Listing).where(Listing.id == listing_id)
        .values(status=ListingStatus.sold if sold else ListingStatus.unsold)
    )
    await ledger.append(
        session, actor_id=None, action="auction.closed", entity_type="auction", entity_id=auction_id,
        payload={"round_index": result.round_index, "ends_at_ms": result.ends_at_ms,
                 "closed_at": closed_at, "outcome": "sold" if sold else "unsold",
                 "winner_organization_id": int(outcome.winner) if sold else None,
                 "winning_paddle": result.winner_paddle if sold else None,
                 "hammer_price": from_minor(outcome.price) if sold else None,
                 "unsold_reason": reason},
    )
    await settlements.settle_close(
        session, engine=engine, auction_id=auction_id, winner_registration_id=winner_registration,
        hammer_price=from_minor(outcome.price) if sold else None, closed_at=closed_at,
    )
    await notices.auction_closed(session, auction_id=auction_id)
    await lifecycle.lot_closed(session, engine=engine, auction_id=auction_id)
    return True


async def _unsold_reason(
    session: AsyncSession, engine: Engine, auction_id: int, round_index: int
) -> UnsoldReason:
    """Unsold with a bid in the deciding round: its best was under the reserve (a round with
    a bid always advances someone, so only a round nobody bid in ends a multi-round auction
    early). The engine's count of the closed round; SQL's when Redis no longer holds it."""
    snapshot = await engine.read(auction_id)
    if snapshot is not None and snapshot.round_index == round_index:
        bids = snapshot.state.bid_count
    else:
        bids = await session.scalar(select(Bid.id).where(
            Bid.auction_id == auction_id, Bid.round_index == round_index).limit(1)) is not None
    return UnsoldReason.reserve_not_met if bids else UnsoldReason.no_bids


async def reload_lost_rounds(engine: Engine, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Rebuild from SQL every unfinished auction Redis no longer holds; how many were rebuilt."""
    rebuilt = 0
    async with sessionmaker() as session:
        auctions = (await session.scalars(
            select(Auction).where(Auction.status == AuctionStatus.scheduled, Auction.lot_hold.is_(None))
            .order_by(Auction.id).limit(RELOAD_BATCH)
        )).all()
        for auction in auctions:
            if await engine.read(auction.id) is None:
                await load_round(session, engine=engine, auction=auction)
                rebuilt += 1
    if rebuilt:
        log.warning("rounds_rebuilt_from_sql", count=rebuilt)
    return rebuilt


class _Outage:
    """Redis unreachable since some pass: the failed passes, the pause before the next try."""

    def __init__(self) -> None:
        self.passes = 0

    def next_pause(self) -> float:
        """POLL_SECONDS doubled per failed pass, at most OUTAGE_MAX_PAUSE_SECONDS."""
        self.passes += 1
        return min(POLL_SECONDS * 2 ** min(self.passes, 16), OUTAGE_MAX_PAUSE_SECONDS)


async def run_closer(
    engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], *, stop: asyncio.Event
) -> None:
    """Poll for due rounds (and lots opening) until stop is set; now and then, rebuild rounds
    Redis lost, finish sessions whose lots are all closed and repair paused or stalled ones."""
    loop = asyncio.get_running_loop()
    next_reload = 0.0
    outage: _Outage | None = None
    while not stop.is_set():
        pause = POLL_SECONDS
        try:
            if loop.time() >= next_reload:
                next_reload = loop.time() + RELOAD_SECONDS
                await reload_lost_rounds(engine, sessionmaker)
                await lifecycle.finish_sessions(engine=engine, sessionmaker=sessionmaker)
                await control.reconcile(engine=engine, sessionmaker=sessionmaker)
            await openings.emit_due(engine, sessionmaker)  # before the closes: a lot opens before it closes
            await close_due(engine, sessionmaker)
            if outage is not None:
                log.info("closer_redis_back", failed_passes=outage.passes)
                outage = None
        except REDIS_UNREACHABLE as exc:
            # Redis is down or restarting: one warning per outage, and fewer tries while it
            # lasts; a traceback would say nothing more, once per pass.
            if outage is None:
                outage = _Outage()
                log.warning("closer_redis_unreachable", error=type(exc).__name__,
                            detail=str(exc)[:200])
            pause = outage.next_pause()
        except Exception:
            log.exception("closer_pass_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=pause)
        except TimeoutError:
            pass
