"""Listings: creation, visibility, editing and the review lifecycle."""

from dataclasses import dataclass

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import ledger
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.listings.models import IpType, Listing, ListingStatus, TransferMode
from app.listings.rules import PUBLIC_STATUSES, Action, next_status, role_may
from app.listings.schemas import ListingCreate, ListingOut, ListingUpdate
from app.pagination import PageParams, fetch_page
from app.security import Principal, Role


@dataclass(frozen=True)
class ListingFilters:
    status: ListingStatus | None = None
    field: str | None = None
    ip_type: IpType | None = None
    transfer_mode: TransferMode | None = None
    institute: int | None = None
    trl_min: int | None = None
    trl_max: int | None = None
    q: str | None = None


def is_owner(principal: Principal | None, listing: Listing) -> bool:
    """The listing belongs to the caller's institute."""
    return (
        principal is not None
        and principal.role is Role.institute
        and principal.organization_id == listing.organization_id
    )


def can_see_reserve(principal: Principal | None, listing: Listing) -> bool:
    """Only the owner, admin and auditor see the reserve price."""
    return is_owner(principal, listing) or (principal is not None and principal.is_staff_reader)


def _visible_to(principal: Principal | None) -> Select:
    stmt = select(Listing)
    if principal is not None and principal.is_staff_reader:
        return stmt
    public = Listing.status.in_(PUBLIC_STATUSES)
    if principal is not None and principal.role is Role.institute:
        return stmt.where(or_(public, Listing.organization_id == principal.organization_id))
    return stmt.where(public)


def to_out(listing: Listing, principal: Principal | None) -> ListingOut:
    """The listing as this caller may see it."""
    out = ListingOut.model_validate(listing)
    if not can_see_reserve(principal, listing):
        out.reserve_price = None
        out.rejection_reason = None
    return out


async def create_listing(
    session: AsyncSession, *, principal: Principal, data: ListingCreate
) -> Listing:
    """A new draft listing owned by the caller's institute."""
    listing = Listing(
        organization_id=principal.organization_id, created_by_id=principal.user_id,
        # dict(data), not model_dump(): the Money serializer would turn amounts into strings.
        status=ListingStatus.draft, **dict(data),
    )
    session.add(listing)
    await session.flush()
    await _record(session, principal, listing, "listing.created", data.model_dump(mode="json"))
    return listing


async def _record(
    session: AsyncSession, principal: Principal, listing: Listing, action: str, payload: dict
) -> None:
    await ledger.append(
        session, actor_id=principal.user_id, action=action, entity_type="listing",
        entity_id=listing.id, payload=payload | {"status": listing.status.value},
    )


async def get_listing(
    session: AsyncSession, *, principal: Principal | None, listing_id: int, for_update: bool = False
) -> Listing:
    """A listing the caller may read; 404 when it does not exist or is not theirs to see."""
    stmt = _visible_to(principal).where(Listing.id == listing_id)
    if for_update:
        stmt = stmt.with_for_update()
    listing = await session.scalar(stmt)
    if listing is None:
        raise NotFound("No such listing.", code="listing_not_found")
    return listing


async def list_listings(
    session: AsyncSession, *, principal: Principal | None, filters: ListingFilters,
    page: PageParams,
) -> tuple[list[Listing], str | None]:
    """A page of the listings the caller may read, filtered."""
    stmt = _visible_to(principal)
    for column, value in (
        (Listing.status, filters.status), (Listing.field, filters.field),
        (Listing.ip_type, filters.ip_type), (Listing.transfer_mode, filters.transfer_mode),
        (Listing.organization_id, filters.institute),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.trl_min is not None:
        stmt = stmt.where(Listing.trl >= filters.trl_min)
    if filters.trl_max is not None:
        stmt = stmt.where(Listing.trl <= filters.trl_max)
    if filters.q:
        pattern = "%" + filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Listing.title.ilike(pattern, escape="\\"))
    return await fetch_page(session, stmt, id_column=Listing.id, page=page)


def _authorize(principal: Principal, listing: Listing, action: Action) -> None:
    if not role_may(action, principal.role):
        raise Forbidden(f"Your role may not {action.value} listings.", code="forbidden_role")
    if principal.role is Role.institute and not is_owner(principal, listing):
        raise Forbidden("This listing belongs to another institute.", code="not_owner")


async def _advance(session: AsyncSession, listing: Listing, action: Action) -> None:
    current = listing.status
    target = next_status(action, current)
    conflict = Conflict(
        f"A listing in status {current.value} cannot be {action.value}ed.",
        code="invalid_transition",
    )
    if target is None:
        raise conflict
    # Compare-and-set: SQLite ignores FOR UPDATE, so a racing request may have moved the
    # listing since we read it; only the first one still finds it in `current`.
    moved = await session.execute(
        update(Listing).where(Listing.id == listing.id, Listing.status == current)
        .values(status=target).execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise conflict
    # Now that the row is ours, reread it: checks and the response must see its latest values.
    await session.refresh(listing)


async def update_listing(
    session: AsyncSession, *, principal: Principal, listing_id: int, data: ListingUpdate
) -> Listing:
    """Edit a draft or rejected listing (its institute only)."""
    listing = await get_listing(session, principal=principal, listing_id=listing_id, for_update=True)
    _authorize(principal, listing, Action.edit)
    await _advance(session, listing, Action.edit)
    # Validated values as given (model_dump() would serialize Money to str and break the check).
    changes = {name: value for name, value in data if name in data.model_fields_set}
    starting = changes.get("starting_price", listing.starting_price)
    reserve = changes.get("reserve_price", listing.reserve_price)
    if reserve is not None and reserve < starting:
        raise Unprocessable("reserve_price must not be below starting_price.", code="reserve_below_start")
    for name, value in changes.items():
        setattr(listing, name, value)
    listing.rejection_reason = None
    await session.flush()
    await _record(
        session, principal, listing, "listing.updated",
        {"changes": data.model_dump(mode="json", exclude_unset=True)},
    )
    return listing


async def transition_listing(
    session: AsyncSession, *, principal: Principal, listing_id: int, action: Action,
    reason: str | None = None,
) -> Listing:
    """Submit, approve, reject or withdraw a listing, as the lifecycle allows."""
    listing = await get_listing(session, principal=principal, listing_id=listing_id, for_update=True)
    _authorize(principal, listing, action)
    previous = listing.status
    await _advance(session, listing, action)
    now = utcnow()
    if action is Action.submit:
        listing.submitted_at, listing.rejection_reason = now, None
    elif action in (Action.approve, Action.reject):
        listing.reviewed_at = now
        listing.rejection_reason = reason if action is Action.reject else None
    await session.flush()
    await _record(
        session, principal, listing, f"listing.{action.value}",
        {"from": previous.value, "reason": reason},
    )
    return listing
