"""The operator's console: an auction made from an approved listing through the form (english,
dutch with its terms, refusals per field), and the payments of settlements; only admin may."""

from datetime import UTC, datetime, timedelta

import pytest

from app.security import Role
from app.web.views.forms import local_input
from tests.support.auctions import API, approved_listing, qualified_bidder
from tests.support.kinds import bid, finish, kind_auction, rnd
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


def auction_form(token: str, **changes) -> dict:
    now = datetime.now(UTC)
    return {
        "csrf_token": token, "kind": "english", "starts_at": local_input(now - timedelta(seconds=5)),
        "ends_at": local_input(now + timedelta(hours=1)), "bid_increment": "20000.00",
        "deposit_amount": "150000.00", "window_seconds": "30", "extension_seconds": "45",
        "hard_close_at": "", "buyer_premium_rate": "0.05", "seller_commission_rate": "0.03",
        "payment_days": "20", "step": "", "interval_seconds": "", "floor": "",
    } | changes


async def test_the_operator_creates_english_and_dutch_auctions_from_approved_listings(actors, http):
    english_id = await approved_listing(actors, title="Listing for an english auction")
    dutch_id = await approved_listing(actors, title="Listing for a dutch auction")
    await sign_in(http, actors.admin.email)
    console = await http.get("/console?lang=en")
    assert f"/console/listings/{english_id}/auction" in console.text
    form = await http.get(f"/console/listings/{english_id}/auction?lang=en")
    assert form.status_code == 200 and 'type="datetime-local"' in form.text
    token = csrf_of(form.text)
    url = f"/console/listings/{english_id}/auction"
    bad = await http.post(url, data=auction_form(
        token, ends_at="not a time", bid_increment="12.345", window_seconds="-1", step="100.00"))
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    for field in ("ends_at", "bid_increment", "window_seconds"):
        assert f'id="e-{field}"' in bad.text, field
    past = await http.post(url, data=auction_form(
        token, starts_at=local_input(datetime.now(UTC) - timedelta(hours=2)),
        ends_at=local_input(datetime.now(UTC) - timedelta(hours=1))))
    assert past.status_code == 422 and 'id="e-ends_at"' in past.text
    made = await http.post(url, data=auction_form(token, step="100.00"))  # dutch only: ignored
    assert made.status_code == 303 and made.headers["location"].endswith("?notice=auction_created")
    auction_id = int(made.headers["location"].split("/")[2].split("?")[0])
    auction = (await actors.client.get(f"{API}/auctions/{auction_id}", headers=actors.admin.headers)).json()
    assert auction["listing_id"] == english_id and auction["status"] == "open"
    assert (auction["bid_increment"], auction["deposit_amount"], auction["payment_days"]) == (
        "20000.00", "150000.00", 20)
    assert auction["anti_sniping"]["window_seconds"] == 30 and auction["rounds"][0]["kind"] == "english"
    assert auction["rounds"][0]["step"] is None
    room = await http.get(made.headers["location"] + "&lang=en")
    assert "The auction is scheduled." in room.text
    twice = await http.post(url, data=auction_form(token))
    assert twice.headers["location"] == "/console?error=listing_not_approved"

    dutch_url = f"/console/listings/{dutch_id}/auction"
    no_floor = await http.post(dutch_url, data=auction_form(token, kind="dutch", step="10000.00",
                                                             interval_seconds="5"))
    assert no_floor.status_code == 422 and 'id="e-step"' in no_floor.text
    dutch = await http.post(dutch_url, data=auction_form(
        token, kind="dutch", step="10000.00", interval_seconds="5", floor="1500000.00"))
    assert dutch.status_code == 303, dutch.text
    dutch_auction = (await actors.client.get(dutch.headers["location"].split("?")[0].replace(
        "/auctions", f"{API}/auctions"))).json()
    assert (dutch_auction["rounds"][0]["kind"], dutch_auction["rounds"][0]["floor"],
            dutch_auction["rounds"][0]["interval_ms"]) == ("dutch", "1500000.00", 5000)


async def test_only_the_operator_creates_auctions_and_takes_payments(actors, http):
    listing_id = await approved_listing(actors)
    for role in (Role.enterprise, Role.institute, Role.auditor):
        who = await actors.user(role)
        async with await page_client(http._transport.app) as other:
            await sign_in(other, who.email)
            token = csrf_of((await other.get("/console")).text)
            assert (await other.get(f"/console/listings/{listing_id}/auction")).status_code == 403
            made = await other.post(f"/console/listings/{listing_id}/auction", data=auction_form(token))
            assert made.status_code == 403, role
            paid = await other.post("/console/settlements/1/confirm-payment",
                                    data={"csrf_token": token, "payment_reference": "PAY-1"})
            assert paid.status_code == 403
    listing = await actors.client.get(f"{API}/listings/{listing_id}", headers=actors.admin.headers)
    assert listing.json()["status"] == "approved"


async def _settlement(app, actors, client) -> tuple[int, dict]:
    auction = await kind_auction(actors, [rnd("english", -0.2, 3)])
    winner = await qualified_bidder(actors, auction["id"])
    runner_up = await qualified_bidder(actors, auction["id"])
    for who, amount in ((runner_up, "2000000.00"), (winner, "2010000.00")):
        assert (await bid(client, auction["id"], who, amount=amount)).status_code == 201
    result = await finish(app, client, auction["id"])
    return result["settlement_id"], result


async def test_the_operator_confirms_payment_completes_and_declares_default(app, actors, client, http):
    paid_id, _ = await _settlement(app, actors, client)
    default_id, _ = await _settlement(app, actors, client)
    await sign_in(http, actors.admin.email)
    console = await http.get("/console?lang=en")
    assert "Payments" in console.text and f"/console/settlements/{paid_id}/confirm-payment" in console.text
    token = csrf_of(console.text)
    bad = await http.post(f"/console/settlements/{paid_id}/confirm-payment",
                          data={"csrf_token": token, "payment_reference": "no spaces"})
    assert bad.headers["location"].startswith("/console?error=invalid_payment_reference")
    paid = await http.post(f"/console/settlements/{paid_id}/confirm-payment",
                           data={"csrf_token": token, "payment_reference": "PAY-2026-001"})
    assert paid.headers["location"] == "/console?notice=payment_confirmed"
    assert f"/console/settlements/{paid_id}/complete" in (await http.get("/console")).text
    done = await http.post(f"/console/settlements/{paid_id}/complete", data={"csrf_token": token})
    assert done.headers["location"] == "/console?notice=settlement_completed"
    again = await http.post(f"/console/settlements/{paid_id}/default", data={"csrf_token": token})
    assert again.headers["location"] == "/console?error=invalid_transition"
    defaulted = await http.post(f"/console/settlements/{default_id}/default", data={"csrf_token": token})
    assert defaulted.headers["location"] == "/console?notice=settlement_defaulted"
    missing = await http.post("/console/settlements/999999/complete", data={"csrf_token": token})
    assert missing.status_code == 404
    states = {s["id"]: s for s in (await actors.client.get(
        f"{API}/settlements", headers=actors.admin.headers)).json()["items"]}
    assert states[paid_id]["status"] == "completed"
    assert states[paid_id]["payment_reference"] == "PAY-2026-001"
    assert states[default_id]["status"] == "defaulted"
    second = [s for s in states.values() if s["second_chance_of_id"] == default_id]
    assert len(second) == 1 and second[0]["hammer_price"] == "2000000.00"
