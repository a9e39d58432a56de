"""The pages over ASGI: catalogue, room, sign-in, CSRF, languages, consoles, offline docs."""

import re

import pytest

from app.security import Role
from app.web import sessions
from tests.support.auctions import API, LISTING, approved_listing, create_auction
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


async def test_catalogue_shows_open_and_upcoming_lots_in_both_languages(actors, http):
    opened = await create_auction(actors, lasts=600)
    upcoming = await create_auction(actors, starts_in=3600, lasts=600)
    en = await http.get("/?lang=en")
    assert en.status_code == 200 and '<html lang="en">' in en.text
    assert "Open now" in en.text and "Upcoming" in en.text
    assert f'href="/auctions/{opened["id"]}"' in en.text
    assert f'href="/auctions/{upcoming["id"]}"' in en.text
    assert "CN¥2,000,000.00" in en.text
    assert en.cookies.get("ta_lang") == "en"
    zh = await http.get("/?lang=zh")
    assert '<html lang="zh-CN">' in zh.text and "正在竞价" in zh.text and "¥2,000,000.00" in zh.text
    # remembered in a cookie, then Accept-Language when there is none
    assert "正在竞价" in (await http.get("/")).text
    http.cookies.clear()
    assert "Open now" in (await http.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})).text
    assert "正在竞价" in (await http.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})).text
    assert en.headers["content-security-policy"].startswith("default-src 'self'")


async def test_room_shows_listing_details_and_hides_the_reserve(actors, http):
    listing_id = await approved_listing(actors, reserve_price="3000000.00")
    auction = await create_auction(actors, listing_id=listing_id, lasts=600)
    room = await http.get(f"/auctions/{auction['id']}?lang=en")
    assert room.status_code == 200
    text = room.text
    for shown in (LISTING["title"], "Patent", "CN202310000001.5", "6 / 9", "Assignment",
                  "Next minimum bid", "Sign in</a> to register and bid"):
        assert shown in text, shown
    assert "3,000,000" not in text and "3000000" not in text  # the reserve is secret
    assert (await http.get("/auctions/999999?lang=en")).status_code == 404


async def test_sign_in_sign_out_and_the_session_cookie(actors, http):
    bidder = await actors.user(Role.enterprise)
    wrong = await sign_in(http, bidder.email, "not-the-password")
    assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
    signed = await sign_in(http, bidder.email)
    assert signed.status_code == 303 and signed.headers["location"] == "/console"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    console = await http.get("/console")
    assert "Your bidding workspace" in console.text and bidder.email in console.text
    out = await http.post("/signout", data={"csrf_token": csrf_of(console.text)})
    assert out.status_code == 303
    assert (await http.get("/console")).headers["location"].startswith("/signin")


async def test_csrf_refuses_forms_without_the_token_or_from_another_site(actors, http):
    bidder = await actors.user(Role.enterprise)
    await sign_in(http, bidder.email)
    auction = await create_auction(actors, lasts=600)
    room = await http.get(f"/auctions/{auction['id']}")
    token = csrf_of(room.text)
    url = f"/auctions/{auction['id']}/register"
    assert (await http.post(url, data={})).status_code == 403
    assert (await http.post(url, data={"csrf_token": "0" * 64})).status_code == 403
    cross = await http.post(url, data={"csrf_token": token},
                            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    registrations = await actors.client.get(f"{API}/auctions/{auction['id']}/registrations",
                                            headers=actors.admin.headers)
    assert registrations.json()["items"] == []  # nothing happened
    same = await http.post(url, data={"csrf_token": token}, headers={"Origin": "http://testserver"})
    assert same.status_code == 303 and "notice=registered" in same.headers["location"]
    # another visitor's token is no good for this session
    async with await page_client(http._transport.app) as other:
        foreign = csrf_of((await other.get("/signin")).text)
    assert (await http.post(url, data={"csrf_token": foreign})).status_code == 403


async def test_admin_reviews_listings_and_qualifies_registrations(actors, http):
    institute = await actors.user(Role.institute)
    listings = []
    for title in ("Listing to approve", "Listing to reject"):
        created = await actors.client.post(f"{API}/listings", json=LISTING | {"title": title},
                                           headers=institute.headers)
        await actors.client.post(f"{API}/listings/{created.json()['id']}/submit",
                                 headers=institute.headers)
        listings.append(created.json()["id"])
    await sign_in(http, actors.admin.email)
    console = await http.get("/console?lang=en")
    assert "Listing to approve" in console.text and "Listing to reject" in console.text
    token = csrf_of(console.text)
    approved = await http.post(f"/console/listings/{listings[0]}/approve", data={"csrf_token": token})
    assert approved.headers["location"] == "/console?notice=listing_approved"
    no_reason = await http.post(f"/console/listings/{listings[1]}/reject", data={"csrf_token": token})
    assert no_reason.headers["location"] == "/console?error=invalid_reason"
    rejected = await http.post(f"/console/listings/{listings[1]}/reject",
                               data={"csrf_token": token, "reason": "Patent not granted yet"})
    assert rejected.headers["location"] == "/console?notice=listing_rejected"
    states = [(await actors.client.get(f"{API}/listings/{i}", headers=actors.admin.headers)).json()
              for i in listings]
    assert [s["status"] for s in states] == ["approved", "rejected"]
    assert states[1]["rejection_reason"] == "Patent not granted yet"

    auction = await create_auction(actors, listing_id=listings[0], lasts=600)
    bidder = await actors.user(Role.enterprise)
    reg = await actors.client.post(f"{API}/auctions/{auction['id']}/registrations",
                                   headers=bidder.headers)
    console = await http.get("/console?lang=en")
    assert f"/registrations/{reg.json()['id']}/approve" in console.text
    url = f"/console/auctions/{auction['id']}/registrations/{reg.json()['id']}/approve"
    bad = await http.post(url, data={"csrf_token": token, "deposit_reference": "no spaces"})
    assert bad.headers["location"] == "/console?error=invalid_reference"
    done = await http.post(url, data={"csrf_token": token, "deposit_reference": "DEP-WEB-1"})
    assert done.headers["location"] == "/console?notice=registration_qualified"
    again = await actors.client.get(f"{API}/auctions/{auction['id']}/registrations/{reg.json()['id']}",
                                    headers=bidder.headers)
    assert again.json()["status"] == "qualified" and again.json()["paddle"]


async def test_roles_are_enforced_as_in_the_api(actors, http):
    bidder = await actors.user(Role.enterprise)
    institute = await actors.user(Role.institute)
    created = await actors.client.post(f"{API}/listings", json=LISTING, headers=institute.headers)
    await actors.client.post(f"{API}/listings/{created.json()['id']}/submit", headers=institute.headers)
    await sign_in(http, bidder.email)
    token = csrf_of((await http.get("/console")).text)
    refused = await http.post(f"/console/listings/{created.json()['id']}/approve",
                              data={"csrf_token": token})
    assert refused.status_code == 403
    listing = await actors.client.get(f"{API}/listings/{created.json()['id']}", headers=institute.headers)
    assert listing.json()["status"] == "pending_review"


async def test_a_changed_token_version_revokes_the_page_session(actors, http, monkeypatch):
    bidder = await actors.user(Role.enterprise)
    await sign_in(http, bidder.email)
    assert "Your bidding workspace" in (await http.get("/console")).text
    monkeypatch.setattr(sessions, "token_version", lambda user: 7)
    assert (await http.get("/console")).status_code == 303  # signed out: back to /signin


async def test_docs_load_swagger_ui_from_this_origin(http):
    docs = await http.get("/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "cdn." not in docs.text and "https://" not in docs.text.split("<body>")[1]
    for asset in sources:
        assert (await http.get(asset)).status_code == 200, asset
