"""What a session's changes tell its bidders (app.notifications' outbox, in the change's
transaction): session registration approved or rejected, the shared deposit released."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction
from app.notifications.outbox import enqueue
from app.sessions.models import AuctionSession, SessionRegistration


async def registration_decided(
    session: AsyncSession, *, event: AuctionSession, registration: SessionRegistration, approved: bool
) -> None:
    """Tell the applicant organisation its session registration was approved or rejected."""
    event_type = "registration.approved" if approved else "registration.rejected"
    await enqueue(
        session, event_type=event_type, organization_id=registration.organization_id,
        dedup_key=f"{event_type}:session:{registration.id}",
        payload={"title": event.title, "session_id": event.id, "registration_id": registration.id,
                 "paddle": registration.paddle},
    )


async def deposits_released(session: AsyncSession, *, session_id: int, registration_ids: list[int]) -> None:
    """Tell each organisation whose session deposit was released at the session's end."""
    if not registration_ids:
        return
    event = await session.get(AuctionSession, session_id)
    currency = await session.scalar(select(Auction.currency).where(Auction.session_id == session_id).limit(1))
    rows = (await session.execute(select(SessionRegistration.id, SessionRegistration.organization_id,
                                         SessionRegistration.paddle)
                                  .where(SessionRegistration.id.in_(registration_ids)))).all()
    for reg_id, org_id, paddle in rows:
        await enqueue(
            session, event_type="deposit.released", organization_id=org_id,
            dedup_key=f"deposit.released:session:{reg_id}",
            payload={"title": event.title, "session_id": session_id, "paddle": paddle,
                     "deposit_amount": str(event.deposit_amount), "currency": currency},
        )
