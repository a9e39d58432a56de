"""The clerk desk's floor-bid form over ASGI: the next minimum prefilled, a bid entered for a
paddle in the room (channel floor, the clerk in the trail), refusals shown back (zh and en)."""

from app.security import Role
from tests.sessions.helpers import add_lot, create_session, publish, qualify
from tests.support.auctions import API, approved_listing
from tests.web.pages import csrf_of, page_client, sign_in


async def test_the_desk_enters_floor_bids(app, actors):
    async with await page_client(app) as http:
        await _enter_floor_bids(actors, http)


async def _enter_floor_bids(actors, http):
    sid = (await create_session(actors, mode="live", lot_duration_seconds=600))["id"]
    lot = (await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
    await add_lot(actors, sid, await approved_listing(actors))
    await publish(actors, sid)
    paddle = (await qualify(actors, sid, await actors.user(Role.enterprise)))["paddle"]
    await sign_in(http, actors.admin.email)
    desk_url = f"/console/sessions/{sid}/desk"
    desk = (await http.get(f"{desk_url}?lang=en")).text
    form = f"{desk_url}/floor-bid/{lot}"
    assert form in desk and 'value="2000000.00"' in desk  # the starting price: the first minimum
    assert "现场出价" in (await http.get(f"{desk_url}?lang=zh")).text
    token = csrf_of(desk)

    forged = await http.post(form, data={"csrf_token": "0" * 64, "paddle": paddle,
                                         "amount": "2000000.00"})
    assert forged.status_code == 403
    bad = await http.post(form, data={"csrf_token": token, "paddle": paddle, "amount": "abc"})
    assert bad.headers["location"].endswith("error=invalid_floor_bid")
    unknown = await http.post(form, data={"csrf_token": token, "paddle": "1", "amount": "2000000.00"})
    assert unknown.headers["location"].endswith("error=unknown_paddle")
    assert "not qualified in this lot" in (await http.get(f"{unknown.headers['location']}&lang=en")).text
    other = (await create_session(actors))["id"]
    elsewhere = await http.post(f"/console/sessions/{other}/desk/floor-bid/{lot}",
                                data={"csrf_token": token, "paddle": paddle, "amount": "2000000.00"})
    assert elsewhere.status_code == 404
    assert (await http.get(f"{API}/auctions/{lot}/bids")).json()["items"] == []

    done = await http.post(form, data={"csrf_token": token, "paddle": paddle, "amount": "2000000.00"})
    assert done.status_code == 303 and done.headers["location"].endswith("notice=floor_bid_placed")
    bids = (await http.get(f"{API}/auctions/{lot}/bids", headers=actors.admin.headers)).json()["items"]
    assert [(b["paddle"], b["amount"], b["channel"], b["clerk_id"]) for b in bids] == [
        (paddle, "2000000.00", "floor", actors.admin.user_id)]
    after = (await http.get(f"{desk_url}?lang=en")).text
    assert 'value="2010000.00"' in after  # the next minimum: current + increment
    low = await http.post(form, data={"csrf_token": token, "paddle": paddle, "amount": "2000000.00"})
    assert low.headers["location"].endswith("error=already_leading")
