"""Floor bids over HTTP: the clerk enters a paddle's bid in the room; same rules, same trail,
channel floor and the clerk recorded (SQL, event stream, bid API); refusals change nothing."""

import asyncio

from sqlalchemy import select

from app.auctions.models import Bid, BidChannel
from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder


async def floor_bid(actors, auction_id: int, paddle: str, amount: str, *, headers=None,
                    key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return await actors.client.post(
        f"{API}/auctions/{auction_id}/floor-bids", json={"paddle": paddle, "amount": amount},
        headers=(headers or actors.admin.headers) | extra)


async def test_floor_bids_in_a_session_lot_share_the_rules_and_trail(actors, client, app):
    institute = await actors.user(Role.institute)
    alice, bob = [await actors.user(Role.enterprise) for _ in range(2)]
    event = await create_session(actors)
    lot = await add_lot(actors, event["id"], await approved_listing(actors, institute))
    await publish(actors, event["id"])
    room = (await qualify(actors, event["id"], alice))["paddle"]
    await qualify(actors, event["id"], bob)
    auction_id = lot["auction_id"]

    placed = await floor_bid(actors, auction_id, room, "2000000.00", key="floor-1")
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["paddle"] == room and body["channel"] == "floor"
    assert body["clerk_id"] == actors.admin.user_id
    # a keyed retry is answered once; the rules are the online ones (the leader cannot raise)
    again = await floor_bid(actors, auction_id, room, "2000000.00", key="floor-1")
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    refused = await floor_bid(actors, auction_id, room, "2010000.00")
    assert refused.status_code == 409 and refused.json()["code"] == "already_leading"
    low = await floor_bid(actors, auction_id, room, "2005000.00")
    assert low.status_code == 409 and low.json()["code"] == "already_leading"
    # an online bid answers the floor one
    online = await bid(client, auction_id, bob, "2010000.00")
    assert online.status_code == 201 and online.json()["channel"] == "online"
    # the bidder's own key is not the clerk's: the same key and amount from the floor is refused
    keyed = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2020000.00"},
                              headers=alice.headers | {"Idempotency-Key": "mine"})
    assert keyed.status_code == 201, keyed.text
    reused = await floor_bid(actors, auction_id, room, "2020000.00", key="mine")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    online = await bid(client, auction_id, bob, "2030000.00")
    assert online.status_code == 201
    await app.state.engine.redis.delete(app.state.engine.keys(auction_id).idem)  # keys lost
    from_trail = await floor_bid(actors, auction_id, room, "2020000.00", key="mine")
    assert from_trail.status_code == 409 and from_trail.json()["code"] == "idempotency_key_reused"
    too_low = await floor_bid(actors, auction_id, room, "2035000.00")
    assert too_low.status_code == 409 and too_low.json()["code"] == "bid_too_low"
    assert too_low.json()["minimum_next_bid"] == "2040000.00"

    # the trail: SQL, the bid API (clerk to staff only), the public event stream
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Bid.sequence, Bid.channel, Bid.clerk_id).where(
            Bid.auction_id == auction_id).order_by(Bid.sequence))).all()
    assert rows == [(1, BidChannel.floor, actors.admin.user_id), (2, BidChannel.online, None),
                    (3, BidChannel.online, None), (4, BidChannel.online, None)]
    public = (await client.get(f"{API}/auctions/{auction_id}/bids")).json()["items"]
    assert [(b["channel"], b["clerk_id"]) for b in public][-2:] == [("online", None), ("floor", None)]
    staff = (await client.get(f"{API}/auctions/{auction_id}/bids",
                              headers=actors.admin.headers)).json()["items"]
    assert staff[-1]["clerk_id"] == actors.admin.user_id
    events = await app.state.engine.events_since(auction_id)
    bids = [e.fields for e in events if e.type == "bid"]
    assert [(f["channel"], f.get("clerk")) for f in bids] == [
        ("floor", str(actors.admin.user_id)), ("online", None), ("online", None), ("online", None)]


async def test_floor_bid_refusals_change_nothing(actors, client, app):
    alice = await actors.user(Role.enterprise)
    auction = await create_auction(actors)
    await qualified_bidder(actors, auction["id"], alice)
    registrations = (await client.get(f"{API}/auctions/{auction['id']}/registrations",
                                      headers=actors.admin.headers)).json()["items"]
    paddle = registrations[0]["paddle"]

    unknown = await floor_bid(actors, auction["id"], "1", "2000000.00")
    assert unknown.status_code == 409 and unknown.json()["code"] == "unknown_paddle"
    as_bidder = await floor_bid(actors, auction["id"], paddle, "2000000.00", headers=alice.headers)
    assert as_bidder.status_code == 403
    malformed = await floor_bid(actors, auction["id"], paddle, "-5")
    assert malformed.status_code == 422
    missing = await floor_bid(actors, 999_999, paddle, "2000000.00")
    assert missing.status_code == 404
    assert (await client.get(f"{API}/auctions/{auction['id']}/bids")).json()["items"] == []

    closed = await create_auction(actors, starts_in=-1, lasts=3)
    await qualified_bidder(actors, closed["id"], alice)
    await asyncio.sleep(2.5)  # past its close (the Redis clock decides)
    closed_paddle = (await client.get(f"{API}/auctions/{closed['id']}/registrations",
                                      headers=actors.admin.headers)).json()["items"][0]["paddle"]
    late = await floor_bid(actors, closed["id"], closed_paddle, "2000000.00")
    assert late.status_code == 409 and late.json()["code"] == "auction_closed"
