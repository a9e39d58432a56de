"""Listing endpoints: thin views over the service."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.listings import service
from app.listings.models import IpType, ListingStatus, TransferMode
from app.listings.rules import Action
from app.listings.schemas import ListingCreate, ListingOut, ListingUpdate, RejectRequest
from app.pagination import PageDep
from app.schemas import MAX_DB_ID, TEXT_PATTERN, IdPath, NoBody, Page
from app.security import AdminUser, CurrentUser, InstituteUser, OptionalUser

router = APIRouter(prefix="/listings", tags=["listings"])


@router.post("", status_code=201, response_model=ListingOut)
async def create_listing(
    session: SessionDep, principal: InstituteUser, data: ListingCreate
) -> ListingOut:
    """Create a draft listing for the caller's institute."""
    listing = await service.create_listing(session, principal=principal, data=data)
    return service.to_out(listing, principal)


@router.get("", response_model=Page[ListingOut])
async def list_listings(
    session: SessionDep, principal: OptionalUser, page: PageDep,
    status: ListingStatus | None = None,
    field: Annotated[str | None, Query(max_length=40, pattern=TEXT_PATTERN)] = None,
    ip_type: IpType | None = None,
    transfer_mode: TransferMode | None = None,
    institute: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    trl_min: Annotated[int | None, Query(ge=1, le=9)] = None,
    trl_max: Annotated[int | None, Query(ge=1, le=9)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN)] = None,
):
    """Listings the caller may read (anonymous: approved and later), newest first."""
    filters = service.ListingFilters(
        status=status, field=field, ip_type=ip_type, transfer_mode=transfer_mode,
        institute=institute, trl_min=trl_min, trl_max=trl_max, q=q,
    )
    rows, cursor = await service.list_listings(
        session, principal=principal, filters=filters, page=page
    )
    return Page(items=[service.to_out(r, principal) for r in rows], next_cursor=cursor)


@router.get("/{listing_id}", response_model=ListingOut)
async def get_listing(session: SessionDep, principal: OptionalUser, listing_id: IdPath) -> ListingOut:
    """One listing, if the caller may read it."""
    listing = await service.get_listing(session, principal=principal, listing_id=listing_id)
    return service.to_out(listing, principal)


@router.patch("/{listing_id}", response_model=ListingOut)
async def update_listing(
    session: SessionDep, principal: CurrentUser, listing_id: IdPath, data: ListingUpdate
) -> ListingOut:
    """Edit a draft or rejected listing (its institute)."""
    listing = await service.update_listing(
        session, principal=principal, listing_id=listing_id, data=data
    )
    return service.to_out(listing, principal)


async def _transition(session, principal, listing_id: int, action: Action, reason=None):
    listing = await service.transition_listing(
        session, principal=principal, listing_id=listing_id, action=action, reason=reason
    )
    return service.to_out(listing, principal)


@router.post("/{listing_id}/submit", response_model=ListingOut)
async def submit_listing(
    session: SessionDep, principal: CurrentUser, listing_id: IdPath, body: NoBody = None
):
    """Send a draft for review (its institute)."""
    return await _transition(session, principal, listing_id, Action.submit)


@router.post("/{listing_id}/approve", response_model=ListingOut)
async def approve_listing(
    session: SessionDep, principal: AdminUser, listing_id: IdPath, body: NoBody = None
):
    """Approve a listing under review (admin)."""
    return await _transition(session, principal, listing_id, Action.approve)


@router.post("/{listing_id}/reject", response_model=ListingOut)
async def reject_listing(
    session: SessionDep, principal: AdminUser, listing_id: IdPath, data: RejectRequest
):
    """Reject a listing under review, with a reason (admin)."""
    return await _transition(session, principal, listing_id, Action.reject, data.reason)


@router.post("/{listing_id}/withdraw", response_model=ListingOut)
async def withdraw_listing(
    session: SessionDep, principal: CurrentUser, listing_id: IdPath, body: NoBody = None
):
    """Withdraw a listing not yet in auction (its institute or admin)."""
    return await _transition(session, principal, listing_id, Action.withdraw)
