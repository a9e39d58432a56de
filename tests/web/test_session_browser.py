"""The session page in headless chromium: lots refresh on their own, in Chinese and English."""

import os

from playwright.async_api import expect

from app.security import Role
from tests.sessions.helpers import add_lot, bid, create_session, publish, qualify
from tests.support.auctions import API, approved_listing
from tests.web.browser import Hosts
from tests.web.test_browser import ROOT, _fits, browser, live  # noqa: F401 (fixtures)


async def test_the_session_page_refreshes_its_lots_in_both_languages(actors, client, live, browser):  # noqa: F811
    event = await create_session(actors, lot_duration_seconds=900, stagger_seconds=60,
                                 title="2026 春季新能源科技成果专场")
    sid = event["id"]
    titles = ("中功率新能源仿真测试平台设计与开发", "基于深度学习的锂电池健康状态评估软件")
    for title in titles:
        await add_lot(actors, sid, await approved_listing(actors, title=title))
    await publish(actors, sid)
    bidders = [await actors.user(Role.enterprise) for _ in range(2)]
    for who in bidders:
        await qualify(actors, sid, who)
    first = (await client.get(f"{API}/sessions/{sid}")).json()["lots"][0]["auction_id"]
    hosts, shots = Hosts(), os.environ.get("WEB_SCREENSHOTS")
    for k, (lang, locale, price) in enumerate((("zh", "zh-CN", "¥2,000,000.00"),
                                               ("en", "en-US", "CN¥2,010,000.00"))):
        context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        hosts.watch(context)
        page = await context.new_page()
        await page.goto(f"{live.url}/sessions/{sid}?lang={lang}")
        row = page.locator(f'tr[data-auction="{first}"]')
        await expect(row.locator('[data-f="status"]')).to_have_text("竞价中" if lang == "zh" else "Open")
        placed = await bid(client, first, bidders[k], ("2000000.00", "2010000.00")[k])
        assert placed.status_code == 201, placed.text
        await expect(row.locator('[data-f="current_price"]')).to_have_text(price)  # no reload
        await _fits(page, 1280)
        if shots:
            await page.screenshot(path=f"{ROOT / shots}/session-{lang}.png", full_page=True)
        await context.close()
    hosts.assert_only(live.url)
