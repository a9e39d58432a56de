"""The clerk desk's session control over ASGI: pause and resume, withdraw a lot with its
reason (forms with the CSRF token, zh and en), refusals shown back on the desk."""

import re

import pytest

from tests.sessions.helpers import add_lot, create_session, publish
from tests.support.auctions import API, approved_listing
from tests.web.pages import csrf_of, page_client, sign_in


@pytest.fixture
async def http(app):
    async with await page_client(app) as client:
        yield client


async def test_the_desk_pauses_resumes_and_withdraws_lots(app, actors, http):
    sid = (await create_session(actors, mode="live", lot_duration_seconds=600))["id"]
    lots = [(await add_lot(actors, sid, await approved_listing(actors)))["auction_id"] for _ in range(3)]
    await publish(actors, sid)
    await sign_in(http, actors.admin.email)
    desk_url = f"/console/sessions/{sid}/desk"
    desk = (await http.get(f"{desk_url}?lang=en")).text
    assert "Pause the session" in desk and "Resume the session" not in desk
    assert f"{desk_url}/withdraw/{lots[0]}" in desk and f"{desk_url}/withdraw/{lots[1]}" in desk
    token = csrf_of(desk)

    forged = await http.post(f"{desk_url}/pause", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    paused = await http.post(f"{desk_url}/pause", data={"csrf_token": token})
    assert paused.status_code == 303 and paused.headers["location"].endswith("notice=session_paused")
    assert (await http.get(f"{API}/sessions/{sid}")).json()["status"] == "paused"
    desk = (await http.get(f"{paused.headers['location']}&lang=en")).text
    assert "The session is paused" in desk and "Resume the session" in desk
    assert "恢复专场" in (await http.get(f"{desk_url}?lang=zh")).text
    twice = await http.post(f"{desk_url}/pause", data={"csrf_token": token})
    assert twice.headers["location"].endswith("error=session_not_running")
    resumed = await http.post(f"{desk_url}/resume", data={"csrf_token": token})
    assert resumed.headers["location"].endswith("notice=session_resumed")
    assert (await http.get(f"{API}/sessions/{sid}")).json()["status"] == "running"

    blank = await http.post(f"{desk_url}/withdraw/{lots[1]}", data={"csrf_token": token, "reason": "  "})
    assert blank.headers["location"].endswith("error=invalid_reason")
    elsewhere = (await create_session(actors))["id"]
    other = await http.post(f"/console/sessions/{elsewhere}/desk/withdraw/{lots[1]}",
                            data={"csrf_token": token, "reason": "Wrong session."})
    assert other.status_code == 404
    done = await http.post(f"{desk_url}/withdraw/{lots[0]}",
                           data={"csrf_token": token, "reason": "The institute recalled it."})
    assert done.headers["location"].endswith("notice=lot_withdrawn")
    body = (await http.get(f"{API}/sessions/{sid}")).json()
    assert body["lots"][0]["status"] == "withdrawn"
    assert body["lots"][1]["opens_at"] is not None  # live: the next lot is given its turn
    again = await http.post(f"{desk_url}/withdraw/{lots[0]}", data={"csrf_token": token, "reason": "x"})
    assert again.headers["location"].endswith("error=lot_closed")
    shown = (await http.get(f"{again.headers['location']}&lang=en")).text
    assert "The lot has closed already" in shown
    assert re.search(r"撤拍", (await http.get(f"{desk_url}?lang=zh")).text)
