"""Auction sessions on the pages: catalogue cards, the session page, consoles' lists and the
clerk desk, all read through app/sessions' services and views (as the API reads them)."""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine
from app.auctions.models import Auction, RegistrationStatus
from app.errors import Conflict
from app.money import from_minor
from app.pagination import PageParams, fetch_rows_page
from app.security import Principal, Role
from app.sessions import registrations, results, service, views
from app.sessions.models import AuctionSession, SessionRegistration, SessionStatus
from app.sessions.schemas import LotOut, SessionOut, SessionResults

SHOWN = 100
LISTED = (SessionStatus.published, SessionStatus.running, SessionStatus.paused, SessionStatus.finished)


@dataclass
class SessionRow:
    session: SessionOut
    lot_count: int
    pending: list[SessionRegistration] = field(default_factory=list)


@dataclass
class SessionPage:
    session: SessionOut
    results: SessionResults | None
    registration: SessionRegistration | None  # the enterprise's own


@dataclass
class Desk:
    session: SessionOut
    current: LotOut | None  # the lot open now (live: the one open)
    next_up: LotOut | None
    next_minimum: Decimal | None = None  # the open lot's lowest next bid: the floor form's default


@dataclass
class OwnRegistration:
    registration: SessionRegistration
    title: str


async def _counts(db: AsyncSession, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await db.execute(select(Auction.session_id, func.count()).where(Auction.session_id.in_(ids))
                            .group_by(Auction.session_id))
    return dict(rows.all())


async def session_rows(db: AsyncSession, *, engine: Engine, principal: Principal | None,
                       public: bool = True) -> list[SessionRow]:
    """Sessions newest first with their lot counts (public: published ones only)."""
    first = PageParams(limit=SHOWN, after_id=None)
    return (await _session_page(db, engine=engine, principal=principal, public=public, page=first))[0]


async def _session_page(db: AsyncSession, *, engine: Engine, principal: Principal | None,
                        public: bool, page: PageParams) -> tuple[list[SessionRow], str | None]:
    events, cursor = await service.list_sessions(db, principal=None if public else principal,
                                                 page=page)
    now_ms = await engine.server_time_ms()
    counts = await _counts(db, [e.id for e in events])
    outs = [views.session_out(e, now_ms=now_ms) for e in events]
    rows = [SessionRow(s, counts.get(s.id, 0)) for s in outs if not public or s.status in LISTED]
    return rows, cursor


async def admin_rows(db: AsyncSession, *, engine: Engine, principal: Principal,
                     page: PageParams) -> tuple[list[SessionRow], str | None]:
    """A page of every session (drafts included) with its pending registrations; next cursor."""
    rows, cursor = await _session_page(db, engine=engine, principal=principal, public=False,
                                       page=page)
    pending = (await db.scalars(select(SessionRegistration).where(
        SessionRegistration.session_id.in_([r.session.id for r in rows]),
        SessionRegistration.status == RegistrationStatus.pending).order_by(SessionRegistration.id))).all()
    for row in rows:
        row.pending = [r for r in pending if r.session_id == row.session.id]
    return rows, cursor


async def _full(db: AsyncSession, *, engine: Engine, principal: Principal | None,
                session_id: int) -> tuple[AuctionSession, SessionOut]:
    event = await service.get_session(db, session_id=session_id, principal=principal)
    lots = await service.lots_of(db, session_id=event.id)
    now_ms, lot_views = await views.lot_views(db, engine=engine, lots=lots, principal=principal)
    return event, views.session_out(event, now_ms=now_ms, lots=lot_views)


async def session_page(db: AsyncSession, *, engine: Engine, principal: Principal | None,
                       session_id: int) -> SessionPage:
    """The session with its lots' live states, its results once over, the caller's registration."""
    event, out = await _full(db, engine=engine, principal=principal, session_id=session_id)
    try:
        notice = await results.results(db, event=event)
    except Conflict:
        notice = None
    own = None
    if principal is not None and principal.role is Role.enterprise:
        mine, _ = await registrations.list_registrations(
            db, principal=principal, session_id=event.id, page=PageParams(limit=1, after_id=None))
        own = mine[0] if mine else None
    return SessionPage(out, notice, own)


async def desk(db: AsyncSession, *, engine: Engine, principal: Principal, session_id: int) -> Desk:
    """The clerk's view of a session: its open lot and the next one."""
    _, out = await _full(db, engine=engine, principal=principal, session_id=session_id)
    lots = out.lots or []
    current = next((lot for lot in lots if lot.status.value == "open"), None)
    next_up = next((lot for lot in lots if lot.status.value == "queued"), None)
    snap = None if current is None else await engine.read(current.auction_id)
    minimum = None if snap is None else snap.minimum_next_bid
    return Desk(out, current, next_up, None if minimum is None else from_minor(minimum))


async def own_registrations(db: AsyncSession, principal: Principal,
                            page: PageParams) -> tuple[list[OwnRegistration], str | None]:
    """A page of the enterprise's session registrations, newest first, with the sessions' titles."""
    rows, cursor = await fetch_rows_page(db,
        select(SessionRegistration, AuctionSession.title)
        .join(AuctionSession, AuctionSession.id == SessionRegistration.session_id)
        .where(SessionRegistration.organization_id == principal.organization_id),
        id_column=SessionRegistration.id, page=page)
    return [OwnRegistration(r, title) for r, title in rows], cursor
