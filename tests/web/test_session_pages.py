"""Session pages over ASGI: the catalogue's sessions, the session page, registering, and the
admin's sessions console (qualify, publish, clerk desk, cancel and the results notice)."""

import re

import pytest

from app.security import Role
from tests.sessions.helpers import add_lot, create_session, publish
from tests.support.auctions import API, approved_listing
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


async def _session(actors, *, lots: int = 2, published: bool = True, **kwargs) -> dict:
    event = await create_session(actors, lot_duration_seconds=600, **kwargs)
    for _ in range(lots):
        await add_lot(actors, event["id"], await approved_listing(actors))
    if published:
        await publish(actors, event["id"])
    return event


async def test_catalogue_and_session_page_in_both_languages(actors, http):
    shown = await _session(actors, title="Spring G60 outcomes")
    draft = await _session(actors, published=False, starts_in=3600, title="Draft session kept back")
    en = (await http.get("/?lang=en")).text
    assert "Auction sessions" in en and f'href="/sessions/{shown["id"]}"' in en and "2 lots" in en
    assert "Draft session kept back" not in en
    page = await http.get(f"/sessions/{shown['id']}?lang=en")
    assert page.status_code == 200
    text = page.text
    for expected in ("Spring G60 outcomes", "Running", "Starting price", "Hammer price",
                     "CN¥2,000,000.00", 'data-session="', "session.js", "Sign in</a> to register"):
        assert expected in text, expected
    body = (await http.get(f"{API}/sessions/{shown['id']}")).json()
    for lot in body["lots"]:
        assert f'href="/auctions/{lot["auction_id"]}"' in text
    assert text.count('class="badge badge-open"') == 2
    zh = (await http.get(f"/sessions/{shown['id']}?lang=zh")).text
    assert "¥2,000,000.00" in zh and "起拍价" in zh and "进行中" in zh
    assert (await http.get(f"/sessions/{draft['id']}?lang=en")).status_code == 404
    assert (await http.get("/sessions/999999?lang=en")).status_code == 404


async def test_enterprise_registers_and_admin_qualifies_with_a_deposit(app, actors, http):
    event = await _session(actors, starts_in=3600)
    bidder = await actors.user(Role.enterprise)
    await sign_in(http, bidder.email)
    page = await http.get(f"/sessions/{event['id']}?lang=en")
    assert "Register for this session" in page.text
    refused = await http.post(f"/sessions/{event['id']}/register", data={})
    assert refused.status_code == 403
    sent = await http.post(f"/sessions/{event['id']}/register", data={"csrf_token": csrf_of(page.text)})
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=session_registered")
    console = (await http.get("/console?lang=en")).text
    assert "Session registrations" in console and "Pending" in console
    async with await page_client(app) as admin:
        await sign_in(admin, actors.admin.email)
        listing = await admin.get("/console/sessions?lang=en")
        assert listing.status_code == 200 and "Registrations to qualify" in listing.text
        action = re.search(rf'/console/sessions/{event["id"]}/registrations/(\d+)/approve', listing.text)
        assert action
        done = await admin.post(action.group(0), data={"csrf_token": csrf_of(listing.text),
                                                       "deposit_reference": "SESS-DEP-77"})
        assert done.status_code == 303 and done.headers["location"].endswith("registration_qualified")
    again = (await http.get(f"/sessions/{event['id']}?lang=en")).text
    assert "Qualified" in again and "Paddle" in again
    assert "Qualified" in (await http.get("/console?lang=en")).text
    assert (await http.get("/console/sessions")).status_code == 403


async def test_admin_publishes_runs_the_desk_and_cancels_to_a_results_notice(app, actors, http):
    event = await _session(actors, published=False, mode="live")
    sid = event["id"]
    await sign_in(http, actors.admin.email)
    listing = await http.get("/console/sessions?lang=en")
    assert "Draft" in listing.text and f"/console/sessions/{sid}/publish" in listing.text
    token = csrf_of(listing.text)
    published = await http.post(f"/console/sessions/{sid}/publish", data={"csrf_token": token})
    assert published.headers["location"].endswith("notice=session_published")
    desk = await http.get(f"/console/sessions/{sid}/desk?lang=en")
    assert desk.status_code == 200
    lots = (await http.get(f"{API}/sessions/{sid}")).json()["lots"]
    assert [lot["status"] for lot in lots] == ["open", "queued"]
    assert f'href="/auctions/{lots[0]["auction_id"]}"' in desk.text and "Open lot" in desk.text
    assert "控拍台" in (await http.get(f"/console/sessions/{sid}/desk?lang=zh")).text
    again = await http.post(f"/console/sessions/{sid}/publish", data={"csrf_token": token})
    assert again.headers["location"].endswith("error=session_not_draft")
    cancelled = await http.post(f"/console/sessions/{sid}/cancel", data={"csrf_token": token})
    assert cancelled.headers["location"].endswith("notice=session_cancelled")
    page = (await http.get(f"/sessions/{sid}?lang=en")).text
    assert "Results notice" in page and f"/api/v1/sessions/{sid}/results?format=csv" in page
    assert page.count("Withdrawn") >= 3 and "Sell-through rate" in page
    assert "结果公告" in (await http.get(f"/sessions/{sid}?lang=zh")).text
