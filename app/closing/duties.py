"""Everything the worker runs (and the API process too when it closes rounds itself, as the
embedded default does): the closer, outbid notices, notification delivery, payment
deadlines and watchers' notices, each a loop until stop is set."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auctions.engine import Engine
from app.auctions.outbid import run_outbid
from app.closing.closer import run_closer
from app.closing.watchers import run_watchers
from app.db import utcnow
from app.notifications.delivery import delivery_policy, run_deliverer
from app.settings import Settings
from app.settlements.deadlines import run_deadlines


async def run_duties(
    engine: Engine, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *,
    stop: asyncio.Event,
) -> None:
    """Run every loop of the worker until stop is set."""
    await asyncio.gather(
        run_closer(engine, sessionmaker, stop=stop),
        run_outbid(engine, sessionmaker, stop=stop),
        run_deliverer(sessionmaker, delivery_policy(settings), stop=stop),
        run_deadlines(sessionmaker, grace_days=settings.payment_grace_days, stop=stop),
        run_watchers(sessionmaker, stop=stop, clock=utcnow),
    )
