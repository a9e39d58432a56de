"""Settlements through HTTP: the money at the close, payment, completion, default and the
runner-up's second chance, unsold lots, invalid transitions, and the ledger of all of it."""

import json
from datetime import date, datetime, timedelta

from tests.support.auctions import API
from tests.support.settlements import (
    close,
    deposits,
    ledger_actions,
    run_auction,
    settled,
    settlement_of,
    verify_ok,
)

ALICE_BOB_ALICE = [("alice", "2000000.00"), ("bob", "2010000.00"), ("alice", "2020000.00")]


async def _post(client, settlement_id: int, action: str, headers, json_body=None):
    return await client.post(f"{API}/settlements/{settlement_id}/{action}", json=json_body,
                             headers=headers)


async def test_settlement_at_the_close_carries_the_money_and_moves_deposits(app, actors, client):
    sale, s = await settled(app, actors, [("alice", "2000000.00"), ("bob", "2010000.00")])
    alice, bob = sale.bidders["alice"], sale.bidders["bob"]
    result = (await client.get(f"{API}/auctions/{sale.auction_id}/result")).json()
    assert result["settlement_id"] == s["id"] and result["outcome"] == "sold"
    assert s["attempt"] == 1 and s["second_chance_of_id"] is None
    assert s["status"] == "pending_payment"
    assert s["auction_id"] == sale.auction_id and s["listing_id"] == sale.listing_id
    assert s["institute_organization_id"] == sale.institute.organization_id
    assert s["buyer_organization_id"] == bob.organization_id
    assert s["paddle"] == result["winning_paddle"] and s["currency"] == "CNY"
    assert (s["hammer_price"], s["buyer_premium_rate"], s["buyer_premium"]) == (
        "2010000.00", "0.0500", "100500.00")
    assert (s["seller_commission_rate"], s["seller_commission"]) == ("0.0300", "60300.00")
    assert s["deposit_applied"] == "100000.00" and s["amount_due"] == "2010500.00"
    closed = datetime.fromisoformat(result["closed_at"].replace("Z", "+00:00")).date()
    assert date.fromisoformat(s["due_date"]) == closed + timedelta(days=30)
    assert s["bid_count"] == 2 and len(s["bid_trail_sha256"]) == 64
    assert await deposits(app, sale.auction_id) == {
        bob.organization_id: "applied", alice.organization_id: "released"}
    created = await ledger_actions(client, actors.admin.headers, action="settlement.created")
    assert [e["entity_id"] for e in created] == [s["id"]]
    payload = json.loads(created[0]["payload"])
    assert payload["bid_trail_sha256"] == s["bid_trail_sha256"]
    assert payload["deposits"] == {"applied_registration_ids": [s["registration_id"]],
                                   "released_registration_ids": [payload["deposits"][
                                       "released_registration_ids"][0]]}
    listing = (await client.get(f"{API}/listings/{sale.listing_id}")).json()
    assert listing["status"] == "sold"


async def test_paid_then_completed(app, actors, client):
    _, s = await settled(app, actors, [("alice", "2000000.00")])
    admin = actors.admin.headers
    early = await _post(client, s["id"], "complete", admin)
    assert early.status_code == 409 and early.json()["code"] == "invalid_transition"
    bad = await _post(client, s["id"], "confirm-payment", admin, {"payment_reference": ""})
    assert bad.status_code == 422
    extra = await _post(client, s["id"], "confirm-payment", admin,
                        {"payment_reference": "TX-1", "amount": "1.00"})
    assert extra.status_code == 422
    paid = await _post(client, s["id"], "confirm-payment", admin, {"payment_reference": "TX-1"})
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["payment_reference"] == "TX-1"
    assert paid.json()["paid_at"].endswith("Z")
    for action, body in (("confirm-payment", {"payment_reference": "TX-2"}), ("default", None)):
        again = await _post(client, s["id"], action, admin, body)
        assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    done = await _post(client, s["id"], "complete", admin)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert done.json()["completed_at"] and done.json()["payment_reference"] == "TX-1"
    for action, body in (("complete", None), ("default", None),
                         ("confirm-payment", {"payment_reference": "TX-3"})):
        final = await _post(client, s["id"], action, admin, body)
        assert final.status_code == 409 and final.json()["code"] == "invalid_transition"
    actions = [e["action"] for e in await ledger_actions(
        client, admin, entity_type="settlement", entity_id=s["id"])]
    assert actions == ["settlement.completed", "settlement.paid", "settlement.created"]
    missing = await _post(client, 999999, "complete", admin)
    assert missing.status_code == 404 and missing.json()["code"] == "settlement_not_found"
    await verify_ok(client, admin)


async def test_default_gives_the_runner_up_a_second_chance(app, actors, client):
    sale, first = await settled(app, actors, ALICE_BOB_ALICE)
    alice, bob = sale.bidders["alice"], sale.bidders["bob"]
    assert first["buyer_organization_id"] == alice.organization_id
    defaulted = await _post(client, first["id"], "default", actors.admin.headers)
    assert defaulted.status_code == 200, defaulted.text
    assert defaulted.json()["status"] == "defaulted" and defaulted.json()["defaulted_at"]
    second = await settlement_of(actors, sale.auction_id)
    assert second["id"] != first["id"] and second["attempt"] == 2
    assert second["second_chance_of_id"] == first["id"]
    assert second["buyer_organization_id"] == bob.organization_id
    assert second["hammer_price"] == "2010000.00" and second["buyer_premium"] == "100500.00"
    assert second["deposit_applied"] == "100000.00" and second["amount_due"] == "2010500.00"
    assert second["status"] == "pending_payment"
    assert second["bid_trail_sha256"] == first["bid_trail_sha256"] and second["bid_count"] == 3
    assert date.fromisoformat(second["due_date"]) >= date.fromisoformat(first["due_date"])
    assert await deposits(app, sale.auction_id) == {
        alice.organization_id: "forfeited", bob.organization_id: "applied"}
    assert (await client.get(f"{API}/listings/{sale.listing_id}")).json()["status"] == "sold"
    entry = (await ledger_actions(client, actors.admin.headers, action="settlement.defaulted"))[0]
    assert json.loads(entry["payload"]) == {
        "status": "defaulted", "forfeited_registration_ids": [first["registration_id"]],
        "second_chance_id": second["id"], "listing_status": None}
    # Bob sees his second chance, not Alice's defaulted settlement.
    mine = (await client.get(f"{API}/settlements", headers=bob.headers)).json()["items"]
    assert [s["id"] for s in mine] == [second["id"]]
    paid = await _post(client, second["id"], "confirm-payment", actors.admin.headers,
                       {"payment_reference": "TX-SECOND"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    await verify_ok(client, actors.admin.headers)


async def test_second_chance_default_leaves_the_listing_unsold(app, actors, client):
    sale, first = await settled(app, actors, ALICE_BOB_ALICE)
    await _post(client, first["id"], "default", actors.admin.headers)
    second = await settlement_of(actors, sale.auction_id)
    again = await _post(client, second["id"], "default", actors.admin.headers)
    assert again.status_code == 200 and again.json()["status"] == "defaulted"
    assert (await settlement_of(actors, sale.auction_id))["id"] == second["id"]  # no third
    assert (await client.get(f"{API}/listings/{sale.listing_id}")).json()["status"] == "unsold"
    assert set((await deposits(app, sale.auction_id)).values()) == {"forfeited"}
    await verify_ok(client, actors.admin.headers)


async def test_default_without_a_runner_up_meeting_the_reserve_is_unsold(app, actors, client):
    sale, first = await settled(app, actors, ALICE_BOB_ALICE, reserve="2015000.00")
    assert first["hammer_price"] == "2020000.00"
    response = await _post(client, first["id"], "default", actors.admin.headers)
    assert response.status_code == 200
    assert (await settlement_of(actors, sale.auction_id))["id"] == first["id"]
    listed = (await client.get(f"{API}/settlements", params={"auction": sale.auction_id},
                               headers=actors.admin.headers)).json()["items"]
    assert [s["id"] for s in listed] == [first["id"]]
    assert (await client.get(f"{API}/listings/{sale.listing_id}")).json()["status"] == "unsold"
    bob = sale.bidders["bob"].organization_id
    assert (await deposits(app, sale.auction_id))[bob] == "released"
    entry = (await ledger_actions(client, actors.admin.headers, action="settlement.defaulted"))[0]
    assert json.loads(entry["payload"])["listing_status"] == "unsold"


async def test_default_with_a_single_bidder_is_unsold(app, actors, client):
    sale, first = await settled(app, actors, [("alice", "2000000.00")])
    assert (await _post(client, first["id"], "default", actors.admin.headers)).status_code == 200
    assert (await client.get(f"{API}/listings/{sale.listing_id}")).json()["status"] == "unsold"


async def test_best_bid_below_the_reserve_is_unsold_without_settlement(app, actors, client):
    sale = await run_auction(actors, [("alice", "2000000.00"), ("bob", "2010000.00")],
                             reserve="2500000.00")
    await close(app, client, sale.auction_id)
    result = (await client.get(f"{API}/auctions/{sale.auction_id}/result")).json()
    assert result["outcome"] == "unsold" and result["settlement_id"] is None
    assert result["hammer_price"] is None and result["winning_paddle"] is None
    listed = (await client.get(f"{API}/settlements", params={"auction": sale.auction_id},
                               headers=actors.admin.headers)).json()
    assert listed == {"items": [], "next_cursor": None}
    assert (await client.get(f"{API}/listings/{sale.listing_id}")).json()["status"] == "unsold"
    assert set((await deposits(app, sale.auction_id)).values()) == {"released"}
    entry = (await ledger_actions(client, actors.admin.headers, action="deposits.released"))[0]
    assert entry["entity_id"] == sale.auction_id
    assert len(json.loads(entry["payload"])["released_registration_ids"]) == 2
    await verify_ok(client, actors.admin.headers)


async def test_no_bids_is_unsold_and_every_deposit_released(app, actors, client):
    sale = await run_auction(actors, [], others=("alice", "bob"))
    await close(app, client, sale.auction_id)
    result = (await client.get(f"{API}/auctions/{sale.auction_id}/result")).json()
    assert result["outcome"] == "unsold" and result["settlement_id"] is None
    assert list((await deposits(app, sale.auction_id)).values()) == ["released", "released"]
