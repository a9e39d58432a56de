"""Each role's workspace, read through the services (and their visibility rules)."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine.engine import Engine
from app.auctions.models import Auction, Bid, Registration, RegistrationStatus
from app.identity.models import Organization, OrgKind
from app.listings import service as listings
from app.listings.models import Listing, ListingStatus
from app.listings.schemas import ListingOut
from app.pagination import PageParams
from app.security import Principal, Role
from app.settlements import service as settlements
from app.settlements.schemas import SettlementOut
from app.web.views.results import LotResult, lot_results
from app.web.views.sessions import OwnRegistration, own_registrations

SHOWN = 100


@dataclass
class RegistrationRow:
    registration: Registration
    auction_id: int
    title: str


@dataclass
class BidRow:
    auction_id: int
    title: str
    amount: object
    paddle: str
    placed_at: object
    round_index: int


@dataclass
class Workspace:
    role: str
    registrations: list[RegistrationRow] = field(default_factory=list)
    bids: list[BidRow] = field(default_factory=list)
    settlements: list[SettlementOut] = field(default_factory=list)
    listings: list[ListingOut] = field(default_factory=list)
    titles: dict[int, str] = field(default_factory=dict)  # auction id -> listing title
    results: list[LotResult] = field(default_factory=list)
    approved: list[ListingOut] = field(default_factory=list)  # admin: ready for an auction
    institutes: dict[int, str] = field(default_factory=dict)  # staff: institute id -> name
    session_registrations: list[OwnRegistration] = field(default_factory=list)  # enterprise


async def workspace(session: AsyncSession, principal: Principal, engine: Engine,
                    filters: settlements.SettlementFilters | None = None) -> Workspace:
    space = Workspace(role=principal.role.value)
    page = PageParams(limit=SHOWN, after_id=None)
    if principal.role is Role.enterprise:
        own = Registration.organization_id == principal.organization_id
        space.registrations = await _registrations(session, own)
        space.bids = await _own_bids(session, principal)
        space.session_registrations = await own_registrations(session, principal)
    if principal.role is Role.admin:
        space.registrations = await _registrations(
            session, Registration.status == RegistrationStatus.pending)
        rows, _ = await listings.list_listings(
            session, principal=principal,
            filters=listings.ListingFilters(status=ListingStatus.pending_review), page=page)
        space.listings = [listings.to_out(r, principal) for r in rows]
        rows, _ = await listings.list_listings(
            session, principal=principal,
            filters=listings.ListingFilters(status=ListingStatus.approved), page=page)
        space.approved = [listings.to_out(r, principal) for r in rows]
    if principal.is_staff_reader:
        space.institutes = dict((await session.execute(
            select(Organization.id, Organization.name).where(Organization.kind == OrgKind.institute)
            .order_by(Organization.name))).all())
    if principal.role is Role.institute:
        rows, _ = await listings.list_listings(
            session, principal=principal,
            filters=listings.ListingFilters(institute=principal.organization_id), page=page)
        space.listings = [listings.to_out(r, principal) for r in rows]
    space.results = await lot_results(session, principal, engine)
    rows, _ = await settlements.list_settlements(
        session, principal=principal, filters=filters or settlements.SettlementFilters(), page=page)
    space.settlements = await settlements.to_outs(session, rows)
    space.titles = await _titles(session, {s.auction_id for s in space.settlements})
    return space


async def _registrations(session: AsyncSession, where) -> list[RegistrationRow]:
    rows = (await session.execute(
        select(Registration, Listing.title).join(Auction, Auction.id == Registration.auction_id)
        .join(Listing, Listing.id == Auction.listing_id).where(where)
        .order_by(Registration.id.desc()).limit(SHOWN)
    )).all()
    return [RegistrationRow(r, r.auction_id, title) for r, title in rows]


async def _own_bids(session: AsyncSession, principal: Principal) -> list[BidRow]:
    rows = (await session.execute(
        select(Bid, Listing.title).join(Auction, Auction.id == Bid.auction_id)
        .join(Listing, Listing.id == Auction.listing_id)
        .where(Bid.organization_id == principal.organization_id)
        .order_by(Bid.id.desc()).limit(SHOWN)
    )).all()
    return [BidRow(b.auction_id, title, b.amount, b.paddle, b.placed_at, b.round_index)
            for b, title in rows]


async def _titles(session: AsyncSession, auction_ids: set[int]) -> dict[int, str]:
    if not auction_ids:
        return {}
    rows = await session.execute(
        select(Auction.id, Listing.title).join(Listing, Listing.id == Auction.listing_id)
        .where(Auction.id.in_(auction_ids)))
    return dict(rows.all())
