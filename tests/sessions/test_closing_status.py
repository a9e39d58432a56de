"""A lot past its close that the closer has not reached yet reads open (closing), then sold:
never "passed" first. The engine's status reads "closed" as soon as the clock passes the
close, but only the close script decides the outcome."""

import pytest

from app.closing.closer import close_due
from app.security import Role
from app.settings import Settings
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing
from tests.support.live import ms


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"closer_in_api": False})  # the test runs the closer's pass


async def test_a_lot_past_its_close_is_open_until_the_close_decides_it(actors, client, app):
    bidder = await actors.user(Role.enterprise)
    sid = (await create_session(actors, lot_duration_seconds=3, stagger_seconds=0))["id"]
    auction_id = (await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
    await publish(actors, sid)
    await qualify(actors, sid, bidder)
    assert (await bid(client, auction_id, bidder, "2000000.00")).status_code == 201
    due = ms((await client.get(f"{API}/sessions/{sid}")).json()["lots"][0]["ends_at"])

    body = await wait_for(client, sid, lambda s: ms(s["server_time"]) > due + 200, within=20)
    assert body["lots"][0]["status"] == "open"  # was "passed" here, then "sold"
    assert body["lots"][0]["hammer_price"] is None

    # closed in Redis, not yet finalised in SQL: the engine's outcome; then SQL's, the same
    await app.state.engine.close_round(auction_id)
    lot = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][0]
    assert (lot["status"], lot["hammer_price"]) == ("sold", "2000000.00")
    assert await close_due(app.state.engine, app.state.sessionmaker) == 1
    lot = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][0]
    assert (lot["status"], lot["hammer_price"]) == ("sold", "2000000.00")
