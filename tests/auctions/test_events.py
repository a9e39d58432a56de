"""Server-Sent Events over a live uvicorn server: order, money as strings, resume, end of stream."""

import asyncio
import itertools
import re
from decimal import Decimal

import httpx
import pytest

from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import enterprises, ms, qualify_all, sleep_until
from tests.support.server import LiveServer, drain, event_source, next_events

MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
async def live(app, settings):
    """The app under uvicorn, running its own closer (nobody else closes rounds here)."""
    async with LiveServer(settings.model_copy(update={"closer_in_api": True})) as server:
        yield server


def _id_key(event_id: str) -> tuple[int, int]:
    millis, seq = event_id.split("-")
    return int(millis), int(seq)


async def test_events_arrive_in_order_resume_and_end_after_closed(actors, client, live):
    alice, bob = await enterprises(actors, 2)
    listing_id = await approved_listing(actors)
    # Round: 4 s; a bid in the last 2 s moves the end to 2 s after it; hard close 1.8 s late.
    auction = await create_auction(actors, listing_id=listing_id, starts_in=0, lasts=4,
                                   window=2, extension=2, hard_close_in=5.8)
    auction_id, end = auction["id"], ms(auction["ends_at"])
    hard = ms(auction["anti_sniping"]["hard_close_at"])
    paddles = await qualify_all(client, actors.admin, auction_id, [alice, bob])

    async def bid(who, amount: str) -> dict:
        response = await client.post(f"{API}/auctions/{auction_id}/bids", json={"amount": amount},
                                     headers=who.headers)
        assert response.status_code == 201, response.text
        return response.json()

    # First subscriber: anonymous, from the start, before anything happened.
    async with event_source(live.url, auction_id) as (response, stream):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        first = await bid(alice, "2000000.00")  # outside the window: no extension
        assert first["ends_at"] == auction["ends_at"]
        head = await next_events(stream, 1, within=5)
    assert [e.event for e in head] == ["bid"]

    # While nobody listens: a bid inside the window extends, another one hits the hard close.
    await sleep_until(client, auction_id, end - 1500)
    second = await bid(bob, "2010000.00")
    assert ms(second["ends_at"]) == ms(second["placed_at"]) + 2000 < hard
    await sleep_until(client, auction_id, hard - 1900)
    third = await bid(alice, "2020000.00")
    assert ms(third["ends_at"]) == hard

    # Resume after the first event: exactly what followed, live to the end, then the stream ends.
    async with event_source(live.url, auction_id, last_event_id=head[-1].id) as (_, stream):
        rest = await drain(stream, within=(hard - end) / 1000 + 10)
    events = head + rest
    assert [e.event for e in events] == [
        "bid", "bid", "extended", "bid", "extended", "round_closed", "closed",
    ]
    ids = [e.id for e in events]
    assert all(ids) and len(set(ids)) == len(ids)
    assert [_id_key(i) for i in ids] == sorted(_id_key(i) for i in ids)

    bids = [e.data for e in events if e.event == "bid"]
    assert [b["sequence"] for b in bids] == [1, 2, 3]
    assert [b["amount"] for b in bids] == ["2000000.00", "2010000.00", "2020000.00"]
    for data, answer in zip(bids, (first, second, third), strict=True):
        assert MONEY.match(data["amount"]) and STAMP.match(data["placed_at"])
        assert (data["paddle"], data["placed_at"], data["ends_at"]) == (
            answer["paddle"], answer["placed_at"], answer["ends_at"])
    extended = [e.data for e in events if e.event == "extended"]
    assert [x["sequence"] for x in extended] == [2, 3]
    assert [x["ends_at"] for x in extended] == [second["ends_at"], third["ends_at"]]
    for closing in events[-2:]:
        data = closing.data
        assert data["outcome"] == "sold" and data["hammer_price"] == "2020000.00"
        assert data["winning_paddle"] == paddles[alice.organization_id]
        assert STAMP.match(data["closed_at"]) and ms(data["closed_at"]) >= ms(third["ends_at"])

    # Resuming after any event gives exactly the events after it; a fresh one gives them all.
    for k, event in enumerate(events):
        async with event_source(live.url, auction_id, last_event_id=event.id) as (_, stream):
            assert [e.id for e in await drain(stream, within=5)] == ids[k + 1:]
    async with event_source(live.url, auction_id) as (_, stream):
        again = await drain(stream, within=5)
    assert [(e.id, e.event, e.data) for e in again] == [(e.id, e.event, e.data) for e in events]
    state = (await client.get(f"{API}/auctions/{auction_id}")).json()
    assert state["status"] == "closed" and state["outcome"] == "sold"


async def test_many_live_subscribers_see_the_same_stream(actors, client, live):
    bidders = await enterprises(actors, 4)
    listing_id = await approved_listing(actors)
    auction = await create_auction(actors, listing_id=listing_id, starts_in=0, lasts=3)
    auction_id = auction["id"]
    await qualify_all(client, actors.admin, auction_id, bidders)

    async def subscribe() -> list[tuple[str, str]]:
        async with event_source(live.url, auction_id) as (_, stream):
            return [(e.id, e.event) for e in await drain(stream, within=10)]

    listeners = [asyncio.create_task(subscribe()) for _ in range(5)]
    await asyncio.sleep(0.2)
    for n, bidder in zip(itertools.count(), bidders, strict=False):
        amount = f"{Decimal('2000000.00') + n * 10000:.2f}"
        response = await client.post(f"{API}/auctions/{auction_id}/bids",
                                     json={"amount": amount}, headers=bidder.headers)
        assert response.status_code == 201, response.text
    seen = await asyncio.wait_for(asyncio.gather(*listeners), timeout=15)
    assert all(s == seen[0] for s in seen)
    assert [t for _, t in seen[0]] == ["bid"] * 4 + ["round_closed", "closed"]


async def test_events_errors_on_the_live_server(live):
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
        missing = await http.get(f"{API}/auctions/999999/events")
        assert missing.status_code == 404 and missing.json()["code"] == "auction_not_found"
        bad = await http.get(f"{API}/auctions/1/events", headers={"Last-Event-ID": "x; DROP"})
        assert bad.status_code == 422
