"""The lot's live room: reading, registering and bidding (forms; JSON for the room's script)."""

import re
import secrets

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from app.auctions import bidding, registrations
from app.auctions import service as auctions
from app.auctions.events import subscribe
from app.auctions.schemas import BidCreate
from app.db import commit
from app.errors import AppError, NotFound
from app.schemas import IdPath
from app.security import Role
from app.web.messages import message
from app.web.page import PageDep, PageError
from app.web.views import room as room_view
from app.web.views.dossier import dossier

router = APIRouter(include_in_schema=False)


async def _auction(page, auction_id: int):
    try:
        return await auctions.get_auction(page.db, auction_id=auction_id)
    except NotFound as exc:
        raise PageError(404, page.gettext("There is no such auction.")) from exc


@router.get("/auctions/{auction_id}")
async def room(page: PageDep, auction_id: IdPath) -> Response:
    auction = await _auction(page, auction_id)
    state = page.request.app.state
    view = await room_view.room(page.db, engine=state.engine, principal=page.principal,
                                auction=auction)
    lot_dossier = await dossier(page.db, principal=page.principal, auction=auction)
    notice = page.request.query_params.get("notice")
    error = page.request.query_params.get("error")
    return page.render(
        "room.html", view=view, dossier=lot_dossier, idempotency_key=secrets.token_urlsafe(12),
        notice=message(notice) if notice else None, error=message(error) if error else None,
    )


@router.post("/auctions/{auction_id}/register")
async def register(page: PageDep, auction_id: IdPath) -> Response:
    await page.form()
    _require_enterprise(page)
    auction = await _auction(page, auction_id)
    try:
        async with page.changes():
            await registrations.register(page.db, engine=page.request.app.state.engine,
                                         principal=page.principal, auction=auction)
    except AppError as exc:
        return page.redirect(f"/auctions/{auction_id}?error={exc.code}")
    return page.redirect(f"/auctions/{auction_id}?notice=registered")


@router.post("/auctions/{auction_id}/bid")
async def bid(page: PageDep, auction_id: IdPath) -> Response:
    """A bid from the room's form: `amount`, or `max_amount` for a proxy maximum."""
    form = await page.form()
    _require_enterprise(page)
    wants_json = "application/json" in page.request.headers.get("accept", "")
    fields = {k: form[k].strip() for k in ("amount", "max_amount") if form.get(k, "").strip()}
    try:
        data = BidCreate.model_validate(fields)
    except ValidationError:
        return _bid_answer(page, auction_id, wants_json, error="invalid_amount")
    key = form.get("idempotency_key") or None
    if key is not None and (len(key) > 64 or not key.isascii() or not key.isprintable()):
        key = None
    state = page.request.app.state
    # The page's own transaction holds nothing yet; the bid path commits on its own.
    await commit(page.db)
    try:
        placed = await bidding.place_bid(
            engine=state.engine, journal=state.journal, sessionmaker=state.sessionmaker,
            principal=page.principal, auction_id=auction_id, amount=data.amount,
            max_amount=data.max_amount, idempotency_key=f"web-{key}" if key else None,
        )
    except AppError as exc:
        return _bid_answer(page, auction_id, wants_json, error=exc.code, status=exc.status)
    notice = "proxy_set" if data.max_amount is not None else "bid_accepted"
    return _bid_answer(page, auction_id, wants_json, notice=notice,
                       bid=placed.model_dump(mode="json", exclude={"organization_id", "id"}))


def _bid_answer(page, auction_id: int, wants_json: bool, *, notice: str | None = None,
                error: str | None = None, status: int = 422, bid: dict | None = None) -> Response:
    if not wants_json:
        query = f"notice={notice}" if notice else f"error={error}"
        return page.redirect(f"/auctions/{auction_id}?{query}#bid")
    code = notice or error
    body = {"ok": error is None, "code": code, "message": page.gettext(message(code)), "bid": bid}
    return page.finish(JSONResponse(body, status_code=201 if error is None else status))


def _require_enterprise(page) -> None:
    if page.user is None:
        raise PageError(401, page.gettext("Sign in first."))
    if page.user.role is not Role.enterprise:
        raise PageError(403, page.gettext("Only a qualified enterprise may bid."))


_EVENT_ID = re.compile(r"^[0-9]{1,20}-[0-9]{1,20}$")


@router.get("/auctions/{auction_id}/events")
async def events(request: Request, page: PageDep, auction_id: IdPath) -> Response:
    """The room's event stream: the API's (GET /api/v1/auctions/{id}/events), resumable from
    the page's last event (?after=) on first connection; EventSource sends Last-Event-ID on
    reconnection, which wins."""
    resume = request.headers.get("last-event-id") or request.query_params.get("after") or None
    if resume is not None and not _EVENT_ID.match(resume):
        return page.finish(JSONResponse({"code": "validation_error"}, status_code=422))
    await _auction(page, auction_id)
    await commit(page.db)  # hold no transaction for the life of the stream
    # the API's live feed (app/feed): one reader per lot, whatever the number of rooms open
    return await subscribe(request, engine=request.app.state.engine, auction_id=auction_id,
                           last_event_id=resume)
