"""What the live room shows one viewer: the same services and filters as the API."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import registrations
from app.auctions import service as auctions
from app.auctions.domain.rules import SEALED_KINDS
from app.auctions.engine import Engine
from app.auctions.events import event_payload
from app.auctions.models import Auction, AuctionStatus, Bid, Registration, RegistrationStatus
from app.auctions.schemas import AuctionOut, AuctionResult
from app.closing import results
from app.listings import service as listings
from app.listings.schemas import ListingOut
from app.pagination import PageParams
from app.security import Principal, Role

HISTORY = 30


@dataclass
class OwnBid:
    amount: Decimal
    round_index: int
    placed_at: object


@dataclass
class RoomView:
    auction: AuctionOut
    listing: ListingOut
    history: list[dict]  # public bid events, newest first (paddles only)
    last_event_id: str | None
    registration: Registration | None
    own_bids: list[OwnBid]
    result: AuctionResult | None
    standing: str  # signin | none | register | pending | rejected | qualified | leading | outbid
    #               | sealed_bid | won | lost | closed

    @property
    def sealed(self) -> bool:
        return self.auction.current_round_kind in SEALED_KINDS

    @property
    def paddle(self) -> str | None:
        return self.registration.paddle if self.registration else None

    @property
    def can_bid(self) -> bool:
        return self.auction.status is AuctionStatus.open and self.standing in (
            "qualified", "leading", "outbid", "sealed_bid")


async def room(
    session: AsyncSession, *, engine: Engine, principal: Principal | None, auction: Auction
) -> RoomView:
    """The room of an auction as the principal may see it."""
    last_event_id = await _last_event_id(engine, auction.id)
    entries = await engine.bid_entries_newest_first(auction.id, sealed=False, before=None,
                                                    count=HISTORY)
    # The listing read (and its visibility check) first, and held: describe's get of the same
    # row is then answered from the session's identity map (weak: it keeps only rows in use),
    # one SQL query fewer per room page.
    row = await listings.get_listing(session, principal=principal, listing_id=auction.listing_id)
    view = await auctions.describe(session, engine=engine, auction=auction, principal=principal)
    listing = listings.to_out(row, principal)
    registration = await _registration(session, principal, auction.id)
    own = await _own_bids(session, principal, auction.id) if registration else []
    result = None
    if auction.status is AuctionStatus.closed and auction.outcome is not None:
        result = await results.result(session, auction=auction)
    return RoomView(
        auction=view, listing=listing, history=[event_payload(e) for e in entries if e.type == "bid"],
        last_event_id=last_event_id, registration=registration, own_bids=own, result=result,
        standing=_standing(principal, view, registration, own, result),
    )


async def _last_event_id(engine: Engine, auction_id: int) -> str | None:
    rows = await engine.redis.xrevrange(engine.keys(auction_id).events, count=1)
    if not rows:
        return None
    entry_id = rows[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def _registration(
    session: AsyncSession, principal: Principal | None, auction_id: int
) -> Registration | None:
    if principal is None or principal.role is not Role.enterprise:
        return None
    rows, _ = await registrations.list_registrations(
        session, principal=principal, auction_id=auction_id, page=PageParams(limit=1, after_id=None))
    return rows[0] if rows else None


async def _own_bids(session: AsyncSession, principal: Principal, auction_id: int) -> list[OwnBid]:
    """The viewer's own bids (his sealed ones included: they are his)."""
    rows = (await session.scalars(
        select(Bid).where(Bid.auction_id == auction_id,
                          Bid.organization_id == principal.organization_id)
        .order_by(Bid.sequence.desc()).limit(HISTORY)
    )).all()
    return [OwnBid(b.amount, b.round_index, b.placed_at) for b in rows]


def _standing(
    principal: Principal | None, view: AuctionOut, registration: Registration | None,
    own: list[OwnBid], result: AuctionResult | None,
) -> str:
    if principal is None:
        return "signin"
    if principal.role is not Role.enterprise:
        return "none"
    closed = view.status in (AuctionStatus.closed, AuctionStatus.cancelled)
    if registration is None:
        return "closed" if closed else "register"
    if registration.status is RegistrationStatus.pending:
        return "pending"
    if registration.status is RegistrationStatus.rejected:
        return "rejected"
    if closed:
        if result is not None and result.winning_paddle == registration.paddle:
            return "won"
        return "lost" if own else "closed"
    if view.current_round_kind in SEALED_KINDS:
        current = [b for b in own if b.round_index == view.current_round]
        return "sealed_bid" if current else "qualified"
    if view.leading_paddle is not None and view.leading_paddle == registration.paddle:
        return "leading"
    return "outbid" if own else "qualified"
