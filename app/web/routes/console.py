"""`/console`: the signed-in user's workspace, and the admin's review and qualification."""

from urllib.parse import quote

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import registrations
from app.auctions import service as auctions
from app.auctions.schemas import RegistrationApprove
from app.listings import service as listings
from app.listings.rules import Action
from app.listings.schemas import RejectRequest
from app.schemas import IdPath
from app.security import Role
from app.web.actions import act, require
from app.web.messages import message
from app.web.page import Page, PageDep
from app.web.views.audit import audit_filters
from app.web.views.console import workspace
from app.web.views.dossier import desk

router = APIRouter(include_in_schema=False)


@router.get("/console")
async def console(page: PageDep) -> Response:
    if page.user is None:
        return page.redirect("/signin?next=" + quote("/console"))
    query = page.request.query_params
    filters = audit_filters(query) if page.principal.is_staff_reader else None
    space = await workspace(page.db, page.principal, page.request.app.state.engine,
                            filters.settlements if filters else None)
    error = query.get("error") or (filters.error if filters else None)
    lot_desk = None
    if page.principal.role is Role.institute:  # documents and questions of its listings
        lot_desk = await desk(page.db, principal=page.principal,
                              listing_ids=[listing.id for listing in space.listings])
    return page.render(
        f"console/{space.role}.html", space=space, filters=filters, desk=lot_desk,
        notice=message(query.get("notice")), error=message(error),
    )


def _admin(page: Page) -> None:
    require(page, Role.admin)


@router.post("/console/listings/{listing_id}/approve")
async def approve_listing(page: PageDep, listing_id: IdPath) -> Response:
    await page.form()
    _admin(page)
    return await _transition(page, listing_id, Action.approve, None, "listing_approved")


@router.post("/console/listings/{listing_id}/reject")
async def reject_listing(page: PageDep, listing_id: IdPath) -> Response:
    form = await page.form()
    _admin(page)
    try:
        reason = RejectRequest.model_validate({"reason": form.get("reason", "").strip()}).reason
    except ValidationError:
        return page.redirect("/console?error=invalid_reason")
    return await _transition(page, listing_id, Action.reject, reason, "listing_rejected")


async def _transition(page: Page, listing_id: int, action: Action, reason, notice: str) -> Response:
    return await act(page, lambda: listings.transition_listing(
        page.db, principal=page.principal, listing_id=listing_id, action=action, reason=reason),
        notice=notice)


@router.post("/console/auctions/{auction_id}/registrations/{registration_id}/approve")
async def qualify(page: PageDep, auction_id: IdPath, registration_id: IdPath) -> Response:
    form = await page.form()
    _admin(page)
    try:
        data = RegistrationApprove.model_validate(
            {"deposit_reference": form.get("deposit_reference", "").strip()})
    except ValidationError:
        return page.redirect("/console?error=invalid_reference")
    return await act(page, lambda: _registration(page, auction_id, registrations.approve,
                                                 registration_id=registration_id,
                                                 engine=page.request.app.state.engine,
                                                 deposit_reference=data.deposit_reference),
                     notice="registration_qualified")


async def _registration(page: Page, auction_id: int, decide, **values) -> None:
    auction = await auctions.get_auction(page.db, auction_id=auction_id)
    await decide(page.db, principal=page.principal, auction=auction, **values)


@router.post("/console/auctions/{auction_id}/registrations/{registration_id}/reject")
async def refuse(page: PageDep, auction_id: IdPath, registration_id: IdPath) -> Response:
    await page.form()
    _admin(page)
    return await act(page, lambda: _registration(page, auction_id, registrations.reject,
                                                 registration_id=registration_id),
                     notice="registration_rejected")
