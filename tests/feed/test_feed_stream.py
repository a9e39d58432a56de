"""A stream through a quiet lot, Last-Event-ID checked strictly, and the stream caps."""

import asyncio
import contextlib
import json

import httpx
import pytest

from tests.feed.support import bid, feed_server, hub_of, raw_lines
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import enterprises, qualify_all


async def test_a_quiet_lot_keeps_its_stream_until_the_bids_and_the_close(actors, client, settings):
    alice, bob = await enterprises(actors, 2)
    # The watcher connects before the lot opens; the lot then stays quiet for 20 s.
    auction = await create_auction(actors, listing_id=await approved_listing(actors),
                                   starts_in=1.5, lasts=25)
    auction_id = auction["id"]
    await qualify_all(client, actors.admin, auction_id, [alice, bob])
    lines: list[str] = []
    async with (feed_server(settings) as live,
                httpx.AsyncClient(base_url=live.url, timeout=httpx.Timeout(60)) as http,
                http.stream("GET", f"{API}/auctions/{auction_id}/events") as response):
        assert response.status_code == 200
        reader = asyncio.create_task(raw_lines(response, lines))
        await asyncio.sleep(20)
        assert not reader.done(), "the stream ended during the quiet stretch"
        assert not [line for line in lines if line.startswith("event:")]
        assert lines.count(": ping") >= 1, lines
        first = await bid(client, auction_id, alice, "2000000.00")
        second = await bid(client, auction_id, bob, "2010000.00")
        await asyncio.wait_for(reader, timeout=15)  # ends after `closed` (closer in the server)
    events = [line.removeprefix("event: ") for line in lines if line.startswith("event:")]
    assert events == ["bid", "bid", "round_closed", "closed"]
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [d["sequence"] for d in data[:2]] == [first["sequence"], second["sequence"]]
    assert data[-1]["hammer_price"] == "2010000.00"


@pytest.mark.parametrize("header", ["0-99999999999999999999", "18446744073709551616-0", "1-x", "-1"])
async def test_a_malformed_last_event_id_is_a_422(client, actors, header):
    auction = await create_auction(actors)
    response = await client.get(f"{API}/auctions/{auction['id']}/events",
                                headers={"Last-Event-ID": header})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in {"invalid_last_event_id", "validation_error"}


async def test_the_largest_event_id_resumes_after_everything(actors, client, settings):
    auction = await create_auction(actors)
    async with (feed_server(settings) as live,
                httpx.AsyncClient(base_url=live.url, timeout=10) as http,
                http.stream("GET", f"{API}/auctions/{auction['id']}/events",
                            headers={"Last-Event-ID": "18446744073709551615-18446744073709551615"}
                            ) as response):
        assert response.status_code == 200


async def test_streams_are_capped_per_client_and_per_process(actors, settings):
    auction = await create_auction(actors)
    path = f"{API}/auctions/{auction['id']}/events"
    async with (feed_server(settings, feed_max_streams_per_client=2,
                            feed_max_streams_per_process=3) as live,
                three_clients(live.url) as (one, two, three)):
        held = [await open_stream(one, path), await open_stream(one, path)]
        refused = await one.get(path)
        assert refused.status_code == 429 and refused.json()["code"] == "too_many_streams"
        assert int(refused.headers["Retry-After"]) >= 1
        held.append(await open_stream(two, path))  # another address: still under its cap
        full = await three.get(path)
        assert full.status_code == 503 and full.json()["code"] == "too_many_streams"
        assert int(full.headers["Retry-After"]) >= 1
        await held.pop().aclose()
        await asyncio.sleep(0.2)
        assert hub_of(live).streams == 2
        again = await open_stream(three, path)
        assert again.status_code == 200
        for response in [*held, again]:
            await response.aclose()


@contextlib.asynccontextmanager
async def three_clients(base_url: str):
    """Three clients, each from its own loopback address (127.0.0.1, .2 and .3)."""
    async with contextlib.AsyncExitStack() as stack:
        made = []
        for n in (1, 2, 3):
            transport = httpx.AsyncHTTPTransport(local_address=f"127.0.0.{n}")
            made.append(await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, transport=transport, timeout=10)))
        yield made


async def open_stream(http: httpx.AsyncClient, path: str) -> httpx.Response:
    """An SSE response opened and left open (the caller closes it)."""
    response = await http.send(http.build_request("GET", path), stream=True)
    assert response.status_code == 200, response.status_code
    return response
