"""Session-wide registration: one deposit and one paddle qualify an enterprise for every lot."""

import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine
from app.auctions.models import (
    Auction,
    AuctionStatus,
    DepositStatus,
    Registration,
    RegistrationStatus,
)
from app.audit import ledger
from app.db import after_commit, flush_or_raise, utcnow
from app.errors import Conflict, NotFound
from app.identity.signup import require_verified
from app.pagination import PageParams, fetch_page
from app.schemas import datetime_to_ms
from app.security import Principal
from app.sessions import notices
from app.sessions.models import AuctionSession, SessionRegistration, SessionStatus

PADDLE_FIRST, PADDLE_SPACE = 1000, 9000  # 1000..9999, ten times more once half are taken


async def _require_open(engine: Engine, event: AuctionSession) -> None:
    """Registration is open from publishing until registration_closes_at or the session ends."""
    closes = event.registration_closes_at
    if event.status is not SessionStatus.published or (
        closes is not None and datetime_to_ms(closes) <= await engine.server_time_ms()
    ):
        raise Conflict("Registration has closed for this session.", code="registration_closed")


async def register(
    session: AsyncSession, *, engine: Engine, principal: Principal, event: AuctionSession
) -> SessionRegistration:
    """Apply to bid in every lot of the session for the caller's enterprise (pending), once
    the enterprise is verified."""
    await _require_open(engine, event)
    await require_verified(session, organization_id=principal.organization_id)
    registration = SessionRegistration(
        session_id=event.id, organization_id=principal.organization_id,
        applicant_id=principal.user_id, status=RegistrationStatus.pending,
    )
    session.add(registration)
    await flush_or_raise(session, Conflict("Your organization is already registered.",
                                           code="already_registered"))
    await _record(session, principal, registration, "session.registration_created")
    return registration


async def _record(session: AsyncSession, principal: Principal, registration: SessionRegistration,
                  action: str, **extra: object) -> None:
    await ledger.append(
        session, actor_id=principal.user_id, action=action, entity_type="session_registration",
        entity_id=registration.id,
        payload={"session_id": registration.session_id,
                 "organization_id": registration.organization_id,
                 "status": registration.status.value, "paddle": registration.paddle,
                 "deposit_reference": registration.deposit_reference} | extra,
    )


async def list_registrations(
    session: AsyncSession, *, principal: Principal, session_id: int, page: PageParams
) -> tuple[list[SessionRegistration], str | None]:
    """The session's registrations: admin and auditor all, an enterprise its own."""
    stmt = select(SessionRegistration).where(SessionRegistration.session_id == session_id)
    if not principal.is_staff_reader:
        stmt = stmt.where(SessionRegistration.organization_id == principal.organization_id)
    return await fetch_page(session, stmt, id_column=SessionRegistration.id, page=page)


async def _claim_pending(session: AsyncSession, *, session_id: int, registration_id: int,
                         target: RegistrationStatus) -> SessionRegistration:
    """pending -> target, compare-and-set: one of racing deciders wins, the others get 409."""
    registration = await session.get(SessionRegistration, registration_id)
    if registration is None or registration.session_id != session_id:
        raise NotFound("No such registration.", code="registration_not_found")
    claimed = await session.execute(
        update(SessionRegistration).where(SessionRegistration.id == registration_id,
                                          SessionRegistration.status == RegistrationStatus.pending)
        .values(status=target).execution_options(synchronize_session=False)
    )
    await session.refresh(registration)
    if claimed.rowcount != 1:
        raise Conflict(f"The registration is already {registration.status.value}.",
                       code="invalid_transition")
    return registration


async def approve(
    session: AsyncSession, *, engine: Engine, principal: Principal, event: AuctionSession,
    registration_id: int, deposit_reference: str,
) -> SessionRegistration:
    """Qualify against one deposit, with one paddle, for every lot not yet closed."""
    # Each lot gets a qualified Registration with the paddle (the engine learns them too).
    # The caller holds the session row lock, so approvals pick paddles one at a time.
    registration = await _claim_pending(session, session_id=event.id, registration_id=registration_id,
                                        target=RegistrationStatus.qualified)
    await _require_open(engine, event)
    used = await session.scalar(select(SessionRegistration.id).where(
        SessionRegistration.deposit_reference == deposit_reference).union_all(
        select(Registration.id).where(Registration.deposit_reference == deposit_reference)).limit(1))
    if used is not None:
        raise Conflict("This deposit already qualified a registration.", code="deposit_already_used")
    now = utcnow()
    registration.deposit_reference, registration.deposit_status = deposit_reference, DepositStatus.held
    registration.qualified_at, registration.decided_by_id = now, principal.user_id
    registration.paddle = await _draw_paddle(session, event.id)
    lots = (await session.scalars(select(Auction).where(
        Auction.session_id == event.id,
        or_(Auction.status == AuctionStatus.scheduled, Auction.status == AuctionStatus.open),
    ).order_by(Auction.lot_number))).all()
    session.add_all(Registration(
        auction_id=lot.id, organization_id=registration.organization_id,
        applicant_id=registration.applicant_id, status=RegistrationStatus.qualified,
        paddle=registration.paddle, deposit_status=DepositStatus.held, qualified_at=now,
        decided_by_id=principal.user_id, session_registration_id=registration.id,
    ) for lot in lots)
    await flush_or_raise(session, Conflict("This deposit already qualified a registration.",
                                           code="deposit_already_used"))
    ids = [lot.id for lot in lots]
    await _record(session, principal, registration, "session.registration_qualified", auction_ids=ids)
    await notices.registration_decided(session, event=event, registration=registration, approved=True)
    organization_id, paddle = registration.organization_id, registration.paddle
    after_commit(session, lambda: _qualify(engine, ids, organization_id, paddle))
    return registration


async def _qualify(engine: Engine, auction_ids: list[int], organization_id: int, paddle: str) -> None:
    # Every lot, loaded or not: a live lot loaded meanwhile must know him too.
    for auction_id in auction_ids:
        await engine.qualify(auction_id, organization_id, paddle)


async def _draw_paddle(session: AsyncSession, session_id: int) -> str:
    """A random paddle free in the session: numbers say nothing about registration order."""
    taken = set((await session.scalars(select(SessionRegistration.paddle).where(
        SessionRegistration.session_id == session_id, SessionRegistration.paddle.is_not(None)))).all())
    space = PADDLE_SPACE if len(taken) < PADDLE_SPACE // 2 else PADDLE_SPACE * 10
    while (paddle := str(PADDLE_FIRST + secrets.randbelow(space))) in taken:
        pass
    return paddle


async def reject(session: AsyncSession, *, principal: Principal, event: AuctionSession,
                 registration_id: int) -> SessionRegistration:
    """Refuse a pending registration."""
    registration = await _claim_pending(session, session_id=event.id, registration_id=registration_id,
                                        target=RegistrationStatus.rejected)
    registration.decided_by_id = principal.user_id
    await session.flush()
    await _record(session, principal, registration, "session.registration_rejected")
    await notices.registration_decided(session, event=event, registration=registration, approved=False)
    return registration
