"""What an auction's changes tell its bidders (app.notifications' outbox, written in the
change's transaction): registration decided, won or lost, deposit released."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, DepositStatus, Registration, RegistrationStatus
from app.listings.models import Listing
from app.notifications.outbox import enqueue


async def lot_facts(session: AsyncSession, auction_id: int) -> dict[str, Any]:
    """What every notice of an auction says about it (no identities)."""
    row = (await session.execute(
        select(Listing.title, Auction.currency, Auction.deposit_amount, Auction.hammer_price)
        .join(Listing, Listing.id == Auction.listing_id).where(Auction.id == auction_id)
    )).one()
    return {"title": row.title, "currency": row.currency, "deposit_amount": str(row.deposit_amount),
            "hammer_price": str(row.hammer_price) if row.hammer_price is not None else None}


async def registration_decided(
    session: AsyncSession, *, registration: Registration, approved: bool
) -> None:
    """Tell the applicant organisation its registration was approved or rejected."""
    event_type = "registration.approved" if approved else "registration.rejected"
    facts = await lot_facts(session, registration.auction_id)
    await enqueue(
        session, event_type=event_type, organization_id=registration.organization_id,
        auction_id=registration.auction_id, dedup_key=f"{event_type}:{registration.id}",
        payload={"title": facts["title"], "registration_id": registration.id,
                 "paddle": registration.paddle},
    )


async def auction_closed(session: AsyncSession, *, auction_id: int) -> None:
    """At the close: the winner won, every other qualified bidder lost, and each loser whose
    own deposit the close released is told so (a session's shared deposit at its end)."""
    auction = await session.get(Auction, auction_id)
    facts = await lot_facts(session, auction_id)
    registrations = (await session.execute(
        select(Registration.id, Registration.organization_id, Registration.paddle,
               Registration.deposit_status, Registration.session_registration_id)
        .where(Registration.auction_id == auction_id,
               Registration.status == RegistrationStatus.qualified)
    )).all()
    for reg in registrations:
        won = reg.id == auction.winning_registration_id
        event_type = "auction.won" if won else "auction.lost"
        common = {"title": facts["title"], "currency": facts["currency"], "paddle": reg.paddle}
        await enqueue(session, event_type=event_type, organization_id=reg.organization_id,
                      auction_id=auction_id, dedup_key=f"{event_type}:{auction_id}:{reg.id}",
                      payload=common | {"hammer_price": facts["hammer_price"] if won else None})
        if (not won and reg.session_registration_id is None
                and reg.deposit_status is DepositStatus.released):
            await enqueue(session, event_type="deposit.released", organization_id=reg.organization_id,
                          auction_id=auction_id, dedup_key=f"deposit.released:{reg.id}",
                          payload=common | {"deposit_amount": facts["deposit_amount"]})
