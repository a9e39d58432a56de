"""Bad bid requests: the answer FastAPI's parameter solver gave, from BidRoute; nothing placed.

BidRoute (app/auctions/bid_route.py) reads the bid endpoint's parameters itself; these are
the answers the generic solver gave to the same requests (recorded before the change), except
that authentication now comes before the body."""

import pytest

from app.security import Role
from tests.support.auctions import API, create_auction, qualified_bidder

JSON = {"Content-Type": "application/json"}
GOOD = b'{"amount": "2000000.00"}'
MONEY_ERROR = (("body", "amount"), "value_error")

# name: (path after /auctions/, extra headers, body, content type,
#        status, code, [(loc, type), ...] of the 422's errors)
CASES = {
    "path not a number": ("abc", {}, GOOD, JSON, 422, "validation_error",
                          [(("path", "auction_id"), "int_parsing")]),
    "path zero": ("0", {}, GOOD, JSON, 422, "validation_error",
                  [(("path", "auction_id"), "greater_than_equal")]),
    "path negative": ("-5", {}, GOOD, JSON, 422, "validation_error",
                      [(("path", "auction_id"), "greater_than_equal")]),
    "path beyond bigint": (str(2**63), {}, GOOD, JSON, 422, "validation_error",
                           [(("path", "auction_id"), "less_than_equal")]),
    "no such auction": ("999999", {}, GOOD, JSON, 404, "auction_not_found", []),
    "broken JSON": ("{aid}", {}, b'{"amount":', JSON, 422, "validation_error",
                    [(("body", 10), "json_invalid")]),
    "not UTF-8": ("{aid}", {}, b'{"amount":"\xff"}', JSON, 422, "validation_error",
                  [(("body",), "body_unparsable")]),
    "empty body": ("{aid}", {}, b"", JSON, 422, "validation_error",
                   [(("body",), "missing")]),
    "array body": ("{aid}", {}, b"[]", JSON, 422, "validation_error",
                   [(("body",), "model_attributes_type")]),
    "null body": ("{aid}", {}, b"null", JSON, 422, "validation_error",
                  [(("body",), "model_attributes_type")]),
    "amount not money": ("{aid}", {}, b'{"amount": "abc"}', JSON, 422, "validation_error",
                         [MONEY_ERROR]),
    "amount a float": ("{aid}", {}, b'{"amount": 1.5}', JSON, 422, "validation_error",
                       [MONEY_ERROR]),
    "unknown field": ("{aid}", {}, b'{"amount": "1", "x": 1}', JSON, 422, "validation_error",
                      [(("body", "x"), "extra_forbidden")]),
    "text/plain": ("{aid}", {}, GOOD, {"Content-Type": "text/plain"}, 422, "validation_error",
                   [(("body",), "model_attributes_type")]),
    "no content type": ("{aid}", {}, GOOD, {}, 422, "validation_error",
                        [(("body",), "model_attributes_type")]),
    "JSON with charset": ("{aid}", {}, b'{"amount": "abc"}',
                          {"Content-Type": "application/json; charset=utf-8"}, 422,
                          "validation_error", [MONEY_ERROR]),
    "a +json type": ("{aid}", {}, b'{"amount": "abc"}',
                     {"Content-Type": "Application/Merge-Patch+JSON"}, 422, "validation_error",
                     [MONEY_ERROR]),
    "empty key": ("{aid}", {"Idempotency-Key": ""}, GOOD, JSON, 422, "validation_error",
                  [(("header", "Idempotency-Key"), "string_too_short")]),
    "key with a space": ("{aid}", {"Idempotency-Key": "a b"}, GOOD, JSON, 422,
                         "validation_error",
                         [(("header", "Idempotency-Key"), "string_pattern_mismatch")]),
    "key too long": ("{aid}", {"Idempotency-Key": "k" * 256}, GOOD, JSON, 422,
                     "validation_error", [(("header", "Idempotency-Key"), "string_too_long")]),
    "all three wrong": ("0", {"Idempotency-Key": "a b"}, b'{"amount": "x"}', JSON, 422,
                        "validation_error",
                        [(("path", "auction_id"), "greater_than_equal"),
                         (("header", "Idempotency-Key"), "string_pattern_mismatch"),
                         MONEY_ERROR]),
}


@pytest.mark.parametrize("name", CASES)
async def test_a_bad_bid_request_is_refused_and_places_nothing(actors, client, name):
    path, headers, body, content_type, status, code, errors = CASES[name]
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    url = f"{API}/auctions/{path.format(aid=auction['id'])}/bids"

    response = await client.post(url, content=body, headers=bidder.headers | headers | content_type)

    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["code"] == code
    assert [(tuple(e["loc"]), e["type"]) for e in problem.get("errors", [])] == errors
    trail = await client.get(f"{API}/auctions/{auction['id']}/bids", headers=actors.admin.headers)
    assert trail.json()["items"] == []


@pytest.mark.parametrize(
    ("who", "authorization", "status", "code"),
    [
        ("nobody", None, 401, "unauthenticated"),
        ("nobody", "Basic dXNlcjpwYXNz", 401, "unauthenticated"),
        ("nobody", "Bearer not.a.token", 401, "invalid_token"),
        ("institute", None, 403, "forbidden_role"),
        ("admin", None, 403, "forbidden_role"),
    ],
)
async def test_the_caller_is_checked_before_the_body_is_read(
    actors, client, who, authorization, status, code
):
    auction = await create_auction(actors)
    headers = JSON.copy()
    if who == "institute":
        headers |= (await actors.user(Role.institute)).headers
    elif who == "admin":
        headers |= actors.admin.headers
    if authorization is not None:
        headers["Authorization"] = authorization

    response = await client.post(f"{API}/auctions/{auction['id']}/bids", content=b'{"amount":',
                                 headers=headers)

    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_the_scheme_word_is_case_insensitive_and_the_request_then_goes_through(
    actors, client
):
    auction = await create_auction(actors)
    bidder = await qualified_bidder(actors, auction["id"])
    token = bidder.headers["Authorization"].removeprefix("Bearer ")

    response = await client.post(
        f"{API}/auctions/{auction['id']}/bids", json={"amount": "2000000.00"},
        headers={"Authorization": f"bearer {token}", "Idempotency-Key": "first-bid"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["sequence"] == 1
    assert response.json()["amount"] == "2000000.00"
