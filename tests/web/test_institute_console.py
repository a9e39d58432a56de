"""The institute's console: its listings made, edited, submitted and withdrawn through forms,
the review's outcome, its lots' results; another institute's listing is refused as by the API."""

import pytest

from app.security import Role
from tests.support.auctions import API, LISTING, qualified_bidder
from tests.support.kinds import bid, finish, kind_auction, rnd
from tests.web.pages import csrf_of, page_client, sign_in

FORM = {
    "title": LISTING["title"], "summary": LISTING["summary"], "field": "new_energy",
    "ip_type": "patent", "patent_numbers": "CN202310000001.5\nCN202310000002.3", "trl": "6",
    "transfer_mode": "assignment", "starting_price": "2000000.00", "reserve_price": "2500000.00",
}


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


async def _listings(actors, who) -> list[dict]:
    response = await actors.client.get(f"{API}/listings?institute={who.organization_id}",
                                       headers=who.headers)
    return response.json()["items"]


async def test_an_institute_creates_edits_submits_and_withdraws_its_listings(actors, http):
    institute = await actors.user(Role.institute)
    await sign_in(http, institute.email)
    form = await http.get("/console/listings/new?lang=en")
    assert form.status_code == 200 and 'for="f-title"' in form.text
    token = csrf_of(form.text)
    assert (await http.post("/console/listings", data=FORM)).status_code == 403  # no CSRF token
    refused = await http.post("/console/listings", data=FORM | {
        "csrf_token": token, "trl": "12", "reserve_price": "100.00", "title": "x"})
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    for shown in ("Enter a title of 3 to 200 characters.", "technology readiness level",
                  'aria-invalid="true"'):
        assert shown in refused.text, shown
    assert await _listings(actors, institute) == []  # bad input changes nothing
    created = await http.post("/console/listings", data=FORM | {"csrf_token": token})
    assert created.headers["location"] == "/console?notice=listing_created"
    [listing] = await _listings(actors, institute)
    assert listing["status"] == "draft" and listing["reserve_price"] == "2500000.00"
    assert listing["patent_numbers"] == ["CN202310000001.5", "CN202310000002.3"]

    edit = await http.get(f"/console/listings/{listing['id']}/edit?lang=en")
    assert "2500000.00" in edit.text and "CN202310000002.3" in edit.text
    saved = await http.post(f"/console/listings/{listing['id']}", data=FORM | {
        "csrf_token": token, "trl": "7", "reserve_price": "", "ip_type": "know_how",
        "patent_numbers": ""})
    assert saved.headers["location"] == "/console?notice=listing_saved"
    [listing] = await _listings(actors, institute)
    assert (listing["trl"], listing["reserve_price"], listing["ip_type"]) == (7, None, "know_how")

    submitted = await http.post(f"/console/listings/{listing['id']}/submit", data={"csrf_token": token})
    assert submitted.headers["location"] == "/console?notice=listing_submitted"
    again = await http.post(f"/console/listings/{listing['id']}/submit", data={"csrf_token": token})
    assert again.headers["location"] == "/console?error=invalid_transition"
    console = await http.get("/console?lang=en&error=invalid_transition")
    assert "That is no longer possible" in console.text and "Under review" in console.text
    await actors.client.post(f"{API}/listings/{listing['id']}/reject", json={"reason": "TRL unproven"},
                             headers=actors.admin.headers)
    console = await http.get("/console?lang=en")
    assert "Rejected by the operator:" in console.text and "TRL unproven" in console.text
    assert f"/console/listings/{listing['id']}/edit" in console.text  # a rejected one is editable
    zh = await http.get("/console?lang=zh")
    assert "TRL unproven" in zh.text and "新建挂牌" in zh.text
    withdrawn = await http.post(f"/console/listings/{listing['id']}/withdraw", data={"csrf_token": token})
    assert withdrawn.headers["location"] == "/console?notice=listing_withdrawn"
    [listing] = await _listings(actors, institute)
    assert listing["status"] == "withdrawn"


async def test_another_institutes_listing_is_refused_as_the_api_refuses_it(actors, http):
    owner, other = await actors.user(Role.institute), await actors.user(Role.institute)
    draft = (await actors.client.post(f"{API}/listings", json=LISTING, headers=owner.headers)).json()
    public = (await actors.client.post(f"{API}/listings", json=LISTING, headers=owner.headers)).json()
    await actors.client.post(f"{API}/listings/{public['id']}/submit", headers=owner.headers)
    await actors.client.post(f"{API}/listings/{public['id']}/approve", headers=actors.admin.headers)
    api_draft = await actors.client.patch(f"{API}/listings/{draft['id']}", json={"trl": 7},
                                          headers=other.headers)
    api_public = await actors.client.patch(f"{API}/listings/{public['id']}", json={"trl": 7},
                                           headers=other.headers)
    assert (api_draft.status_code, api_public.status_code) == (404, 403)
    await sign_in(http, other.email)
    token = csrf_of((await http.get("/console")).text)
    for listing, status in ((draft, 404), (public, 403)):
        assert (await http.get(f"/console/listings/{listing['id']}/edit")).status_code == status
        posted = await http.post(f"/console/listings/{listing['id']}",
                                 data=FORM | {"csrf_token": token, "trl": "7"})
        assert posted.status_code == status
        bad = await http.post(f"/console/listings/{listing['id']}", data={"csrf_token": token})
        assert bad.status_code == status  # refused before its form is judged
        for action in ("submit", "withdraw"):
            moved = await http.post(f"/console/listings/{listing['id']}/{action}",
                                    data={"csrf_token": token})
            assert moved.status_code == status, (action, listing["id"])
    for listing in (draft, public):
        unchanged = await actors.client.get(f"{API}/listings/{listing['id']}", headers=owner.headers)
        assert (unchanged.json()["trl"] == 6 and unchanged.json()["status"] == listing["status"]) or \
            unchanged.json()["status"] == "approved"
    # an enterprise may not make listings at all
    bidder = await actors.user(Role.enterprise)
    async with await page_client(http._transport.app) as other_http:
        await sign_in(other_http, bidder.email)
        assert (await other_http.get("/console/listings/new")).status_code == 403


async def test_the_institute_sees_its_lots_results_and_why_one_went_unsold(app, actors, client, http):
    institute = await actors.user(Role.institute)
    sold = await kind_auction(actors, [rnd("english", -0.2, 3)], institute=institute)
    unsold = await kind_auction(actors, [rnd("english", -0.2, 3)], institute=institute,
                                title="Listing nobody bid for")
    winner = await qualified_bidder(actors, sold["id"])
    assert (await bid(client, sold["id"], winner, amount="2100000.00")).status_code == 201
    result = await finish(app, client, sold["id"])
    await finish(app, client, unsold["id"])
    await sign_in(http, institute.email)
    console = (await http.get("/console?lang=en")).text
    assert "Results of your lots" in console and "CN¥2,100,000.00" in console
    assert result["winning_paddle"] in console and "Awaiting payment" in console
    assert "Unsold: no bids" in console
