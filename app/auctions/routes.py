"""Auction, registration and bid endpoints: thin views over the services."""

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from sse_starlette import EventSourceResponse

from app.auctions import absentee, bidding, floor, registrations, service
from app.auctions import events as feed
from app.auctions.bid_route import BidRoute, IdempotencyKey
from app.auctions.engine import Engine
from app.auctions.models import AuctionStatus
from app.auctions.own_listing import AuctionBidder
from app.auctions.schemas import (
    AbsenteeOut,
    AuctionCreate,
    AuctionOut,
    BidCreate,
    BidOut,
    FloorBidCreate,
    RegistrationApprove,
    RegistrationOut,
)
from app.db import SessionDep
from app.errors import Conflict
from app.pagination import PageDep
from app.schemas import MAX_DB_ID, IdPath, NoBody, Page
from app.security import AdminUser, CurrentUser, OptionalUser

router = APIRouter(prefix="/auctions", tags=["auctions"])


async def _engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(_engine)]


async def place_bid(
    request: Request, principal: AuctionBidder, auction_id: IdPath, data: BidCreate,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Bid (qualified enterprise). A 201 means the bid is accepted and in the durable trail.
    Before an english session lot opens, {max_amount} is an absentee bid: 202 {status:
    "absentee", ...}, replaceable until the opening, bidding for him from it."""
    # The hot path takes no request session (the journal group-commits the trail), and its
    # parameters are read by BidRoute.
    state = request.app.state
    bid = partial(bidding.place_bid, engine=state.engine, journal=state.journal,
                  sessionmaker=state.sessionmaker, principal=principal, auction_id=auction_id,
                  amount=data.amount, max_amount=data.max_amount, idempotency_key=idempotency_key)
    if data.max_amount is not None and idempotency_key is not None:  # a retry of an absentee bid
        left = await absentee.replayed(sessionmaker=state.sessionmaker, principal=principal,
                                       auction_id=auction_id, max_amount=data.max_amount,
                                       idempotency_key=idempotency_key)
        if left is not None:
            return Response(left.model_dump_json(), status_code=202, media_type="application/json")
    try:
        placed = await bid()
    except Conflict as exc:
        if exc.code != "auction_not_open" or data.max_amount is None:
            raise
        try:  # before an english lot opens, a maximum is left as an absentee bid (202)
            left = await absentee.leave(engine=state.engine, sessionmaker=state.sessionmaker,
                                        principal=principal, auction_id=auction_id,
                                        max_amount=data.max_amount,
                                        idempotency_key=idempotency_key)
        except absentee.LotOpened:
            placed = await bid()
        else:
            return Response(left.model_dump_json(), status_code=202, media_type="application/json")
    # serialised once here, not validated again by FastAPI
    return Response(placed.model_dump_json(), status_code=201, media_type="application/json")


def mount_bid_route(app: FastAPI, *, prefix: str, responses: dict) -> None:
    """Put the bid route first of all the app's routes, on the app itself.

    Routes are matched one by one in order, and a route in an included router is reached
    through the router's own layers of matching; the hot path skips both."""
    app.router.add_api_route(
        f"{prefix}{router.prefix}/{{auction_id}}/bids", place_bid, methods=["POST"],
        status_code=201, response_model=BidOut, tags=router.tags,
        responses=responses | {202: {"model": AbsenteeOut,
                                     "description": "An absentee maximum left before the opening"}},
        route_class_override=BidRoute,
    )
    app.router.routes.insert(0, app.router.routes.pop())


@router.post("", status_code=201, response_model=AuctionOut)
async def create_auction(
    session: SessionDep, engine: EngineDep, principal: AdminUser, data: AuctionCreate
) -> AuctionOut:
    """Schedule an auction of an approved listing (admin)."""
    auction = await service.create_auction(session, engine=engine, principal=principal, data=data)
    return await service.describe(session, engine=engine, auction=auction, principal=principal)


@router.get("", response_model=Page[AuctionOut])
async def list_auctions(
    session: SessionDep, engine: EngineDep, principal: OptionalUser, page: PageDep,
    listing_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
    status: AuctionStatus | None = None,
):
    """Auctions, newest first, with their live state. A status filter applies to the live
    status; a page is short only at the end, or after 2,000 auctions were examined."""
    items, cursor = await service.list_auctions(
        session, engine=engine, principal=principal, page=page, listing_id=listing_id,
        status=status,
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{auction_id}", response_model=AuctionOut)
async def get_auction(
    session: SessionDep, engine: EngineDep, principal: OptionalUser, auction_id: IdPath
) -> AuctionOut:
    """One auction with its live state: status, price, leading paddle, ends_at, server_time."""
    auction = await service.get_auction(session, auction_id=auction_id, principal=principal)
    return await service.describe(session, engine=engine, auction=auction, principal=principal)


# Registrations, bids and events: included after closing's result route (app/main.py), so the
# API document keeps its order.
bidders_router = APIRouter(prefix="/auctions", tags=["auctions"])


@bidders_router.post("/{auction_id}/registrations", status_code=201, response_model=RegistrationOut)
async def register(
    session: SessionDep, engine: EngineDep, principal: AuctionBidder, auction_id: IdPath,
    body: NoBody = None,
) -> RegistrationOut:
    """Apply to bid (enterprise); pending until admin qualifies it."""
    auction = await service.get_auction(session, auction_id=auction_id)
    registration = await registrations.register(
        session, engine=engine, principal=principal, auction=auction
    )
    return RegistrationOut.model_validate(registration)


@bidders_router.get("/{auction_id}/registrations", response_model=Page[RegistrationOut])
async def list_registrations(
    session: SessionDep, principal: CurrentUser, auction_id: IdPath, page: PageDep
):
    """Registrations: admin and auditor see all, an enterprise its own."""
    await service.get_auction(session, auction_id=auction_id)
    rows, cursor = await registrations.list_registrations(
        session, principal=principal, auction_id=auction_id, page=page
    )
    return Page(items=[RegistrationOut.model_validate(r) for r in rows], next_cursor=cursor)


@bidders_router.get("/{auction_id}/registrations/{registration_id}", response_model=RegistrationOut)
async def get_registration(
    session: SessionDep, principal: CurrentUser, auction_id: IdPath, registration_id: IdPath
) -> RegistrationOut:
    """One registration (admin, auditor, or the registered enterprise)."""
    registration = await registrations.get_registration(
        session, principal=principal, auction_id=auction_id, registration_id=registration_id
    )
    return RegistrationOut.model_validate(registration)


@bidders_router.post(
    "/{auction_id}/registrations/{registration_id}/approve", response_model=RegistrationOut
)
async def approve_registration(
    session: SessionDep, engine: EngineDep, principal: AdminUser, auction_id: IdPath,
    registration_id: IdPath, data: RegistrationApprove,
) -> RegistrationOut:
    """Qualify a registration against its deposit; assigns the paddle (admin)."""
    auction = await service.get_auction(session, auction_id=auction_id)
    registration = await registrations.approve(
        session, engine=engine, principal=principal, auction=auction,
        registration_id=registration_id, deposit_reference=data.deposit_reference,
    )
    return RegistrationOut.model_validate(registration)


@bidders_router.post(
    "/{auction_id}/registrations/{registration_id}/reject", response_model=RegistrationOut
)
async def reject_registration(
    session: SessionDep, principal: AdminUser, auction_id: IdPath, registration_id: IdPath,
    body: NoBody = None,
) -> RegistrationOut:
    """Refuse a pending registration (admin)."""
    auction = await service.get_auction(session, auction_id=auction_id)
    registration = await registrations.reject(
        session, principal=principal, auction=auction, registration_id=registration_id
    )
    return RegistrationOut.model_validate(registration)


@bidders_router.get("/{auction_id}/bids", response_model=Page[BidOut])
async def list_bids(
    session: SessionDep, principal: OptionalUser, auction_id: IdPath, page: PageDep
):
    """Accepted bids, newest first; bidders appear as paddles except to admin and auditor.
    Bids of a sealed round are shown only to admin and auditor until the round closes."""
    auction = await service.get_auction(session, auction_id=auction_id)
    staff = principal is not None and principal.is_staff_reader
    rows, cursor = await bidding.list_bids(session, auction=auction, page=page, staff=staff)
    return Page(items=[bidding.bid_out(b, principal) for b in rows], next_cursor=cursor)


@bidders_router.post("/{auction_id}/floor-bids", status_code=201, response_model=BidOut)
async def place_floor_bid(
    request: Request, principal: AdminUser, auction_id: IdPath, data: FloorBidCreate,
    idempotency_key: IdempotencyKey = None,
) -> BidOut:
    """A paddle's bid raised in the room, entered by the clerk (admin): the rules of an online
    bid; the trail records channel floor and the clerk. 409 unknown_paddle for a paddle not
    qualified in the auction."""
    state = request.app.state
    return await floor.place_floor_bid(
        engine=state.engine, journal=state.journal, sessionmaker=state.sessionmaker,
        clerk=principal, auction_id=auction_id, paddle=data.paddle, amount=data.amount,
        idempotency_key=idempotency_key)


@bidders_router.get("/{auction_id}/events", response_class=EventSourceResponse)
async def events(
    request: Request, session: SessionDep, engine: EngineDep, auction_id: IdPath,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=64, pattern=r"^[0-9]+-[0-9]+$")
    ] = None,
) -> Response:
    """Server-Sent Events: bid, extended, round_closed, closed; resume with Last-Event-ID."""
    await service.get_auction(session, auction_id=auction_id)
    return await feed.subscribe(request, engine=engine, auction_id=auction_id,
                                last_event_id=last_event_id)
