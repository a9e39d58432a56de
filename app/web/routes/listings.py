"""The institute's listings in the console: create, edit (draft or rejected), submit, withdraw."""

from fastapi import APIRouter
from starlette.responses import Response

from app.errors import AppError, Forbidden, NotFound
from app.listings import service as listings
from app.listings.models import ListingStatus
from app.listings.rules import Action
from app.schemas import IdPath
from app.security import Role
from app.web.actions import act, refusal, require
from app.web.page import Page, PageDep
from app.web.views.forms import CODE_FIELDS, FIELD_SLUGS, LISTING_FIELDS, Form, listing_form

router = APIRouter(include_in_schema=False)
EDITABLE = (ListingStatus.draft, ListingStatus.rejected)


def _render(page: Page, form: Form, listing_id: int | None = None, status: int = 200) -> Response:
    return page.render("console/listing_form.html", status=status, form=form,
                       listing_id=listing_id, slugs=FIELD_SLUGS)


@router.get("/console/listings/new")
async def new_listing(page: PageDep) -> Response:
    require(page, Role.institute)
    return _render(page, Form(values={"field": "new_energy", "trl": "6"}))


@router.post("/console/listings")
async def create_listing(page: PageDep) -> Response:
    posted = await page.form()
    require(page, Role.institute)
    form, data = listing_form(posted)
    if data is None:
        return _render(page, form, status=422)
    try:
        async with page.changes():
            await listings.create_listing(page.db, principal=page.principal, data=data)
    except AppError as exc:
        return _refused(page, form, exc)
    return page.redirect("/console?notice=listing_created")


async def _own(page: Page, listing_id: int):
    """The caller's own listing, or the API's answer: 404 unseen, 403 another's."""
    try:
        listing = await listings.get_listing(page.db, principal=page.principal, listing_id=listing_id)
    except NotFound as exc:
        raise refusal(page, exc) from exc
    if not listings.is_owner(page.principal, listing):
        raise refusal(page, Forbidden(code="not_owner"))
    return listing


@router.get("/console/listings/{listing_id}/edit")
async def edit_listing(page: PageDep, listing_id: IdPath) -> Response:
    require(page, Role.institute)
    listing = await _own(page, listing_id)
    if listing.status not in EDITABLE:
        return page.redirect("/console?error=invalid_transition")
    out = listings.to_out(listing, page.principal)
    values = {name: getattr(out, name) for name in LISTING_FIELDS}
    values |= {"ip_type": out.ip_type.value, "transfer_mode": out.transfer_mode.value,
               "patent_numbers": "\n".join(out.patent_numbers), "trl": str(out.trl),
               "starting_price": f"{out.starting_price:.2f}",
               "reserve_price": f"{out.reserve_price:.2f}" if out.reserve_price is not None else ""}
    return _render(page, Form(values=values), listing_id=listing_id)


@router.post("/console/listings/{listing_id}")
async def update_listing(page: PageDep, listing_id: IdPath) -> Response:
    posted = await page.form()
    require(page, Role.institute)
    form, data = listing_form(posted, update=True)
    if data is None:
        await _own(page, listing_id)  # a foreign listing is refused before its form is judged
        return _render(page, form, listing_id, status=422)
    try:
        async with page.changes():
            await listings.update_listing(page.db, principal=page.principal, listing_id=listing_id,
                                          data=data)
    except (NotFound, Forbidden) as exc:
        raise refusal(page, exc) from exc
    except AppError as exc:
        return _refused(page, form, exc, listing_id)
    return page.redirect("/console?notice=listing_saved")


def _refused(page: Page, form: Form, exc: AppError, listing_id: int | None = None) -> Response:
    if exc.code in CODE_FIELDS:
        form.refuse(CODE_FIELDS[exc.code])
        return _render(page, form, listing_id, status=exc.status)
    return page.redirect(f"/console?error={exc.code}")


@router.post("/console/listings/{listing_id}/submit")
async def submit_listing(page: PageDep, listing_id: IdPath) -> Response:
    await page.form()
    require(page, Role.institute)
    return await _transition(page, listing_id, Action.submit, "listing_submitted")


@router.post("/console/listings/{listing_id}/withdraw")
async def withdraw_listing(page: PageDep, listing_id: IdPath) -> Response:
    await page.form()
    require(page, Role.institute, Role.admin)
    return await _transition(page, listing_id, Action.withdraw, "listing_withdrawn")


async def _transition(page: Page, listing_id: int, action: Action, notice: str) -> Response:
    return await act(page, lambda: listings.transition_listing(
        page.db, principal=page.principal, listing_id=listing_id, action=action), notice=notice)
