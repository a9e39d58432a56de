"""The data room: who may open its documents, the NDA that opens it, and the ledger of downloads."""

import json

import pytest

from app.security import Role
from tests.sessions.helpers import add_lot, create_session, publish, qualify
from tests.support.auctions import API, approved_listing, create_auction, qualified_bidder
from tests.support.documents import PDF, PNG, uploaded
from tests.support.settlements import ledger_actions


@pytest.fixture
async def room(actors, client):
    """A listing with a public and a data-room document, in an auction starting later."""
    owner = await actors.user(Role.institute)
    listing_id = await approved_listing(actors, owner)
    public = await uploaded(client, owner, listing_id, PNG, visibility="public")
    secret = await uploaded(client, owner, listing_id, PDF, visibility="data_room", kind="valuation")
    auction = await create_auction(actors, listing_id=listing_id, starts_in=3600)
    return {"owner": owner, "listing_id": listing_id, "auction_id": auction["id"],
            "public": public, "secret": secret}


async def accept(client, who, auction_id: int):
    return await client.post(f"{API}/auctions/{auction_id}/nda", headers=who.headers)


async def registered(actors, auction_id: int):
    """An enterprise whose registration is still pending."""
    bidder = await actors.user(Role.enterprise)
    response = await actors.client.post(f"{API}/auctions/{auction_id}/registrations", headers=bidder.headers)
    assert response.status_code == 201, response.text
    return bidder


async def test_the_data_room_rule_for_every_role(actors, client, room):
    auction_id, secret = room["auction_id"], room["secret"]
    cleared = await qualified_bidder(actors, auction_id)
    assert (await accept(client, cleared, auction_id)).status_code == 201
    no_terms = await qualified_bidder(actors, auction_id)
    pending = await registered(actors, auction_id)
    assert (await accept(client, pending, auction_id)).status_code == 201
    # qualified and cleared for another auction of another listing: a foreign bidder here
    other_auction = await create_auction(actors, starts_in=3600)
    foreign = await qualified_bidder(actors, other_auction["id"])
    assert (await accept(client, foreign, other_auction["id"])).status_code == 201
    stranger = await actors.user(Role.enterprise)
    expected = [
        (room["owner"], 200), (actors.admin, 200), (await actors.user(Role.auditor), 200),
        (cleared, 200), (no_terms, 403), (pending, 403), (foreign, 403), (stranger, 403),
        (await actors.user(Role.institute), 403), (None, 401),
    ]
    for who, status in expected:
        headers = who.headers if who else {}
        response = await client.get(f"{API}/documents/{secret['id']}", headers=headers)
        assert response.status_code == status, (who and who.role, response.text)
        if status == 200:
            assert response.content == PDF
        else:
            assert PDF not in response.content
        public = await client.get(f"{API}/documents/{room['public']['id']}", headers=headers)
        assert public.status_code == 200 and public.content == PNG
        listed = await client.get(f"{API}/listings/{room['listing_id']}/documents", headers=headers)
        flags = {d["id"]: (d["accessible"], d["filename"] is not None, d["sha256"] is not None)
                 for d in listed.json()["items"]}
        opens = status == 200  # a closed data room shows that a document is there, not what it is
        assert flags == {room["public"]["id"]: (True, True, True), secret["id"]: (opens, opens, opens)}


async def test_every_data_room_download_is_in_the_ledger(actors, client, room):
    auction_id, secret = room["auction_id"], room["secret"]
    bidder = await qualified_bidder(actors, auction_id)
    await accept(client, bidder, auction_id)
    auditor = await actors.user(Role.auditor)
    for who in (bidder, bidder, room["owner"], auditor):
        assert (await client.get(f"{API}/documents/{secret['id']}", headers=who.headers)).status_code == 200
    refused = await actors.user(Role.enterprise)
    assert (await client.get(f"{API}/documents/{secret['id']}", headers=refused.headers)).status_code == 403
    for _ in range(2):  # public downloads are no ledger matter
        await client.get(f"{API}/documents/{room['public']['id']}")
    entries = await ledger_actions(client, auditor.headers, action="document.downloaded")
    assert [e["actor_id"] for e in reversed(entries)] == [
        bidder.user_id, bidder.user_id, room["owner"].user_id, auditor.user_id]
    for entry in entries:
        assert entry["entity_type"] == "document" and entry["entity_id"] == secret["id"]
        assert json.loads(entry["payload"])["sha256"] == secret["sha256"]
        assert entry["occurred_at"].endswith("Z")
    verify = await client.get(f"{API}/audit/verify", headers=auditor.headers)
    assert verify.json()["ok"] is True


async def test_accepting_the_terms(actors, client, room):
    auction_id = room["auction_id"]
    stranger = await actors.user(Role.enterprise)
    refused = await accept(client, stranger, auction_id)
    assert refused.status_code == 403 and refused.json()["code"] == "not_registered"
    bidder = await qualified_bidder(actors, auction_id)
    first = await accept(client, bidder, auction_id)
    assert first.status_code == 201 and first.json()["organization_id"] == bidder.organization_id
    again = await accept(client, bidder, auction_id)
    assert again.status_code == 200 and again.json()["accepted_at"] == first.json()["accepted_at"]
    assert (await accept(client, room["owner"], auction_id)).status_code == 403
    assert (await client.post(f"{API}/auctions/{auction_id}/nda")).status_code == 401
    assert (await accept(client, bidder, 99_999_999)).status_code == 404
    entries = await ledger_actions(client, actors.admin.headers, action="auction.nda_accepted")
    assert [(e["entity_id"], e["actor_id"]) for e in entries] == [(auction_id, bidder.user_id)]


async def test_a_session_qualified_bidder_opens_the_lot_s_data_room(actors, client):
    """Qualified for a whole session, a bidder accepts one lot's terms: that lot's data room
    opens to him, not another lot's whose terms he did not accept."""
    owner = await actors.user(Role.institute)
    listings = [await approved_listing(actors, owner) for _ in range(2)]
    confidential = [await uploaded(client, owner, listing_id, PDF, visibility="data_room")
               for listing_id in listings]
    event = await create_session(actors, starts_in=3600)
    lots = [await add_lot(actors, event["id"], listing_id) for listing_id in listings]
    await publish(actors, event["id"])
    bidder = await actors.user(Role.enterprise)
    await qualify(actors, event["id"], bidder)
    assert (await accept(client, bidder, lots[0]["auction_id"])).status_code == 201
    opened = await client.get(f"{API}/documents/{confidential[0]['id']}", headers=bidder.headers)
    assert opened.status_code == 200 and opened.content == PDF
    closed = await client.get(f"{API}/documents/{confidential[1]['id']}", headers=bidder.headers)
    assert closed.status_code == 403
