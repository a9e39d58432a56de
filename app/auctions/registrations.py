"""Bidder registrations: an enterprise applies, admin qualifies it against a deposit."""

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions import notices
from app.auctions.engine import Engine
from app.auctions.models import (
    Auction,
    AuctionStatus,
    DepositStatus,
    Registration,
    RegistrationStatus,
    deposit_reference_key,
)
from app.auctions.service import snapshot
from app.audit import ledger
from app.db import after_commit, flush_or_raise, utcnow
from app.errors import Conflict, NotFound
from app.identity.signup import require_verified
from app.pagination import PageParams, fetch_page
from app.security import Principal, Role

# Paddles are drawn at random from 1000..9999 (from 1000..90999 once half of those are taken).
PADDLE_SPACE = 9000


async def register(
    session: AsyncSession, *, engine: Engine, principal: Principal, auction: Auction
) -> Registration:
    """Apply to bid for the caller's enterprise, once verified; open until the auction's last
    round closes. A session's lot takes registrations for the whole session only."""
    if auction.session_id is not None:
        raise Conflict("This auction is a lot of a session: register for the session.",
                       code="session_lot")
    await require_verified(session, organization_id=principal.organization_id)
    await _require_open_for_registration(session, engine=engine, auction=auction)
    registration = Registration(
        auction_id=auction.id, organization_id=principal.organization_id,
        applicant_id=principal.user_id, status=RegistrationStatus.pending,
    )
    session.add(registration)
    await flush_or_raise(
        session, Conflict("Your organization is already registered.", code="already_registered")
    )
    await _record(session, principal, registration, "registration.created")
    return registration


async def _record(
    session: AsyncSession, principal: Principal, registration: Registration, action: str
) -> None:
    await ledger.append(
        session, actor_id=principal.user_id, action=action, entity_type="registration",
        entity_id=registration.id,
        payload={"auction_id": registration.auction_id,
                 "organization_id": registration.organization_id,
                 "status": registration.status.value, "paddle": registration.paddle,
                 "deposit_reference": registration.deposit_reference},
    )


async def _require_open_for_registration(
    session: AsyncSession, *, engine: Engine, auction: Auction
) -> None:
    snap = await snapshot(session, engine=engine, auction=auction)
    if auction.status in (AuctionStatus.closed, AuctionStatus.cancelled) or snap.status == "closed":
        raise Conflict("Registration has closed for this auction.", code="auction_closed")


async def get_registration(
    session: AsyncSession, *, principal: Principal, auction_id: int, registration_id: int
) -> Registration:
    """A registration the caller may read: staff any, an enterprise its own; else 404."""
    registration = await session.get(Registration, registration_id)
    if registration is None or registration.auction_id != auction_id or not _may_read(
        principal, registration
    ):
        raise NotFound("No such registration.", code="registration_not_found")
    return registration


def _may_read(principal: Principal, registration: Registration) -> bool:
    return principal.is_staff_reader or (
        principal.role is Role.enterprise
        and principal.organization_id == registration.organization_id
    )


async def list_registrations(
    session: AsyncSession, *, principal: Principal, auction_id: int, page: PageParams
) -> tuple[list[Registration], str | None]:
    """Registrations of an auction: staff all, an enterprise its own."""
    stmt = select(Registration).where(Registration.auction_id == auction_id)
    if not principal.is_staff_reader:
        stmt = stmt.where(Registration.organization_id == principal.organization_id)
    return await fetch_page(session, stmt, id_column=Registration.id, page=page)


async def approve(
    session: AsyncSession, *, engine: Engine, principal: Principal, auction: Auction,
    registration_id: int, deposit_reference: str,
) -> Registration:
    """Qualify a pending registration against a deposit; it gets a random paddle number."""
    # Lock the auction row first: approvals of one auction then pick paddles one at a time.
    # Taking it later deadlocks on PostgreSQL: updating a registration row this transaction
    # already updated (the claim) re-runs its FK checks, so each approval holds a KEY SHARE on
    # the auction row, and two of them then wait for each other to upgrade it to FOR UPDATE.
    await session.execute(select(Auction.id).where(Auction.id == auction.id).with_for_update())
    registration = await _claim_pending(
        session, auction_id=auction.id, registration_id=registration_id,
        target=RegistrationStatus.qualified,
    )
    await _require_open_for_registration(session, engine=engine, auction=auction)
    await _check_deposit_unused(session, deposit_reference)
    registration.deposit_reference = deposit_reference
    registration.deposit_reference_key = deposit_reference_key(deposit_reference)
    # the unique index decides between racing approvals of one deposit
    await flush_or_raise(session, _deposit_used())
    registration.deposit_status = DepositStatus.held
    registration.qualified_at = utcnow()
    registration.decided_by_id = principal.user_id
    await _assign_paddle(session, registration)
    organization_id, paddle = registration.organization_id, registration.paddle
    await _record(session, principal, registration, "registration.qualified")
    await notices.registration_decided(session, registration=registration, approved=True)
    after_commit(session, lambda: engine.qualify(auction.id, organization_id, paddle))
    return registration


def _deposit_used() -> Conflict:
    return Conflict("This deposit already qualified a registration.", code="deposit_already_used")


async def _check_deposit_unused(session: AsyncSession, deposit_reference: str) -> None:
    """Refused when a registration holds the same reference, whatever its case or spaces."""
    used = await session.scalar(
        select(Registration.id).where(
            Registration.deposit_reference_key == deposit_reference_key(deposit_reference))
    )
    if used is not None:
        raise _deposit_used()


async def _assign_paddle(session: AsyncSession, registration: Registration) -> None:
    """A random free paddle, so numbers say nothing about registration order (the caller holds
    the auction row lock)."""
    taken = set((await session.scalars(
        select(Registration.paddle).where(
            Registration.auction_id == registration.auction_id, Registration.paddle.is_not(None)
        )
    )).all())
    space = PADDLE_SPACE if len(taken) < PADDLE_SPACE // 2 else PADDLE_SPACE * 10
    while (paddle := str(PADDLE_SPACE // 9 + secrets.randbelow(space))) in taken:
        pass
    registration.paddle = paddle
    await flush_or_raise(session, Conflict(
        "This deposit already qualified a registration.", code="deposit_already_used"
    ))


async def reject(
    session: AsyncSession, *, principal: Principal, auction: Auction, registration_id: int
) -> Registration:
    """Refuse a pending registration."""
    registration = await _claim_pending(
        session, auction_id=auction.id, registration_id=registration_id,
        target=RegistrationStatus.rejected,
    )
    registration.decided_by_id = principal.user_id
    await session.flush()
    await _record(session, principal, registration, "registration.rejected")
    await notices.registration_decided(session, registration=registration, approved=False)
    return registration


async def _claim_pending(
    session: AsyncSession, *, auction_id: int, registration_id: int, target: RegistrationStatus
) -> Registration:
    """Move a pending registration to target; compare-and-set, so one of racing deciders wins."""
    registration = await session.scalar(
        select(Registration).where(
            Registration.id == registration_id, Registration.auction_id == auction_id
        )
    )
    if registration is None:
        raise NotFound("No such registration.", code="registration_not_found")
    claimed = await session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == RegistrationStatus.pending)
        .values(status=target).execution_options(synchronize_session=False)
    )
    await session.refresh(registration)
    if claimed.rowcount != 1:
        raise Conflict(
            f"The registration is already {registration.status.value}.", code="invalid_transition"
        )
    return registration
