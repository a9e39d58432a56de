"""Payment deadlines, enforced by the worker on a clock it is given (tests move it):
reminders 3 days and 1 day before the due date, and a settlement still unpaid past its due
date plus the grace days defaults on its own (the runner-up is then offered the lot)."""

import asyncio
from collections.abc import Callable
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utcnow
from app.errors import Conflict
from app.security import Principal, Role
from app.settlements import notices, rules, service
from app.settlements.models import Settlement, SettlementStatus

log = structlog.get_logger()
Clock = Callable[[], datetime]
REMINDER_DAYS = (3, 1)  # days before the due date, largest first
# the worker itself, acting as the operator: its ledger entries have no user (actor_id null)
WORKER = Principal(user_id=None, role=Role.admin, organization_id=None)  # type: ignore[arg-type]


def reminder_due(due_date: date, today: date) -> int | None:
    """Which reminder is owed today: the smallest threshold the days left have reached (a
    worker that was down catches up with one reminder, not several); None when none or past."""
    left = (due_date - today).days
    reached = [days for days in REMINDER_DAYS if 0 <= left <= days]
    return min(reached) if reached else None


def defaults_on(due_date: date, grace_days: int, today: date) -> bool:
    """Unpaid past the due date and the grace days after it."""
    return today > due_date + timedelta(days=grace_days)


async def _pending(session: AsyncSession) -> list[tuple[int, date]]:
    return list((await session.execute(
        select(Settlement.id, Settlement.due_date)
        .where(Settlement.status == SettlementStatus.pending_payment).order_by(Settlement.id)
    )).all())


async def _remind(session: AsyncSession, settlement_id: int, days: int, today: date) -> None:
    settlement = await session.get(Settlement, settlement_id)
    await notices.tell(session, settlement, "settlement.reminder", key=f":{days}",
                       extra={"days_left": (settlement.due_date - today).days})
    await session.commit()


async def _default(session: AsyncSession, settlement_id: int, now: datetime) -> bool:
    try:
        await service.default(session, principal=WORKER, settlement_id=settlement_id, now=now)
        await session.commit()
    except Conflict:  # paid or defaulted meanwhile: the other change stands
        await session.rollback()
        return False
    log.info("settlement_defaulted_unpaid", settlement_id=settlement_id)
    return True


async def enforce(
    sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime, grace_days: int
) -> dict[str, int]:
    """One pass over the unpaid settlements; how many reminders and defaults it made."""
    today = rules.utc_date(now)
    done = {"reminders": 0, "defaults": 0}
    async with sessionmaker() as session:
        pending = await _pending(session)
    for settlement_id, due_date in pending:
        async with sessionmaker() as session:
            if defaults_on(due_date, grace_days, today):
                done["defaults"] += await _default(session, settlement_id, now)
            elif (days := reminder_due(due_date, today)) is not None:
                await _remind(session, settlement_id, days, today)
                done["reminders"] += 1
    return done


async def run_deadlines(
    sessionmaker: async_sessionmaker[AsyncSession], *, grace_days: int, stop: asyncio.Event,
    clock: Clock = utcnow, interval: float = 60.0,
) -> None:
    """Passes every interval seconds until stop is set."""
    while not stop.is_set():
        try:
            await enforce(sessionmaker, now=clock(), grace_days=grace_days)
        except Exception:
            log.exception("deadline_pass_failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
