"""An english auction end to end through HTTP: create, register, qualify, bid, close."""

import asyncio

from app.closing.closer import close_due
from tests.support.auctions import API, create_auction, qualified_bidder
from tests.support.pages import each_page


async def test_english_auction_end_to_end(actors, client, app):
    auction = await create_auction(actors, lasts=4, increment="10000.00")
    auction_id = auction["id"]
    early = await client.get(f"{API}/auctions/{auction_id}/result")
    assert early.status_code == 409 and early.json()["code"] == "auction_not_closed"
    assert auction["status"] == "open" and auction["current_price"] is None
    assert auction["minimum_next_bid"] == "2000000.00"
    alice = await qualified_bidder(actors, auction_id)
    bob = await qualified_bidder(actors, auction_id)

    first = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2000000.00"},
                              headers=alice.headers)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["sequence"] == 1 and body["amount"] == "2000000.00" and body["paddle"]
    assert "organization_id" not in body or body["organization_id"] is None

    again = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2100000.00"},
                              headers=alice.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_leading"
    low = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2005000.00"},
                            headers=bob.headers)
    assert low.status_code == 409 and low.json()["code"] == "bid_too_low"
    second = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "2010000.00"},
                               headers=bob.headers)
    assert second.status_code == 201

    state = (await client.get(f"{API}/auctions/{auction_id}")).json()
    assert state["current_price"] == "2010000.00"
    assert state["leading_paddle"] == second.json()["paddle"]
    assert state["bid_count"] == 2 and state["minimum_next_bid"] == "2020000.00"

    await _sleep_until_ends(state)
    assert (await client.get(f"{API}/auctions/{auction_id}")).json()["status"] == "closed"
    late = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": "3000000.00"},
                             headers=alice.headers)
    assert late.status_code == 409 and late.json()["code"] == "auction_closed"

    assert await close_due(app.state.engine, app.state.sessionmaker) == 1
    closed = (await client.get(f"{API}/auctions/{auction_id}")).json()
    assert closed["status"] == "closed" and closed["outcome"] == "sold"
    result = (await client.get(f"{API}/auctions/{auction_id}/result")).json()
    assert result["outcome"] == "sold" and result["hammer_price"] == "2010000.00"
    assert result["winning_paddle"] == second.json()["paddle"]
    listing = (await client.get(f"{API}/listings/{closed['listing_id']}")).json()
    assert listing["status"] == "sold"
    bids = (await client.get(f"{API}/auctions/{auction_id}/bids", headers=actors.admin.headers)).json()
    assert [b["sequence"] for b in bids["items"]] == [2, 1]
    assert bids["items"][0]["organization_id"] == bob.organization_id


async def _sleep_until_ends(state: dict) -> None:
    """Wait (bounded) until the round's ends_at has passed by the server's clock."""
    from datetime import datetime

    ends = datetime.fromisoformat(state["ends_at"].replace("Z", "+00:00"))
    now = datetime.fromisoformat(state["server_time"].replace("Z", "+00:00"))
    await asyncio.sleep(min(10.0, (ends - now).total_seconds() + 0.05))


async def test_a_status_filter_fills_its_pages(actors, client):
    """The filter applies to the live status, and pages are full until the last one."""
    made = []
    for starts_in in (-1, -1, 600, -1, 600):  # open, open, scheduled, open, scheduled
        made.append((await create_auction(actors, starts_in=starts_in, lasts=60))["id"])
    newest_first = made[::-1]
    opened = [a for a, s in zip(made, (-1, -1, 600, -1, 600), strict=True) if s < 0][::-1]
    seen, sizes = [], []
    async for page in each_page(client, f"{API}/auctions", limit=2, max_pages=5, status="open"):
        sizes.append(len(page["items"]))
        seen += [(a["id"], a["status"]) for a in page["items"]]
    assert sizes == [2, 1]
    assert seen == [(a, "open") for a in opened]
    everything = (await client.get(f"{API}/auctions", params={"limit": 10})).json()
    assert [a["id"] for a in everything["items"]] == newest_first
    assert everything["next_cursor"] is None
    scheduled = (await client.get(f"{API}/auctions", params={"status": "scheduled"})).json()
    assert [a["status"] for a in scheduled["items"]] == ["scheduled", "scheduled"]
