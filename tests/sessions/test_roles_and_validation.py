"""Who may see and do what with sessions, and bad input refused with nothing changed."""

import base64

from app.schemas import MAX_DB_ID
from app.security import Role
from tests.sessions.helpers import add_lot, create_session, publish, qualify, session_body
from tests.support.auctions import API, approved_listing
from tests.support.live import ms


async def test_draft_is_hidden_until_published(actors, client):
    auditor = await actors.user(Role.auditor)
    enterprise = await actors.user(Role.enterprise)
    event = await create_session(actors)
    sid = event["id"]
    lot = await add_lot(actors, sid, await approved_listing(actors))
    for headers in (None, enterprise.headers):
        assert (await client.get(f"{API}/sessions/{sid}", headers=headers)).status_code == 404
        assert (await client.get(f"{API}/sessions/{sid}/lots", headers=headers)).status_code == 404
        assert (await client.get(f"{API}/auctions/{lot['auction_id']}", headers=headers)).status_code == 404
        listed = (await client.get(f"{API}/sessions", headers=headers)).json()["items"]
        assert sid not in [s["id"] for s in listed]
        auctions = (await client.get(f"{API}/auctions", headers=headers)).json()["items"]
        assert lot["auction_id"] not in [a["id"] for a in auctions]
    for headers in (actors.admin.headers, auditor.headers):
        body = (await client.get(f"{API}/sessions/{sid}", headers=headers)).json()
        assert body["status"] == "draft" and body["lots"][0]["status"] == "queued"
    refused = await client.post(f"{API}/sessions/{sid}/registrations", headers=enterprise.headers)
    assert refused.status_code == 404
    await publish(actors, sid)
    body = (await client.get(f"{API}/sessions/{sid}")).json()
    assert body["status"] == "running" and body["lots"][0]["status"] == "open"
    assert body["lots"][0]["title"].startswith("Design and development")
    assert (await client.get(f"{API}/auctions/{lot['auction_id']}")).status_code == 200


async def test_roles(actors, client):
    enterprise = await actors.user(Role.enterprise)
    other = await actors.user(Role.enterprise)
    institute = await actors.user(Role.institute)
    auditor = await actors.user(Role.auditor)
    for who in (enterprise, institute, auditor):
        created = await client.post(f"{API}/sessions", json=session_body(), headers=who.headers)
        assert created.status_code == 403 and created.json()["code"] == "forbidden_role"
    assert (await client.post(f"{API}/sessions", json=session_body())).status_code == 401
    event = await create_session(actors)
    sid = event["id"]
    lot = await add_lot(actors, sid, await approved_listing(actors))
    assert (await client.post(f"{API}/sessions/{sid}/lots", json={"listing_id": 1},
                              headers=enterprise.headers)).status_code == 403
    assert (await client.post(f"{API}/sessions/{sid}/publish", headers=auditor.headers)).status_code == 403
    await publish(actors, sid)
    registered = await qualify(actors, sid, enterprise)
    assert registered["status"] == "qualified" and registered["deposit_status"] == "held"
    pending = await client.post(f"{API}/sessions/{sid}/registrations", headers=other.headers)
    again = await client.post(f"{API}/sessions/{sid}/registrations", headers=other.headers)
    assert again.status_code == 409 and again.json()["code"] == "already_registered"
    own = (await client.get(f"{API}/sessions/{sid}/registrations", headers=other.headers)).json()
    assert [r["id"] for r in own["items"]] == [pending.json()["id"]]
    everyone = (await client.get(f"{API}/sessions/{sid}/registrations", headers=auditor.headers)).json()
    assert len(everyone["items"]) == 2
    # the lot takes no registration of its own; the session's reached the lot
    solo = await client.post(f"{API}/auctions/{lot['auction_id']}/registrations", headers=other.headers)
    assert solo.status_code == 409 and solo.json()["code"] == "session_lot"
    lot_regs = (await client.get(f"{API}/auctions/{lot['auction_id']}/registrations",
                                 headers=actors.admin.headers)).json()["items"]
    assert [(r["organization_id"], r["paddle"]) for r in lot_regs] == [
        (enterprise.organization_id, registered["paddle"])]
    rejected = await client.post(f"{API}/sessions/{sid}/registrations/{pending.json()['id']}/reject",
                                 headers=actors.admin.headers)
    assert rejected.json()["status"] == "rejected"
    bid = await client.post(f"{API}/auctions/{lot['auction_id']}/bids", json={"amount": "2000000.00"},
                            headers=other.headers)
    assert bid.status_code == 409 and bid.json()["code"] == "not_qualified"
    results = await client.get(f"{API}/sessions/{sid}/results")
    assert results.status_code == 409 and results.json()["code"] == "session_not_finished"


async def test_bad_input_is_refused_and_changes_nothing(actors, client):
    admin = actors.admin.headers

    async def refused(path: str, body: dict | None, status: int, code: str) -> None:
        response = await client.post(f"{API}{path}", json=body, headers=admin)
        assert response.status_code == status, response.text
        assert response.json()["code"] == code
        assert response.headers["content-type"].startswith("application/problem+json")

    for body in (session_body(colour="red"), session_body(mode="live", stagger_seconds=5),
                 session_body(deposit_amount="-1"), session_body(bid_increment="1.001"),
                 session_body(starts_at="2030-01-01T00:00:00"), session_body(lot_duration_seconds=0),
                 session_body(anti_sniping={"window_seconds": 10, "extra": 1})):
        await refused("/sessions", body, 422, "validation_error")
    await refused("/sessions", session_body(starts_in=-3600), 422, "session_in_past")
    assert (await client.get(f"{API}/sessions", headers=admin)).json()["items"] == []

    sid = (await create_session(actors))["id"]
    await refused(f"/sessions/{sid}/publish", None, 409, "session_has_no_lots")
    listing = await approved_listing(actors)
    await refused(f"/sessions/{sid}/lots", {"listing_id": listing, "rounds": [
        {"kind": "sealed_first_price"}, {"kind": "english"}]}, 422, "validation_error")
    await refused(f"/sessions/{sid}/lots", {"listing_id": listing, "rounds": [
        {"kind": "sealed_first_price", "duration_seconds": 120, "advance": 2}, {"kind": "english"}]},
        422, "invalid_lot")
    await refused(f"/sessions/{sid}/lots", {"listing_id": MAX_DB_ID}, 404, "listing_not_found")
    await add_lot(actors, sid, listing, lot_number=7)
    await refused(f"/sessions/{sid}/lots", {"listing_id": await approved_listing(actors),
                                            "lot_number": 7}, 409, "lot_number_taken")
    await refused(f"/sessions/{sid}/lots", {"listing_id": listing}, 409, "listing_not_approved")
    assert (await client.get(f"{API}/sessions/{2**63}", headers=admin)).status_code == 422
    unknown = await client.get(f"{API}/sessions/{MAX_DB_ID}", headers=admin)
    assert unknown.json()["code"] == "session_not_found"
    lots = (await client.get(f"{API}/sessions/{sid}/lots", headers=admin)).json()
    assert [lot["lot_number"] for lot in lots["items"]] == [7] and lots["next_cursor"] is None
    await publish(actors, sid)
    await refused(f"/sessions/{sid}/publish", None, 409, "session_not_draft")
    await refused(f"/sessions/{sid}/lots", {"listing_id": await approved_listing(actors)}, 409,
                  "session_not_draft")
    enterprise = await actors.user(Role.enterprise)
    reg = await client.post(f"{API}/sessions/{sid}/registrations", headers=enterprise.headers)
    approve = f"/sessions/{sid}/registrations/{reg.json()['id']}/approve"
    await refused(approve, {"deposit_reference": "bad ref!"}, 422, "validation_error")
    await refused(f"/sessions/{sid}/registrations/{MAX_DB_ID}/approve", {"deposit_reference": "D-1"}, 404,
                  "registration_not_found")
    assert (await client.post(f"{API}{approve}", json={"deposit_reference": "D-1"},
                              headers=admin)).status_code == 200
    await refused(approve, {"deposit_reference": "D-2"}, 409, "invalid_transition")
    other = await actors.user(Role.enterprise)
    reg = await client.post(f"{API}/sessions/{sid}/registrations", headers=other.headers)
    await refused(f"/sessions/{sid}/registrations/{reg.json()['id']}/approve",
                  {"deposit_reference": "D-1"}, 409, "deposit_already_used")


async def test_sealed_lots_hide_price_and_count_and_registration_closes(actors, client):
    bidder = await actors.user(Role.enterprise)
    sid = (await create_session(actors))["id"]
    lot = await add_lot(actors, sid, await approved_listing(actors),
                        rounds=[{"kind": "sealed_first_price"}])
    await publish(actors, sid)
    await qualify(actors, sid, bidder)
    placed = await client.post(f"{API}/auctions/{lot['auction_id']}/bids", json={"amount": "2100000.00"},
                               headers=bidder.headers)
    assert placed.status_code == 201, placed.text
    public = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][0]
    assert (public["current_price"], public["bid_count"]) == (None, None)
    staff = (await client.get(f"{API}/sessions/{sid}", headers=actors.admin.headers)).json()["lots"][0]
    assert staff["bid_count"] == 1  # a sealed round has no current price until it closes
    auction = (await client.get(f"{API}/auctions/{lot['auction_id']}")).json()
    assert (auction["session_id"], auction["lot_number"]) == (sid, 1)

    closed = (await create_session(actors, registration_closes_at="2020-01-01T00:00:00Z"))["id"]
    await add_lot(actors, closed, await approved_listing(actors))
    await publish(actors, closed)
    late = await client.post(f"{API}/sessions/{closed}/registrations", headers=bidder.headers)
    assert late.status_code == 409 and late.json()["code"] == "registration_closed"


async def test_max_extension_sets_each_lots_hard_close(actors, client):
    sid = (await create_session(actors, lot_duration_seconds=120, stagger_seconds=30,
                                anti_sniping={"window_seconds": 10, "extension_seconds": 20,
                                              "max_extension_seconds": 45}))["id"]
    for _ in range(2):
        await add_lot(actors, sid, await approved_listing(actors))
    await publish(actors, sid)
    for lot in (await client.get(f"{API}/sessions/{sid}")).json()["lots"]:
        auction = (await client.get(f"{API}/auctions/{lot['auction_id']}")).json()
        assert auction["anti_sniping"] == {"window_seconds": 10, "extension_seconds": 20,
                                           "hard_close_at": auction["anti_sniping"]["hard_close_at"]}
        assert ms(auction["anti_sniping"]["hard_close_at"]) == ms(lot["ends_at"]) + 45_000
        assert auction["rounds"][-1]["ends_at"] == lot["ends_at"]


async def test_a_lots_cursor_past_every_lot_number_is_an_empty_last_page(actors, client):
    """Lot numbers are 32-bit: a well-formed cursor beyond them must not reach the database."""
    sid = (await create_session(actors))["id"]
    cursor = base64.urlsafe_b64encode((2**62).to_bytes(8, "big")).decode().rstrip("=")
    page = await client.get(f"{API}/sessions/{sid}/lots", params={"cursor": cursor},
                            headers=actors.admin.headers)
    assert page.status_code == 200, page.text
    assert page.json() == {"items": [], "next_cursor": None}
