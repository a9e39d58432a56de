"""The journal holds one database connection between batches; when the database drops it
(restart, failover, an operator's pg_terminate_backend), the next bid is still recorded."""

import pytest
from sqlalchemy import text

from tests.support.auctions import API, create_auction, qualified_bidder
from tests.support.kinds import bid


async def test_a_bid_after_the_database_dropped_the_journal_connection(app, actors, client):
    if app.state.db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server connection to drop")
    auction = (await create_auction(actors, lasts=60))["id"]
    alice = await qualified_bidder(actors, auction)
    first = await bid(client, auction, alice, amount="2000000.00")
    assert first.status_code == 201, first.text
    held = await app.state.journal._conn.get_raw_connection()
    async with app.state.sessionmaker() as session:
        ended = await session.scalar(text("SELECT pg_terminate_backend(:pid)"),
                                     {"pid": held.driver_connection.get_server_pid()})
    assert ended is True
    bob = await qualified_bidder(actors, auction)
    second = await bid(client, auction, bob, amount="2010000.00")
    assert second.status_code == 201, second.text
    trail = (await client.get(f"{API}/auctions/{auction}/bids")).json()["items"]
    assert [b["amount"] for b in trail] == ["2010000.00", "2000000.00"]
