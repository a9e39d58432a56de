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
from app.pagination import fetch_rows_page
from app.security import Principal, Role
from app.settlements import service as settlements
from app.settlements.schemas import SettlementOut
from app.web.views.paging import Pager
from app.web.views.results import LotResult, lot_results
from app.web.views.sessions import OwnRegistration, own_registrations


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


async def workspace(session: AsyncSession, principal: Principal, engine: Engine, pager: Pager,
                    filters: settlements.SettlementFilters | None = None) -> Workspace:
    """The role's tables, each on the page its own cursor in the query string asks for."""
    space = Workspace(role=principal.role.value)
    if principal.role is Role.enterprise:
        own = Registration.organization_id == principal.organization_id
        space.registrations = await _registrations(session, own, pager)
        space.bids = await _own_bids(session, principal, pager)
        rows, cursor = await own_registrations(session, principal, pager.page("session_registrations"))
        space.session_registrations = rows
        pager.found("session_registrations", cursor)
    if principal.role is Role.admin:
        space.registrations = await _registrations(
            session, Registration.status == RegistrationStatus.pending, pager)
        space.listings = await _listings(session, principal, pager, "listings",
                                         status=ListingStatus.pending_review)
        space.approved = await _listings(session, principal, pager, "approved",
                                         status=ListingStatus.approved)
    if principal.is_staff_reader:
        space.institutes = dict((await session.execute(
            select(Organization.id, Organization.name).where(Organization.kind == OrgKind.institute)
            .order_by(Organization.name))).all())
    if principal.role is Role.institute:
        space.listings = await _listings(session, principal, pager, "listings",
                                         institute=principal.organization_id)
    space.results, cursor = await lot_results(session, principal, engine, pager.page("results"))
    pager.found("results", cursor)
    rows, cursor = await settlements.list_settlements(
        session, principal=principal, filters=filters or settlements.SettlementFilters(),
        page=pager.page("settlements"))
    pager.found("settlements", cursor)
    space.settlements = await settlements.to_outs(session, rows)
    space.titles = await _titles(session, {s.auction_id for s in space.settlements})
    return space


async def _listings(session: AsyncSession, principal: Principal, pager: Pager, table: str,
                    **filters) -> list[ListingOut]:
    rows, cursor = await listings.list_listings(
        session, principal=principal, filters=listings.ListingFilters(**filters),
        page=pager.page(table))
    pager.found(table, cursor)
    return [listings.to_out(r, principal) for r in rows]


async def _registrations(session: AsyncSession, where, pager: Pager) -> list[RegistrationRow]:
    rows, cursor = await fetch_rows_page(session,
        select(Registration, Listing.title).join(Auction, Auction.id == Registration.auction_id)
        .join(Listing, Listing.id == Auction.listing_id).where(where),
        id_column=Registration.id, page=pager.page("registrations"))
    pager.found("registrations", cursor)
    return [RegistrationRow(r, r.auction_id, title) for r, title in rows]


async def _own_bids(session: AsyncSession, principal: Principal, pager: Pager) -> list[BidRow]:
    rows, cursor = await fetch_rows_page(session,
        select(Bid, Listing.title).join(Auction, Auction.id == Bid.auction_id)
        .join(Listing, Listing.id == Auction.listing_id)
        .where(Bid.organization_id == principal.organization_id),
        id_column=Bid.id, page=pager.page("bids"))
    pager.found("bids", cursor)
    return [BidRow(b.auction_id, title, b.amount, b.paddle, b.placed_at, b.round_index)
            for b, title in rows]


async def _titles(session: AsyncSession, auction_ids: set[int]) -> dict[int, str]:
    if not auction_ids:
        return {}
    rows = await session.execute(
        select(Auction.id, Listing.title).join(Listing, Listing.id == Auction.listing_id)
        .where(Auction.id.in_(auction_ids)))
    return dict(rows.all())
