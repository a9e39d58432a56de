"""Hostile input answered with 4xx, never a 5xx, and the connection kept: cursors past 64
bits, JSON nested beyond the parser, bodies over the limit without a length, bodies sent to
actions that take none, methods a path does not take; and the headers every answer carries."""

import base64
import http.client
import json
import re
from urllib.parse import urlparse

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.schemas import Page
from app.security import Role
from tests.sessions.helpers import create_session
from tests.support.auctions import API, LISTING, create_auction
from tests.support.server import LiveServer

OVERFLOW_CURSOR = "aWQ6OTk5OTk5OTk5OTk5OTk5OTk5OQ"  # "id:9999999999999999999", past int64
# every paginated collection: (path, who reads it); the first three are public
COLLECTIONS = {
    "/listings": None, "/auctions": None, "/auctions/{auction_id}/bids": None,
    "/auctions/{auction_id}/registrations": "admin", "/organizations": "admin",
    "/users": "admin", "/settlements": "admin", "/audit/ledger": "admin",
    "/sessions": "admin", "/sessions/{session_id}/lots": "admin",
    "/sessions/{session_id}/registrations": "admin",
}
JSON = {"Content-Type": "application/json"}


def assert_problem(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code is not None:
        assert response.json()["code"] == code, response.text


def api_routes(app) -> list[tuple[str, set[str], APIRoute]]:
    """(full path, methods, route) of every API route, included routers flattened."""
    return [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute) and c.path.startswith(API)]


def test_every_paginated_collection_is_covered(app) -> None:
    paged = {path.removeprefix(API) for path, _, r in api_routes(app)
             if isinstance(r.response_model, type) and issubclass(r.response_model, Page)}
    assert paged == set(COLLECTIONS)


@pytest.mark.parametrize("path", list(COLLECTIONS))
async def test_a_cursor_past_64_bits_is_422(actors, client, path) -> None:
    auction = await create_auction(actors)
    session_id = (await create_session(actors))["id"] if "{session_id}" in path else None
    headers = actors.admin.headers if COLLECTIONS[path] else {}
    url = API + path.format(auction_id=auction["id"], session_id=session_id)
    for cursor in (OVERFLOW_CURSOR, base64.urlsafe_b64encode(b"\xff" * 8).decode().rstrip("=")):
        response = await client.get(url, params={"cursor": cursor}, headers=headers)
        assert_problem(response, 422, "invalid_cursor")
    first = await client.get(url, params={"limit": 1}, headers=headers)
    assert first.status_code == 200, first.text


@pytest.fixture
async def live(app, settings):
    async with LiveServer(settings) as server:
        yield server


async def test_the_connection_is_kept_after_refusals_and_after_a_bug(live, monkeypatch) -> None:
    from app.listings import service

    async def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    url = urlparse(live.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", f"{API}/listings?cursor={OVERFLOW_CURSOR}")
        first = conn.getresponse()
        assert first.status == 422 and json.loads(first.read())["code"] == "invalid_cursor"
        sock = conn.sock
        monkeypatch.setattr(service, "list_listings", broken)
        conn.request("GET", f"{API}/listings")
        second = conn.getresponse()
        assert second.status == 500 and json.loads(second.read())["code"] == "internal_error"
        assert second.getheader("connection") != "close"
        monkeypatch.undo()
        conn.request("GET", f"{API}/listings")
        third = conn.getresponse()
        assert third.status == 200, third.read()
        third.read()
        assert conn.sock is sock, "the server closed the keep-alive connection"
    finally:
        conn.close()


async def test_json_nested_beyond_the_parser_is_422_on_the_bid_route(actors, client) -> None:
    enterprise = await actors.user(Role.enterprise)
    auction = await create_auction(actors)
    deep = b"[" * 100_000
    bid = await client.post(f"{API}/auctions/{auction['id']}/bids", content=deep,
                            headers=enterprise.headers | JSON)
    assert_problem(bid, 422, "validation_error")
    listing = await client.post(f"{API}/listings", content=deep,
                                headers=(await actors.user(Role.institute)).headers | JSON)
    assert_problem(listing, 422, "validation_error")


async def _chunks(total: int, size: int = 65_536):
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.mark.parametrize("path", ["/listings", "/auctions/1/bids", "/auth/token"])
async def test_a_chunked_body_over_the_limit_is_413(actors, client, settings, path) -> None:
    role = Role.enterprise if path.endswith("bids") else Role.institute
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    headers = (await actors.user(role)).headers | (form if path == "/auth/token" else JSON)
    response = await client.post(API + path, content=_chunks(settings.max_body_bytes + 1),
                                 headers=headers)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


def test_every_write_declares_its_body(app) -> None:
    # an action without input takes NoBody (app/schemas.py), so a body sent to it is refused;
    # a route that streams its own body (a document upload) declares it in openapi_extra
    bodiless = [f"{sorted(methods)} {path}" for path, methods, r in api_routes(app)
                if methods & {"POST", "PUT", "PATCH"} and r.body_field is None
                and "requestBody" not in (r.openapi_extra or {})]
    assert bodiless == []


async def test_a_body_sent_to_an_action_that_takes_none_is_refused(actors, client) -> None:
    institute = await actors.user(Role.institute)
    created = await client.post(f"{API}/listings", json=LISTING, headers=institute.headers)
    listing_id = created.json()["id"]
    url = f"{API}/listings/{listing_id}/submit"
    for body in ({"reason": "x"}, [], "text", 5):
        response = await client.post(url, json=body, headers=institute.headers)
        assert_problem(response, 422, "validation_error")
    assert (await client.get(f"{API}/listings/{listing_id}", headers=institute.headers)
            ).json()["status"] == "draft"
    for content in (b"", b"{}"):
        response = await client.post(url, content=content, headers=institute.headers | JSON)
        assert response.status_code in (200, 409), response.text
    assert (await client.get(f"{API}/listings/{listing_id}", headers=institute.headers)
            ).json()["status"] == "pending_review"


def _paths(app) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for path, methods, _ in api_routes(app):
        paths.setdefault(path, set()).update(methods)
    return paths


async def test_405_names_every_method_of_the_path(app, client) -> None:
    for path, methods in _paths(app).items():
        url = re.sub(r"\{[a-z_]+\}", "1", path)
        for method in ("DELETE", "PUT", "OPTIONS"):
            if method in methods:
                continue
            response = await client.request(method, url)
            assert_problem(response, 405, "method_not_allowed")
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed == methods, (method, url, allowed)


async def test_every_answer_is_nosniff_and_credentialed_ones_are_not_stored(actors, client) -> None:
    anonymous = [await client.get("/healthz"), await client.get(f"{API}/listings"),
                 await client.get(f"{API}/listings/999999"), await client.get(f"{API}/me")]
    for response in anonymous:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert "no-store" not in response.headers.get("cache-control", ""), response.request.url
    headers = actors.admin.headers
    signed_in = [await client.get(f"{API}/me", headers=headers),
                 await client.get(f"{API}/listings", headers=headers),
                 await client.get(f"{API}/listings/999999", headers=headers)]
    for response in signed_in:
        assert response.headers["x-content-type-options"] == "nosniff", response.request.url
        assert response.headers["cache-control"] == "no-store", response.request.url


async def test_a_time_range_from_after_to_is_empty_not_an_error(actors, client) -> None:
    # no JSON Schema compares two parameters: what the document cannot refuse is accepted
    auditor = await actors.user(Role.auditor)
    later, earlier = "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z"
    for start, end in ((later, earlier), (earlier, earlier)):
        params = {"from": start, "to": end}
        listed = await client.get(f"{API}/settlements", params=params, headers=auditor.headers)
        assert listed.status_code == 200 and listed.json()["items"] == [], listed.text
        exported = await client.get(f"{API}/exports/settlements", params=params,
                                    headers=auditor.headers)
        assert exported.status_code == 200, exported.text
        assert exported.text.count("\n") == 1  # the header line only
    for number in ("0.5", "1700000000"):  # no Unix times: ISO 8601 only
        refused = await client.get(f"{API}/settlements", params={"to": number},
                                   headers=auditor.headers)
        assert_problem(refused, 422, "validation_error")
