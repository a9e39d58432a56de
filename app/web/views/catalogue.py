"""The catalogue: published sessions, then open and upcoming lots (as the API lists them)."""

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import service as auctions
from app.auctions.engine import Engine
from app.auctions.models import AuctionStatus
from app.auctions.schemas import AuctionOut
from app.errors import NotFound
from app.listings import service as listings
from app.listings.schemas import ListingOut
from app.pagination import PageParams
from app.security import Principal
from app.web.views.sessions import session_rows

SHOWN = 60


@dataclass
class Lot:
    auction: AuctionOut
    listing: ListingOut | None


@dataclass
class SessionCard:
    """A published auction session (app/sessions) as the catalogue shows it."""

    id: int
    title: str
    status: str
    starts_at: object
    lot_count: int
    lots: list[Lot] = field(default_factory=list)


@dataclass
class Catalogue:
    sessions: list[SessionCard]
    open: list[Lot]
    upcoming: list[Lot]


async def published_sessions(session: AsyncSession, engine: Engine,
                             principal: Principal | None) -> list[SessionCard]:
    """The published sessions (not drafts, not cancelled), newest first, as cards."""
    rows = await session_rows(session, engine=engine, principal=principal)
    return [SessionCard(id=r.session.id, title=r.session.title, status=r.session.status.value,
                        starts_at=r.session.starts_at, lot_count=r.lot_count) for r in rows]


async def catalogue(
    session: AsyncSession, *, engine: Engine, principal: Principal | None
) -> Catalogue:
    page = PageParams(limit=SHOWN, after_id=None)
    found: dict[AuctionStatus, list[Lot]] = {}
    for status in (AuctionStatus.open, AuctionStatus.scheduled):
        items, _ = await auctions.list_auctions(
            session, engine=engine, principal=principal, page=page, listing_id=None, status=status)
        found[status] = [Lot(a, await _listing(session, principal, a.listing_id)) for a in items]
    upcoming = sorted(found[AuctionStatus.scheduled], key=lambda lot: lot.auction.starts_at)
    opened = sorted(found[AuctionStatus.open], key=lambda lot: lot.auction.ends_at)
    return Catalogue(sessions=await published_sessions(session, engine, principal), open=opened,
                     upcoming=upcoming)


async def _listing(session: AsyncSession, principal: Principal | None, listing_id: int):
    try:
        listing = await listings.get_listing(session, principal=principal, listing_id=listing_id)
    except NotFound:
        return None
    return listings.to_out(listing, principal)
