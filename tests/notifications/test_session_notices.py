"""A session's notices: its registration approved (one paddle for the session), the lot won
or lost, and at the end the shared deposit of the bidder who won nothing released."""

import pytest

from app.security import Role
from app.settings import Settings
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The closer runs inside the API process (as for the session tests)."""
    return settings.model_copy(update={"closer_in_api": True})


async def _inbox(actors, user) -> dict[str, dict]:
    items = (await actors.client.get(f"{API}/me/notifications", headers=user.headers)).json()["items"]
    return {n["type"]: n for n in items}


async def test_session_registration_win_loss_and_deposit_release(actors, client, app):
    alice, carol = [await actors.user(Role.enterprise) for _ in range(2)]
    event = await create_session(actors, lot_duration_seconds=5, stagger_seconds=1)
    lot = await add_lot(actors, event["id"], await approved_listing(actors))
    await publish(actors, event["id"])
    paddle = {who.email: (await qualify(actors, event["id"], who))["paddle"] for who in (alice, carol)}
    assert (await bid(client, lot["auction_id"], alice, "2000000.00")).status_code == 201
    await wait_for(client, event["id"], lambda s: s["status"] == "finished", within=30)

    told_alice, told_carol = await _inbox(actors, alice), await _inbox(actors, carol)
    assert told_alice["registration.approved"]["payload"]["paddle"] == paddle[alice.email]
    assert "auction.won" in told_alice and "deposit.released" not in told_alice
    assert "auction.lost" in told_carol
    released = told_carol["deposit.released"]
    assert released["payload"]["deposit_amount"] == "100000.00"
    assert released["payload"]["paddle"] == paddle[carol.email]
