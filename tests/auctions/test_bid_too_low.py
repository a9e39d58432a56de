"""A bid_too_low refusal of an open english or dutch round carries the minimum next bid;
a sealed round's does not (its standing is hidden)."""

from tests.support.auctions import API, qualified_bidder
from tests.support.kinds import bid, kind_auction, rnd


async def refused_low(client, auction_id: int, who, amount: str) -> dict:
    response = await bid(client, auction_id, who, amount=amount)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "bid_too_low", body
    return body


async def test_english_refusal_carries_the_minimum_next_bid(actors, client):
    auction = await kind_auction(actors, [rnd("english", -1, 600)])
    alice = await qualified_bidder(actors, auction["id"])
    bob = await qualified_bidder(actors, auction["id"])
    assert (await refused_low(client, auction["id"], alice, "1999999.00"))["minimum_next_bid"] == (
        "2000000.00")
    assert (await bid(client, auction["id"], alice, amount="2000000.00")).status_code == 201
    body = await refused_low(client, auction["id"], bob, "2005000.00")
    assert body["minimum_next_bid"] == "2010000.00"
    state = (await client.get(f"{API}/auctions/{auction['id']}")).json()
    assert state["minimum_next_bid"] == body["minimum_next_bid"]


async def test_dutch_refusal_carries_the_clock_price(actors, client):
    auction = await kind_auction(actors, [rnd("dutch", -1, 600, step="10000.00",
                                               interval_seconds=300, floor="1500000.00")])
    alice = await qualified_bidder(actors, auction["id"])
    body = await refused_low(client, auction["id"], alice, "1900000.00")
    assert body["minimum_next_bid"] == "2000000.00"


async def test_sealed_refusal_carries_none(actors, client):
    auction = await kind_auction(actors, [rnd("sealed_first_price", -1, 600)])
    alice = await qualified_bidder(actors, auction["id"])
    body = await refused_low(client, auction["id"], alice, "1000.00")
    assert "minimum_next_bid" not in body
