"""Notices a watched lot's clock owes its watchers, sent by the worker on a clock it is given
(tests move it): the lot opens soon (lot.opening), and registration closes soon for a
watcher whose organisation has not registered (registration.closing). Once each per user."""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.models import Auction, AuctionRound, AuctionStatus, LotHold, Registration
from app.identity.models import User
from app.listings.models import Listing
from app.notifications.models import Watch
from app.notifications.outbox import enqueue
from app.schemas import format_timestamp
from app.security import Role
from app.sessions.models import AuctionSession, SessionRegistration

log = structlog.get_logger()
OPENING_LEAD = timedelta(minutes=30)  # a watched lot's opening is told this long before
REGISTRATION_LEAD = timedelta(hours=24)  # and the end of its registration this long before


async def _openings(session: AsyncSession, now: datetime) -> int:
    rows = (await session.execute(
        select(Watch.user_id, User.organization_id, Auction.id, AuctionRound.starts_at, Listing.title)
        .join(User, User.id == Watch.user_id).join(Auction, Auction.id == Watch.auction_id)
        .join(AuctionRound, (AuctionRound.auction_id == Auction.id) & (AuctionRound.round_index == 0))
        .join(Listing, Listing.id == Auction.listing_id)
        .where(Auction.status == AuctionStatus.scheduled, Auction.lot_hold.is_(None),
               User.organization_id.is_not(None), AuctionRound.starts_at <= now + OPENING_LEAD,
               AuctionRound.starts_at > now - OPENING_LEAD)
    )).all()
    told = 0
    for user_id, org_id, auction_id, starts_at, title in rows:
        told += await enqueue(
            session, event_type="lot.opening", organization_id=org_id, auction_id=auction_id,
            user_ids=[user_id], dedup_key=f"lot.opening:{auction_id}:{user_id}",
            payload={"title": title, "opens_at": format_timestamp(starts_at)}) is not None
    return told


async def _registration_deadlines(session: AsyncSession, now: datetime) -> int:
    last_close = (select(AuctionRound.auction_id, func.max(AuctionRound.ends_at).label("ends_at"))
                  .group_by(AuctionRound.auction_id).subquery())
    rows = (await session.execute(
        select(Watch.user_id, User.organization_id, Auction.id, Auction.session_id, Listing.title,
               func.coalesce(AuctionSession.registration_closes_at, last_close.c.ends_at))
        .join(User, User.id == Watch.user_id).join(Auction, Auction.id == Watch.auction_id)
        .join(last_close, last_close.c.auction_id == Auction.id)
        .join(Listing, Listing.id == Auction.listing_id)
        .outerjoin(AuctionSession, AuctionSession.id == Auction.session_id)
        .where(Auction.status == AuctionStatus.scheduled, User.role == Role.enterprise,
               (Auction.lot_hold.is_(None)) | (Auction.lot_hold != LotHold.draft))
    )).all()
    told = 0
    for user_id, org_id, auction_id, session_id, title, closes_at in rows:
        if closes_at is None or not now < closes_at <= now + REGISTRATION_LEAD:
            continue
        if await _registered(session, org_id, auction_id, session_id):
            continue
        told += await enqueue(
            session, event_type="registration.closing", organization_id=org_id,
            auction_id=auction_id, user_ids=[user_id],
            dedup_key=f"registration.closing:{auction_id}:{user_id}",
            payload={"title": title, "closes_at": format_timestamp(closes_at)}) is not None
    return told


async def _registered(session: AsyncSession, org_id: int, auction_id: int, session_id: int | None) -> bool:
    if session_id is not None and await session.scalar(select(SessionRegistration.id).where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.organization_id == org_id).limit(1)):
        return True
    return await session.scalar(select(Registration.id).where(
        Registration.auction_id == auction_id, Registration.organization_id == org_id).limit(1)) is not None


async def notify_watchers(sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime) -> int:
    """One pass; how many notices it wrote."""
    async with sessionmaker() as session:
        told = await _openings(session, now) + await _registration_deadlines(session, now)
        await session.commit()
    return told


async def run_watchers(sessionmaker: async_sessionmaker[AsyncSession], *, stop: asyncio.Event,
                       clock: Callable[[], datetime], interval: float = 15.0) -> None:
    """Passes every interval seconds until stop is set."""
    while not stop.is_set():
        try:
            await notify_watchers(sessionmaker, now=clock())
        except Exception:
            log.exception("watcher_pass_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
