"""Reading paginated collections: every page, or every item, following next_cursor to the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from tests.support.auctions import API


async def each_page(
    client: httpx.AsyncClient, path: str, headers: dict | None = None, limit: int = 1000, *,
    max_pages: int = 10_000, **filters: object,
) -> AsyncIterator[dict]:
    """Every page of a collection (each answered 200), filtered by query parameters (httpx's
    params= would drop a query written in the path), until next_cursor is null."""
    cursor = None
    for _ in range(max_pages):
        params = {**filters, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        page = response.json()
        yield page
        if (cursor := page["next_cursor"]) is None:
            return
    raise AssertionError("pagination does not end")


async def all_pages(
    client: httpx.AsyncClient, path: str, headers: dict | None = None, limit: int = 1000,
    **filters: object,
) -> list[dict]:
    """Every item of a collection, in the order of its pages."""
    return [item async for page in each_page(client, path, headers, limit, **filters)
            for item in page["items"]]


async def all_bids(
    client: httpx.AsyncClient, auction_id: int, headers: dict | None = None, limit: int = 1000,
) -> list[dict]:
    """Every bid of the auction through GET /auctions/{id}/bids, in the API's order."""
    return await all_pages(client, f"{API}/auctions/{auction_id}/bids", headers, limit)


async def bid_trail(
    client: httpx.AsyncClient, auction_id: int, headers: dict | None = None, limit: int = 1000,
) -> list[dict]:
    """The auction's accepted bids from SQL, in sequence order."""
    return sorted(await all_bids(client, auction_id, headers, limit), key=lambda b: b["sequence"])
