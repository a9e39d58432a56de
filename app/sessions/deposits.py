"""The session deposit: held once for all lots, applied to the first lot won (by settlements,
on that lot's registration), released at the end when its bidder won nothing."""

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, DepositStatus, Registration, RegistrationStatus
from app.audit import ledger
from app.sessions import notices
from app.sessions.models import SessionRegistration


async def mark_applied(session: AsyncSession, *, auction: Auction) -> None:
    """Record on the winner's session registration that this lot's settlement applied it."""
    row = (await session.execute(
        select(Registration.session_registration_id, Registration.deposit_status)
        .join(Auction, Auction.winning_registration_id == Registration.id)
        .where(Auction.id == auction.id)
    )).first()  # read afresh: settlements moved the deposit with a bulk update
    if row is None or row.session_registration_id is None or row.deposit_status is not DepositStatus.applied:
        return
    shared = row.session_registration_id
    moved = await session.execute(
        update(SessionRegistration)
        .where(SessionRegistration.id == shared, SessionRegistration.deposit_status == DepositStatus.held)
        .values(deposit_status=DepositStatus.applied).execution_options(synchronize_session=False)
    )
    if moved.rowcount == 1:
        await ledger.append(session, actor_id=None, action="session.deposit_applied",
                            entity_type="session", entity_id=auction.session_id,
                            payload={"session_registration_id": shared, "auction_id": auction.id})


async def release_unused(session: AsyncSession, *, session_id: int) -> list[int]:
    """Release the session deposits still held (won nothing); the released registrations' ids."""
    held = (SessionRegistration.session_id == session_id,
            SessionRegistration.status == RegistrationStatus.qualified,
            SessionRegistration.deposit_status == DepositStatus.held)
    ids = sorted((await session.scalars(select(SessionRegistration.id).where(*held))).all())
    if ids:
        await session.execute(
            update(SessionRegistration).where(*held, SessionRegistration.id.in_(ids))
            .values(deposit_status=DepositStatus.released).execution_options(synchronize_session=False)
        )
    # every lot registration still holding (his lost lots), whether or not he won another
    lot_ids = select(Auction.id).where(Auction.session_id == session_id)
    await session.execute(
        update(Registration).where(
            Registration.auction_id.in_(lot_ids), Registration.session_registration_id.is_not(None),
            Registration.deposit_status == DepositStatus.held,
        ).values(deposit_status=DepositStatus.released).execution_options(synchronize_session=False)
    )
    await notices.deposits_released(session, session_id=session_id, registration_ids=ids)
    return ids
