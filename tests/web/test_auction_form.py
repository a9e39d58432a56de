"""The operator's auction form with several rounds: rows added and removed by plain submit
buttons (no JavaScript), each round's refusal shown on its row, a 2-round english -> sealed
auction made with the rounds the API then reports."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.web.views.forms import local_input
from tests.support.auctions import API, approved_listing
from tests.web.pages import csrf_of, page_client, sign_in

TERMS = {"bid_increment": "20000.00", "deposit_amount": "150000.00", "window_seconds": "30",
         "extension_seconds": "45", "hard_close_at": "", "buyer_premium_rate": "0.05",
         "seller_commission_rate": "0.03", "payment_days": "20"}


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


def at(minutes: float) -> str:
    return local_input(datetime.now(UTC) + timedelta(minutes=minutes))


def two_rounds(token: str, **changes) -> dict:
    """An english round now for an hour (its best 2 go on), then a sealed one an hour later."""
    return TERMS | {
        "csrf_token": token, "round_count": "2",
        "kind": "english", "starts_at": at(-0.1), "ends_at": at(60), "advance": "2",
        "round2_kind": "sealed_first_price", "round2_starts_at": at(120), "round2_ends_at": at(180),
    } | changes


def names(html: str) -> set[str]:
    return set(re.findall(r'name="([a-z0-9_]+)"', html))


async def test_rows_are_added_and_removed_without_javascript(actors, http):
    listing_id = await approved_listing(actors)
    await sign_in(http, actors.admin.email)
    url = f"/console/listings/{listing_id}/auction"
    form = await http.get(url + "?lang=en")
    assert "round2_kind" not in names(form.text) and 'value="add"' in form.text
    token = csrf_of(form.text)
    for kind in ("english", "dutch", "sealed_first_price", "sealed_second_price"):
        assert f'<option value="{kind}"' in form.text
    added = await http.post(url + "?lang=en", data={
        "csrf_token": token, "round_count": "1", "kind": "english", "starts_at": at(10),
        "ends_at": at(70), "rounds_action": "add"} | TERMS)
    assert added.status_code == 200 and 'role="alert"' not in added.text
    assert {"round2_kind", "round2_starts_at", "advance", "round2_advance"} <= names(added.text)
    assert 'name="round_count" value="2"' in added.text and "Round 2" in added.text
    opens = re.search(r'name="round2_starts_at" type="datetime-local" value="([^"]+)"', added.text)
    assert opens and opens.group(1) > at(70)  # the new round proposed after the last one
    listing = await actors.client.get(f"{API}/listings/{listing_id}", headers=actors.admin.headers)
    assert listing.json()["status"] == "approved"  # a row added makes no auction
    removed = await http.post(url + "?lang=en", data=two_rounds(token, rounds_action="remove-0"))
    assert removed.status_code == 200 and 'name="round_count" value="1"' in removed.text
    assert "round2_kind" not in names(removed.text)
    kept = re.search(r'<option value="sealed_first_price" selected', removed.text)
    assert kept, "the second round moved up to be the first"
    zh = await http.post(url + "?lang=zh", data=two_rounds(token, rounds_action="add"))
    assert "第 3 轮" in zh.text and "增加一轮" in zh.text


async def test_a_round_refusal_shows_on_its_row(actors, http):
    listing_id = await approved_listing(actors)
    await sign_in(http, actors.admin.email)
    url = f"/console/listings/{listing_id}/auction"
    token = csrf_of((await http.get(url)).text)
    cases = [  # (changes, the field refused): by the model, by the service
        ({"round2_starts_at": at(30)}, "round2_starts_at"),  # opens before round 1 closes
        ({"round2_ends_at": "not a time"}, "round2_ends_at"),
        ({"advance": ""}, "advance"),
        ({"round2_advance": "2"}, "round2_advance"),
        ({"round2_kind": "dutch", "round2_step": "1000.00", "round2_interval_seconds": "5"},
         "round2_step"),
        ({"round2_kind": "dutch", "round2_step": "1000.00", "round2_interval_seconds": "5",
          "round2_floor": "9000000.00"}, "round2_floor"),
        ({"kind": "dutch", "step": "1000.00", "interval_seconds": "5", "floor": "1500000.00",
          "round2_kind": "english"}, "kind"),  # a dutch round sells at once: the last only
    ]
    for changes, field in cases:
        refused = await http.post(url + "?lang=en", data=two_rounds(token, **changes))
        assert refused.status_code == 422, (changes, refused.text[:300])
        assert f'id="e-{field}"' in refused.text and f'href="#f-{field}"' in refused.text, changes
        assert re.findall(r'id="e-([a-z0-9_]+)"', refused.text) == [field], changes
    listing = (await actors.client.get(f"{API}/listings/{listing_id}", headers=actors.admin.headers))
    assert listing.json()["status"] == "approved"  # nothing was made


async def test_a_two_round_english_then_sealed_auction_is_made(actors, http):
    listing_id = await approved_listing(actors)
    await sign_in(http, actors.admin.email)
    url = f"/console/listings/{listing_id}/auction"
    token = csrf_of((await http.get(url)).text)
    body = two_rounds(token, round2_step="5.00")  # a dutch parameter on a sealed round: ignored
    made = await http.post(url, data=body)
    assert made.status_code == 303, made.text
    auction_id = int(made.headers["location"].split("/")[2].split("?")[0])
    auction = (await actors.client.get(f"{API}/auctions/{auction_id}")).json()
    rounds = auction["rounds"]
    assert [(r["round_index"], r["kind"], r["advance"]) for r in rounds] == [
        (0, "english", 2), (1, "sealed_first_price", None)]
    assert rounds[1]["step"] is None
    for row, prefix in ((rounds[0], ""), (rounds[1], "round2_")):
        for name in ("starts_at", "ends_at"):
            shown = local_input(datetime.fromisoformat(row[name].replace("Z", "+00:00")))
            assert shown == body[prefix + name], (row, name)
    assert auction["bid_increment"] == "20000.00" and auction["payment_days"] == 20
