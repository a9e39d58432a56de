"""The enterprise-only guard of registering and bidding, which tells an institute trying
either on its own listing so (403 own_listing) instead of a bare role refusal.

Only a refused caller costs a database read: an enterprise goes through on his token alone.
"""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from app.auctions.models import Auction
from app.errors import Forbidden
from app.listings.models import Listing
from app.security import BearerToken, Principal, Role, check_role, required_principal

_BIDDERS = (Role.enterprise,)


async def bidder_for(request: Request, token: str | None, auction_id: object) -> Principal:
    """The caller if he is an enterprise (401 without a valid token); 403 own_listing for an
    institute whose organisation's listing the auction sells, 403 forbidden_role otherwise."""
    principal = await required_principal(request, token)
    if principal.role is Role.institute and await _owns(request, principal, auction_id):
        raise Forbidden("An institute may not register for or bid on its own listing.",
                        code="own_listing")
    return check_role(principal, _BIDDERS)


async def _owns(request: Request, principal: Principal, auction_id: object) -> bool:
    try:
        auction_id = int(str(auction_id))
    except ValueError:
        return False
    if principal.organization_id is None or not 0 < auction_id < 2**63:
        return False
    async with request.app.state.sessionmaker() as session:
        owner = await session.scalar(
            select(Listing.organization_id).join(Auction, Auction.listing_id == Listing.id)
            .where(Auction.id == auction_id)
        )
    return owner == principal.organization_id


async def _registrant(request: Request, token: BearerToken) -> Principal:
    return await bidder_for(request, token, request.path_params.get("auction_id"))


# An enterprise user, for an auction's route: an institute is told when the listing is his own.
AuctionBidder = Annotated[Principal, Depends(_registrant)]
