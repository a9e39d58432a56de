"""Withdrawing a lot: bids stop, it closes as withdrawn without a sale, deposits go as for an
unsold lot; in a live session the next lot opens a gap after the withdrawal."""

import json

from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import ms, qualify_all

GAP = 1


async def _withdraw(client, actors, auction_id: int, reason: str = "The patent's owner withdrew it."):
    return await client.post(f"{API}/auctions/{auction_id}/withdraw", json={"reason": reason},
                             headers=actors.admin.headers)


async def test_withdrawing_the_running_live_lot_opens_the_next_after_the_gap(actors, client):
    bidder = await actors.user(Role.enterprise)
    listings = [await approved_listing(actors) for _ in range(3)]
    sid = (await create_session(actors, mode="live", lot_duration_seconds=60, lot_gap_seconds=GAP))["id"]
    lots = [(await add_lot(actors, sid, listing_id))["auction_id"] for listing_id in listings]
    await publish(actors, sid)
    registration = await qualify(actors, sid, bidder)
    assert (await bid(client, lots[0], bidder, "2000000.00")).status_code == 201

    # a queued lot: withdrawn before it runs, and the running lot goes on alone
    queued = await _withdraw(client, actors, lots[2], "Valuation under review.")
    assert queued.status_code == 200, queued.text
    assert queued.json() | {"closed_at": None} == {
        "auction_id": lots[2], "session_id": sid, "lot_number": 3, "status": "withdrawn",
        "reason": "Valuation under review.", "closed_at": None}
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert [lot["status"] for lot in body["lots"]] == ["open", "queued", "withdrawn"]

    withdrawn = await _withdraw(client, actors, lots[0])
    assert withdrawn.status_code == 200, withdrawn.text
    at = ms(withdrawn.json()["closed_at"])
    refused = await bid(client, lots[0], bidder, "2010000.00")
    assert refused.status_code == 409 and refused.json()["code"] == "auction_closed"
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert [lot["status"] for lot in body["lots"]][::2] == ["withdrawn", "withdrawn"]
    second = body["lots"][1]
    assert second["opens_at"] is not None, "the next lot is given its turn at once"
    assert at + GAP * 1000 <= ms(second["opens_at"]) < at + GAP * 1000 + 1500
    assert ms(second["ends_at"]) == ms(second["opens_at"]) + 60_000
    body = await wait_for(client, sid, lambda s: s["lots"][1]["status"] == "open", within=15)
    assert (await bid(client, lots[1], bidder, "2000000.00")).status_code == 201

    # not twice; a reason is needed; admin only
    again = await _withdraw(client, actors, lots[0])
    assert again.status_code == 409 and again.json()["code"] == "lot_closed"
    assert (await _withdraw(client, actors, lots[1], " ")).status_code == 422
    other = await client.post(f"{API}/auctions/{lots[1]}/withdraw", json={"reason": "x"},
                              headers=bidder.headers)
    assert other.status_code == 403
    assert (await _withdraw(client, actors, 9_999_999)).status_code == 404

    result = await client.get(f"{API}/auctions/{lots[0]}/result")
    assert result.status_code == 409  # no sale to report, no settlement
    assert (await client.get(f"{API}/listings/{listings[0]}")).json()["status"] == "approved"
    ledger = await client.get(f"{API}/audit/ledger", params={"action": "auction.withdrawn"},
                              headers=actors.admin.headers)
    reasons = {e["entity_id"]: json.loads(e["payload"])["reason"] for e in ledger.json()["items"]}
    assert reasons[lots[0]] == "The patent's owner withdrew it."
    assert reasons[lots[2]] == "Valuation under review."

    # the last lot withdrawn too: the session finishes, its deposit released (won nothing)
    assert (await _withdraw(client, actors, lots[1])).status_code == 200
    done = await wait_for(client, sid, lambda s: s["status"] == "finished", within=15)
    assert [lot["status"] for lot in done["lots"]] == ["withdrawn"] * 3
    notice = (await client.get(f"{API}/sessions/{sid}/results")).json()
    assert [lot["outcome"] for lot in notice["lots"]] == ["withdrawn"] * 3
    regs = (await client.get(f"{API}/sessions/{sid}/registrations", headers=bidder.headers)).json()
    assert [(r["id"], r["deposit_status"]) for r in regs["items"]] == [(registration["id"], "released")]


async def test_a_timed_lot_withdrawn_before_it_opens_and_wrong_states(actors, client):
    listings = [await approved_listing(actors) for _ in range(2)]
    sid = (await create_session(actors, starts_in=3600))["id"]
    lots = [(await add_lot(actors, sid, listing_id))["auction_id"] for listing_id in listings]
    draft = await _withdraw(client, actors, lots[0])
    assert draft.status_code == 409 and draft.json()["code"] == "session_not_running"
    await publish(actors, sid)
    assert (await _withdraw(client, actors, lots[0])).status_code == 200
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert [lot["status"] for lot in body["lots"]] == ["withdrawn", "queued"]
    assert body["status"] == "published"
    cancelled = await client.post(f"{API}/sessions/{sid}/cancel", headers=actors.admin.headers)
    assert cancelled.status_code == 200
    after = await _withdraw(client, actors, lots[1])
    assert after.status_code == 409 and after.json()["code"] == "session_not_running"


async def test_a_standalone_auction_is_withdrawn_with_its_deposits_released(actors, client):
    bidder = await actors.user(Role.enterprise)
    auction = await create_auction(actors)
    (paddle,) = (await qualify_all(client, actors.admin, auction["id"], [bidder])).values()
    assert (await bid(client, auction["id"], bidder, "2000000.00")).status_code == 201
    withdrawn = await _withdraw(client, actors, auction["id"])
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["session_id"], withdrawn.json()["lot_number"]) == (None, None)
    assert (await client.get(f"{API}/auctions/{auction['id']}")).json()["status"] == "cancelled"
    refused = await bid(client, auction["id"], bidder, "2010000.00")
    assert refused.status_code == 409 and refused.json()["code"] == "auction_closed"
    regs = (await client.get(f"{API}/auctions/{auction['id']}/registrations",
                             headers=actors.admin.headers)).json()["items"]
    assert [r["paddle"] for r in regs] == [paddle]
    released = await client.get(f"{API}/audit/ledger", headers=actors.admin.headers, params={
        "action": "deposits.released", "entity_type": "auction", "entity_id": auction["id"]})
    (entry,) = released.json()["items"]
    assert json.loads(entry["payload"])["released_registration_ids"] == [regs[0]["id"]]
