"""The operator's console actions: an auction from an approved listing, and payments."""

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import service as auctions
from app.errors import AppError, Forbidden, NotFound
from app.listings import service as listings
from app.listings.models import ListingStatus
from app.schemas import IdPath
from app.security import Role
from app.settlements import service as settlements
from app.settlements.schemas import PaymentConfirmation
from app.web.actions import act, refusal, require
from app.web.page import Page, PageDep
from app.web.views.auction_form import (
    MAX_ROUNDS,
    ROUND_KINDS,
    AuctionForm,
    auction_form,
    blank,
    kind_params,
    round_field,
)

router = APIRouter(include_in_schema=False)


async def _approved(page: Page, listing_id: int):
    try:
        listing = await listings.get_listing(page.db, principal=page.principal, listing_id=listing_id)
    except NotFound as exc:
        raise refusal(page, exc) from exc
    return listings.to_out(listing, page.principal)


def _render(page: Page, listing, form: AuctionForm, status: int = 200) -> Response:
    return page.render("console/auction_form.html", status=status, listing=listing, form=form,
                       kinds=ROUND_KINDS, params=kind_params(), max_rounds=MAX_ROUNDS,
                       round_field=round_field)


@router.get("/console/listings/{listing_id}/auction")
async def new_auction(page: PageDep, listing_id: IdPath) -> Response:
    require(page, Role.admin)
    listing = await _approved(page, listing_id)
    if listing.status is not ListingStatus.approved:
        return page.redirect("/console?error=listing_not_approved")
    return _render(page, listing, blank(now=datetime.now(UTC).replace(microsecond=0)))


@router.post("/console/listings/{listing_id}/auction")
async def create_auction(page: PageDep, listing_id: IdPath) -> Response:
    posted = await page.form()
    require(page, Role.admin)
    listing = await _approved(page, listing_id)
    form, data = auction_form(posted, listing_id)
    if data is None:  # refused, or a round row added or removed
        return _render(page, listing, form, status=200 if form.ok else 422)
    try:
        async with page.changes():
            auction = await auctions.create_auction(
                page.db, engine=page.request.app.state.engine, principal=page.principal, data=data)
    except (NotFound, Forbidden) as exc:
        raise refusal(page, exc) from exc
    except AppError as exc:
        if not form.refuse_service(exc):
            return page.redirect(f"/console?error={exc.code}")
        return _render(page, listing, form, status=exc.status)
    return page.redirect(f"/auctions/{auction.id}?notice=auction_created")


@router.post("/console/settlements/{settlement_id}/confirm-payment")
async def confirm_payment(page: PageDep, settlement_id: IdPath) -> Response:
    posted = await page.form()
    require(page, Role.admin)
    try:
        reference = PaymentConfirmation.model_validate(
            {"payment_reference": posted.get("payment_reference", "").strip()}).payment_reference
    except ValidationError:
        return page.redirect("/console?error=invalid_payment_reference#payments-h")
    return await act(page, lambda: settlements.confirm_payment(
        page.db, principal=page.principal, settlement_id=settlement_id, payment_reference=reference),
        notice="payment_confirmed")


_OUTCOMES = {  # paid -> completed; pending_payment -> defaulted (deposit forfeited, second chance)
    "complete": (settlements.complete, "settlement_completed"),
    "default": (settlements.default, "settlement_defaulted"),
}


@router.post("/console/settlements/{settlement_id}/{outcome}")
async def conclude(page: PageDep, settlement_id: IdPath, outcome: Literal["complete", "default"]) -> Response:
    await page.form()
    require(page, Role.admin)
    change, notice = _OUTCOMES[outcome]
    return await act(page, lambda: change(page.db, principal=page.principal, settlement_id=settlement_id),
                     notice=notice)
