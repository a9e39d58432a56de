"""`/console`: the signed-in user's workspace, and the admin's review and qualification."""

from urllib.parse import quote

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import registrations
from app.auctions import service as auctions
from app.auctions.schemas import RegistrationApprove
from app.errors import AppError
from app.listings import service as listings
from app.listings.rules import Action
from app.listings.schemas import RejectRequest
from app.schemas import IdPath
from app.security import Role
from app.web.messages import message
from app.web.page import Page, PageDep, PageError
from app.web.views.console import workspace

router = APIRouter(include_in_schema=False)


@router.get("/console")
async def console(page: PageDep) -> Response:
    if page.user is None:
        return page.redirect("/signin?next=" + quote("/console"))
    space = await workspace(page.db, page.principal)
    query = page.request.query_params
    return page.render(
        f"console/{space.role}.html", space=space,
        notice=message(query.get("notice")), error=message(query.get("error")),
    )


def _admin(page: Page) -> None:
    if page.user is None:
        raise PageError(401, page.gettext("Sign in first."))
    if page.user.role is not Role.admin:
        raise PageError(403, page.gettext("This needs the admin role."))


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
    try:
        async with page.changes():
            await listings.transition_listing(page.db, principal=page.principal, listing_id=listing_id,
                                              action=action, reason=reason)
    except AppError as exc:
        return page.redirect(f"/console?error={exc.code}")
    return page.redirect(f"/console?notice={notice}")


@router.post("/console/auctions/{auction_id}/registrations/{registration_id}/approve")
async def qualify(page: PageDep, auction_id: IdPath, registration_id: IdPath) -> Response:
    form = await page.form()
    _admin(page)
    try:
        data = RegistrationApprove.model_validate(
            {"deposit_reference": form.get("deposit_reference", "").strip()})
    except ValidationError:
        return page.redirect("/console?error=invalid_reference")
    try:
        auction = await auctions.get_auction(page.db, auction_id=auction_id)
        async with page.changes():
            await registrations.approve(
                page.db, engine=page.request.app.state.engine, principal=page.principal,
                auction=auction, registration_id=registration_id,
                deposit_reference=data.deposit_reference)
    except AppError as exc:
        return page.redirect(f"/console?error={exc.code}")
    return page.redirect("/console?notice=registration_qualified")


@router.post("/console/auctions/{auction_id}/registrations/{registration_id}/reject")
async def refuse(page: PageDep, auction_id: IdPath, registration_id: IdPath) -> Response:
    await page.form()
    _admin(page)
    try:
        auction = await auctions.get_auction(page.db, auction_id=auction_id)
        async with page.changes():
            await registrations.reject(page.db, principal=page.principal, auction=auction,
                                       registration_id=registration_id)
    except AppError as exc:
        return page.redirect(f"/console?error={exc.code}")
    return page.redirect("/console?notice=registration_rejected")
