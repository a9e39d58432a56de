"""Absentee bids over HTTP: a maximum left before an english lot opens (202, replaceable),
applied at the opening through the proxy path in the order left (equal maxima: the earlier
leads), channel absentee in the trail; other kinds, amounts and the unqualified refused."""

import asyncio

from sqlalchemy import select

from app.auctions.models import AbsenteeBid, Bid, BidChannel
from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder

# the lots open this long after the set-up began: room for a loaded host's set-up
OPENS_IN = 8


async def absentee(client, auction_id: int, bidder, max_amount: str, key: str | None = None):
    headers = bidder.headers | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"{API}/auctions/{auction_id}/bids", json={"max_amount": max_amount},
                             headers=headers)


async def test_absentee_maxima_bid_from_the_opening(actors, client, app):
    institute = await actors.user(Role.institute)
    alice, bob, carol, dave, erin = [await actors.user(Role.enterprise) for _ in range(5)]
    sid = (await create_session(actors, starts_in=OPENS_IN))["id"]
    lot = (await add_lot(actors, sid, await approved_listing(actors, institute)))["auction_id"]
    sealed = (await add_lot(actors, sid, await approved_listing(actors, institute),
                            rounds=[{"kind": "sealed_first_price"}]))["auction_id"]
    await publish(actors, sid)
    paddles = {who.email: (await qualify(actors, sid, who))["paddle"] for who in (alice, bob, carol, erin)}

    first = await absentee(client, lot, alice, "2100000.00", key="abs-1")
    assert first.status_code == 202, first.text
    assert first.json() | {"left_at": None} == {
        "status": "absentee", "auction_id": lot, "paddle": paddles[alice.email],
        "max_amount": "2100000.00", "left_at": None}
    retried = await absentee(client, lot, alice, "2100000.00", key="abs-1")
    assert retried.status_code == 202 and retried.json()["max_amount"] == "2100000.00"
    assert (await absentee(client, lot, bob, "2200000.00")).status_code == 202
    # replaced: alice's maximum now ranks after bob's equal one
    replaced = await absentee(client, lot, alice, "2200000.00")
    assert replaced.status_code == 202 and replaced.json()["max_amount"] == "2200000.00"
    assert (await absentee(client, lot, carol, "1000000.00")).status_code == 202  # below the start
    erin_left = await absentee(client, lot, erin, "2500000.00", key="abs-erin")
    assert erin_left.status_code == 202

    # refusals: an amount before the opening, another kind, the unqualified, a standalone auction
    early = await bid(client, lot, carol, "2000000.00")
    assert early.status_code == 409 and early.json()["code"] == "auction_not_open"
    other_kind = await absentee(client, sealed, alice, "2500000.00")
    assert other_kind.status_code == 422 and other_kind.json()["code"] == "invalid_bid"
    stranger = await absentee(client, lot, dave, "2500000.00")
    assert stranger.status_code == 409 and stranger.json()["code"] == "not_qualified"
    standalone = await create_auction(actors, starts_in=60)
    await qualified_bidder(actors, standalone["id"], dave)
    alone = await absentee(client, standalone["id"], dave, "2500000.00")
    assert alone.status_code == 409 and alone.json()["code"] == "auction_not_open"
    assert (await client.get(f"{API}/auctions/{lot}/bids")).json()["items"] == []
    async with app.state.sessionmaker() as session:
        left = (await session.scalars(select(AbsenteeBid.max_amount).where(
            AbsenteeBid.auction_id == lot).order_by(AbsenteeBid.left_at))).all()
    assert [str(m) for m in left] == ["2200000.00", "2200000.00", "1000000.00", "2500000.00"]

    # the opening: bob's maximum first (at the start), then alice's equal one, which bob's
    # holds, carol's below the start bids nothing, erin's leads with its maximum in reserve
    await _until_bids(client, lot, 4, within=OPENS_IN + 20)
    shown = (await client.get(f"{API}/auctions/{lot}")).json()
    assert shown["leading_paddle"] == paddles[erin.email]
    assert shown["current_price"] == "2210000.00"
    bids = (await client.get(f"{API}/auctions/{lot}/bids")).json()["items"][::-1]
    assert [(b["paddle"], b["amount"], b["channel"]) for b in bids] == [
        (paddles[bob.email], "2000000.00", "absentee"),
        (paddles[alice.email], "2200000.00", "absentee"),
        (paddles[bob.email], "2200000.00", "absentee"),
        (paddles[erin.email], "2210000.00", "absentee")]
    # Redis loses the round: rebuilt from SQL, erin's maximum still bids, still as absentee
    keys = app.state.engine.keys(lot)
    await app.state.engine.redis.delete(keys.state, keys.bids)
    online = await bid(client, lot, carol, "2300000.00")
    assert online.status_code == 201 and online.json()["channel"] == "online"
    events = [e.fields for e in await app.state.engine.events_since(lot) if e.type == "bid"]
    assert [(e["paddle"], e["channel"]) for e in events[-2:]] == [
        (paddles[carol.email], "online"), (paddles[erin.email], "absentee")]
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Bid.channel, Bid.placed_by_id, Bid.amount).where(
            Bid.auction_id == lot).order_by(Bid.sequence))).all()
        applied = (await session.scalars(select(AbsenteeBid.applied_at).where(
            AbsenteeBid.auction_id == lot))).all()
    assert [c for c, _, _ in rows] == [BidChannel.absentee] * 4 + [BidChannel.online,
                                                                   BidChannel.absentee]
    assert [p for _, p, _ in rows] == [bob.user_id, alice.user_id, None, erin.user_id,
                                       carol.user_id, None]
    assert str(rows[-1][2]) == "2310000.00"
    assert all(a is not None for a in applied)
    # a keyed absentee request retried after the opening gets its first answer; another body 409
    again = await absentee(client, lot, erin, "2500000.00", key="abs-erin")
    assert again.status_code == 202 and again.json() == erin_left.json()
    reused = await absentee(client, lot, erin, "2600000.00", key="abs-erin")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    # once open, a maximum is a live proxy bid again (201), not an absentee
    live = await absentee(client, lot, alice, "2500000.00")
    assert live.status_code == 201 and live.json()["channel"] == "online"


async def _until_bids(client, auction_id: int, count: int, *, within: float) -> None:
    """GET the auction's bids until it has count of them (bounded)."""
    for _ in range(int(within / 0.2)):
        if len((await client.get(f"{API}/auctions/{auction_id}/bids")).json()["items"]) >= count:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"fewer than {count} bids after {within} s")


async def test_a_live_lot_waiting_for_its_turn_takes_absentee_bids(actors, client):
    bidder = await actors.user(Role.enterprise)
    sid = (await create_session(actors, mode="live", lot_duration_seconds=3, lot_gap_seconds=1))["id"]
    lots = [(await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
            for _ in range(2)]
    await publish(actors, sid)
    paddle = (await qualify(actors, sid, bidder))["paddle"]
    queued = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][1]
    assert queued["status"] == "queued" and queued["opens_at"] is None
    left = await absentee(client, lots[1], bidder, "2300000.00")
    assert left.status_code == 202 and left.json()["paddle"] == paddle
    await _until_bids(client, lots[1], 1, within=30)  # lot 1 closes, lot 2 opens and bids
    (placed,) = (await client.get(f"{API}/auctions/{lots[1]}/bids")).json()["items"]
    assert (placed["paddle"], placed["amount"], placed["channel"]) == (paddle, "2000000.00",
                                                                       "absentee")
    assert (await client.get(f"{API}/auctions/{lots[0]}/bids")).json()["items"] == []
