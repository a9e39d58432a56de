"""Session endpoints: thin views over the services."""

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from app.auctions.routes import EngineDep
from app.auctions.schemas import RegistrationApprove
from app.db import SessionDep
from app.pagination import PageDep
from app.schemas import IdPath, NoBody, Page, encode_cursor
from app.security import AdminUser, CurrentUser, EnterpriseUser, OptionalUser
from app.sessions import control, registrations, results, service, stream, views
from app.sessions.schemas import (
    LotCreate,
    LotOut,
    SessionCreate,
    SessionOut,
    SessionRegistrationOut,
    SessionResults,
    WithdrawalOut,
    WithdrawIn,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])
CSV_MEDIA_TYPE = "text/csv"


@router.post("", status_code=201, response_model=SessionOut)
async def create_session(
    session: SessionDep, engine: EngineDep, principal: AdminUser, data: SessionCreate
) -> SessionOut:
    """Create a draft session (admin): its lots default to these terms."""
    event = await service.create_session(session, engine=engine, principal=principal, data=data)
    return views.session_out(event, now_ms=await engine.server_time_ms())


@router.get("", response_model=Page[SessionOut])
async def list_sessions(session: SessionDep, engine: EngineDep, principal: OptionalUser, page: PageDep):
    """Sessions, newest first (drafts: admin and auditor only); without their lots."""
    rows, cursor = await service.list_sessions(session, principal=principal, page=page)
    now_ms = await engine.server_time_ms()
    return Page(items=[views.session_out(e, now_ms=now_ms) for e in rows], next_cursor=cursor)


@router.get("/{session_id}", response_model=SessionOut)
async def get_session(
    session: SessionDep, engine: EngineDep, principal: OptionalUser, session_id: IdPath
) -> SessionOut:
    """The session and every lot with its live state (one Redis round trip for all lots)."""
    event = await service.get_session(session, session_id=session_id, principal=principal)
    lots = await service.lots_of(session, session_id=event.id)
    now_ms, lot_views = await views.lot_views(session, engine=engine, lots=lots, principal=principal)
    return views.session_out(event, now_ms=now_ms, lots=lot_views)


@router.post("/{session_id}/lots", status_code=201, response_model=LotOut)
async def add_lot(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath, data: LotCreate
) -> LotOut:
    """Add a lot to a draft session (admin): an auction of an approved (or passed) listing."""
    lot = await service.add_lot(session, engine=engine, principal=principal, session_id=session_id,
                                data=data)
    _, (view,) = await views.lot_views(session, engine=engine, lots=[lot], principal=principal)
    return view


@router.get("/{session_id}/lots", response_model=Page[LotOut])
async def list_lots(
    session: SessionDep, engine: EngineDep, principal: OptionalUser, session_id: IdPath, page: PageDep
):
    """The lots in lot_number order, with their live state."""
    event = await service.get_session(session, session_id=session_id, principal=principal)
    lots = await service.lots_of(session, session_id=event.id, after=page.after_id, limit=page.limit + 1)
    more = len(lots) > page.limit
    _, items = await views.lot_views(session, engine=engine, lots=lots[: page.limit], principal=principal)
    return Page(items=items, next_cursor=encode_cursor(items[-1].lot_number) if more else None)


@router.post("/{session_id}/publish", response_model=SessionOut)
async def publish(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath,
    body: NoBody = None,
):
    """Publish the catalogue and fix the schedule (admin)."""
    event = await service.publish(session, engine=engine, principal=principal, session_id=session_id)
    return views.session_out(event, now_ms=await engine.server_time_ms())


@router.post("/{session_id}/cancel", response_model=SessionOut)
async def cancel(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath,
    body: NoBody = None,
):
    """Cancel the session (admin): lots not yet closed are withdrawn, unused deposits released."""
    event = await service.cancel(session, engine=engine, principal=principal, session_id=session_id)
    return views.session_out(event, now_ms=await engine.server_time_ms())


@router.post("/{session_id}/pause", response_model=SessionOut)
async def pause(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath,
    body: NoBody = None,
):
    """Pause a running session (admin): no bid is taken and no lot opens or closes; each
    lot's remaining time is kept for the resume."""
    event = await control.pause(session, engine=engine, principal=principal, session_id=session_id)
    return views.session_out(event, now_ms=await engine.server_time_ms())


@router.post("/{session_id}/resume", response_model=SessionOut)
async def resume(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath,
    body: NoBody = None,
):
    """Resume a paused session (admin): every lot's close moves by the pause's length."""
    event = await control.resume(session, engine=engine, principal=principal, session_id=session_id)
    return views.session_out(event, now_ms=await engine.server_time_ms())


@router.get("/{session_id}/events", response_class=EventSourceResponse)
async def events(
    request: Request, session: SessionDep, engine: EngineDep, principal: OptionalUser,
    session_id: IdPath,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=64, pattern=r"^[0-9]+-[0-9]+$")
    ] = None,
) -> Response:
    """Server-Sent Events of the session: lot_opened, lot_closed (outcome sold|passed|
    withdrawn), session_paused, session_resumed, then session_finished or session_cancelled;
    resume with Last-Event-ID. Each lot's bids: GET /auctions/{id}/events."""
    await service.get_session(session, session_id=session_id, principal=principal)
    return await stream.subscribe(request, engine=engine, session_id=session_id,
                                  last_event_id=last_event_id)


@router.post("/{session_id}/registrations", status_code=201, response_model=SessionRegistrationOut)
async def register(
    session: SessionDep, engine: EngineDep, principal: EnterpriseUser, session_id: IdPath,
    body: NoBody = None,
) -> SessionRegistrationOut:
    """Apply to bid in every lot (enterprise); pending until admin qualifies it."""
    event = await service.get_session(session, session_id=session_id, principal=principal)
    registration = await registrations.register(session, engine=engine, principal=principal, event=event)
    return SessionRegistrationOut.model_validate(registration)


@router.get("/{session_id}/registrations", response_model=Page[SessionRegistrationOut])
async def list_registrations(session: SessionDep, principal: CurrentUser, session_id: IdPath,
                             page: PageDep):
    """Session registrations: admin and auditor see all, an enterprise its own."""
    await service.get_session(session, session_id=session_id, principal=principal)
    rows, cursor = await registrations.list_registrations(
        session, principal=principal, session_id=session_id, page=page)
    return Page(items=[SessionRegistrationOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.post("/{session_id}/registrations/{registration_id}/approve",
             response_model=SessionRegistrationOut)
async def approve_registration(
    session: SessionDep, engine: EngineDep, principal: AdminUser, session_id: IdPath,
    registration_id: IdPath, data: RegistrationApprove,
) -> SessionRegistrationOut:
    """Qualify for every lot against one deposit, with one paddle for the session (admin)."""
    event = await service.get_session(session, session_id=session_id, principal=principal, lock=True)
    registration = await registrations.approve(
        session, engine=engine, principal=principal, event=event, registration_id=registration_id,
        deposit_reference=data.deposit_reference)
    return SessionRegistrationOut.model_validate(registration)


@router.post("/{session_id}/registrations/{registration_id}/reject",
             response_model=SessionRegistrationOut)
async def reject_registration(
    session: SessionDep, principal: AdminUser, session_id: IdPath, registration_id: IdPath,
    body: NoBody = None,
) -> SessionRegistrationOut:
    """Refuse a pending session registration (admin)."""
    event = await service.get_session(session, session_id=session_id, principal=principal)
    registration = await registrations.reject(session, principal=principal, event=event,
                                              registration_id=registration_id)
    return SessionRegistrationOut.model_validate(registration)


@router.get("/{session_id}/results", response_model=SessionResults, responses={200: {
    "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
    "description": "The results notice; as CSV (one row per lot) with ?format=csv or Accept: text/csv",
}})
async def get_results(
    session: SessionDep, principal: OptionalUser, session_id: IdPath,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
):
    """The results notice, public once the session is finished (or cancelled)."""
    event = await service.get_session(session, session_id=session_id, principal=principal)
    notice = await results.results(session, event=event)
    if format == "csv" or (format is None and CSV_MEDIA_TYPE in (accept or "")):
        return Response(results.to_csv(notice), media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="session-{event.id}-results.csv"'})
    return notice


# POST /auctions/{id}/withdraw: a lot's control, served here (sessions build on auctions).
lots_router = APIRouter(prefix="/auctions", tags=["sessions"])


@lots_router.post("/{auction_id}/withdraw", response_model=WithdrawalOut)
async def withdraw(
    session: SessionDep, engine: EngineDep, principal: AdminUser, auction_id: IdPath, data: WithdrawIn,
) -> WithdrawalOut:
    """Withdraw a lot not yet closed (admin): bids stop, it closes as withdrawn without a
    sale; in a live session the next lot opens after the gap."""
    lot = await control.withdraw(session, engine=engine, principal=principal, auction_id=auction_id,
                                 reason=data.reason)
    return WithdrawalOut(auction_id=lot.id, session_id=lot.session_id, lot_number=lot.lot_number,
                         reason=data.reason, closed_at=lot.closed_at)
