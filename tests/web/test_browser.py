"""End to end in headless chromium: two enterprises bid against each other in the room."""

import asyncio
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.async_api import expect

from app.security import Role
from tests.support.actors import PASSWORD, Actor
from tests.support.auctions import API, approved_listing, create_auction
from tests.support.live import ms, register_and_qualify, server_now
from tests.support.server import LiveServer
from tests.web.browser import Hosts, chromium

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15_000  # ms: the longest any one thing on a page may take to appear


@pytest.fixture
async def live(app, settings):
    """The app under uvicorn with its own closer, over the test's database and Redis keys."""
    async with LiveServer(settings.model_copy(update={"closer_in_api": True})) as server:
        yield server


@pytest.fixture
async def browser():
    async with chromium() as launched:
        expect.set_options(timeout=WAIT)
        yield launched


async def sign_in(page, live, actor: Actor, lang: str) -> None:
    await page.goto(f"{live.url}/signin?lang={lang}")
    await page.get_by_label("Email" if lang == "en" else "电子邮箱").fill(actor.email)
    await page.get_by_label("Password" if lang == "en" else "密码").fill(PASSWORD)
    await page.locator("form.stack button[type=submit]").click()
    await page.wait_for_url(re.compile(r"/console$"))


async def signed_in_room(browser, live, hosts: Hosts, actor: Actor, auction_id: int, lang="en"):
    context = await browser.new_context(locale="en-US" if lang == "en" else "zh-CN")
    hosts.watch(context)
    page = await context.new_page()
    await sign_in(page, live, actor, lang)
    await page.goto(f"{live.url}/auctions/{auction_id}")
    await page.wait_for_selector("#connection.online", timeout=WAIT)
    return page


async def seconds_left(page) -> int:
    text = await page.locator("#countdown").inner_text()
    minutes, seconds = text.split(":")[-2:]
    return int(minutes) * 60 + int(seconds)


async def test_two_enterprises_bid_in_the_room_through_a_soft_close(actors, client, live, browser):
    alice, bob = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    auction = await create_auction(actors, lasts=25, window=10, extension=12, hard_close_in=90,
                                   increment="10000.00")
    auction_id = auction["id"]
    paddle = {who.email: (await register_and_qualify(client, actors.admin, auction_id, who))["paddle"]
              for who in (alice, bob)}
    hosts = Hosts()
    room_a = await signed_in_room(browser, live, hosts, alice, auction_id)
    room_b = await signed_in_room(browser, live, hosts, bob, auction_id)

    # Alice bids the next minimum with one click; Bob's room shows it without reload.
    await room_a.locator("#quick-bid").click()
    await room_a.wait_for_selector("#standing.standing-leading", timeout=WAIT)
    await expect(room_b.locator("#leading")).to_have_text(paddle[alice.email], timeout=WAIT)
    assert "2,000,000.00" in await room_b.locator("#price").inner_text()
    # Bob bids a custom amount; Alice is told she is outbid.
    await room_b.get_by_label("Your bid (CNY)").fill("2030000.00")
    await room_b.get_by_role("button", name="Place bid").click()
    await room_b.wait_for_selector("#standing.standing-leading", timeout=WAIT)
    await room_a.wait_for_selector("#standing.standing-outbid", timeout=WAIT)
    assert "2,040,000.00" in await room_a.locator("#quick-bid").inner_text()
    # A refused bid says why, in the page.
    await room_a.get_by_label("Your bid (CNY)").fill("2030000.00")
    await room_a.get_by_role("button", name="Place bid").click()
    await expect(room_a.locator("#bid-result")).to_contain_text("below the minimum", timeout=WAIT)

    # Inside the last seconds, Alice's bid extends the close; Bob's countdown shows it.
    state, now = await server_now(client, auction_id)
    window_opens = ms(state["ends_at"]) - 10_000
    await asyncio.sleep(max(0, (window_opens - now) / 1000 + 1.5))
    before = await seconds_left(room_b)
    assert before <= 9, before
    await room_a.locator("#quick-bid").click()
    await expect(room_b.locator("#extended")).to_contain_text("Extended", timeout=WAIT)
    # An earlier bid may have extended already (on a slow host): wait for this extension.
    for _ in range(50):
        after = await seconds_left(room_b)
        if after > before:
            break
        await asyncio.sleep(0.2)
    extended, _ = await server_now(client, auction_id)
    assert extended["ends_at"] != state["ends_at"]
    assert after > before and after >= 9, (before, after)
    assert await room_b.locator("#ends-at time").get_attribute("datetime") == extended["ends_at"]

    # The close: sold to Alice's paddle, in both rooms, with each one's standing.
    sold = f"Sold to paddle {paddle[alice.email]} for CN¥2,040,000.00."
    for room in (room_a, room_b):
        await expect(room.locator("#outcome")).to_contain_text(sold, timeout=40_000)
    await room_a.wait_for_selector("#standing.standing-won", timeout=WAIT)
    await room_b.wait_for_selector("#standing.standing-lost", timeout=WAIT)
    # the room shows the close from the Redis stream; the result waits for the closer's SQL
    answer = await client.get(f"{API}/auctions/{auction_id}/result")
    for _ in range(100):
        if answer.status_code != 409:
            break
        await asyncio.sleep(0.2)
        answer = await client.get(f"{API}/auctions/{auction_id}/result")
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["winning_paddle"] == paddle[alice.email]
    assert Decimal(result["hammer_price"]) == Decimal("2040000.00")
    hosts.assert_only(live.url)


async def test_a_cross_site_form_post_is_refused(actors, client, live, browser):
    bidder = await actors.user(Role.enterprise)
    auction = await create_auction(actors, lasts=600)
    hosts = Hosts()
    room = await signed_in_room(browser, live, hosts, bidder, auction["id"])
    token = await room.locator("input[name=csrf_token]").first.get_attribute("value")
    # Another site's page posting to the room's form, with a copied token and the user's cookie
    # jar in the same browser: refused, and nothing was registered.
    attacker = await room.context.new_page()
    await attacker.set_content(
        f'<form method="post" action="{live.url}/auctions/{auction["id"]}/register">'
        f'<input name="csrf_token" value="{token}"><button>go</button></form>')
    async with attacker.expect_navigation():
        await attacker.locator("button").click()
    assert "Not allowed" in await attacker.content() or "form has expired" in await attacker.content()
    regs = await client.get(f"{API}/auctions/{auction['id']}/registrations",
                            headers=actors.admin.headers)
    assert regs.json()["items"] == []


async def test_pages_in_chinese_and_english_and_on_a_phone(actors, client, live, browser):
    listing_id = await approved_listing(actors, title="中功率新能源仿真测试平台设计与开发")
    auction = await create_auction(actors, listing_id=listing_id, lasts=900, window=30,
                                   extension=60)
    await create_auction(actors, starts_in=7200, lasts=900,
                         listing_id=await approved_listing(
                             actors, title="基于深度学习的锂电池健康状态评估软件",
                             ip_type="software_copyright", transfer_mode="exclusive_license",
                             patent_numbers=[], trl=7, field="new_energy"))
    bidders = [await actors.user(Role.enterprise) for _ in range(2)]
    for who in bidders:
        await register_and_qualify(client, actors.admin, auction["id"], who)
    for i, amount in enumerate(("2000000.00", "2010000.00", "2030000.00")):
        response = await client.post(f"{API}/auctions/{auction['id']}/bids",
                                     json={"amount": amount}, headers=bidders[i % 2].headers)
        assert response.status_code == 201, response.text
    hosts = Hosts()
    shots = os.environ.get("WEB_SCREENSHOTS")
    for lang, locale, heading in (("zh", "zh-CN", "正在竞价"), ("en", "en-US", "Open now")):
        for width, height, suffix in ((1280, 900, ""), (390, 844, "-phone")):
            context = await browser.new_context(locale=locale,
                                                viewport={"width": width, "height": height})
            hosts.watch(context)
            page = await context.new_page()
            await sign_in(page, live, bidders[0], lang)
            await page.goto(f"{live.url}/?lang={lang}")
            assert heading in await page.locator("main").inner_text()
            await _fits(page, width)
            if shots:
                await page.screenshot(path=f"{ROOT / shots}/catalogue-{lang}{suffix}.png", full_page=True)
            await page.goto(f"{live.url}/auctions/{auction['id']}")
            await page.wait_for_selector("#connection.online", timeout=WAIT)
            assert await page.locator("html").get_attribute("lang") == locale.replace("en-US", "en")
            assert "2,030,000.00" in await page.locator("#price").inner_text()
            await _fits(page, width)
            if shots:
                await page.screenshot(path=f"{ROOT / shots}/room-{lang}{suffix}.png", full_page=True)
            await context.close()
    hosts.assert_only(live.url)


async def _fits(page, width: int) -> None:
    scroll = await page.evaluate("document.scrollingElement.scrollWidth")
    wide = await page.evaluate(
        "(w) => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w)"
        ".slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)", width)
    assert scroll <= width, f"the page is {scroll}px wide in a {width}px viewport: {wide}"


async def test_the_room_says_when_it_is_offline_and_catches_up_on_its_own(actors, client, live,
                                                                         browser):
    auction = await create_auction(actors, lasts=600)
    bidder = await actors.user(Role.enterprise)
    await register_and_qualify(client, actors.admin, auction["id"], bidder)
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    streams = []
    page.on("request", lambda r: streams.append(r.url) if "/events" in r.url else None)

    async def drop(route):
        await route.abort("internetdisconnected")

    await page.route("**/auctions/*/events*", drop)  # the network is down for the stream
    await page.goto(f"{live.url}/auctions/{auction['id']}?lang=en")
    await expect(page.locator("#connection")).to_have_text("Offline: reconnecting…")
    response = await client.post(f"{API}/auctions/{auction['id']}/bids",
                                 json={"amount": "2000000.00"}, headers=bidder.headers)
    assert response.status_code == 201, response.text
    await page.unroute("**/auctions/*/events*")  # back: EventSource reconnects by itself
    await expect(page.locator("#connection")).to_have_text("Live", timeout=20_000)
    await expect(page.locator("#price")).to_contain_text("2,000,000.00")
    await expect(page.locator("#history tr")).to_have_count(1)
    assert len(streams) >= 2, streams
    await context.close()
