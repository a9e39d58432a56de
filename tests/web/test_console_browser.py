"""End to end in headless chromium, through the consoles: an institute lists the new-energy
test-platform project, the operator approves it and schedules its auction, the winner bids
in the room and finds his settlement after the close, and the auditor exports the
settlements and checks the file against its manifest by upload. Each console is then shown
in Chinese and English (screenshots with WEB_SCREENSHOTS) and fits a phone's width."""

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from app.security import Role
from app.web.views.forms import local_input
from tests.support.auctions import API
from tests.support.live import register_and_qualify
from tests.web import test_browser as base
from tests.web.browser import Hosts

ROOT = Path(__file__).resolve().parents[2]
TITLE = "Design and development of a medium-power new-energy simulation test platform"
WAIT = base.WAIT
live, browser = base.live, base.browser  # the same fixtures as the room's browser tests


async def _signed_in(browser, live, hosts: Hosts, actor):
    context = await browser.new_context(locale="en-US", accept_downloads=True)
    hosts.watch(context)
    page = await context.new_page()
    await base.sign_in(page, live, actor, "en")
    return page


async def _alerted(page, text: str) -> None:
    """The page says text in its alert or notice, and keyboard focus was moved there."""
    focused = page.locator("[data-focus]")
    await expect(focused).to_contain_text(text)
    assert await focused.evaluate("e => e === document.activeElement")


async def test_a_lot_from_listing_to_verified_export_through_the_consoles(
        actors, client, live, browser, tmp_path):
    institute = await actors.user(Role.institute)
    winner = await actors.user(Role.enterprise)
    auditor = await actors.user(Role.auditor)
    hosts = Hosts()

    # The institute lists the project and sends it for review.
    lab = await _signed_in(browser, live, hosts, institute)
    await lab.get_by_role("link", name="New listing").click()
    await lab.locator("#f-title").fill(TITLE)
    await lab.locator("#f-summary").fill("A test platform simulating medium-power new-energy systems.")
    await lab.locator("#f-field").select_option("new_energy")
    await lab.locator("#f-patent_numbers").fill("CN202310000001.5")
    await lab.locator("#f-trl").select_option("6")
    await lab.locator("#f-starting_price").fill("2000000.00")
    await lab.locator("#f-reserve_price").fill("2000000.00")
    await _shoot(lab, "listing-form")
    await lab.get_by_role("button", name="Save as draft").click()
    await _alerted(lab, "saved as a draft")
    await lab.get_by_role("button", name=f"Submit for review {TITLE}").click()
    await _alerted(lab, "sent for review")

    # The operator approves it and schedules a short english round in the console (the
    # winner signs in first: the round lasts seconds).
    room = await _signed_in(browser, live, hosts, winner)
    desk = await _signed_in(browser, live, hosts, actors.admin)
    card = desk.locator("li.card", has_text=TITLE)
    await card.get_by_role("button", name="Approve").click()
    await _alerted(desk, "The listing is approved.")
    await desk.get_by_role("link", name=f"Create an auction {TITLE}").click()
    now = datetime.now(UTC)
    await desk.locator("#f-starts_at").fill(local_input(now - timedelta(seconds=1)))
    await desk.locator("#f-ends_at").fill(local_input(now + timedelta(seconds=12)))
    await desk.locator("#f-window_seconds").fill("0")
    await _shoot(desk, "auction-form")
    await desk.get_by_role("button", name="Schedule the auction").click()
    await desk.wait_for_url(re.compile(r"/auctions/\d+\?notice=auction_created"))
    await _alerted(desk, "The auction is scheduled.")
    auction_id = int(re.search(r"/auctions/(\d+)", desk.url).group(1))

    # The winner, qualified, bids in the room and sees his settlement once it closed.
    paddle = (await register_and_qualify(client, actors.admin, auction_id, winner))["paddle"]
    await room.goto(f"{live.url}/auctions/{auction_id}")
    await room.wait_for_selector("#connection.online", timeout=WAIT)
    await room.locator("#quick-bid").click()
    await room.wait_for_selector("#standing.standing-leading", timeout=WAIT)
    await expect(room.locator("#outcome")).to_contain_text(f"Sold to paddle {paddle}", timeout=40_000)
    # The room hears the close from the feed; the console reads SQL, written by the closer
    # just after: the winner reloads it until the result is there, as a person would.
    await _reloaded_until(room, f"{live.url}/console", "#results-h + .scroll", "You won")
    settlements = room.locator("#settlements-h ~ .scroll")
    await expect(settlements).to_contain_text("Awaiting payment")
    await expect(settlements).to_contain_text("CN¥2,000,000.00")  # + 5% premium - the deposit

    # The auditor exports the settlements and checks the file against its manifest.
    audit = await _signed_in(browser, live, hosts, auditor)
    await audit.locator("#x-format").select_option("csv")
    await audit.get_by_role("button", name="Prepare the export").click()
    saved = {}
    for name, link in (("file", "1. Download the file"), ("manifest", "2. Download its signed manifest")):
        async with audit.expect_download() as info:
            await audit.get_by_role("link", name=link).click()
        saved[name] = tmp_path / (await info.value).suggested_filename
        await (await info.value).save_as(saved[name])
    assert saved["file"].read_text().count("\n") == 2  # the header and the one settlement
    await audit.locator("#v-file").set_input_files(saved["file"])
    await audit.locator("#v-manifest").set_input_files(saved["manifest"])
    await audit.get_by_role("button", name="Check", exact=True).click()
    await _alerted(audit, "OK: the export is intact.")
    await _shoot(audit, "export-check")
    await audit.goto(f"{live.url}/console/ledger")
    await _alerted(audit, "OK: the ledger is intact.")

    settlement = (await client.get(f"{API}/settlements", headers=actors.admin.headers)).json()["items"]
    assert [s["auction_id"] for s in settlement] == [auction_id]
    for role, page in (("institute", lab), ("admin", desk), ("enterprise", room), ("auditor", audit)):
        await _both_languages(page, live, role)
    hosts.assert_only(live.url)


async def _reloaded_until(page, url: str, selector: str, text: str, tries: int = 20) -> None:
    for _ in range(tries):
        await page.goto(url)
        if text in await page.locator(selector).inner_text():
            return
        await page.wait_for_timeout(500)
    await expect(page.locator(selector)).to_contain_text(text)


async def _shoot(page, name: str) -> None:
    if shots := os.environ.get("WEB_SCREENSHOTS"):
        await page.screenshot(path=f"{ROOT / shots}/console-{name}-en.png", full_page=True)


async def _both_languages(page, live, role: str) -> None:
    shots = os.environ.get("WEB_SCREENSHOTS")
    for lang, heading in (("zh", "工作台" if role != "institute" else "成果"), ("en", "")):
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto(f"{live.url}/console?lang={lang}")
        assert heading in await page.locator("h1").inner_text()
        if shots:
            await page.screenshot(path=f"{ROOT / shots}/console-{role}-{lang}.png", full_page=True)
        await page.set_viewport_size({"width": 390, "height": 844})
        await base._fits(page, 390)
