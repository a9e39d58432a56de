"""Many bidders at once through HTTP, per round kind: one winner, the right price, and
nothing sealed or secret leaked before the close."""

import asyncio
import random
from decimal import Decimal

from app.security import Role
from tests.support.kinds import bid, bids, code, finish, kind_auction, rnd, state
from tests.support.live import enterprises, money, qualify_all

N = 36


async def _field(actors, client, rounds):
    auction = await kind_auction(actors, rounds)
    bidders = await enterprises(actors, N)
    paddles = await qualify_all(client, actors.admin, auction["id"], bidders)
    return auction["id"], bidders, paddles


def _amounts(seed: int) -> list[Decimal]:
    values = random.Random(seed).sample(range(201, 201 + 10 * N), N)
    return [Decimal(v) * 10000 for v in values]  # distinct, from 2,010,000.00 up


async def _sealed_burst(actors, client, app, kind: str):
    aid, bidders, paddles = await _field(actors, client, [rnd(kind, -1, 6)])
    amounts = _amounts(len(kind))
    replies = await asyncio.gather(*(
        bid(client, aid, who, amount=money(a)) for who, a in zip(bidders, amounts, strict=True)))
    assert [r.status_code for r in replies] == [201] * N
    assert {r.json()["sequence"] for r in replies} == {0}
    outsider = await actors.user(Role.enterprise)
    for who in (outsider, bidders[0], None):
        seen = await state(client, aid, who)
        assert (seen["current_price"], seen["leading_paddle"], seen["bid_count"]) == (None, None, 0)
        assert await bids(client, aid, who) == []
    assert [e.type for e in await app.state.engine.events_since(aid)
            if e.type == "bid"] == []
    ranked = sorted(zip(amounts, bidders, strict=True), key=lambda p: p[0], reverse=True)
    return aid, ranked, paddles


async def test_sealed_first_price_burst(actors, client, app):
    aid, ranked, paddles = await _sealed_burst(actors, client, app, "sealed_first_price")
    result = await finish(app, client, aid)
    assert result["hammer_price"] == money(ranked[0][0])
    assert result["winning_paddle"] == paddles[ranked[0][1].organization_id]
    assert len(await bids(client, aid)) == N


async def test_vickrey_burst(actors, client, app):
    aid, ranked, paddles = await _sealed_burst(actors, client, app, "sealed_second_price")
    result = await finish(app, client, aid)
    assert result["hammer_price"] == money(ranked[1][0])
    assert result["winning_paddle"] == paddles[ranked[0][1].organization_id]


async def test_dutch_burst_sells_once(actors, client, app):
    aid, bidders, _ = await _field(actors, client, [rnd(
        "dutch", -1, 20, step="10000.00", interval_ms=500, floor="1500000.00")])
    replies = await asyncio.gather(*(bid(client, aid, who) for who in bidders))
    won = [r for r in replies if r.status_code == 201]
    assert len(won) == 1, [r.text for r in replies if r.status_code != 409]
    assert {code(r) for r in replies if r.status_code != 201} == {"auction_closed"}
    result = await finish(app, client, aid)
    assert result["hammer_price"] == won[0].json()["amount"]
    assert result["winning_paddle"] == won[0].json()["paddle"]
    assert len(await bids(client, aid)) == 1


async def test_proxy_burst(actors, client, app):
    aid, bidders, paddles = await _field(actors, client, [rnd("english", -1, 6)])
    maxima = _amounts(7)
    replies = await asyncio.gather(*(
        bid(client, aid, who, max_amount=money(m)) for who, m in zip(bidders, maxima, strict=True)))
    assert {r.status_code for r in replies} <= {201, 409}
    assert {code(r) for r in replies if r.status_code == 409} <= {"bid_too_low", "already_leading"}
    ranked = sorted(zip(maxima, bidders, strict=True), key=lambda p: p[0], reverse=True)
    top, second = ranked[0][0], ranked[1][0]
    public = str(await state(client, aid)) + str(await bids(client, aid))
    assert money(top) not in public  # the leader's maximum stays secret
    result = await finish(app, client, aid)
    assert result["winning_paddle"] == paddles[ranked[0][1].organization_id]
    assert second <= Decimal(result["hammer_price"]) <= min(top, second + 10000)
    trail = await bids(client, aid, actors.admin)
    assert sorted(b["sequence"] for b in trail) == list(range(1, len(trail) + 1))
    assert max(Decimal(b["amount"]) for b in trail) == Decimal(result["hammer_price"])
