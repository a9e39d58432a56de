"""GET /auctions reads a page's live states in one Redis round trip (Engine.read_many) and its
listings and rounds in one query each: each item is what GET /auctions/{id} says of it, for
the public and for staff (the reserve), whether Redis holds the round or lost it."""

from app.security import Role
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder


def _same(item: dict, single: dict) -> None:
    # the two reads happen at different instants of the Redis clock
    assert item | {"server_time": None} == single | {"server_time": None}


async def test_each_listed_auction_is_as_described_alone(actors, client, app):
    institute = await actors.user(Role.institute)
    open_one = await create_auction(
        actors, listing_id=await approved_listing(actors, institute, reserve_price="2500000.00"))
    later = await create_auction(actors, starts_in=60)
    bidder = await qualified_bidder(actors, open_one["id"])
    placed = await client.post(f"{API}/auctions/{open_one['id']}/bids",
                               json={"amount": "2000000.00"}, headers=bidder.headers)
    assert placed.status_code == 201, placed.text
    # Redis lost one of them: the list rebuilds it from SQL as GET /auctions/{id} does
    keys = app.state.engine.keys(later["id"])
    await app.state.engine.redis.delete(keys.state, keys.bids)

    for headers in ({}, actors.admin.headers, institute.headers):
        page = await client.get(f"{API}/auctions?limit=1000", headers=headers)
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert {open_one["id"], later["id"]} <= {i["id"] for i in items}
        for item in items:
            single = await client.get(f"{API}/auctions/{item['id']}", headers=headers)
            _same(item, single.json())
    listed = {i["id"]: i for i in (await client.get(f"{API}/auctions")).json()["items"]}
    assert listed[open_one["id"]]["leading_paddle"] and listed[open_one["id"]]["bid_count"] == 1
    assert listed[open_one["id"]]["reserve_price"] is None  # secret to the public
    assert listed[later["id"]]["status"] == "scheduled"
    owner = {i["id"]: i for i in (await client.get(f"{API}/auctions",
                                                   headers=institute.headers)).json()["items"]}
    assert owner[open_one["id"]]["reserve_price"] == "2500000.00"
    filtered = (await client.get(f"{API}/auctions?status=open&limit=1")).json()
    assert [i["status"] for i in filtered["items"]] == ["open"]
