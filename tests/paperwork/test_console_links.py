"""The consoles' settlement tables link the signed PDFs: the buyer its confirmation (not the
record), the seller and the auditor both; the links download the stored, signed bytes."""

import hashlib
import re

import pytest

from tests.support.auctions import API
from tests.support.settlements import sale_world
from tests.web.pages import page_client, sign_in


@pytest.fixture
async def world(app, actors):
    return await sale_world(app, actors, [("alice", "2000000.00"), ("bob", "2010000.00")])


def links(html: str) -> list[str]:
    return re.findall(r'href="(/console/[^"]+\.pdf)"', html)


async def test_console_links_download_the_signed_documents(app, client, world):
    s, sale = world["settlement"], world["sale"]
    confirmation = f"/console/settlements/{s['id']}/confirmation.pdf"
    record = f"/console/auctions/{sale.auction_id}/record.pdf"
    expected = {"buyer": [confirmation], "owner": [confirmation, record], "auditor": [confirmation, record]}
    for who, urls in expected.items():
        async with await page_client(app) as http:
            await sign_in(http, world[who].email)
            html = (await http.get("/console?lang=zh")).text
            assert links(html) == urls, who
            assert "成交确认书" in html
            for url in urls:
                response = await http.get(url)
                assert response.status_code == 200 and response.content.startswith(b"%PDF"), (who, url)
                assert response.headers["x-content-sha256"] == hashlib.sha256(response.content).hexdigest()
    api = await client.get(f"{API}/settlements/{s['id']}/confirmation.pdf", headers=world["admin"].headers)
    async with await page_client(app) as http:
        await sign_in(http, world["buyer"].email)
        assert (await http.get(confirmation)).content == api.content  # one stored copy
        assert (await http.get(record)).status_code == 403  # an enterprise never reads records
    async with await page_client(app) as http:
        await sign_in(http, world["outsider"].email)
        assert (await http.get(confirmation)).status_code == 404
    async with await page_client(app) as http:
        assert (await http.get(confirmation)).status_code == 401
