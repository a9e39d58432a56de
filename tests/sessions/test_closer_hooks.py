"""The closer's side of sessions: racing closers open a live session's next lot once, and a
session whose finish was lost (a crash after its last lot closed) is finished by the sweep."""

import asyncio

from sqlalchemy import func, select, update

from app.auctions.models import Auction, AuctionOutcome, AuctionStatus
from app.audit.models import LedgerEntry
from app.db import commit
from app.sessions import lifecycle
from app.sessions.models import AuctionSession, SessionStatus
from tests.sessions.helpers import add_lot, create_session, publish, wait_for
from tests.support.auctions import API, approved_listing


async def test_racing_closers_open_the_next_live_lot_once(actors, client, app):
    sid = (await create_session(actors, mode="live", lot_duration_seconds=600))["id"]
    for _ in range(3):
        await add_lot(actors, sid, await approved_listing(actors))
    await publish(actors, sid)
    async with app.state.sessionmaker() as session:  # as if lot 1's close had just been recorded
        await session.execute(update(Auction).where(Auction.session_id == sid, Auction.lot_number == 1)
                              .values(status=AuctionStatus.closed, outcome=AuctionOutcome.unsold))
        await session.commit()

    async def closer() -> bool:
        async with app.state.sessionmaker() as session:
            event = await session.get(AuctionSession, sid)
            opened = await lifecycle.open_next_lot(session, engine=app.state.engine, event=event)
            await commit(session)
            return opened

    assert sorted(await asyncio.gather(closer(), closer(), closer())) == [False, False, True]
    assert not await closer()  # lot 2 runs: lot 3 waits for its close
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert [lot["opens_at"] is not None for lot in body["lots"]] == [True, True, False]
    async with app.state.sessionmaker() as session:
        opened = await session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.action == "session.lot_opened", LedgerEntry.entity_id == sid))
    assert opened == 1


async def test_a_lost_finish_is_swept(actors, client, app):
    listing = await approved_listing(actors)
    sid = (await create_session(actors, lot_duration_seconds=2, stagger_seconds=0))["id"]
    await add_lot(actors, sid, listing)
    await publish(actors, sid)
    await wait_for(client, sid, lambda s: s["status"] == "finished")
    async with app.state.sessionmaker() as session:  # as if the process died before finishing
        await session.execute(update(AuctionSession).where(AuctionSession.id == sid)
                              .values(status=SessionStatus.published, finished_at=None))
        await session.commit()
    assert (await client.get(f"{API}/sessions/{sid}")).json()["status"] == "running"
    assert await lifecycle.finish_sessions(engine=app.state.engine, sessionmaker=app.state.sessionmaker) == 1
    assert await lifecycle.finish_sessions(engine=app.state.engine, sessionmaker=app.state.sessionmaker) == 0
    assert (await client.get(f"{API}/sessions/{sid}")).json()["status"] == "finished"
