"""The lot's room in headless chromium while its session pauses: the countdown stands still
with a notice, and runs on from the moved close once the session resumes."""

import re

from playwright.async_api import expect

from tests.sessions.helpers import add_lot, create_session, publish
from tests.support.auctions import API, approved_listing
from tests.web.browser import Hosts
from tests.web.test_browser import browser, live  # noqa: F401 (fixtures)


async def test_the_room_stands_still_while_the_session_is_paused(actors, client, live, browser):  # noqa: F811
    sid = (await create_session(actors, lot_duration_seconds=600))["id"]
    auction_id = (await add_lot(actors, sid, await approved_listing(actors)))["auction_id"]
    await publish(actors, sid)
    hosts = Hosts()
    context = await browser.new_context(locale="en-US")
    hosts.watch(context)
    page = await context.new_page()
    await page.goto(f"{live.url}/auctions/{auction_id}?lang=en")
    await expect(page.locator("#connection")).to_have_class(re.compile("online"))
    countdown, notice = page.locator("#countdown"), page.locator("#extended")
    admin = actors.admin.headers
    assert (await client.post(f"{API}/sessions/{sid}/pause", headers=admin)).status_code == 200
    await expect(notice).to_have_text(re.compile("^Paused: the session takes no bid"))
    frozen = await countdown.text_content()
    await page.wait_for_timeout(2500)
    assert await countdown.text_content() == frozen  # the time left stands still
    assert (await client.post(f"{API}/sessions/{sid}/resume", headers=admin)).status_code == 200
    await expect(notice).to_have_text("")
    await expect(countdown).not_to_have_text(frozen, timeout=5000)  # it runs on
    await context.close()
    hosts.assert_only(live.url)
