"""Session pages: the session page, an enterprise's registration, the admin's sessions console
(qualify, publish, cancel) and the clerk desk. Thin: each calls app/sessions' services."""

from typing import Literal

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import floor
from app.auctions.schemas import FloorBidCreate, RegistrationApprove
from app.errors import Forbidden, NotFound
from app.schemas import IdPath
from app.security import Role
from app.sessions import control, registrations, service
from app.sessions.schemas import WithdrawIn
from app.web.actions import act, refusal, require
from app.web.messages import message
from app.web.page import Page, PageDep, PageError
from app.web.views.paging import InvalidCursor, pager
from app.web.views.sessions import admin_rows, desk, session_page

router = APIRouter(include_in_schema=False)
CONSOLE = "/console/sessions"


def _engine(page: Page):
    return page.request.app.state.engine


async def _view(page: Page, call):
    try:
        return await call()
    except (NotFound, Forbidden) as exc:
        raise refusal(page, exc) from exc


@router.get("/sessions/{session_id}")
async def session_view(page: PageDep, session_id: IdPath) -> Response:
    view = await _view(page, lambda: session_page(page.db, engine=_engine(page), principal=page.principal,
                                                  session_id=session_id))
    query = page.request.query_params
    return page.render("session.html", view=view, s=view.session, notice=message(query.get("notice")),
                       error=message(query.get("error")))


@router.post("/sessions/{session_id}/register")
async def register(page: PageDep, session_id: IdPath) -> Response:
    await page.form()
    require(page, Role.enterprise)

    async def call() -> None:
        event = await service.get_session(page.db, session_id=session_id, principal=page.principal)
        await registrations.register(page.db, engine=_engine(page), principal=page.principal, event=event)

    return await act(page, call, notice="session_registered", back=f"/sessions/{session_id}")


@router.get(CONSOLE)
async def sessions_console(page: PageDep) -> Response:
    require(page, Role.admin)
    query = page.request.query_params
    tables = pager(query, page.settings.console_page_size)
    try:
        rows, cursor = await admin_rows(page.db, engine=_engine(page), principal=page.principal,
                                        page=tables.page("sessions"))
    except InvalidCursor as exc:
        raise PageError(422, page.gettext(message("invalid_cursor"))) from exc
    tables.found("sessions", cursor)
    return page.render("console/sessions.html", rows=rows, pager=tables,
                       notice=message(query.get("notice")), error=message(query.get("error")))


LIFECYCLE = {"publish": (service.publish, "session_published"),
             "cancel": (service.cancel, "session_cancelled")}


@router.post(CONSOLE + "/{session_id}/{action}")
async def lifecycle(page: PageDep, session_id: IdPath, action: Literal["publish", "cancel"]) -> Response:
    """Publish a draft session, or cancel one (its open lots withdrawn)."""
    return await _session_action(page, session_id, LIFECYCLE[action], back=CONSOLE)


async def _session_action(page: Page, session_id: int, action: tuple, *, back: str) -> Response:
    """An admin's session service call (call, notice) from a form, redirecting back."""
    await page.form()
    require(page, Role.admin)
    call, notice = action
    return await act(page, lambda: call(page.db, engine=_engine(page), principal=page.principal,
                                        session_id=session_id), notice=notice, back=back)


@router.post(CONSOLE + "/{session_id}/registrations/{registration_id}/approve")
async def qualify(page: PageDep, session_id: IdPath, registration_id: IdPath) -> Response:
    form = await page.form()
    require(page, Role.admin)
    try:
        data = RegistrationApprove.model_validate(
            {"deposit_reference": form.get("deposit_reference", "").strip()})
    except ValidationError:
        return page.redirect(CONSOLE + "?error=invalid_reference")

    async def call() -> None:
        event = await service.get_session(page.db, session_id=session_id, principal=page.principal,
                                          lock=True)
        await registrations.approve(page.db, engine=_engine(page), principal=page.principal, event=event,
                                    registration_id=registration_id,
                                    deposit_reference=data.deposit_reference)

    return await act(page, call, notice="registration_qualified", back=CONSOLE)


@router.post(CONSOLE + "/{session_id}/registrations/{registration_id}/reject")
async def refuse(page: PageDep, session_id: IdPath, registration_id: IdPath) -> Response:
    await page.form()
    require(page, Role.admin)

    async def call() -> None:
        event = await service.get_session(page.db, session_id=session_id, principal=page.principal)
        await registrations.reject(page.db, principal=page.principal, event=event,
                                   registration_id=registration_id)

    return await act(page, call, notice="registration_rejected", back=CONSOLE)


@router.get(CONSOLE + "/{session_id}/desk")
async def clerk_desk(page: PageDep, session_id: IdPath) -> Response:
    require(page, Role.admin)
    view = await _view(page, lambda: desk(page.db, engine=_engine(page), principal=page.principal,
                                          session_id=session_id))
    query = page.request.query_params
    return page.render("console/desk.html", desk=view, s=view.session,
                       notice=message(query.get("notice")), error=message(query.get("error")))


CONTROL = {"pause": (control.pause, "session_paused"), "resume": (control.resume, "session_resumed")}


@router.post(CONSOLE + "/{session_id}/desk/{action}")
async def pause_or_resume(page: PageDep, session_id: IdPath, action: Literal["pause", "resume"]) -> Response:
    """Pause the running session, or resume it (each lot keeps the time it had left)."""
    return await _session_action(page, session_id, CONTROL[action], back=f"{CONSOLE}/{session_id}/desk")


@router.post(CONSOLE + "/{session_id}/desk/withdraw/{auction_id}")
async def withdraw(page: PageDep, session_id: IdPath, auction_id: IdPath) -> Response:
    """Withdraw a lot of the session, with the reason the ledger keeps."""
    form = await page.form()
    require(page, Role.admin)
    back = f"{CONSOLE}/{session_id}/desk"
    try:
        data = WithdrawIn.model_validate({"reason": form.get("reason", "")})
    except ValidationError:
        return page.redirect(f"{back}?error=invalid_reason")
    return await act(page, lambda: control.withdraw(page.db, engine=_engine(page), principal=page.principal,
                                                    auction_id=auction_id, reason=data.reason,
                                                    session_id=session_id),
                     notice="lot_withdrawn", back=back)


@router.post(CONSOLE + "/{session_id}/desk/floor-bid/{auction_id}")
async def floor_bid(page: PageDep, session_id: IdPath, auction_id: IdPath) -> Response:
    """The clerk enters a bid raised in the room for a paddle (the API's floor bid)."""
    form = await page.form()
    require(page, Role.admin)
    back = f"{CONSOLE}/{session_id}/desk"
    try:
        data = FloorBidCreate.model_validate({"paddle": form.get("paddle", "").strip(),
                                              "amount": form.get("amount", "").strip()})
    except ValidationError:
        return page.redirect(f"{back}?error=invalid_floor_bid")
    state = page.request.app.state
    return await act(page, lambda: floor.place_floor_bid(
        engine=state.engine, journal=state.journal, sessionmaker=state.sessionmaker,
        clerk=page.principal, auction_id=auction_id, paddle=data.paddle, amount=data.amount,
        idempotency_key=None, session_id=session_id), notice="floor_bid_placed", back=back)
