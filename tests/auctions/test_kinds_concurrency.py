"""Many bidders at once through HTTP, per round kind: one winner, the right price, and
nothing sealed or secret leaked before the close.

Each test qualifies N bidders for an auction whose round opens in the future, waits for
the opening on the server clock, then fires all N bids at once (see opened_field)."""

import asyncio
import random
from decimal import Decimal

import pytest

from app.security import Role
from tests.support.auctions import API
from tests.support.kinds import bid, bids, code, finish, opened_field, state
from tests.support.live import money

N = 100
LASTS = 3  # seconds of a sealed or english round; a burst of N bids takes about 0.5 s
TOO_LOW = "1999999.99"  # below the starting price


def _amounts(seed: int) -> list[Decimal]:
    """N distinct amounts, two increments apart, from 4,020,000.00 up."""
    values = random.Random(seed).sample(range(201, 201 + 10 * N), N)
    return [Decimal(v) * 20000 for v in values]


def _public(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "server_time"}


async def _sealed_burst(actors, client, app, kind: str):
    outsider = await actors.user(Role.enterprise)
    aid, bidders, paddles = await opened_field(actors, client, N, kind, LASTS)
    amounts = _amounts(len(kind))
    opened = await state(client, aid)
    low = await bid(client, aid, bidders[0], amount=TOO_LOW)
    replies = await asyncio.gather(*(
        bid(client, aid, who, amount=money(a)) for who, a in zip(bidders, amounts, strict=True)))
    assert [r.status_code for r in replies] == [201] * N
    assert {r.json()["sequence"] for r in replies} == {0}
    for who in (outsider, bidders[0], None):
        seen = await state(client, aid, who)
        assert (seen["current_price"], seen["leading_paddle"], seen["bid_count"]) == (None, None, 0)
        assert await bids(client, aid, who) == []
    assert _public(await state(client, aid)) == _public(opened)  # nothing moved in public
    # A refusal after N sealed bids reads exactly as one before any.
    again = await bid(client, aid, bidders[0], amount=TOO_LOW)
    assert (again.status_code, code(again)) == (low.status_code, code(low)) == (409, "bid_too_low")
    assert again.json() == low.json() and set(again.headers) == set(low.headers)
    assert [e.type for e in await app.state.engine.events_since(aid)
            if e.type == "bid"] == []
    ranked = sorted(zip(amounts, bidders, strict=True), key=lambda p: p[0], reverse=True)
    return aid, ranked, paddles


@pytest.mark.parametrize(("kind", "price_rank"), [
    ("sealed_first_price", 0),  # the winner pays his own bid
    ("sealed_second_price", 1),  # Vickrey: the winner pays the second-highest bid
])
async def test_sealed_burst(actors, client, app, kind, price_rank):
    aid, ranked, paddles = await _sealed_burst(actors, client, app, kind)
    result = await finish(app, client, aid)
    assert result["hammer_price"] == money(ranked[price_rank][0])
    assert result["winning_paddle"] == paddles[ranked[0][1].organization_id]
    assert len(await bids(client, aid)) == N


async def test_dutch_burst_sells_once(actors, client, app):
    aid, bidders, paddles = await opened_field(
        actors, client, N, "dutch", 20, step="10000.00", interval_ms=500, floor="1500000.00")
    replies = await asyncio.gather(*(bid(client, aid, who) for who in bidders))
    won = [r for r in replies if r.status_code == 201]
    assert len(won) == 1, [r.text for r in replies if r.status_code != 409]
    assert {code(r) for r in replies if r.status_code != 201} == {"auction_closed"}
    result = await finish(app, client, aid)
    assert result["hammer_price"] == won[0].json()["amount"]
    assert result["winning_paddle"] == won[0].json()["paddle"] in paddles.values()
    assert 1500000 <= Decimal(result["hammer_price"]) <= 2000000
    assert len(await bids(client, aid)) == 1


async def test_proxy_burst(actors, client, app):
    aid, bidders, paddles = await opened_field(actors, client, N, "english", LASTS)
    maxima = _amounts(7)
    replies = await asyncio.gather(*(
        bid(client, aid, who, max_amount=money(m)) for who, m in zip(bidders, maxima, strict=True)))
    assert {r.status_code for r in replies} <= {201, 409}
    assert {code(r) for r in replies if r.status_code == 409} <= {"bid_too_low", "already_leading"}
    ranked = sorted(zip(maxima, bidders, strict=True), key=lambda p: p[0], reverse=True)
    top, second = ranked[0][0], ranked[1][0]
    public = str(await state(client, aid)) + str(await bids(client, aid))
    assert money(top) not in public  # the leader's maximum stays secret
    assert not [r for r in replies if money(top) in r.text]  # from the leader too
    result = await finish(app, client, aid)
    assert result["winning_paddle"] == paddles[ranked[0][1].organization_id]
    assert second <= Decimal(result["hammer_price"]) <= min(top, second + 10000)
    assert Decimal(result["hammer_price"]) == second + 10000  # whatever the order of arrival
    trail = await bids(client, aid, actors.admin)
    assert sorted(b["sequence"] for b in trail) == list(range(1, len(trail) + 1))
    assert max(Decimal(b["amount"]) for b in trail) == Decimal(result["hammer_price"])
    stream = (await client.get(f"{API}/auctions/{aid}/events")).text
    assert "event: closed" in stream and money(top) not in stream  # nor once closed
