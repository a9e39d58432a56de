"""Pause and resume: no bid while paused, no lot closes or opens, and each lot's remaining
time is what it was at the pause (its close moved by the pause's length, on Redis's clock).

The pause's length is bracketed by the server's own clock (server_time of the answers read
just before and just after each call): no tolerance is guessed, a lot moved by more or less
than the time between the two scripts would fall outside it."""

import asyncio
import json

from app.security import Role
from app.sessions import control
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify, wait_for
from tests.support.auctions import API, approved_listing
from tests.support.live import ms


async def _ledger(client, actors, action: str, session_id: int) -> list[dict]:
    response = await client.get(f"{API}/audit/ledger", params={"action": action, "entity_id": session_id},
                                headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return [json.loads(entry["payload"]) for entry in response.json()["items"]]


async def _control(client, actors, session_id: int, action: str) -> dict:
    response = await client.post(f"{API}/sessions/{session_id}/{action}", headers=actors.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_pause_keeps_every_lots_remaining_time_and_takes_no_bid(actors, client):
    alice, bob = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    listings = [await approved_listing(actors) for _ in range(2)]
    sid = (await create_session(actors, lot_duration_seconds=12, stagger_seconds=2))["id"]
    lots = [(await add_lot(actors, sid, listing_id))["auction_id"] for listing_id in listings]
    await publish(actors, sid)
    for bidder in (alice, bob):
        await qualify(actors, sid, bidder)
    assert (await bid(client, lots[0], alice, "2000000.00")).status_code == 201

    before = (await client.get(f"{API}/sessions/{sid}")).json()
    assert before["status"] == "running"
    due = [ms(lot["ends_at"]) for lot in before["lots"]]
    paused = await _control(client, actors, sid, "pause")
    assert paused["status"] == "paused" and paused["paused_at"] is not None

    keyed = {"Idempotency-Key": "pause-retry-1"}
    refused = await client.post(f"{API}/auctions/{lots[0]}/bids", json={"amount": "2010000.00"},
                                headers=bob.headers | keyed)
    assert refused.status_code == 409 and refused.json()["code"] == "session_paused"
    # past the first lot's due close: nothing closes while paused
    body = await wait_for(client, sid, lambda s: ms(s["server_time"]) > due[0] + 1000, within=30)
    assert body["status"] == "paused"
    assert [lot["status"] for lot in body["lots"]] == ["open", "open"]
    assert [ms(lot["ends_at"]) for lot in body["lots"]] == due
    unclosed = await client.get(f"{API}/auctions/{lots[0]}/result")
    assert unclosed.status_code == 409 and unclosed.json()["code"] == "auction_not_closed"
    room = (await client.get(f"{API}/auctions/{lots[0]}")).json()  # its clock stopped at the pause
    assert (room["status"], room["ends_at"]) == ("open", before["lots"][0]["ends_at"])
    late = await bid(client, lots[1], bob, "2000000.00")
    assert late.status_code == 409 and late.json()["code"] == "session_paused"

    last_read = ms(body["server_time"])
    resumed = await _control(client, actors, sid, "resume")
    assert resumed["status"] == "running" and resumed["paused_at"] is None
    after = (await client.get(f"{API}/sessions/{sid}")).json()
    shifts = [ms(lot["ends_at"]) - d for lot, d in zip(after["lots"], due, strict=True)]
    # each lot stopped between the reads around the pause, restarted between those around the resume
    lowest = last_read - ms(paused["server_time"])
    highest = ms(resumed["server_time"]) - ms(before["server_time"])
    assert all(lowest <= shift <= highest for shift in shifts), (lowest, shifts, highest)
    (recorded,) = await _ledger(client, actors, "session.resumed", sid)
    assert recorded["shifted_ms"] == {str(a): s for a, s in zip(lots, shifts, strict=True)}
    assert len(await _ledger(client, actors, "session.paused", sid)) == 1

    # a refused bid was not kept under its key: the same request now goes through
    again = await client.post(f"{API}/auctions/{lots[0]}/bids", json={"amount": "2010000.00"},
                              headers=bob.headers | keyed)
    assert again.status_code == 201, again.text
    done = await wait_for(client, sid, lambda s: s["status"] == "finished", within=40)
    assert [lot["status"] for lot in done["lots"]] == ["sold", "passed"]
    result = (await client.get(f"{API}/auctions/{lots[0]}/result")).json()
    assert result["hammer_price"] == "2010000.00"
    assert ms(result["closed_at"]) >= ms(after["lots"][0]["ends_at"])  # its whole remaining time


async def test_a_live_lot_waiting_for_its_turn_waits_out_the_pause(actors, client):
    bidder = await actors.user(Role.enterprise)
    listings = [await approved_listing(actors) for _ in range(2)]
    sid = (await create_session(actors, mode="live", lot_duration_seconds=2, lot_gap_seconds=4))["id"]
    lots = [(await add_lot(actors, sid, listing_id))["auction_id"] for listing_id in listings]
    await publish(actors, sid)
    await qualify(actors, sid, bidder)
    gap = await wait_for(client, sid, lambda s: s["lots"][1]["opens_at"] is not None, within=30)
    opens = ms(gap["lots"][1]["opens_at"])
    assert ms(gap["server_time"]) < opens  # in the gap: paused before the next lot opens
    paused = await _control(client, actors, sid, "pause")
    body = await wait_for(client, sid, lambda s: ms(s["server_time"]) > opens + 500, within=30)
    refused = await bid(client, lots[1], bidder, "2000000.00")
    assert refused.status_code == 409 and refused.json()["code"] == "session_paused"
    resumed = await _control(client, actors, sid, "resume")
    lot = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][1]
    moved = ms(lot["opens_at"]) - opens
    assert ms(body["server_time"]) - ms(paused["server_time"]) <= moved
    assert moved <= ms(resumed["server_time"]) - ms(gap["server_time"])
    assert ms(lot["ends_at"]) - ms(lot["opens_at"]) == 2000  # its whole duration is still ahead
    if ms(resumed["server_time"]) < ms(lot["opens_at"]) - 300:
        early = await bid(client, lots[1], bidder, "2000000.00")
        assert early.status_code == 409 and early.json()["code"] == "auction_not_open"
    done = await wait_for(client, sid, lambda s: s["status"] == "finished", within=30)
    assert [lot["status"] for lot in done["lots"]] == ["passed", "passed"]


async def test_pause_and_resume_refuse_the_wrong_state_and_role(actors, client):
    listing = await approved_listing(actors)
    sid = (await create_session(actors, starts_in=3600))["id"]
    await add_lot(actors, sid, listing)
    admin = actors.admin.headers
    draft = await client.post(f"{API}/sessions/{sid}/pause", headers=admin)
    assert draft.status_code == 409 and draft.json()["code"] == "session_not_running"
    await publish(actors, sid)
    early = await client.post(f"{API}/sessions/{sid}/pause", headers=admin)  # not started yet
    assert early.status_code == 409 and early.json()["code"] == "session_not_running"
    idle = await client.post(f"{API}/sessions/{sid}/resume", headers=admin)
    assert idle.status_code == 409 and idle.json()["code"] == "session_not_paused"
    bidder = await actors.user(Role.enterprise)
    assert (await client.post(f"{API}/sessions/{sid}/pause", headers=bidder.headers)).status_code == 403
    assert (await client.post(f"{API}/sessions/{sid}/resume")).status_code == 401

    running = (await create_session(actors))["id"]
    await add_lot(actors, running, await approved_listing(actors))
    await publish(actors, running)
    await _control(client, actors, running, "pause")
    twice = await client.post(f"{API}/sessions/{running}/pause", headers=admin)
    assert twice.status_code == 409 and twice.json()["code"] == "session_not_running"
    await _control(client, actors, running, "resume")
    again = await client.post(f"{API}/sessions/{running}/resume", headers=admin)
    assert again.status_code == 409 and again.json()["code"] == "session_not_paused"


async def test_resumes_and_repair_passes_racing_move_each_lot_once(actors, client, app):
    """Two resumes at once and the worker's repair pass around them (as several API and
    worker processes would): each lot's pause is applied once and undone once."""
    bidder = await actors.user(Role.enterprise)
    sid = (await create_session(actors, lot_duration_seconds=60))["id"]
    auction_id = (await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
    await publish(actors, sid)
    await qualify(actors, sid, bidder)
    before = (await client.get(f"{API}/sessions/{sid}")).json()
    paused = await _control(client, actors, sid, "pause")
    repair = {"engine": app.state.engine, "sessionmaker": app.state.sessionmaker}
    await control.reconcile(**repair)  # the same pause again: nothing moves twice
    await asyncio.sleep(2)
    last_read = ms((await client.get(f"{API}/sessions/{sid}")).json()["server_time"])
    admin = actors.admin.headers
    answers = await asyncio.gather(
        client.post(f"{API}/sessions/{sid}/resume", headers=admin),
        client.post(f"{API}/sessions/{sid}/resume", headers=admin),
        control.reconcile(**repair))
    codes = sorted(r.status_code for r in answers[:2])
    assert codes[0] == 200 and codes[1] in (200, 409), codes
    await control.reconcile(**repair)  # after the resume: the lot is not paused again
    after = (await client.get(f"{API}/sessions/{sid}")).json()
    assert after["status"] == "running"
    shift = ms(after["lots"][0]["ends_at"]) - ms(before["lots"][0]["ends_at"])
    latest = max(ms(r.json()["server_time"]) for r in answers[:2] if r.status_code == 200)
    assert last_read - ms(paused["server_time"]) <= shift <= latest - ms(before["server_time"])
    assert (await bid(client, auction_id, bidder, "2000000.00")).status_code == 201
