"""The multi-round auction form in headless chromium, with JavaScript off (plain submit
buttons do it all): a round added, a refusal shown on its row with focus on the alert, a
round removed, and a two-round english -> sealed auction scheduled by pressing Enter."""

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import expect

from app.web.views.forms import local_input
from tests.support.auctions import API, approved_listing
from tests.web import test_browser as base
from tests.web.browser import Hosts

live, browser = base.live, base.browser  # the same fixtures as the room's browser tests


def at(minutes: float) -> str:
    return local_input(datetime.now(UTC) + timedelta(minutes=minutes))


async def test_the_operator_schedules_two_rounds_without_javascript(actors, client, live, browser):
    listing_id = await approved_listing(actors, title="Listing for two rounds")
    hosts = Hosts()
    context = await browser.new_context(locale="en-US", java_script_enabled=False)
    hosts.watch(context)
    page = await context.new_page()
    await base.sign_in(page, live, actors.admin, "en")
    await page.goto(f"{live.url}/console/listings/{listing_id}/auction?lang=en")
    await page.locator("#f-starts_at").fill(at(-0.1))
    await page.locator("#f-ends_at").fill(at(60))
    for _ in range(2):
        await page.get_by_role("button", name="Add a round").click()
    await expect(page.get_by_role("group", name="Round 3")).to_be_visible()
    await page.get_by_role("button", name="Remove round 3").click()
    await expect(page.get_by_role("group", name="Round 3")).to_have_count(0)
    await expect(page.locator("#f-ends_at")).to_have_value(re.compile(r"\d"))  # kept
    await page.locator("#f-round2_kind").select_option("sealed_first_price")
    await page.get_by_role("button", name="Schedule the auction").click()  # round 1: no advance
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("how many of its best bidders go on")
    await expect(page.locator("#f-advance")).to_have_attribute("aria-invalid", "true")
    await page.locator("#f-advance").fill("2")
    await page.locator("#f-bid_increment").press("Enter")  # the form's default: schedule it
    await page.wait_for_url(re.compile(r"/auctions/\d+\?notice=auction_created"))
    auction_id = int(re.search(r"/auctions/(\d+)", page.url).group(1))
    rounds = (await client.get(f"{API}/auctions/{auction_id}")).json()["rounds"]
    assert [(r["kind"], r["advance"]) for r in rounds] == [("english", 2), ("sealed_first_price", None)]
    hosts.assert_only(live.url)
    await context.close()
