"""Sealed first price, Vickrey, dutch and proxy bidding end to end through HTTP."""

import asyncio

from app.security import Role
from tests.support.auctions import API, approved_listing, qualified_bidder
from tests.support.kinds import (
    bid,
    bids,
    code,
    finish,
    forget_auction,
    kind_auction,
    rnd,
    settlement,
    state,
)


async def _hidden_events(app, auction_id: int) -> list[str]:
    events = await app.state.engine.events_since(auction_id)
    return [e.type for e in events]


async def test_sealed_first_price_hides_everything_until_close(actors, client, app):
    auction = await kind_auction(actors, [rnd("sealed_first_price", -1, 3)])
    aid = auction["id"]
    alice, bob = [await qualified_bidder(actors, aid) for _ in range(2)]
    carol = await qualified_bidder(actors, aid)
    low = await bid(client, aid, alice, amount="1990000.00")
    assert low.status_code == 409 and code(low) == "bid_too_low"
    first = await bid(client, aid, alice, amount="2100000.00")
    assert first.status_code == 201, first.text
    assert (first.json()["sequence"], first.json()["id"]) == (0, 0)  # they would count bids
    replaced = await bid(client, aid, alice, amount="2300000.00")
    assert replaced.status_code == 201, replaced.text
    assert (await bid(client, aid, bob, amount="2200000.00")).status_code == 201
    proxy = await bid(client, aid, bob, max_amount="2900000.00")
    assert proxy.status_code == 422 and code(proxy) == "invalid_bid"

    for who in (carol, bob, None):
        seen = await state(client, aid, who)
        assert seen["current_price"] is None and seen["leading_paddle"] is None
        assert seen["bid_count"] == 0 and seen["minimum_next_bid"] == "2000000.00"
        assert await bids(client, aid, who) == []
    assert "2300000" not in str(await state(client, aid, carol))
    staff = await state(client, aid, actors.admin)
    assert staff["bid_count"] == 3
    assert len(await bids(client, aid, actors.admin)) == 3
    assert "bid" not in await _hidden_events(app, aid)

    result = await finish(app, client, aid)
    assert result["outcome"] == "sold" and result["hammer_price"] == "2300000.00"
    assert result["winning_paddle"] == first.json()["paddle"]
    after = await bids(client, aid, carol)
    assert sorted(b["amount"] for b in after) == ["2100000.00", "2200000.00", "2300000.00"]
    paid = await settlement(client, actors.admin, result["settlement_id"])
    assert paid["hammer_price"] == "2300000.00" and paid["bid_count"] == 3
    stream = await client.get(f"{API}/auctions/{aid}/events")
    assert [line for line in stream.text.splitlines() if line.startswith("event:")] == [
        "event: round_closed", "event: closed"]
    assert '"hammer_price": "2300000.00"' in stream.text


async def _vickrey(actors, client, amounts: list[str], **listing) -> tuple[int, list]:
    auction = await kind_auction(actors, [rnd("sealed_second_price", -1, 3)], **listing)
    aid = auction["id"]
    placed = []
    for amount in amounts:
        who = await qualified_bidder(actors, aid)
        response = await bid(client, aid, who, amount=amount)
        assert response.status_code == 201, response.text
        placed.append(response.json())
    return aid, placed


async def test_vickrey_pays_the_second_price_the_start_alone_never_below_reserve(
    actors, client, app
):
    three, bids3 = await _vickrey(actors, client, ["2100000.00", "2500000.00", "2400000.00"])
    alone, bids1 = await _vickrey(actors, client, ["2700000.00"])
    reserve, bids2 = await _vickrey(actors, client, ["2600000.00", "2200000.00"],
                                    reserve_price="2500000.00")
    under, _ = await _vickrey(actors, client, ["2400000.00", "2300000.00"],
                              reserve_price="2500000.00")
    results = await asyncio.gather(*(finish(app, client, a) for a in (three, alone, reserve, under)))
    assert [r["hammer_price"] for r in results] == ["2400000.00", "2000000.00", "2500000.00", None]
    assert [r["winning_paddle"] for r in results[:3]] == [
        bids3[1]["paddle"], bids1[0]["paddle"], bids2[0]["paddle"]]
    assert results[3]["outcome"] == "unsold"
    paid = await settlement(client, actors.admin, results[0]["settlement_id"])
    assert paid["hammer_price"] == "2400000.00" and paid["buyer_premium"] == "120000.00"


async def test_dutch_price_falls_and_the_first_bid_takes_the_lot(actors, client, app):
    auction = await kind_auction(actors, [rnd(
        "dutch", -0.2, 20, step="100000.00", interval_ms=1000, floor="1500000.00")])
    aid = auction["id"]
    assert auction["rounds"][0]["step"] == "100000.00"
    assert auction["rounds"][0]["interval_ms"] == 1000
    alice, bob = [await qualified_bidder(actors, aid) for _ in range(2)]
    before = (await state(client, aid))["minimum_next_bid"]
    await asyncio.sleep(1.1)
    shown = (await state(client, aid))["minimum_next_bid"]
    assert float(shown) < float(before) <= 2000000.0
    capped = await bid(client, aid, alice, amount="1000000.00")
    assert capped.status_code == 409 and code(capped) == "bid_too_low"
    took = await bid(client, aid, alice, key="take-1")
    assert took.status_code == 201, took.text
    assert float(took.json()["amount"]) <= float(shown)
    again = await bid(client, aid, alice, key="take-1")
    assert again.status_code == 201 and again.json()["id"] == took.json()["id"]
    late = await bid(client, aid, bob)
    assert late.status_code == 409 and code(late) == "auction_closed"
    assert (await state(client, aid))["status"] == "closed"
    result = await finish(app, client, aid)
    assert result["hammer_price"] == took.json()["amount"]
    assert result["winning_paddle"] == took.json()["paddle"]


async def test_round_settings_are_checked(actors, client):
    listing_id = await approved_listing(actors, reserve_price="2000000.00")
    base = {"listing_id": listing_id, "bid_increment": "1.00", "deposit_amount": "1.00"}
    dutch = {"step": "1000.00", "interval_seconds": 2, "floor": "1900000.00"}
    for rounds, expected in (
        ([rnd("sealed_first_price", -1, 5, interval_seconds=2)], "dutch_params_not_allowed"),
        ([rnd("dutch", -1, 5, **dutch)], "floor_below_reserve"),
        ([rnd("dutch", -1, 5, step="1000.00", floor="2600000.00")], "dutch_params_required"),
        ([rnd("sealed_second_price", -1, 5, advance=2), rnd("english", 6, 5, advance=1)],
         "advance_on_final_round"),
    ):
        bad = await client.post(f"{API}/auctions", headers=actors.admin.headers,
                                json=base | {"rounds": rounds})
        assert bad.status_code == 422 and code(bad) == expected, bad.text
    listing = (await client.get(f"{API}/listings/{listing_id}", headers=actors.admin.headers))
    assert listing.json()["status"] == "approved"


async def test_proxy_bids_for_the_leader_and_never_shows_the_maximum(actors, client, app):
    auction = await kind_auction(actors, [rnd("english", -1, 4)])
    aid = auction["id"]
    alice, bob = [await qualified_bidder(actors, aid) for _ in range(2)]
    carol = await actors.user(Role.enterprise)
    first = await bid(client, aid, alice, max_amount="2500000.00")
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == "2000000.00"
    answered = await bid(client, aid, bob, amount="2100000.00")
    assert answered.status_code == 201, answered.text
    seen = await state(client, aid, carol)
    assert seen["current_price"] == "2110000.00"
    assert seen["leading_paddle"] == first.json()["paddle"]
    trail = await bids(client, aid, carol)
    assert [(b["sequence"], b["paddle"], b["amount"]) for b in trail] == [
        (3, first.json()["paddle"], "2110000.00"), (2, answered.json()["paddle"], "2100000.00"),
        (1, first.json()["paddle"], "2000000.00")]
    assert "2500000" not in str(seen) + str(trail)
    events = await app.state.engine.events_since(aid)
    assert "2500000" not in str([e.fields for e in events])
    staff = await bids(client, aid, actors.admin)
    assert staff[0]["organization_id"] == alice.organization_id
    mine = await bid(client, aid, alice, max_amount="2600000.00")
    assert mine.status_code == 409 and code(mine) == "already_leading"
    over = await bid(client, aid, bob, amount="2600000.00")
    assert over.status_code == 201, over.text
    result = await finish(app, client, aid)
    assert result["hammer_price"] == "2600000.00"
    assert result["winning_paddle"] == over.json()["paddle"]
    final = await bids(client, aid, actors.admin)
    assert sorted(b["sequence"] for b in final) == list(range(1, len(final) + 1))
    paid = await settlement(client, actors.admin, result["settlement_id"])
    assert paid["bid_count"] == len(final)


async def test_a_taken_dutch_lot_stays_sold_when_redis_loses_it(actors, client, app):
    auction = await kind_auction(actors, [rnd(
        "dutch", -1, 20, step="50000.00", interval_ms=1000, floor="1500000.00")])
    aid = auction["id"]
    alice, bob = [await qualified_bidder(actors, aid) for _ in range(2)]
    took = await bid(client, aid, alice, key="dutch-1")
    assert took.status_code == 201, took.text
    await forget_auction(app, aid)
    again = await bid(client, aid, bob)
    assert again.status_code == 409 and code(again) == "auction_closed"
    replay = await bid(client, aid, alice, key="dutch-1")
    assert replay.status_code == 201 and replay.json()["id"] == took.json()["id"]
    result = await finish(app, client, aid)
    assert result["hammer_price"] == took.json()["amount"]
    assert result["winning_paddle"] == took.json()["paddle"]


async def test_sealed_and_proxy_retries_replay_the_first_answer(actors, client, app):
    sealed = (await kind_auction(actors, [rnd("sealed_first_price", -1, 30)]))["id"]
    english = (await kind_auction(actors, [rnd("english", -1, 30)]))["id"]
    alice = await qualified_bidder(actors, sealed)
    await qualified_bidder(actors, english, alice)
    for aid, body in ((sealed, {"amount": "2100000.00"}), (english, {"max_amount": "2500000.00"})):
        first = await bid(client, aid, alice, key="k-1", **body)
        assert first.status_code == 201, first.text
        assert (await bid(client, aid, alice, key="k-1", **body)).json() == first.json()
        other = await bid(client, aid, alice, key="k-1", amount="2200000.00")
        assert other.status_code == 409 and code(other) == "idempotency_key_reused"
        await forget_auction(app, aid)  # the SQL trail answers once Redis forgot the key
        replay = await bid(client, aid, alice, key="k-1", **body)
        assert replay.status_code == 201 and replay.json() == first.json(), replay.text
        other = await bid(client, aid, alice, key="k-1", amount="2900000.00")
        assert other.status_code == 409 and code(other) == "idempotency_key_reused"


async def test_a_proxy_keeps_bidding_after_redis_loses_the_round(actors, client, app):
    auction = await kind_auction(actors, [rnd("english", -1, 30)])
    aid = auction["id"]
    alice, bob = [await qualified_bidder(actors, aid) for _ in range(2)]
    proxy = await bid(client, aid, alice, max_amount="2500000.00")
    assert proxy.status_code == 201, proxy.text
    assert (await bid(client, aid, bob, amount="2100000.00")).status_code == 201
    await forget_auction(app, aid)  # the round is rebuilt from SQL, proxy maximum included
    again = await bid(client, aid, bob, amount="2400000.00")
    assert again.status_code == 201, again.text
    seen = await state(client, aid)
    assert (seen["current_price"], seen["leading_paddle"]) == ("2410000.00", proxy.json()["paddle"])
    assert "2500000" not in str(seen) + str(await bids(client, aid))  # still secret
    beaten = await bid(client, aid, bob, amount="2500000.00")  # a tie goes to the proxy
    assert beaten.status_code == 201, beaten.text
    seen = await state(client, aid)
    assert (seen["current_price"], seen["leading_paddle"]) == ("2500000.00", proxy.json()["paddle"])
