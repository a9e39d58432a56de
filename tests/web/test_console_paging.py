"""Console tables paged by plain links (?<table>_cursor=): the next page has the rest, nothing
repeats, and each table keeps its own page while another one moves."""

import html
import re
from decimal import Decimal

import pytest

from app.security import Role
from tests.sessions.helpers import create_session
from tests.support.auctions import API, LISTING, qualified_bidder
from tests.support.kinds import bid, kind_auction, rnd
from tests.web.pages import page_client, sign_in

SIZE = 2
NEXT = re.compile(r'rel="next" href="([^"]+)"')


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"console_page_size": SIZE})


def section(text: str, heading_id: str) -> str:
    """The HTML of the console's part under the heading with that id."""
    return text.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def rows(part: str) -> str:
    """A table's rows without its paging links (which carry the other tables' cursors)."""
    return part.split("<nav", 1)[0]


def next_link(part: str) -> str | None:
    found = NEXT.search(part)
    return html.unescape(found.group(1)).split("#")[0] if found else None


async def test_an_institutes_listings_are_paged_to_the_last_one_without_repeats(app, actors):
    institute = await actors.user(Role.institute)
    titles = [f"Paged listing number {n}" for n in range(5)]
    for title in titles:
        made = await actors.client.post(f"{API}/listings", json=LISTING | {"title": title},
                                        headers=institute.headers)
        assert made.status_code == 201, made.text
    seen, url, pages = [], "/console?lang=en", 0
    async with await page_client(app) as http:
        await sign_in(http, institute.email)
        while url is not None:
            response = await http.get(url if url.startswith("/") else "/console" + url)
            assert response.status_code == 200, response.text
            part = response.text.split('id="listings-h"', 1)[1].split('id="results-h"', 1)[0]
            shown = sorted((t for t in titles if t in part), key=part.index)
            assert 1 <= len(shown) <= SIZE
            assert (pages > 0) == ("First page" in part)
            seen += shown
            url, pages = next_link(part), pages + 1
            assert "lang=en" in (url or "lang=en")  # the other parameters stay
    assert pages == 3 and sorted(seen) == sorted(titles) and len(seen) == len(set(seen))
    assert seen == titles[::-1]  # newest first
    async with await page_client(app) as http:
        await sign_in(http, institute.email)
        refused = await http.get("/console?lang=en&listings_cursor=not*a*cursor")
        assert refused.status_code == 422 and "This page link is not valid" in refused.text


async def test_each_table_of_the_enterprise_console_keeps_its_own_page(app, actors, client):
    alice, bob = await actors.user(Role.enterprise), await actors.user(Role.enterprise)
    open_one = await kind_auction(actors, [rnd("english", -0.5, 600)], title="The open lot")
    for who in (alice, bob):
        await qualified_bidder(actors, open_one["id"], who)
    for n in range(2):  # two more registrations, waiting for the operator
        waiting = await kind_auction(actors, [rnd("english", 300, 600)], title=f"Waiting lot {n}")
        made = await client.post(f"{API}/auctions/{waiting['id']}/registrations",
                                 headers=alice.headers)
        assert made.status_code == 201, made.text
    amounts = [f"{2_000_000 + 10_000 * n}.00" for n in range(6)]
    for n, amount in enumerate(amounts):
        placed = await bid(client, open_one["id"], (alice, bob)[n % 2], amount=amount)
        assert placed.status_code == 201, placed.text
    alices = [amounts[n] for n in (4, 2, 0)]  # newest first
    async with await page_client(app) as http:
        await sign_in(http, alice.email)
        first = (await http.get("/console?lang=en")).text
        regs = section(first, "regs-h")
        bids_url = next_link(section(first, "bids-h"))
        assert bids_url and "bids_cursor=" in bids_url and next_link(regs)
        second = (await http.get("/console" + bids_url)).text
        assert rows(section(second, "regs-h")) == rows(regs)  # the registrations did not move
        page_two = section(second, "bids-h")
        assert next_link(page_two) is None and "First page" in page_two
        assert _amounts(section(first, "bids-h")) + _amounts(page_two) == _shown(alices)
        third = (await http.get("/console" + next_link(section(second, "regs-h")))).text
        assert rows(section(third, "bids-h")) == rows(page_two)  # the bids stayed on page two
        both = section(first, "regs-h") + section(third, "regs-h")
        assert all(both.count(t) == 1 for t in ("The open lot", "Waiting lot 0", "Waiting lot 1"))


def _shown(amounts: list[str]) -> list[str]:
    return [f"{Decimal(a):,.0f}" for a in amounts]


def _amounts(part: str) -> list[str]:
    return re.findall(r"(\d{1,3}(?:,\d{3})+)\.00", part)


async def test_the_operators_sessions_are_paged(app, actors):
    titles = [f"Paged session {n}" for n in range(3)]
    for title in titles:
        await create_session(actors, title=title)
    async with await page_client(app) as http:
        await sign_in(http, actors.admin.email)
        first = (await http.get("/console/sessions?lang=en")).text
        more = next_link(first)
        assert more and "sessions_cursor=" in more
        second = (await http.get("/console/sessions" + more)).text
        assert next_link(second) is None and "First page" in second
    shown = [sorted((t for t in titles if t in page), key=page.index) for page in (first, second)]
    assert shown == [titles[:0:-1], titles[:1]]  # newest first, the oldest on page two
    async with await page_client(app) as http:
        await sign_in(http, actors.admin.email)
        assert (await http.get("/console/sessions?sessions_cursor=%2B")).status_code == 422
