"""Several rounds through HTTP: a sealed round advances its best bidders to an english one."""

import json

from app.closing.closer import close_due
from app.security import Role
from tests.support.auctions import API, qualified_bidder
from tests.support.kinds import (
    bid,
    bids,
    close,
    code,
    finish,
    forget_auction,
    kind_auction,
    rnd,
    settlement,
    state,
    wait_round_end,
)
from tests.support.live import ms, sleep_until


async def test_sealed_top_three_go_on_to_an_english_round(actors, client, app):
    auction = await kind_auction(actors, [rnd("sealed_first_price", -1, 3, advance=3),
                                          rnd("english", 2.2, 3)])
    aid = auction["id"]
    a, b, c, d = [await qualified_bidder(actors, aid) for _ in range(4)]
    sealed = {}
    for who, amount in ((a, "2100000.00"), (b, "2200000.00"), (c, "2300000.00"), (d, "2050000.00")):
        response = await bid(client, aid, who, amount=amount)
        assert response.status_code == 201, response.text
        sealed[who.organization_id] = response.json()["paddle"]

    await wait_round_end(client, aid)
    assert await close(app, aid) is False  # the round closed, the auction goes on
    assert await close(app, aid) is False  # a second closer changes nothing
    now = await state(client, aid, await actors.user(Role.enterprise))
    assert now["current_round"] == 1 and now["current_round_kind"] == "english"
    assert now["status"] == "open" and now["rounds"][0]["closed_at"] is not None
    assert len(await bids(client, aid)) == 4  # the closed sealed round is public now

    await sleep_until(client, aid, ms(now["starts_at"]))
    body = await state(client, aid)
    assert body["minimum_next_bid"] == "2300000.00"  # starts at the best sealed bid
    out = await bid(client, aid, d, amount="2400000.00")
    assert out.status_code == 409 and code(out) == "not_qualified"
    late = await actors.user(Role.enterprise)
    reg = await client.post(f"{API}/auctions/{aid}/registrations", headers=late.headers)
    assert reg.status_code == 201
    low = await bid(client, aid, a, amount="2290000.00")
    assert low.status_code == 409 and code(low) == "bid_too_low"
    first = await bid(client, aid, a, amount="2300000.00")
    assert first.status_code == 201 and first.json()["round_index"] == 1
    assert first.json()["sequence"] == 5
    top = await bid(client, aid, c, amount="2350000.00")
    assert top.status_code == 201, top.text

    result = await finish(app, client, aid)
    assert result["outcome"] == "sold" and result["hammer_price"] == "2350000.00"
    assert result["winning_paddle"] == sealed[c.organization_id]
    trail = await bids(client, aid, actors.admin)
    assert sorted((t["round_index"], t["sequence"]) for t in trail) == [
        (0, 1), (0, 2), (0, 3), (0, 4), (1, 5), (1, 6)]
    paid = await settlement(client, actors.admin, result["settlement_id"])
    assert paid["bid_count"] == 6 and paid["hammer_price"] == "2350000.00"
    ledger = await client.get(f"{API}/audit/ledger", params={"action": "auction.round_closed"},
                              headers=actors.admin.headers)
    assert ledger.status_code == 200 and len(ledger.json()["items"]) == 1
    opened = await client.get(f"{API}/audit/ledger", params={"action": "auction.round_opened"},
                              headers=actors.admin.headers)
    (entry,) = opened.json()["items"]
    assert json.loads(entry["payload"])["round_index"] == 1
    verify = await client.get(f"{API}/audit/verify", headers=actors.admin.headers)
    assert verify.status_code == 200 and verify.json()["ok"] is True


async def test_nobody_to_advance_closes_unsold(actors, client, app):
    auction = await kind_auction(actors, [rnd("sealed_second_price", -1, 2, advance=2),
                                          rnd("english", 3, 3)])
    aid = auction["id"]
    await qualified_bidder(actors, aid)
    result = await finish(app, client, aid)
    assert result["outcome"] == "unsold" and result["winning_paddle"] is None
    assert await close_due(app.state.engine, app.state.sessionmaker) == 0
    listing = (await client.get(f"{API}/listings/{auction['listing_id']}",
                                headers=actors.admin.headers)).json()
    assert listing["status"] == "unsold"


async def test_rounds_are_rebuilt_from_sql_when_redis_loses_them(actors, client, app):
    auction = await kind_auction(actors, [rnd("sealed_second_price", -1, 2.5, advance=2),
                                          rnd("english", 1.5, 3)])
    aid = auction["id"]
    a, b, c = [await qualified_bidder(actors, aid) for _ in range(3)]
    for who, amount in ((a, "2100000.00"), (b, "2400000.00"), (c, "2200000.00")):
        assert (await bid(client, aid, who, amount=amount)).status_code == 201
    await forget_auction(app, aid)
    assert (await state(client, aid, actors.admin))["bid_count"] == 3  # rebuilt from SQL
    await wait_round_end(client, aid)
    assert await close(app, aid) is False
    opened = await state(client, aid)
    await sleep_until(client, aid, ms(opened["starts_at"]))
    await forget_auction(app, aid)
    rebuilt = await state(client, aid)
    assert rebuilt["current_round"] == 1 and rebuilt["minimum_next_bid"] == "2400000.00"
    refused = await bid(client, aid, a, amount="2500000.00")
    assert refused.status_code == 409 and code(refused) == "not_qualified"
    took = await bid(client, aid, c, amount="2400000.00")
    assert took.status_code == 201 and took.json()["sequence"] == 4
    result = await finish(app, client, aid)
    assert result["hammer_price"] == "2400000.00"
