"""The session-wide stream: lot_opened, session_paused, session_resumed, lot_closed (sold,
withdrawn), session_finished, in the order they happened, live and after Last-Event-ID; on a
single Redis and on a Redis Cluster (the session's keys share one hash tag)."""

import contextlib
from collections.abc import AsyncIterator

import httpx
from asgi_lifespan import LifespanManager

from app.main import create_app
from app.security import Role
from tests.feed.support import feed_server, wait_for_streams
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support import databases
from tests.support.actors import Actors
from tests.support.auctions import API, approved_listing
from tests.support.server import SseEvent, drain, next_events, sse_events

WITHIN = 30


@contextlib.asynccontextmanager
async def session_stream(base_url: str, session_id: int, *, last_event_id: str | None = None
                         ) -> AsyncIterator[AsyncIterator[SseEvent]]:
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    async with (httpx.AsyncClient(base_url=base_url, timeout=60) as http,
                http.stream("GET", f"{API}/sessions/{session_id}/events", headers=headers) as response):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield sse_events(response)


async def _admin(client, actors, path: str, **body) -> httpx.Response:
    response = await client.post(f"{API}{path}", headers=actors.admin.headers, **body)
    assert response.status_code == 200, response.text
    return response


async def test_the_session_stream_tells_every_step_in_order_and_resumes(actors, client, settings):
    bidder = await actors.user(Role.enterprise)
    sid = (await create_session(actors, mode="live", starts_in=2, lot_duration_seconds=3,
                                lot_gap_seconds=1))["id"]
    lots = [(await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
            for _ in range(2)]
    await publish(actors, sid)
    paddle = (await qualify(actors, sid, bidder))["paddle"]
    async with feed_server(settings) as live, session_stream(live.url, sid) as events:
        await wait_for_streams(live, 1)
        (opened,) = await next_events(events, 1, WITHIN)
        assert (opened.event, opened.data["auction_id"]) == ("lot_opened", lots[0])
        assert opened.data["lot_number"] == 1 and opened.data["opens_at"] <= opened.data["at"]
        assert (await bid(client, lots[0], bidder, "2000000.00")).status_code == 201
        await _admin(client, actors, f"/sessions/{sid}/pause")
        await _admin(client, actors, f"/sessions/{sid}/resume")
        paused, resumed, closed, second = await next_events(events, 4, WITHIN)
        await wait_for(client, sid, lambda s: s["lots"][1]["status"] == "open", within=WITHIN)
        await _admin(client, actors, f"/auctions/{lots[1]}/withdraw", json={"reason": "Owner's request."})
        rest = await drain(events, within=WITHIN)  # the stream ends after session_finished
    got = [opened, paused, resumed, closed, second, *rest]
    assert [e.event for e in got] == ["lot_opened", "session_paused", "session_resumed", "lot_closed",
                                      "lot_opened", "lot_closed", "session_finished"]
    assert resumed.data["paused_ms"] >= 0
    assert (closed.data["auction_id"], closed.data["outcome"], closed.data["hammer_price"],
            closed.data["winning_paddle"]) == (lots[0], "sold", "2000000.00", paddle)
    assert second.data["auction_id"] == lots[1]
    assert (rest[0].data["auction_id"], rest[0].data["outcome"], rest[0].data.get("hammer_price")) == (
        lots[1], "withdrawn", None)
    assert all(e.data["at"].endswith("Z") for e in got)

    # a watcher back after the resume gets what followed, then the end; a new one everything
    async with feed_server(settings) as live:
        async with session_stream(live.url, sid, last_event_id=resumed.id) as events:
            after = await drain(events, within=WITHIN)
        async with session_stream(live.url, sid) as events:
            everything = await drain(events, within=WITHIN)
    assert [e.id for e in after] == [e.id for e in got[3:]]
    assert [e.id for e in everything] == [e.id for e in got]
    bad = await client.get(f"{API}/sessions/{sid}/events", headers={"Last-Event-ID": "1-x"})
    assert bad.status_code == 422


async def test_a_draft_sessions_stream_is_not_public(actors, client):
    sid = (await create_session(actors))["id"]
    assert (await client.get(f"{API}/sessions/{sid}/events")).status_code == 404


async def test_pause_resume_and_withdraw_on_a_cluster(settings, cluster, database_url):
    settings = settings.model_copy(update={"redis_url": cluster, "redis_cluster": True})
    app = create_app(settings)
    try:
        async with (LifespanManager(app, startup_timeout=30, shutdown_timeout=30),
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                      base_url="http://testserver") as client):
            actors = await Actors.bootstrap(app=app, client=client, settings=settings)
            bidder = await actors.user(Role.enterprise)
            sid = (await create_session(actors, starts_in=1, lot_duration_seconds=60))["id"]
            auction_id = (await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
            await publish(actors, sid)
            await qualify(actors, sid, bidder)
            async with feed_server(settings) as live, session_stream(live.url, sid) as events:
                (opened,) = await next_events(events, 1, WITHIN)
                await _admin(client, actors, f"/sessions/{sid}/pause")
                refused = await bid(client, auction_id, bidder, "2000000.00")
                await _admin(client, actors, f"/sessions/{sid}/resume")
                accepted = await bid(client, auction_id, bidder, "2000000.00")
                await _admin(client, actors, f"/auctions/{auction_id}/withdraw", json={"reason": "Recalled."})
                rest = await drain(events, within=WITHIN)
    finally:
        await databases.empty_all_tables(database_url)
    assert refused.status_code == 409 and refused.json()["code"] == "session_paused"
    assert accepted.status_code == 201, accepted.text
    assert [e.event for e in [opened, *rest]] == ["lot_opened", "session_paused", "session_resumed",
                                                  "lot_closed", "session_finished"]
    assert rest[2].data["outcome"] == "withdrawn"
