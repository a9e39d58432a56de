"""Settlements: made with the close (exactly once), then paid, completed or defaulted.

At the close (``settle_close``, inside the closer's transaction that claims the auction):
bids the engine accepted but the SQL trail lacks are recovered from the auction's event
stream, the trail is digested, the winner's settlement is created and deposits move (the
winner's applied, everyone else's released). Everything is one transaction, so a crash
leaves either all of it or none, and the conditional claim lets exactly one closer do it.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.engine import Engine
from app.auctions.models import Auction, Bid, DepositStatus, Registration, RegistrationStatus
from app.auctions.trail import completion
from app.audit import ledger
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.identity.models import Organization
from app.listings.models import Listing, ListingStatus
from app.pagination import PageParams, fetch_page
from app.security import Principal, Role
from app.settlements import notices, rules, trail
from app.settlements.models import Settlement, SettlementStatus
from app.settlements.rules import Action
from app.settlements.schemas import Party, SettlementOut

# ---------------------------------------------------------------------- at the close


async def settle_close(
    session: AsyncSession, *, engine: Engine, auction_id: int, winner_registration_id: int | None,
    hammer_price: Decimal | None, closed_at: datetime,
) -> Settlement | None:
    """Complete the trail, then settle the winner or release every deposit (unsold)."""
    recovered = await completion.recover(session, engine=engine, auction_id=auction_id)
    if recovered:
        await ledger.append(
            session, actor_id=None, action="bids.recovered", entity_type="auction",
            entity_id=auction_id, payload={"sequences": recovered, "source": "engine_event_stream"},
        )
    if winner_registration_id is None or hammer_price is None:
        released = await _release_others(session, auction_id=auction_id, keep=None)
        await ledger.append(
            session, actor_id=None, action="deposits.released", entity_type="auction",
            entity_id=auction_id, payload={"released_registration_ids": released},
        )
        return None
    digest = await trail.digest(session, auction_id=auction_id)
    auction = await session.get(Auction, auction_id)
    registration = await session.get(Registration, winner_registration_id)
    applied = await _apply_deposit(session, registration)
    settlement = await _create(
        session, auction=auction, registration=registration, hammer_price=hammer_price,
        as_of=rules.utc_date(closed_at), deposit=auction.deposit_amount if applied else Decimal(0),
        bid_count=digest.count, bid_trail_sha256=digest.hexdigest(),
    )
    released = await _release_others(session, auction_id=auction_id, keep=registration.id)
    await _record_created(session, settlement, actor_id=None,
                          applied=[registration.id] if applied else [], released=released)
    return settlement


async def _create(
    session: AsyncSession, *, auction: Auction, registration: Registration, hammer_price: Decimal,
    as_of: date, deposit: Decimal, bid_count: int, bid_trail_sha256: str, attempt: int = 1,
    second_chance_of_id: int | None = None,
) -> Settlement:
    listing = await session.get(Listing, auction.listing_id)
    terms = rules.compute_terms(
        hammer_price=hammer_price, buyer_premium_rate=auction.buyer_premium_rate,
        seller_commission_rate=auction.seller_commission_rate, deposit=deposit, as_of=as_of,
        payment_days=auction.payment_days,
    )
    settlement = Settlement(
        auction_id=auction.id, attempt=attempt, listing_id=listing.id,
        institute_organization_id=listing.organization_id,
        buyer_organization_id=registration.organization_id, registration_id=registration.id,
        paddle=registration.paddle, currency=auction.currency,
        buyer_premium_rate=auction.buyer_premium_rate,
        seller_commission_rate=auction.seller_commission_rate,
        status=SettlementStatus.pending_payment, bid_count=bid_count,
        bid_trail_sha256=bid_trail_sha256, second_chance_of_id=second_chance_of_id,
        hammer_price=terms.hammer_price, buyer_premium=terms.buyer_premium,
        seller_commission=terms.seller_commission, deposit_applied=terms.deposit_applied,
        amount_due=terms.amount_due, due_date=terms.due_date,
    )
    session.add(settlement)
    await session.flush()  # the unique (auction_id, attempt) is the backstop against doubles
    return settlement


async def _move_deposit(session: AsyncSession, registration_id: int, target: DepositStatus) -> bool:
    """Move one registration's deposit to target if the rules allow it from where it is."""
    sources = [s for s, t in rules.DEPOSIT_TRANSITIONS if t is target]
    moved = await session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.deposit_status.in_(sources))
        .values(deposit_status=target).execution_options(synchronize_session=False)
    )
    return moved.rowcount == 1


async def _apply_deposit(session: AsyncSession, registration: Registration) -> bool:
    """Apply the buyer's deposit; a session's deposit, shared by his lots, is applied once:
    to the first lot he wins (his registrations of the session are locked to decide it)."""
    shared = registration.session_registration_id
    if shared is not None:
        siblings = await session.scalars(
            select(Registration.deposit_status).where(Registration.session_registration_id == shared)
            .order_by(Registration.id).with_for_update()
        )
        if {DepositStatus.applied, DepositStatus.forfeited} & set(siblings.all()):
            return False
    return await _move_deposit(session, registration.id, DepositStatus.applied)


async def _release_others(session: AsyncSession, *, auction_id: int, keep: int | None) -> list[int]:
    """Release every held deposit of the auction's qualified bidders but keep's; their ids.
    A session's shared deposit is released by the session, when he has won none of its lots."""
    held = (
        Registration.auction_id == auction_id, Registration.status == RegistrationStatus.qualified,
        Registration.deposit_status == DepositStatus.held,
        Registration.session_registration_id.is_(None),
    )
    if keep is not None:
        held += (Registration.id != keep,)
    ids = sorted((await session.scalars(select(Registration.id).where(*held))).all())
    if ids:
        await session.execute(
            update(Registration).where(*held, Registration.id.in_(ids))
            .values(deposit_status=DepositStatus.released)
            .execution_options(synchronize_session=False)
        )
    return ids


async def _record_created(
    session: AsyncSession, settlement: Settlement, *, actor_id: int | None, applied: list[int],
    released: list[int],
) -> None:
    await ledger.append(
        session, actor_id=actor_id, action="settlement.created", entity_type="settlement",
        entity_id=settlement.id,
        payload=_payload(settlement) | {
            "deposits": {"applied_registration_ids": applied, "released_registration_ids": released}
        },
    )
    await notices.tell(session, settlement, notices.created_type(settlement))


def _payload(s: Settlement) -> dict[str, Any]:
    names = (
        "auction_id", "attempt", "listing_id", "institute_organization_id",
        "buyer_organization_id", "registration_id", "paddle", "currency", "hammer_price",
        "buyer_premium_rate", "buyer_premium", "seller_commission_rate", "seller_commission",
        "deposit_applied", "amount_due", "bid_count", "bid_trail_sha256", "second_chance_of_id",
        "status",
    )
    return {name: getattr(s, name) for name in names} | {"due_date": s.due_date.isoformat()}


# ---------------------------------------------------------------------- admin transitions

_DONE = {Action.confirm_payment: "marked paid", Action.complete: "completed",
         Action.default: "defaulted"}


async def _advance(
    session: AsyncSession, settlement: Settlement, action: Action, **values: Any
) -> SettlementStatus:
    """Compare-and-set the status (a racing request finds it moved); 409 when not allowed."""
    current = settlement.status
    target = rules.next_status(action, current)
    conflict = Conflict(
        f"A settlement in status {current.value} cannot be {_DONE[action]}.", code="invalid_transition"
    )
    if target is None:
        raise conflict
    moved = await session.execute(
        update(Settlement).where(Settlement.id == settlement.id, Settlement.status == current)
        .values(status=target, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise conflict
    await session.refresh(settlement)
    return target


async def _for_change(session: AsyncSession, settlement_id: int) -> Settlement:
    settlement = await session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound("No such settlement.", code="settlement_not_found")
    return settlement


async def confirm_payment(
    session: AsyncSession, *, principal: Principal, settlement_id: int, payment_reference: str
) -> Settlement:
    """pending_payment -> paid, with the payment's reference (admin)."""
    settlement = await _for_change(session, settlement_id)
    await _advance(session, settlement, Action.confirm_payment,
                   payment_reference=payment_reference, paid_at=utcnow())
    await _record(session, principal, settlement, "settlement.paid",
                  payment_reference=payment_reference)
    return settlement


async def complete(session: AsyncSession, *, principal: Principal, settlement_id: int) -> Settlement:
    """paid -> completed: the outcome has been transferred (admin)."""
    settlement = await _for_change(session, settlement_id)
    await _advance(session, settlement, Action.complete, completed_at=utcnow())
    await _record(session, principal, settlement, "settlement.completed")
    return settlement


async def default(
    session: AsyncSession, *, principal: Principal, settlement_id: int, now: datetime | None = None
) -> Settlement:
    """pending_payment -> defaulted: deposit forfeited; the runner-up gets a second chance
    (due payment_days after now: the worker's clock when it enforces a deadline)."""
    now = now or utcnow()
    settlement = await _for_change(session, settlement_id)
    await _advance(session, settlement, Action.default, defaulted_at=now)
    forfeited = await _move_deposit(session, settlement.registration_id, DepositStatus.forfeited)
    second = await _second_chance(session, principal, settlement, now) if settlement.attempt == 1 else None
    listing_status = None
    if second is None:
        listing_status = await _unsell(session, settlement.listing_id)
    await _record(
        session, principal, settlement, "settlement.defaulted",
        forfeited_registration_ids=[settlement.registration_id] if forfeited else [],
        second_chance_id=second.id if second else None, listing_status=listing_status,
    )
    return settlement


async def _second_chance(
    session: AsyncSession, principal: Principal, defaulted: Settlement, now: datetime
) -> Settlement | None:
    """The runner-up's settlement at his best bid (attempt 2), if his bid meets the reserve."""
    auction = await session.get(Auction, defaulted.auction_id)
    best = (await session.execute(
        select(Bid.organization_id, Bid.amount, Bid.sequence)
        .where(Bid.auction_id == auction.id, Bid.organization_id != defaulted.buyer_organization_id)
        .order_by(Bid.amount.desc(), Bid.sequence).limit(1)
    )).first()
    candidates = [rules.Candidate(*best)] if best else []
    chosen = rules.runner_up(candidates, exclude_organization_id=defaulted.buyer_organization_id,
                             reserve=auction.reserve_price)
    if chosen is None:
        return None
    registration = await session.scalar(select(Registration).where(
        Registration.auction_id == auction.id, Registration.organization_id == chosen.organization_id,
    ))
    if registration is None:
        return None
    applied = await _apply_deposit(session, registration)
    second = await _create(
        session, auction=auction, registration=registration, hammer_price=chosen.amount,
        as_of=rules.utc_date(now), deposit=auction.deposit_amount if applied else Decimal(0),
        bid_count=defaulted.bid_count, bid_trail_sha256=defaulted.bid_trail_sha256, attempt=2,
        second_chance_of_id=defaulted.id,
    )
    await _record_created(session, second, actor_id=principal.user_id,
                          applied=[registration.id] if applied else [], released=[])
    return second


async def _unsell(session: AsyncSession, listing_id: int) -> str | None:
    """The sale fell through with nobody to take it: the listing goes unsold."""
    moved = await session.execute(
        update(Listing).where(Listing.id == listing_id, Listing.status == ListingStatus.sold)
        .values(status=ListingStatus.unsold).execution_options(synchronize_session=False)
    )
    return ListingStatus.unsold.value if moved.rowcount == 1 else None


async def _record(
    session: AsyncSession, principal: Principal, settlement: Settlement, action: str, **extra: Any
) -> None:
    await ledger.append(
        session, actor_id=principal.user_id, action=action, entity_type="settlement",
        entity_id=settlement.id, payload={"status": settlement.status.value} | extra,
    )
    if action in notices.TOLD:
        await notices.tell(session, settlement, action)


# ---------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SettlementFilters:
    created_from: datetime | None = None
    created_to: datetime | None = None
    institute: int | None = None
    status: SettlementStatus | None = None
    auction: int | None = None


def _visible_to(principal: Principal) -> Select:
    """Admin and auditor read all; an institute its listings'; an enterprise its own."""
    stmt = select(Settlement)
    if principal.is_staff_reader:
        return stmt
    if principal.role is Role.institute:
        return stmt.where(Settlement.institute_organization_id == principal.organization_id)
    if principal.role is Role.enterprise:
        return stmt.where(Settlement.buyer_organization_id == principal.organization_id)
    return stmt.where(false())


async def get_settlement(
    session: AsyncSession, *, principal: Principal, settlement_id: int
) -> Settlement:
    """A settlement the caller may read; 404 when it does not exist or is not theirs."""
    settlement = await session.scalar(_visible_to(principal).where(Settlement.id == settlement_id))
    if settlement is None:
        raise NotFound("No such settlement.", code="settlement_not_found")
    return settlement


async def list_settlements(
    session: AsyncSession, *, principal: Principal, filters: SettlementFilters, page: PageParams
) -> tuple[list[Settlement], str | None]:
    """A page of the settlements the caller may read, newest first."""
    stmt = _visible_to(principal)
    if filters.created_from is not None:
        stmt = stmt.where(Settlement.created_at >= filters.created_from)
    if filters.created_to is not None:
        stmt = stmt.where(Settlement.created_at < filters.created_to)
    for column, value in (
        (Settlement.institute_organization_id, filters.institute), (Settlement.status, filters.status),
        (Settlement.auction_id, filters.auction),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return await fetch_page(session, stmt, id_column=Settlement.id, page=page)


async def current_settlement_id(session: AsyncSession, *, auction_id: int) -> int | None:
    """The auction's latest settlement attempt, if any."""
    return await session.scalar(
        select(Settlement.id).where(Settlement.auction_id == auction_id)
        .order_by(Settlement.attempt.desc()).limit(1)
    )


_PARTIES = ("buyer", "seller")


async def to_outs(session: AsyncSession, settlements: list[Settlement]) -> list[SettlementOut]:
    """The settlements with both parties (one query for their organisations). Only their
    readers get here (admin, auditor, the institute, the buyer): each sees buyer and seller."""
    ids = {s.buyer_organization_id for s in settlements} | {
        s.institute_organization_id for s in settlements}
    orgs = {o.id: o for o in (await session.scalars(
        select(Organization).where(Organization.id.in_(ids)))).all()} if ids else {}
    return [SettlementOut.model_validate(
        {name: getattr(s, name) for name in SettlementOut.model_fields if name not in _PARTIES}
        | {"buyer": _party(orgs[s.buyer_organization_id]),
           "seller": _party(orgs[s.institute_organization_id])}
    ) for s in settlements]


async def to_out(session: AsyncSession, settlement: Settlement) -> SettlementOut:
    """One settlement as to_outs shows it."""
    return (await to_outs(session, [settlement]))[0]


def _party(org: Organization) -> Party:
    return Party(organization_id=org.id, name=org.name, registration_code=org.registration_code)
