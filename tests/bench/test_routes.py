"""The bench's control for durability: the real bid path, read as the bid route reads it,
with a journal that keeps nothing. Mounted only by the bench's app (bench.app)."""

import pytest

from tests.support.auctions import API, create_auction, qualified_bidder
from tests.support.kinds import bids, state

JSON = {"Content-Type": "application/json"}


async def test_a_volatile_bid_is_decided_as_a_bid_and_left_out_of_the_trail(actors, client):
    auction = await create_auction(actors)
    first = await qualified_bidder(actors, auction["id"])
    second = await qualified_bidder(actors, auction["id"])

    volatile = await client.post(f"/bench/auctions/{auction['id']}/volatile-bids",
                                 json={"amount": "2000000.00"}, headers=first.headers)
    real = await client.post(f"{API}/auctions/{auction['id']}/bids",
                             json={"amount": "2010000.00"}, headers=second.headers)

    assert volatile.status_code == real.status_code == 201, (volatile.text, real.text)
    assert volatile.json().keys() == real.json().keys()
    assert (volatile.json()["sequence"], real.json()["sequence"]) == (1, 2)
    # both were decided in Redis; only the real one is in the durable trail
    assert (await state(client, auction["id"]))["bid_count"] == 2
    assert [b["amount"] for b in await bids(client, auction["id"], actors.admin)] == ["2010000.00"]


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, b'{"amount": "2000000.00"}', 401, "unauthenticated"),
        # read as BidRoute reads a bid: the caller before the body (FastAPI's solver: 422)
        ({}, b'{"amount":', 401, "unauthenticated"),
        (None, b'{"amount": "abc"}', 422, "validation_error"),
        (None, b'{"amount": "2000000.00"}', 409, "not_qualified"),
    ],
)
async def test_a_volatile_bid_is_refused_as_a_bid_is(actors, client, headers, body, status, code):
    auction = await create_auction(actors)
    outsider = await actors.user("enterprise")
    url = f"/bench/auctions/{auction['id']}/volatile-bids"

    response = await client.post(url, content=body, headers=JSON | (
        outsider.headers if headers is None else headers))

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert (await state(client, auction["id"]))["bid_count"] == 0

