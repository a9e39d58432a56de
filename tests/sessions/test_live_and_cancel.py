"""A live session runs one lot at a time; a passed lot's listing goes into a later session;
cancelling withdraws the lots not yet closed and releases the deposits."""

from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing
from tests.support.live import ms

GAP = 1


async def test_live_session_opens_each_lot_after_the_last_closed(actors, client):
    bidder = await actors.user(Role.enterprise)
    listings = [await approved_listing(actors) for _ in range(2)]
    event = await create_session(actors, mode="live", lot_duration_seconds=2, lot_gap_seconds=GAP)
    sid = event["id"]
    assert event["lot_gap_seconds"] == GAP and event["stagger_seconds"] is None
    lots = [await add_lot(actors, sid, listing_id) for listing_id in listings]
    await publish(actors, sid)
    await qualify(actors, sid, bidder)
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    first, second = body["lots"]
    assert first["status"] == "open" and ms(first["opens_at"]) == ms(body["starts_at"])
    assert (second["status"], second["opens_at"], second["ends_at"]) == ("queued", None, None)
    waiting = await bid(client, second["auction_id"], bidder, "2000000.00")
    assert waiting.status_code == 409 and waiting.json()["code"] == "auction_not_open"
    assert (await client.get(f"{API}/auctions/{second['auction_id']}")).json()["status"] == "scheduled"
    assert (await bid(client, first["auction_id"], bidder, "2000000.00")).status_code == 201

    body = await wait_for(client, sid, lambda s: s["lots"][1]["opens_at"] is not None)
    closed = (await client.get(f"{API}/auctions/{first['auction_id']}/result")).json()
    opens = ms(body["lots"][1]["opens_at"])
    assert ms(closed["closed_at"]) + GAP * 1000 <= opens < ms(closed["closed_at"]) + GAP * 1000 + 1500
    assert ms(body["lots"][1]["ends_at"]) == opens + 2000
    body = await wait_for(client, sid, lambda s: s["status"] == "finished")
    assert [lot["status"] for lot in body["lots"]] == ["sold", "passed"]
    notice = (await client.get(f"{API}/sessions/{sid}/results")).json()
    assert notice["totals"]["sell_through_rate"] == "0.5000"

    # the passed lot's listing goes into a later session, cheaper; its first auction stays
    passed = listings[1]
    assert (await client.get(f"{API}/listings/{passed}")).json()["status"] == "unsold"
    later = await create_session(actors)
    relisted = await add_lot(actors, later["id"], passed, starting_price="1500000.00")
    assert relisted["starting_price"] == "1500000.00"
    history = (await client.get(f"{API}/auctions?listing_id={passed}", headers=actors.admin.headers)).json()
    assert {a["id"] for a in history["items"]} == {lots[1]["auction_id"], relisted["auction_id"]}


async def test_cancel_withdraws_open_lots_and_releases_deposits(actors, client):
    bidder = await actors.user(Role.enterprise)
    listings = [await approved_listing(actors) for _ in range(2)]
    sid = (await create_session(actors))["id"]
    lots = [await add_lot(actors, sid, listing_id) for listing_id in listings]
    await publish(actors, sid)
    registration = await qualify(actors, sid, bidder)
    assert (await bid(client, lots[0]["auction_id"], bidder, "2000000.00")).status_code == 201
    cancelled = await client.post(f"{API}/sessions/{sid}/cancel", headers=actors.admin.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await client.post(f"{API}/sessions/{sid}/cancel", headers=actors.admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert [lot["status"] for lot in body["lots"]] == ["withdrawn", "withdrawn"]
    refused = await bid(client, lots[0]["auction_id"], bidder, "2010000.00")
    assert refused.status_code == 409
    assert (await client.get(f"{API}/auctions/{lots[0]['auction_id']}")).json()["status"] == "cancelled"
    assert (await client.get(f"{API}/listings/{listings[0]}")).json()["status"] == "approved"
    regs = (await client.get(f"{API}/sessions/{sid}/registrations", headers=bidder.headers)).json()
    assert [(r["id"], r["deposit_status"]) for r in regs["items"]] == [(registration["id"], "released")]
    notice = (await client.get(f"{API}/sessions/{sid}/results")).json()
    assert notice["totals"] == {"lots": 2, "sold": 0, "passed": 0, "withdrawn": 2,
                                "sell_through_rate": "0.0000", "turnover": "0.00"}
    late = await client.post(f"{API}/sessions/{sid}/registrations",
                             headers=(await actors.user(Role.enterprise)).headers)
    assert late.status_code == 409 and late.json()["code"] == "registration_closed"
